# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incident record and its lifecycle. Pure: no I/O, ``now`` is always passed in.

``open -> acknowledged -> mitigated -> resolved -> closed``. Moves go forward only; skipping ahead is allowed
(an alert that resolves itself goes from open to resolved) and stamps the skipped milestones with the same time, so
every resolved incident has an acknowledge and a mitigate time. ``closed`` is reached from ``resolved`` only and is
read-only. Asking for the status an incident already has is a no-op (idempotence); asking for an earlier one is an
error that names the allowed moves. Every change is a new document object; "no change" returns the same object.
"""

import copy
import datetime
import hashlib
import json
import re

SCHEMA = "watchkeeper.ops/incident"
STATUSES = ("open", "acknowledged", "mitigated", "resolved", "closed")
MILESTONES = {"acknowledged": "acknowledged_at", "mitigated": "mitigated_at", "resolved": "resolved_at",
              "closed": "closed_at"}
SEVERITIES = ("SEV1", "SEV2", "SEV3")
SOURCES = ("person", "runbook", "alert")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
EDITABLE = ("title", "summary", "severity", "customer_impact", "public")
MERGED_LISTS = ("components", "responders")
MAX_TEXT = 4000
MAX_TIMELINE = 2000
UTC = datetime.timezone.utc


class IncidentError(ValueError):
    """Invalid input or an illegal move; the message says what to do."""


def iso(value):
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_time(text):
    try:
        value = datetime.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise IncidentError("invalid time %r (use ISO 8601, e.g. 2026-12-05T10:00:00Z)" % (text,))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rank(status):
    return STATUSES.index(status)


def new_id(now, title):
    slug = re.sub(r"[^a-z0-9]+", "-", (title or "").lower()).strip("-")[:24].strip("-") or "incident"
    return "inc-%s-%s" % (now.astimezone(UTC).strftime("%Y%m%dt%H%M%S"), slug)


def _check_spec(spec):
    if "severity" in spec and spec["severity"] not in SEVERITIES:
        raise IncidentError("severity must be one of %s, got %r" % (", ".join(SEVERITIES), spec["severity"]))
    if "title" in spec and not str(spec["title"]).strip():
        raise IncidentError("title must not be empty")
    for link in spec.get("links") or []:
        if not isinstance(link, dict) or not str(link.get("url") or "").strip():
            raise IncidentError("each link needs a url, got %r" % (link,))


def make_entry(entry, actor, now, event=None):
    """A timeline entry ``{id, at, source, author, text, data, public, event}``. Its ``id`` hashes what the caller
    gave (source, author, text, data, and ``at`` when given), so re-running the same task adds nothing twice."""
    entry = dict(entry or {})
    source = entry.get("source") or actor.get("source") or "person"
    if source not in SOURCES:
        raise IncidentError("timeline source must be one of %s, got %r" % (", ".join(SOURCES), source))
    text = str(entry.get("text") or "").strip()
    if not text:
        raise IncidentError("a timeline entry needs a text")
    if len(text) > MAX_TEXT:
        raise IncidentError("a timeline entry's text is limited to %d characters (got %d)" % (MAX_TEXT, len(text)))
    data = entry.get("data")
    if data is not None and not isinstance(data, dict):
        raise IncidentError("a timeline entry's data must be a dict, got %s" % type(data).__name__)
    try:
        json.dumps(data, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise IncidentError("a timeline entry's data must be JSON: %s" % exc)
    author = entry.get("author") or actor.get("author") or None
    given_at = iso(parse_time(entry["at"])) if entry.get("at") else None
    key = entry.get("id") or hashlib.sha256(json.dumps([source, author, text, data, given_at], sort_keys=True)
                                            .encode("utf-8")).hexdigest()[:16]
    return {"id": str(key), "at": given_at or iso(now), "source": source, "author": author, "text": text,
            "data": data, "public": bool(entry.get("public")), "event": event}


def _add_entry(doc, entry):
    """Append unless an entry with that id is there; keeps the timeline ordered by time (stable)."""
    if any(e["id"] == entry["id"] for e in doc["timeline"]):
        return False
    if len(doc["timeline"]) >= MAX_TIMELINE:
        raise IncidentError("incident %s has %d timeline entries, the limit" % (doc["id"], MAX_TIMELINE))
    doc["timeline"].append(entry)
    doc["timeline"].sort(key=lambda e: parse_time(e["at"]))
    return True


def new_incident(spec, now, incident_id=None, actor=None, entry=None):
    actor = actor or {}
    _check_spec(spec)
    if not spec.get("title"):
        raise IncidentError("opening an incident needs a title")
    if not spec.get("severity"):
        raise IncidentError("opening an incident needs a severity (%s)" % ", ".join(SEVERITIES))
    incident_id = incident_id or new_id(now, spec["title"])
    if not ID_RE.match(incident_id):
        raise IncidentError("incident id %r must match %s" % (incident_id, ID_RE.pattern))
    stamp = iso(now)
    doc = {"schema": SCHEMA, "schema_version": 1, "id": incident_id, "title": spec["title"].strip(),
           "summary": spec.get("summary") or "", "severity": spec["severity"], "status": "open",
           "components": [], "customer_impact": bool(spec.get("customer_impact")), "public": bool(spec.get("public")),
           "responders": [], "links": [], "timeline": [], "opened_at": stamp, "opened_by": actor.get("author"),
           "acknowledged_at": None, "acknowledged_by": None, "mitigated_at": None, "resolved_at": None,
           "closed_at": None, "created_at": stamp, "updated_at": stamp}
    _merge_lists(doc, spec)
    opening = dict(entry) if entry else {"text": "Incident opened (%s): %s" % (doc["severity"], doc["title"])}
    _add_entry(doc, make_entry(opening, actor, now, event="open"))
    return doc


def _merge_lists(doc, spec):
    changed = []
    for name in MERGED_LISTS:
        for item in spec.get(name) or []:
            item = str(item).strip()
            if item and item not in doc[name]:
                doc[name].append(item)
                changed.append(name)
    for link in spec.get("links") or []:
        link = {"url": str(link["url"]).strip(), "title": link.get("title") or None}
        if all(existing["url"] != link["url"] for existing in doc["links"]):
            doc["links"].append(link)
            changed.append("links")
    return sorted(set(changed))


def _edit(doc, spec, actor, now):
    changed = []
    for name in EDITABLE:
        if name in spec and spec[name] is not None and doc.get(name) != spec[name]:
            old, doc[name] = doc.get(name), spec[name]
            changed.append(name)
            if name in ("severity", "customer_impact", "public"):
                _add_entry(doc, make_entry({"text": "%s changed from %s to %s" % (name, old, spec[name]),
                                            "source": actor.get("source"), "at": iso(now)}, actor, now))
    return changed + _merge_lists(doc, spec)


def allowed_moves(status):
    if status == "resolved":
        return ["closed"]
    if status == "closed":
        return []
    return [s for s in STATUSES[rank(status) + 1:] if s != "closed"]


def _move(doc, target, actor, now, entry):
    current = doc["status"]
    if target not in allowed_moves(current):
        moves = ", ".join(allowed_moves(current)) or "none (closed incidents are read-only)"
        raise IncidentError("incident %s is %s and cannot become %s; from %s it can become: %s"
                            % (doc["id"], current, target, current, moves))
    stamp = iso(now)
    for status in STATUSES[rank(current) + 1:rank(target) + 1]:
        doc[MILESTONES[status]] = stamp  # skipped milestones get the same time
    if doc["acknowledged_by"] is None:
        doc["acknowledged_by"] = actor.get("author")
    if actor.get("author") and actor.get("source", "person") == "person" and target == "acknowledged" \
            and actor["author"] not in doc["responders"]:
        doc["responders"].append(actor["author"])
    doc["status"] = target
    auto = {"text": "Status changed to %s" % target}
    if not _add_entry(doc, make_entry(dict(entry) if entry else auto, actor, now, event=target)):
        _add_entry(doc, make_entry(auto, actor, now, event=target))  # that entry was on the timeline already


def apply(doc, state, spec, now, actor=None, entry=None):
    """The incident after ``state`` (a status, or ``update``) with the field edits of ``spec`` and an optional
    timeline ``entry``. Returns ``(new_doc, changed_fields)``; ``new_doc is doc`` when nothing changes."""
    actor = actor or {}
    if state != "update" and state not in STATUSES:
        raise IncidentError("unknown state %r" % (state,))
    _check_spec(spec)
    new = copy.deepcopy(doc)
    changed = _edit(new, spec, actor, now)
    moved = state not in ("update", "open") and state != doc["status"]
    if moved:
        _move(new, state, actor, now, entry)
        changed.append("status")
    elif entry:
        if _add_entry(new, make_entry(entry, actor, now)):
            changed.append("timeline")
    if not changed:
        return doc, []
    if doc["status"] == "closed":
        raise IncidentError("incident %s is closed and read-only (asked to change: %s); open a new incident and link "
                            "this one" % (doc["id"], ", ".join(sorted(set(changed)))))
    new["updated_at"] = iso(now)
    return new, sorted(set(changed))
