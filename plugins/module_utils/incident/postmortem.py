# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The postmortem of one incident: its content (``build``) and its Markdown (``markdown``). Pure: no I/O.

``build`` gathers what the record knows (summary, severity, impact, responders, links, the whole timeline), the
incident's KPIs (time to acknowledge, mitigate and resolve, measured from ``opened_at`` as in kpis.py, judged against
the SEV1 response and MTTR targets), and what else happened in the period: the backup runs of the run history, the
runs of the audit trail (rows of ``watchkeeper.ops.audit_query``) and a ``watchkeeper.ops.log_search`` excerpt, each
optional (None: not asked for; an empty list: asked for, nothing found). The HTML page is postmortem_html.py.
"""

import datetime
import json

from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.model import iso, parse_time

SCHEMA = "watchkeeper.ops/postmortem"
TARGETS = {"sev1_response_s": 900, "mttr_s": 1800}
KPI_FIELDS = (("time_to_acknowledge", "acknowledged_at", "Time to acknowledge"),
              ("time_to_mitigate", "mitigated_at", "Time to mitigate"),
              ("time_to_resolve", "resolved_at", "Time to resolve"))
MILESTONES = ("opened_at", "acknowledged_at", "mitigated_at", "resolved_at", "closed_at")
MAX_LOG_LINES = 200
MAX_RUNS = 500
TO_COMPLETE = "To be completed by the responders."


def duration(seconds):
    """``"45s"``, ``"4m 00s"``, ``"2h 05m"``, ``"1d 03h"``; ``"n/a"`` for None."""
    if seconds is None:
        return "n/a"
    seconds = int(round(seconds))
    if seconds < 60:
        return "%ds" % seconds
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return "%dm %02ds" % (minutes, sec)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return "%dh %02dm" % (hours, minutes)
    days, hours = divmod(hours, 24)
    return "%dd %02dh" % (days, hours)


def period(doc, now, margin_s=1800):
    """``(start, end)``: from ``margin_s`` before the opening to the resolution (or closing, or now)."""
    start = parse_time(doc["opened_at"]) - datetime.timedelta(seconds=max(0, int(margin_s)))
    end = parse_time(doc.get("resolved_at") or doc.get("closed_at") or iso(now))
    return start, max(end, parse_time(doc["opened_at"]))


def incident_kpis(doc, now, targets=None):
    """The KPIs of this incident: ``[{name, label, seconds, text, target_s, met}]`` (``met`` None without a target
    or while pending)."""
    targets = dict(TARGETS, **(targets or {}))
    opened = parse_time(doc["opened_at"])
    out = []
    for name, field, label in KPI_FIELDS:
        seconds = int((parse_time(doc[field]) - opened).total_seconds()) if doc.get(field) else None
        target = None
        if name == "time_to_acknowledge" and doc.get("severity") == "SEV1":
            target = targets["sev1_response_s"]
        elif name == "time_to_resolve":
            target = targets["mttr_s"]
        met = None
        if target is not None:
            if seconds is not None:
                met = seconds <= target
            elif (now - opened).total_seconds() > target:
                met = False  # still pending and already over the target
        out.append({"name": name, "label": label, "seconds": seconds, "target_s": target, "met": met,
                    "text": duration(seconds) if seconds is not None else "pending"})
    return out


def _in(value, start, end):
    try:
        when = parse_time(value)
    except ValueError:
        return False
    return start <= when <= end


def backup_runs(records, start, end):
    """Backup run records (run_history) that overlap ``[start, end]``, oldest first."""
    out = []
    for doc in records:
        started = parse_time(doc["started"])
        finished = parse_time(doc.get("finished") or doc["started"])
        if finished < start or started > end:
            continue
        out.append({"job": doc.get("job"), "backup_id": doc.get("backup_id"), "status": doc.get("status"),
                    "started": iso(started), "finished": iso(finished), "duration_s": doc.get("duration_s"),
                    "msg": doc.get("msg")})
    return sorted(out, key=lambda r: (r["started"], r["job"] or ""))[:MAX_RUNS]


def audit_runs(rows):
    """Audit trail rows (audit_query ``records``) grouped by run: playbook, who, first and last time, tasks, failed."""
    runs = {}
    for row in rows:
        key = row.get("run") or "%s/%s" % (row.get("chain"), row.get("seq"))
        run = runs.setdefault(key, {"run": key, "playbook": None, "user": None, "start": None, "end": None, "tasks": 0,
                                    "failed": 0, "hosts": set()})
        run["playbook"] = run["playbook"] or row.get("playbook")
        run["user"] = run["user"] or row.get("awx_user") or row.get("user")
        stamp = row.get("ts")
        if stamp:
            run["start"] = min(run["start"] or stamp, stamp)
            run["end"] = max(run["end"] or stamp, stamp)
        if row.get("event") == "task":
            run["tasks"] += 1
            run["failed"] += 1 if row.get("outcome") in ("failed", "unreachable") else 0
        if row.get("host"):
            run["hosts"].add(row["host"])
    out = []
    for run in runs.values():
        run["hosts"] = sorted(run["hosts"])
        out.append(run)
    return sorted(out, key=lambda r: (r["start"] or "", r["run"]))[:MAX_RUNS]


def log_excerpt(result, pattern=None):
    """The part of a log_search result a postmortem shows: the pattern, counts and the matches oldest first."""
    matches = list(result.get("matches") or [])[:MAX_LOG_LINES]
    matches.sort(key=lambda m: (m.get("timestamp") or "", m.get("host") or "", m.get("line_number") or 0))
    return {"pattern": pattern, "total": (result.get("counts") or {}).get("total", len(matches)),
            "truncated": bool(result.get("truncated")), "window": result.get("window") or {},
            "matches": [{"timestamp": m.get("timestamp"), "host": m.get("host"), "program": m.get("program"),
                         "level": m.get("level"), "line": m.get("line")} for m in matches]}


def log_line(match):
    """``<time> <host>: <line>`` on one line (the line as log_search returns it, secrets masked)."""
    return "%s %s: %s" % (match.get("timestamp") or "-", match.get("host") or "-", " ".join(str(match.get("line") or "").split()))


def build(doc, now, runs=None, audit_rows=None, logs=None, targets=None, margin_s=1800):
    """Everything the Markdown and HTML documents show."""
    start, end = period(doc, now, margin_s)
    timeline = [{"id": e["id"], "at": e["at"], "source": e.get("source"), "author": e.get("author") or "",
                 "text": e.get("text") or "", "event": e.get("event"), "public": bool(e.get("public")),
                 "data": e.get("data")} for e in doc.get("timeline") or []]
    return {"schema": SCHEMA, "schema_version": 1, "generated_at": iso(now), "id": doc["id"], "title": doc["title"],
            "severity": doc["severity"], "status": doc["status"], "summary": doc.get("summary") or "",
            "impact": {"customer_impact": bool(doc.get("customer_impact")), "components": list(doc.get("components") or []),
                       "public": bool(doc.get("public"))},
            "responders": list(doc.get("responders") or []), "links": list(doc.get("links") or []),
            "milestones": dict((k, doc.get(k)) for k in MILESTONES),
            "opened_by": doc.get("opened_by"), "acknowledged_by": doc.get("acknowledged_by"),
            "period": {"start": iso(start), "end": iso(end)}, "kpis": incident_kpis(doc, now, targets),
            "timeline": timeline,
            "backup_runs": None if runs is None else backup_runs(runs, start, end),
            "audit_runs": None if audit_rows is None else audit_runs(audit_rows),
            "logs": None if logs is None else log_excerpt(logs, logs.get("pattern"))}


# --------------------------------------------------------------------------- Markdown

def md(text):
    """Text safe in Markdown prose and table cells: no raw HTML, no table breaks, one line."""
    text = "" if text is None else str(text)
    text = text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return " ".join(text.split())


def data_text(data):
    return json.dumps(data, sort_keys=True, ensure_ascii=False) if data else ""


def _fence(lines):
    longest = max([0] + [_ticks(line) for line in lines])
    fence = "`" * max(3, longest + 1)
    return [fence + "text"] + lines + [fence]


def _ticks(line):
    best = count = 0
    for char in line:
        count = count + 1 if char == "`" else 0
        best = max(best, count)
    return best


def _table(header, rows):
    out = ["| %s |" % " | ".join(header), "|%s|" % "|".join("---" for _h in header)]
    out += ["| %s |" % " | ".join(md(c) for c in row) for row in rows]
    return out


def markdown(pm):
    impact = pm["impact"]
    out = ["# Postmortem: %s" % md(pm["title"]), "",
           "- **Incident:** %s" % md(pm["id"]), "- **Severity:** %s" % md(pm["severity"]),
           "- **Status:** %s" % md(pm["status"]),
           "- **Opened:** %s by %s" % (md(pm["milestones"]["opened_at"]), md(pm["opened_by"] or "unknown")),
           "- **Resolved:** %s" % md(pm["milestones"]["resolved_at"] or "not yet"),
           "- **Responders:** %s" % md(", ".join(pm["responders"]) or "none recorded"),
           "- **Period covered:** %s to %s" % (md(pm["period"]["start"]), md(pm["period"]["end"])),
           "- **Generated:** %s by watchkeeper.ops" % md(pm["generated_at"]), "",
           "## Summary", "", md(pm["summary"]) or "_No summary recorded._", "",
           "## Impact", "", "- Customer impact: %s" % ("yes" if impact["customer_impact"] else "no"),
           "- Components: %s" % md(", ".join(impact["components"]) or "none recorded"),
           "- Shown on the status page: %s" % ("yes" if impact["public"] else "no"), "",
           "## Key figures", ""]
    out += _table(["KPI", "Value", "Target", "Met"],
                  [[k["label"], k["text"], duration(k["target_s"]) if k["target_s"] else "-",
                    {True: "yes", False: "no", None: "-"}[k["met"]]] for k in pm["kpis"]])
    out += ["", "## Timeline", ""]
    out += _table(["Time (UTC)", "Source", "Author", "What happened", "Details"],
                  [[e["at"], e["source"], e["author"], e["text"], data_text(e["data"])] for e in pm["timeline"]])
    out += ["", "## Runs in the period", ""]
    if pm["backup_runs"] is None:
        out.append("_Backup run history not read._")
    elif not pm["backup_runs"]:
        out.append("No backup run in the period.")
    else:
        out += ["### Backup runs", ""]
        out += _table(["Job", "Backup", "Status", "Started", "Duration", "Message"],
                      [[r["job"], r["backup_id"], r["status"], r["started"], duration(r["duration_s"]), r["msg"] or ""]
                       for r in pm["backup_runs"]])
    out.append("")
    if pm["audit_runs"] is not None:
        out += ["### Audit trail", ""]
        out += _table(["Run", "Playbook", "User", "From", "To", "Tasks", "Failed", "Hosts"],
                      [[r["run"], r["playbook"] or "", r["user"] or "", r["start"] or "", r["end"] or "", str(r["tasks"]),
                        str(r["failed"]), ", ".join(r["hosts"])] for r in pm["audit_runs"]] or [["-"] * 8])
        out.append("")
    if pm["logs"] is not None:
        logs = pm["logs"]
        out += ["## Log excerpt", "", "Pattern %s: %d matching line(s)%s." % (
            md(logs["pattern"] or "?"), logs["total"], ", the newest %d shown" % len(logs["matches"])
            if logs["truncated"] else ""), ""]
        lines = [log_line(m) for m in logs["matches"]]
        out += _fence(lines) if lines else ["No matching line."]
        out.append("")
    out += ["## Root cause", "", TO_COMPLETE, "", "## What went well, what did not", "", TO_COMPLETE, "",
            "## Action items", "", "- [ ] %s" % TO_COMPLETE, ""]
    if pm["links"]:
        out += ["## Links", ""] + ["- %s: %s" % (md(link.get("title") or link["url"]), md(link["url"])) for link in pm["links"]] + [""]
    return "\n".join(out)
