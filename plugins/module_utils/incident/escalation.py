# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Escalation: which paging levels are due for an incident at ``now``. Pure: no I/O, ``now`` is passed in.

A policy maps a severity to its levels, each ``{level, after, targets}``: level ``n`` is paged once the incident has
been open (not acknowledged) for ``after`` (``0``, ``90s``, ``10m``, ``1h``, ``1d``). Every level is paged exactly once
per incident: the page is recorded on the incident's timeline as the entry ``page-l<n>`` (entries are de-duplicated by
id), and the decision reads the timeline, never a separate state file. An incident that is no longer ``open``
(acknowledged, mitigated, resolved, closed) is never paged. When several levels are due at once (the escalation job
did not run for a while) all of them are due, lowest level first: a late run must not skip the first responder.
"""

import re

from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.model import (
    SEVERITIES, IncidentError, iso, parse_time)

DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
PAGE_ID_RE = re.compile(r"^page-l([1-9][0-9]*)$")
TARGET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
AUTHOR = "incident_escalate.yml"
MAX_LEVEL = 99


def parse_after(value):
    """Seconds of an ``after`` value: an int (seconds) or ``<n>[smhd]``."""
    if isinstance(value, bool):
        raise IncidentError("after must be a duration such as 0, 90s, 10m, 1h, got %r" % (value,))
    if isinstance(value, int):
        if value < 0:
            raise IncidentError("after must not be negative, got %r" % (value,))
        return value
    match = DURATION_RE.match(str(value))
    if not match:
        raise IncidentError("after must be a duration such as 0, 90s, 10m, 1h, got %r" % (value,))
    return int(match.group(1)) * UNITS[match.group(2)]


def page_id(level):
    return "page-l%d" % level


def normalize_policy(policy):
    """``{severity: [{level, after, after_s, targets}]}`` sorted by level, or IncidentError naming the problem.
    Levels are unique per severity, their ``after`` never decreases with the level, every level names targets."""
    if not isinstance(policy, dict) or not policy:
        raise IncidentError("the escalation policy must map severities (%s) to lists of levels" % ", ".join(SEVERITIES))
    out = {}
    for severity, levels in policy.items():
        if severity not in SEVERITIES:
            raise IncidentError("escalation policy: unknown severity %r (use %s)" % (severity, ", ".join(SEVERITIES)))
        if not isinstance(levels, list) or not levels:
            raise IncidentError("escalation policy %s: give a non-empty list of levels" % severity)
        rows = []
        for item in levels:
            if not isinstance(item, dict):
                raise IncidentError("escalation policy %s: each level is a dict {level, after, targets}, got %r"
                                    % (severity, item))
            level = item.get("level")
            if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= MAX_LEVEL:
                raise IncidentError("escalation policy %s: level must be an integer 1..%d, got %r" % (severity, MAX_LEVEL, level))
            targets = item.get("targets")
            if not isinstance(targets, list) or not targets or \
                    any(not isinstance(t, str) or not TARGET_RE.match(t) for t in targets):
                raise IncidentError("escalation policy %s level %d: targets must be a non-empty list of target names "
                                    "(letters, digits, _ . -), got %r" % (severity, level, targets))
            after_s = parse_after(item.get("after", 0))
            rows.append({"level": level, "after": str(item.get("after", 0)), "after_s": after_s, "targets": list(targets)})
        rows.sort(key=lambda r: r["level"])
        for before, after in zip(rows, rows[1:]):
            if before["level"] == after["level"]:
                raise IncidentError("escalation policy %s: level %d is listed twice" % (severity, after["level"]))
            if after["after_s"] < before["after_s"]:
                raise IncidentError("escalation policy %s: level %d pages after %s, before level %d (%s); a higher level "
                                    "must not come earlier" % (severity, after["level"], after["after"], before["level"],
                                                               before["after"]))
        out[severity] = rows
    return out


def target_names(policy):
    """Every target name the (normalized) policy uses, sorted."""
    return sorted(set(t for rows in policy.values() for row in rows for t in row["targets"]))


def paged_levels(doc):
    """The levels already paged for this incident (timeline entries ``page-l<n>``)."""
    out = set()
    for entry in doc.get("timeline") or []:
        match = PAGE_ID_RE.match(str(entry.get("id") or ""))
        if match:
            out.add(int(match.group(1)))
    return out


def age_seconds(doc, now):
    return int((now - parse_time(doc["opened_at"])).total_seconds())


def due_levels(doc, policy, now):
    """The levels of the (normalized) policy due for ``doc`` at ``now``: the incident is ``open``, its severity has
    levels, it is at least ``after`` old, and the level was not paged yet. Lowest level first."""
    if doc.get("status") != "open" or doc.get("severity") not in policy:
        return []
    age = age_seconds(doc, now)
    done = paged_levels(doc)
    return [row for row in policy[doc["severity"]] if row["after_s"] <= age and row["level"] not in done]


def page_entry(doc, row, now):
    """The timeline entry that records the page of ``row`` (deterministic id: a re-run adds nothing)."""
    return {"id": page_id(row["level"]), "source": "runbook", "author": AUTHOR,
            "text": "Paged escalation level %d (%s): not acknowledged %s after opening"
                    % (row["level"], ", ".join(row["targets"]), _human(age_seconds(doc, now))),
            "data": {"page": {"level": row["level"], "after": row["after"], "targets": list(row["targets"]),
                              "at": iso(now)}}}


def _human(seconds):
    minutes, sec = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return "%dh%02dm" % (hours, minutes)
    return "%dm%02ds" % (minutes, sec) if minutes else "%ds" % sec


def plan(docs, policy, now):
    """Every page due at ``now`` over ``docs``: ``[{incident_id, title, severity, status, components, summary,
    opened_at, age_s, level, after, targets, entry, subject, text}]``, oldest incident first, then by level."""
    out = []
    for doc in sorted(docs, key=lambda d: (d["opened_at"], d["id"])):
        for row in due_levels(doc, policy, now):
            out.append({"incident_id": doc["id"], "title": doc.get("title"), "severity": doc["severity"],
                        "status": doc["status"], "components": list(doc.get("components") or []),
                        "summary": doc.get("summary") or "", "opened_at": doc["opened_at"],
                        "age_s": age_seconds(doc, now), "level": row["level"], "after": row["after"],
                        "targets": list(row["targets"]), "entry": page_entry(doc, row, now)})
            out[-1].update(message(out[-1]))
    return out


def message(page):
    """``{subject, text}`` of a page (the subject is PagerDuty's summary and Opsgenie's message)."""
    subject = "[%s] %s: not acknowledged after %s (level %d)" % (page["severity"], page["title"], page["after"], page["level"])
    text = "Incident %s (%s) opened %s is still not acknowledged (%s). Components: %s.%s" % (
        page["incident_id"], page["severity"], page["opened_at"], _human(page["age_s"]),
        ", ".join(page["components"]) or "none", (" " + page["summary"]) if page["summary"] else "")
    return {"subject": subject, "text": text}
