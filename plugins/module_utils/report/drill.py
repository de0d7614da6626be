# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The disaster-recovery drill report (pure: no I/O, the caller passes the clock and the ids).

``build_report`` turns registered ``restore_verify`` results (passed, failed, with fields missing)
into the document of schema ``watchkeeper.ops/drill-report`` v1 (docs/dr-drills.md) and judges
every job against the objectives:

* RTO: a job meets it when its restore passed and ``rto.total_s`` <= the target. A failed restore
  (``failed``, ``skipped`` or ``passed: false``) misses the RTO; it is listed once in ``missed``
  with objective ``restore`` and its error.
* RPO: a job meets it when ``rpo.achieved_s`` (the backup's age when the verification started)
  <= the target. A value that was not measured is never counted as met.
"""

import calendar

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import freshness
from ansible_collections.watchkeeper.ops.plugins.module_utils.report import runbook as runbooks

SCHEMA = "watchkeeper.ops/drill-report"
SCHEMA_VERSION = 1
DEFAULT_OBJECTIVES = {"rpo": "4h", "rto": "2h"}
RTO_PHASES = ("select_s", "download_decrypt_s", "restore_data_s", "indexes_constraints_s", "checks_s", "cleanup_s")
RTO_SUBTOTALS = ("total_s", "restore_s")  # sums of phases, not phases
DRILL_INTERVAL_MONTHS = 3  # AC-031.12: quarterly


def parse_duration(value):
    """Seconds (float) from ``"4h"``, ``"90m"``, ``"7200s"``, ``"1d"``, ``"1d 2h"`` or a number; must be > 0."""
    seconds = freshness.parse_duration(value)
    if seconds <= 0:
        raise ValueError("an objective must be longer than 0 seconds, got %r" % value)
    return seconds


def fmt_duration(seconds):
    """``"42.3 s"`` below a minute, else ``"1h 05m"``; ``"n/a"`` when unknown."""
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return "%.1f s" % seconds
    return freshness.human_duration(seconds)


def objectives_targets(objectives):
    """``{"rpo": {"target": "4h", "target_s": 14400.0}, "rto": {...}}``; raises ValueError."""
    out = {}
    for name, default in sorted(DEFAULT_OBJECTIVES.items()):
        raw = (objectives or {}).get(name)
        raw = default if raw in (None, "") else raw
        try:
            out[name] = {"target": str(raw), "target_s": parse_duration(raw)}
        except ValueError as exc:
            raise ValueError("objectives.%s: %s" % (name, exc))
    return out


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def _num(value):
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _time(value):
    try:
        return clock.isoformat(clock.parse_time(value)) if value else None
    except (TypeError, ValueError):
        return None


def _job_name(result, index):
    item = result.get("item")
    candidates = [result.get("job"), _dict(_dict(result.get("invocation")).get("module_args")).get("job"),
                  _dict(item).get("job"), _dict(item).get("name"), item if isinstance(item, str) else None]
    for name in candidates:
        if isinstance(name, str) and name.strip():
            return name.strip()
    return "unnamed-%d" % (index + 1)


def _error(result, checks, mismatches):
    if result.get("skipped"):
        return "restore_verify was skipped: %s" % (result.get("skip_reason") or "no reason given")
    if result.get("failed") or (result.get("passed") is False and result.get("msg")):
        # registered with failed_when: false, a failed restore_verify keeps its msg but not failed: true
        return str(result.get("msg") or "restore_verify failed without a message")
    bad = [c.get("name") or "?" for c in checks if c.get("passed") is not True]
    if result.get("passed") is not True or bad or mismatches:
        if bad or mismatches:
            return "checks failed: %s" % "; ".join([str(b) for b in bad] + [str(m) for m in mismatches if m not in bad])
        return "restore_verify did not report passed: true"
    return None


def _check(raw):
    raw = _dict(raw)
    out = dict((k, raw.get(k)) for k in ("name", "kind", "table", "expected", "found", "detail"))
    out["passed"] = raw.get("passed") is True
    return out


def _rpo(result, backup):
    rpo = _dict(result.get("rpo"))
    created = _time(rpo.get("backup_created_at") or result.get("created_at") or backup.get("created_at"))
    started = _time(rpo.get("verify_started_at"))
    achieved = _num(rpo.get("achieved_s"))
    if achieved is None and created and started:
        achieved = max(0.0, (clock.parse_time(started) - clock.parse_time(created)).total_seconds())
    return {"achieved_s": achieved, "backup_created_at": created, "verify_started_at": started}


def _rto(result):
    rto = _dict(result.get("rto"))
    phases = dict((k, _num(rto.get(k))) for k in RTO_PHASES if _num(rto.get(k)) is not None)
    for key in sorted(rto):
        if key.endswith("_s") and key not in RTO_SUBTOTALS and key not in phases and _num(rto[key]) is not None:
            phases[key] = _num(rto[key])
    return {"phases": phases, "restore_s": _num(rto.get("restore_s")), "total_s": _num(rto.get("total_s"))}


def _verdict(name, achieved, target_s, recovered, error):
    """(verdict, missed-entry or None) of one objective for one job."""
    if name == "rto" and not recovered:
        return "missed", None  # listed once, as objective "restore"
    if achieved is None:
        what = "rto.total_s" if name == "rto" else "rpo.achieved_s"
        return "missed", "%s not measured (%s missing)" % (name.upper(), what)
    if achieved > target_s:
        return "missed", "%s %s exceeds the target %s" % (name.upper(), fmt_duration(achieved), fmt_duration(target_s))
    return "met", None


def job_entry(result, index, targets):
    """One job of the report from one registered restore_verify result."""
    if not isinstance(result, dict):
        raise ValueError("results[%d] is a %s, not a registered restore_verify result (a dict)" % (index, type(result).__name__))
    backup = _dict(result.get("backup"))
    destination = _dict(result.get("destination")) or None
    checks = [_check(c) for c in _list(result.get("checks"))]
    mismatches = [str(m) for m in _list(result.get("mismatches"))]
    error = _error(result, checks, mismatches)
    recovered = error is None
    used = (destination or {}).get("name")
    attempts = [dict((k, _dict(a).get(k)) for k in ("destination", "status", "error")) for a in _list(result.get("attempts"))]
    entry = {
        "job": _job_name(result, index), "kind": result.get("kind") or backup.get("kind"),
        "status": "passed" if recovered else "failed", "passed": recovered, "error": error,
        "backup_id": result.get("backup_id") or backup.get("backup_id"),
        "backup_created_at": _time(result.get("created_at") or backup.get("created_at")),
        "backup": backup or None, "destination": destination, "attempts": attempts,
        "fallbacks": [a for a in attempts if a["destination"] != used],
        "scratch": _dict(result.get("scratch")) or None,
        "rto": _rto(result), "rpo": _rpo(result, backup),
        "checks": checks, "checks_passed": sum(1 for c in checks if c["passed"]),
        "checks_failed": sum(1 for c in checks if not c["passed"]), "mismatches": mismatches,
        "runbook": None, "runbook_error": None,
    }
    missed = []
    if not recovered:
        missed.append({"job": entry["job"], "objective": "restore", "target_s": targets["rto"]["target_s"],
                       "achieved_s": entry["rto"]["total_s"], "detail": error})
    for name, achieved in (("rto", entry["rto"]["total_s"]), ("rpo", entry["rpo"]["achieved_s"])):
        verdict, detail = _verdict(name, achieved, targets[name]["target_s"], recovered, error)
        entry[name].update(target_s=targets[name]["target_s"], verdict=verdict)
        if detail:
            missed.append({"job": entry["job"], "objective": name, "target_s": targets[name]["target_s"],
                           "achieved_s": achieved, "detail": detail})
    entry["verdict"] = "met" if recovered and not missed else "missed"
    if backup and destination:
        try:
            entry["runbook"] = runbooks.build(backup, destination)
        except (ValueError, KeyError, TypeError) as exc:
            entry["runbook_error"] = "no runbook: %s" % exc
    else:
        entry["runbook_error"] = "no runbook: the result names no %s" % ("backup" if not backup else "destination")
    return entry, missed


def _destinations(jobs):
    """Health of every destination seen in the drill (the mock-up's "Backup Locations")."""
    seen = {}
    for job in jobs:
        dest = job["destination"] or {}
        if dest.get("name"):
            seen.setdefault(dest["name"], {"name": dest["name"], "type": dest.get("type"), "location": dest.get("location"),
                                           "ok": 0, "failed": 0, "skipped": 0})
        for attempt in job["attempts"]:
            name = attempt["destination"] or "?"
            entry = seen.setdefault(name, {"name": name, "type": None, "location": None, "ok": 0, "failed": 0, "skipped": 0})
            status = attempt["status"] if attempt["status"] in ("ok", "failed", "skipped") else "failed"
            entry[status] += 1
    for entry in seen.values():
        entry["status"] = "failed" if entry["failed"] and not entry["ok"] else "warning" if entry["failed"] else "healthy"
    return sorted(seen.values(), key=lambda e: e["name"])


def _overall(name, jobs, target):
    key = "total_s" if name == "rto" else "achieved_s"
    measured = [(j[name][key], j["job"]) for j in jobs if j[name][key] is not None and (name == "rpo" or j["passed"])]
    worst = max(measured) if measured else (None, None)
    out = dict(target, worst_s=worst[0], worst_job=worst[1], met=bool(jobs) and all(j[name]["verdict"] == "met" for j in jobs),
               jobs_met=sum(1 for j in jobs if j[name]["verdict"] == "met"),
               jobs_missed=sum(1 for j in jobs if j[name]["verdict"] != "met"))
    if name == "rto":
        out["not_recovered"] = sum(1 for j in jobs if not j["passed"])
    return out


def add_months(when, months):
    month = when.month - 1 + months
    year, month = when.year + month // 12, month % 12 + 1
    return when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))


def build_report(results, objectives, operator, started_at, finished_at, token, title, host=None, collection_version=None):
    """The report document. ``started_at``/``finished_at`` are aware datetimes (``started_at`` may be
    None: the earliest ``rpo.verify_started_at`` of the results, else ``finished_at``); ``token`` is
    the random part of the drill id (8 hex digits)."""
    if not isinstance(results, list) or not results:
        raise ValueError("results must be a non-empty list of registered restore_verify results")
    targets = objectives_targets(objectives)
    jobs, missed = [], []
    for index, result in enumerate(results):
        entry, job_missed = job_entry(result, index, targets)
        jobs.append(entry)
        missed.extend(job_missed)
    seen = {}
    for entry in jobs:  # a job drilled twice (two destinations) keeps its name; "id" tells them apart
        seen[entry["job"]] = seen.get(entry["job"], 0) + 1
        entry["id"] = entry["job"] if seen[entry["job"]] == 1 else "%s#%d" % (entry["job"], seen[entry["job"]])
    if started_at is None:
        starts = [clock.parse_time(j["rpo"]["verify_started_at"]) for j in jobs if j["rpo"]["verify_started_at"]]
        started_at = min(starts) if starts else finished_at
    drill_id = "%s-%s" % (clock.compact(started_at), token)
    overall = {"rpo": _overall("rpo", jobs, targets["rpo"]), "rto": _overall("rto", jobs, targets["rto"])}
    met = overall["rpo"]["met"] and overall["rto"]["met"] and all(j["passed"] for j in jobs)
    return {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION, "drill_id": drill_id, "title": title,
        "operator": operator, "host": host, "collection_version": collection_version,
        "started_at": clock.isoformat(started_at), "finished_at": clock.isoformat(finished_at),
        "duration_s": round(max(0.0, (finished_at - started_at).total_seconds()), 3),
        "next_drill_due": clock.isoformat(add_months(finished_at, DRILL_INTERVAL_MONTHS)),
        "objectives": overall, "objectives_met": met, "verdict": "met" if met else "missed",
        "summary": {"jobs": len(jobs), "passed": sum(1 for j in jobs if j["passed"]),
                    "failed": sum(1 for j in jobs if not j["passed"]), "met": sum(1 for j in jobs if j["verdict"] == "met"),
                    "checks": sum(len(j["checks"]) for j in jobs), "checks_failed": sum(j["checks_failed"] for j in jobs)},
        "missed": missed, "destinations": _destinations(jobs), "jobs": jobs,
    }


def compact_jobs(report):
    """The per-job summary the module returns."""
    return [{"id": j["id"], "job": j["job"], "kind": j["kind"], "status": j["status"], "verdict": j["verdict"], "backup_id": j["backup_id"],
             "destination": (j["destination"] or {}).get("name"), "rto_s": j["rto"]["total_s"], "rto": j["rto"]["verdict"],
             "rpo_s": j["rpo"]["achieved_s"], "rpo": j["rpo"]["verdict"], "checks_passed": j["checks_passed"],
             "checks_failed": j["checks_failed"], "error": j["error"]} for j in report["jobs"]]
