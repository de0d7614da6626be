# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Maintenance windows as pure data: validation, lifecycle, notification schedule, outcome and KPI.

No I/O here. A window is the dict stored as ``<ops_state>/maintenance/windows/<id>.json`` (see
docs/maintenance-windows.md). Times inside the functions are aware UTC datetimes.

Reminder semantics: a reminder ``24h`` is sent 24 *real* hours before the start (``start_utc - 24h``),
whatever the wall clock does in between (DST changes). Subscribers plan around notice periods in elapsed
time, and "the same wall time one day earlier" does not exist for every start (DST gaps).
"""

import datetime
import re

import zoneinfo

UTC = datetime.timezone.utc
SCHEMA = "watchkeeper.ops/maintenance-window"
SCHEMA_VERSION = 1
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
IMPACTS = ("none", "degraded", "read_only", "full_outage")
STATUSES = ("scheduled", "in_progress", "verifying", "completed", "cancelled")
ACTIVE = ("in_progress", "verifying")
WEBHOOK_KINDS = ("generic", "slack", "teams")
DEFAULT_REMINDERS = ("72h", "24h", "1h")
KPI_TARGET_PCT = 95.0
# target status -> statuses it may be reached from
TRANSITIONS = {
    "in_progress": ("scheduled", "verifying"),
    "verifying": ("in_progress",),
    "completed": ("in_progress", "verifying"),
    "cancelled": ("scheduled",),
}
EXTENDABLE = ("scheduled", "in_progress", "verifying")
# Edits of these fields must be heard by subscribers: they bump the revision and send a "changed" message.
NOTIFY_FIELDS = ("title", "description", "start", "timezone", "duration_s", "impact", "components")
TIME_FIELDS = ("start", "timezone", "duration_s")
EDITABLE = NOTIFY_FIELDS + ("tasks", "audience", "owner", "reminders")
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)?\s*$", re.I)
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


class WindowError(ValueError):
    """An invalid window or a refused change; the message says what and what to do."""


# --------------------------------------------------------------------------- small helpers

def parse_duration(value):
    """Seconds from ``90``, ``"90s"``, ``"45m"``, ``"24h"``, ``"3d"``, ``"1w"``."""
    if isinstance(value, bool):
        raise WindowError("invalid duration %r" % (value,))
    if isinstance(value, (int, float)):
        seconds = int(value)
    else:
        match = _DURATION_RE.match(str(value))
        if not match:
            raise WindowError("invalid duration %r (use e.g. 90s, 45m, 24h, 3d)" % (value,))
        seconds = int(float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()])
    if seconds <= 0:
        raise WindowError("a duration must be positive, got %r" % (value,))
    return seconds


def iso(value):
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def compact(value):
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_time(text):
    value = datetime.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def get_zone(name):
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise WindowError("unknown time zone %r (use an IANA name such as Europe/Berlin or UTC)" % name)


def resolve_start(start, tz_name):
    """``(text as stored, aware UTC datetime)``. A start without offset is local time in ``tz_name``: a time
    that does not exist (DST gap) or exists twice (DST overlap) is refused, so nobody guesses."""
    zone = get_zone(tz_name)
    try:
        value = datetime.datetime.fromisoformat(str(start).strip().replace("Z", "+00:00"))
    except ValueError:
        raise WindowError("start %r is not an ISO 8601 date and time (e.g. 2026-11-27T02:00:00+01:00)" % (start,))
    if value.tzinfo is None:
        first = value.replace(tzinfo=zone, fold=0)
        second = value.replace(tzinfo=zone, fold=1)
        if first.utcoffset() != second.utcoffset():
            back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
            if back != value:
                raise WindowError("start %s does not exist in %s (clocks jump forward)" % (value, tz_name))
            raise WindowError("start %s happens twice in %s (clocks go back); give the UTC offset, e.g. %s" % (
                value, tz_name, first.isoformat()))
        value = first
    return value.isoformat(), value.astimezone(UTC)


def start_utc(window):
    return parse_time(window["start"])


def end_utc(window):
    return parse_time(window["end"])


def compute_end(window):
    extra = sum(int(ext.get("by_s", 0)) for ext in window.get("extensions") or [])
    return start_utc(window) + datetime.timedelta(seconds=int(window["duration_s"]) + extra)


def reminder_at(window, lead):
    """The instant of the reminder ``lead`` (``"24h"``): exactly that much real time before the start."""
    return start_utc(window) - datetime.timedelta(seconds=parse_duration(lead))


def generate_id(title, now):
    slug = re.sub(r"[^a-z0-9]+", "-", str(title).lower()).strip("-")[:40].strip("-") or "window"
    return ("mw-%s-%s" % (compact(now).lower(), slug))[:64].rstrip("-")


# --------------------------------------------------------------------------- validation

def _audience(value):
    value = value or {}
    emails = [str(e).strip() for e in value.get("emails") or []]
    for addr in emails:
        if not re.match(r"^[^@\s<>]+@[^@\s<>]+$", addr):
            raise WindowError("audience email %r is not an address" % addr)
    hooks = []
    for hook in value.get("webhooks") or []:
        if isinstance(hook, str):
            hook = {"url": hook}
        url = str(hook.get("url") or "")
        if not re.match(r"^https?://", url):
            raise WindowError("a webhook needs an http(s) 'url'")
        hooks.append({"url": url, "kind": hook.get("kind") or "generic"})
        if hooks[-1]["kind"] not in WEBHOOK_KINDS:
            raise WindowError("webhook kind %r is not one of %s" % (hooks[-1]["kind"], ", ".join(WEBHOOK_KINDS)))
    return {"emails": sorted(set(emails), key=emails.index), "webhooks": hooks}


def normalize(spec):
    """Checked and normalised user fields (title, start, timezone, duration_s, ...). Raises ``WindowError``."""
    out = {}
    out["title"] = str(spec.get("title") or "").strip()
    if not out["title"]:
        raise WindowError("a window needs a 'title'")
    out["description"] = str(spec.get("description") or "")
    out["timezone"] = spec.get("timezone") or "UTC"
    if spec.get("start") in (None, ""):
        raise WindowError("a window needs a 'start' (ISO 8601, e.g. 2026-11-27T02:00:00+01:00)")
    out["start"] = resolve_start(spec["start"], out["timezone"])[0]
    out["duration_s"] = parse_duration(spec.get("duration") if spec.get("duration_s") is None else spec["duration_s"])
    out["impact"] = spec.get("impact") or "none"
    if out["impact"] not in IMPACTS:
        raise WindowError("impact %r is not one of %s" % (out["impact"], ", ".join(IMPACTS)))
    out["components"] = [str(c) for c in spec.get("components") or []]
    tasks = spec.get("tasks") or []
    if not all(isinstance(t, dict) for t in tasks):
        raise WindowError("'tasks' must be a list of dicts (e.g. {name: reindex, playbook: reindex.yml})")
    out["tasks"] = [dict(t) for t in tasks]
    out["audience"] = _audience(spec.get("audience"))
    owner = spec.get("owner") or {}
    owner = {"email": owner} if isinstance(owner, str) else owner
    out["owner"] = {"email": owner.get("email")} if owner.get("email") else {}
    reminders = spec.get("reminders")
    reminders = list(DEFAULT_REMINDERS) if reminders is None else [str(r).strip() for r in reminders]
    for lead in reminders:
        parse_duration(lead)
    out["reminders"] = sorted(set(reminders), key=parse_duration, reverse=True)
    return out


def new_window(spec, now, window_id=None):
    fields = normalize(spec)
    window_id = window_id or generate_id(fields["title"], now)
    if not ID_RE.match(window_id):
        raise WindowError("window id %r must match %s" % (window_id, ID_RE.pattern))
    stamp = iso(now)
    doc = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "id": window_id}
    doc.update(fields)
    doc.update({"extensions": [], "status": "scheduled", "revision": 1, "generation": 0,
                "created_at": stamp, "updated_at": stamp, "scheduled_at": stamp, "revised_at": stamp,
                "started_at": None, "verifying_at": None, "completed_at": None, "cancelled_at": None,
                "cancel_reason": None, "outcome": None,
                "history": [{"at": stamp, "event": "scheduled", "detail": "revision 1"}]})
    doc["end"] = iso(compute_end(doc))
    return doc


def _note(doc, now, event, detail=""):
    doc["updated_at"] = iso(now)
    doc.setdefault("history", []).append({"at": iso(now), "event": event, "detail": detail})


def _bump(doc, now):
    doc["revision"], doc["revised_at"] = int(doc.get("revision", 1)) + 1, iso(now)


def edit(doc, spec, now):
    """Apply an edit of a scheduled window. Returns ``(new doc, changed field names)``; the revision goes up
    when a field subscribers must hear of changed."""
    merged = {k: doc.get(k) for k in EDITABLE}
    merged.update({k: v for k, v in spec.items() if k in EDITABLE + ("duration",) and v is not None})
    if "duration" in spec and spec.get("duration") is not None:
        merged["duration_s"] = spec["duration"]
    fields = normalize(merged)
    changed = [k for k in EDITABLE if fields[k] != doc.get(k)]
    if fields["start"] != doc["start"] and parse_time(fields["start"]) == start_utc(doc) \
            and fields["timezone"] == doc["timezone"]:
        fields["start"] = doc["start"]  # the same instant written differently: no change
        changed.remove("start")
    if not changed:
        return doc, []
    if doc["status"] != "scheduled":
        raise WindowError("window %s is %s; only a scheduled window can be edited (extend it with extend_by)"
                          % (doc["id"], doc["status"]))
    new = dict(doc)
    new.update(fields)
    new["end"] = iso(compute_end(new))
    if any(k in NOTIFY_FIELDS for k in changed):
        _bump(new, now)
    if any(k in TIME_FIELDS for k in changed):
        new["scheduled_at"] = iso(now)
    new["history"] = list(doc.get("history") or [])
    _note(new, now, "edited", "changed %s; revision %d" % (", ".join(changed), new["revision"]))
    return new, changed


def transition(doc, target, now, reason=None, task_results=None):
    """Move ``doc`` to ``target`` (in_progress, verifying, completed, cancelled). Returns the new doc, or the
    same doc when it is already there. Raises ``WindowError`` naming the allowed moves otherwise."""
    current = doc["status"]
    if target == current:
        return doc
    allowed = TRANSITIONS.get(target)
    if allowed is None:
        raise WindowError("unknown target state %r" % target)
    if current not in allowed:
        moves = [t for t, src in TRANSITIONS.items() if current in src]
        raise WindowError("window %s is %s and cannot become %s; from %s it can become: %s" % (
            doc["id"], current, target, current, ", ".join(moves) or "nothing (it is final)"))
    new = dict(doc)
    new["history"] = list(doc.get("history") or [])
    stamp = iso(now)
    if target == "in_progress":
        early = (start_utc(doc) - now).total_seconds()
        detail = "back to work after verification" if new.get("started_at") else (
            "started %ds early" % early if early > 0 else "started")
        new["started_at"] = new.get("started_at") or stamp
    elif target == "verifying":
        new["verifying_at"], detail = stamp, "verifying"
    elif target == "completed":
        new["completed_at"] = stamp
        new["outcome"] = outcome(new, task_results)
        detail = new["outcome"]["result"]
    else:
        new["cancelled_at"] = stamp
        new["cancel_reason"] = reason or "cancelled"
        new["outcome"] = outcome(new)
        _bump(new, now)
        detail = new["cancel_reason"]
    new["status"] = target
    _note(new, now, target, detail)
    return new


def extend(doc, by, now):
    seconds = parse_duration(by)
    if doc["status"] not in EXTENDABLE:
        raise WindowError("window %s is %s and cannot be extended" % (doc["id"], doc["status"]))
    new = dict(doc)
    new["extensions"] = list(doc.get("extensions") or []) + [{"at": iso(now), "by_s": seconds}]
    new["end"] = iso(compute_end(new))
    new["history"] = list(doc.get("history") or [])
    _bump(new, now)
    _note(new, now, "extended", "by %ds, new end %s" % (seconds, new["end"]))
    return new


def outcome(doc, task_results=None):
    if doc.get("cancelled_at"):
        return {"result": "cancelled", "overran_s": 0, "finished_at": doc["cancelled_at"], "tasks": []}
    finished = parse_time(doc["completed_at"])
    overran = max(0, int((finished - end_utc(doc)).total_seconds()))
    return {"result": "overran" if overran > 0 else "on_time", "overran_s": overran,
            "finished_at": doc["completed_at"], "tasks": list(task_results or [])}


# --------------------------------------------------------------------------- notification schedule

def _info(delivered, key):
    if isinstance(delivered, dict):
        return delivered.get(key) or {}
    return {"complete": True, "sent": 1} if key in (delivered or ()) else {}


def _event(window, key, kind, at, audience="subscribers"):
    return {"key": key, "kind": kind, "at": at, "revision": int(window.get("revision", 1)), "audience": audience}


def due(window, now, delivered):
    """``{"send": [event], "skip": [event]}`` for ``window`` at ``now``.

    ``delivered`` maps event keys to ``{"complete": bool, "sent": int, "revision": int}`` (complete: every
    recipient got it, or it was skipped) or is a set of complete keys. Of the reminders that fell due while no
    run happened only the latest is sent; the others, and everything a started, ended or cancelled window no
    longer needs, are skipped. An event is ``{"key", "kind", "at", "revision", "audience"}``.
    """
    send, skip, status, start, end = [], [], window["status"], start_utc(window), end_utc(window)

    def reached(key):
        return bool(_info(delivered, key).get("complete") or _info(delivered, key).get("sent"))

    def done(key):
        return bool(_info(delivered, key).get("complete"))

    revision = int(window.get("revision", 1))
    announce = _event(window, "announce", "announce", parse_time(window["created_at"]))
    changed = _event(window, "changed-r%d" % revision, "changed", parse_time(window.get("revised_at") or start))
    needs_change = revision > max(1, int(_info(delivered, "announce").get("revision") or 1)) and reached("announce")
    reminders = sorted([_event(window, "remind-%s-%s" % (lead, compact(start)), "reminder", reminder_at(window, lead))
                        for lead in window.get("reminders") or []], key=lambda e: e["at"])
    pending = [e for e in reminders if not done(e["key"])]
    started = _event(window, "started", "started", parse_time(window.get("started_at") or window["start"]))
    if status == "scheduled":
        if not done("announce"):
            send.append(announce)
        elif needs_change and not done(changed["key"]):
            send.append(changed)
        announced_at = parse_time(window.get("scheduled_at") or window["created_at"])
        reached_ats = [e["at"] for e in reminders if reached(e["key"])]
        last_reached = max(reached_ats) if reached_ats else None
        fell_due = [e for e in pending if e["at"] <= now]
        for event in fell_due:
            stale = (event is not fell_due[-1] or event["at"] <= announced_at or not reached("announce") or now >= start
                     or (last_reached is not None and event["at"] < last_reached))
            (skip if stale else send).append(event)
        return {"send": send, "skip": skip}
    # Started, ended or cancelled: only the lifecycle message that is right now.
    skip.extend(pending)
    if not done("announce"):
        skip.append(announce)
    if needs_change and not done(changed["key"]):
        running = status in ACTIVE and parse_time(window["revised_at"]) > parse_time(window.get("started_at") or end)
        (send if running else skip).append(changed)  # extended while running: subscribers hear the new end
    if status in ACTIVE:
        if not done("started"):
            send.insert(0, started)
        if now > end:
            overrun = _event(window, "overrun-%s" % compact(end), "overrun", end, audience="owner")
            if not done(overrun["key"]):
                send.append(overrun)
    elif status == "completed":
        skip.extend([started] if not done("started") else [])
        if not done("completed"):
            send.append(_event(window, "completed", "completed", parse_time(window["completed_at"])))
    elif status == "cancelled" and not done("cancelled"):
        cancelled = _event(window, "cancelled", "cancelled", parse_time(window["cancelled_at"]))
        (send if reached("announce") else skip).append(cancelled)
    return {"send": send, "skip": skip}


# --------------------------------------------------------------------------- history and KPI

def kpi(windows, since, until, target=KPI_TARGET_PCT):
    """Windows that ended in ``[since, until)`` with outcomes; ``within_window_pct`` = on time / (on time +
    overran) * 100 (cancelled windows are listed but not counted); None when nothing was completed."""
    rows, counts = [], {"completed": 0, "on_time": 0, "overran": 0, "cancelled": 0}
    for window in windows:
        ended = window.get("completed_at") if window["status"] == "completed" else (
            window.get("cancelled_at") if window["status"] == "cancelled" else None)
        if not ended or not since <= parse_time(ended) < until:
            continue
        result = (window.get("outcome") or outcome(window))
        counts["cancelled" if result["result"] == "cancelled" else "completed"] += 1
        if result["result"] != "cancelled":
            counts[result["result"]] += 1
        rows.append({"id": window["id"], "title": window["title"], "start": window["start"], "end": window["end"],
                     "status": window["status"], "result": result["result"], "overran_s": result.get("overran_s", 0),
                     "finished_at": ended, "tasks": result.get("tasks") or []})
    rows.sort(key=lambda r: r["finished_at"])
    judged = counts["on_time"] + counts["overran"]
    pct = round(100.0 * counts["on_time"] / judged, 2) if judged else None
    return {"since": iso(since), "until": iso(until), "within_window_pct": pct, "target_pct": target,
            "meets_target": None if pct is None else pct >= target, "counts": counts, "windows": rows,
            "overruns": [r for r in rows if r["result"] == "overran"],
            "cancelled": [r for r in rows if r["result"] == "cancelled"]}
