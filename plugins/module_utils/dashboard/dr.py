# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Disaster Recovery page's facts: objectives and achieved RPO/RTO per job (the newest drill that restored the
job, and the age of its newest backup now), each destination's health, the recovery procedures per kind, the last
recovery test and the next one (overdue shown as such). Pure."""

import datetime

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import freshness
from ansible_collections.watchkeeper.ops.plugins.module_utils.report.drill import add_months, DRILL_INTERVAL_MONTHS

DATABASE_KINDS = ("postgres", "sqlite", "mysql", "redis")
PROCEDURES = (("database", "Database"), ("files", "Application files"), ("full_system", "Full system"))
STATUS_RANK = {"healthy": 0, "warning": 1, "failed": 2}


def _human(seconds):
    return freshness.human_duration(seconds) if seconds is not None else "n/a"


def _achieved(job, drills):
    """The newest drill entry for ``job``: ``(drill, entry)`` or ``(None, None)``."""
    for drill in drills:
        for entry in drill.get("jobs") or []:
            if entry.get("job") == job:
                return drill, entry
    return None, None


def objectives(jobs, backups, drills):
    rows = []
    by_job = dict((b["job"], b) for b in backups)
    for job in jobs:
        drill, entry = _achieved(job["name"], drills)
        rpo = (entry or {}).get("rpo") or {}
        rto = (entry or {}).get("rto") or {}
        rpo_s, rto_s = rpo.get("achieved_s"), rto.get("total_s")
        row = {"job": job["name"], "rpo_target": job["rpo"], "rpo_target_s": job["rpo_s"], "rto_target": job["rto"],
               "rto_target_s": job["rto_s"], "rpo_achieved_s": rpo_s, "rpo_achieved": _human(rpo_s),
               "rto_achieved_s": rto_s, "rto_achieved": _human(rto_s) if rto_s is None or rto_s >= 60 else "%.1f s" % rto_s,
               "drill_id": (drill or {}).get("drill_id"), "tested_at": (drill or {}).get("finished_at"),
               "current_rpo_s": by_job.get(job["name"], {}).get("age_s"),
               "current_rpo": _human(by_job.get(job["name"], {}).get("age_s")),
               "current_rpo_status": by_job.get(job["name"], {}).get("rpo_status") or "no backup"}
        if entry is None:
            row["rpo_verdict"] = row["rto_verdict"] = "not tested"
        else:
            row["rpo_verdict"] = "met" if rpo_s is not None and rpo_s <= job["rpo_s"] else "missed"
            row["rto_verdict"] = "met" if entry.get("passed") and rto_s is not None and rto_s <= job["rto_s"] else "missed"
        rows.append(row)
    return rows


def destinations(backups):
    """Each destination once, its worst status over the jobs it holds, with every reason."""
    seen = {}
    for row in backups:
        for dest in row["destinations"]:
            out = seen.setdefault(dest["name"], {"name": dest["name"], "type": dest["type"], "status": "healthy",
                                                 "reasons": [], "jobs": []})
            out["jobs"].append(row["job"])
            if STATUS_RANK[dest["status"]] > STATUS_RANK[out["status"]]:
                out["status"] = dest["status"]
            out["reasons"].extend("%s: %s" % (row["job"], r) for r in dest["reasons"])
    return [seen[name] for name in sorted(seen)]


def _kind_jobs(kind, backups):
    if kind == "full_system":
        return [b["job"] for b in backups]
    if kind == "database":
        return [b["job"] for b in backups if b["kind"] in DATABASE_KINDS]
    return [b["job"] for b in backups if b["kind"] not in DATABASE_KINDS]


def procedures(backups, link, runbooks):
    out = []
    for kind, label in PROCEDURES:
        jobs = _kind_jobs(kind, backups)
        out.append({"kind": kind, "label": label, "jobs": jobs,
                    "test": link("drill", jobs=jobs) if jobs else None,
                    "execute": [dict(link("recovery", job=job), job=job) for job in jobs],
                    "documentation": [{"job": job, "href": "runbooks/%s.md" % job} for job in jobs if job in runbooks]})
    return out


def tests(drills, now, interval_s=None):
    """``(last, next, levels, reasons)``: the newest drill and when the next one is due."""
    levels, reasons = [], []
    if not drills:
        nxt = {"due": None, "state": "overdue", "overdue_s": None}
        return None, nxt, ["warning"], ["no disaster-recovery drill on record: restores are not proven"]
    newest = drills[0]
    finished = clock.parse_time(newest["finished_at"])
    summary = newest.get("summary") or {}
    met = newest.get("verdict") == "met"
    last = {"drill_id": newest["drill_id"], "finished_at": clock.isoformat(finished), "verdict": newest.get("verdict"),
            "result": "passed" if met else "failed", "jobs": summary.get("jobs"), "passed": summary.get("passed"),
            "failed": summary.get("failed"), "age_days": int((now - finished).total_seconds() // 86400),
            "missed": [m.get("detail") or "%s %s" % (m.get("job"), m.get("objective")) for m in newest.get("missed") or []][:5]}
    if interval_s:
        due = finished + datetime.timedelta(seconds=interval_s)
    else:
        due = add_months(finished, DRILL_INTERVAL_MONTHS)
    overdue = now > due
    nxt = {"due": clock.isoformat(due), "state": "overdue" if overdue else "scheduled",
           "overdue_s": int((now - due).total_seconds()) if overdue else 0}
    if overdue:
        levels.append("warning")
        reasons.append("the last disaster-recovery drill was %d days ago; the next one was due on %s (overdue)" % (
            last["age_days"], nxt["due"]))
    if not met:
        levels.append("warning")
        reasons.append("the last disaster-recovery drill (%s) missed its objectives" % newest["drill_id"])
    return last, nxt, levels, reasons


def build(jobs, backups, drills, now, link, interval_s=None, runbooks=()):
    last, nxt, levels, reasons = tests(drills, now, interval_s)
    return {"objectives": objectives(jobs, backups, drills), "destinations": destinations(backups),
            "procedures": procedures(backups, link, set(runbooks)), "last_test": last, "next_test": nxt,
            "levels": levels, "reasons": reasons}
