# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builders for the dashboard unit tests: listings, windows, drills as the sources return them."""

import datetime

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.dashboard import model
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as policy

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def ago(**kw):
    return clock.isoformat(NOW - datetime.timedelta(**kw))


def backup(hours_ago, valid=True, stored=1024, kind="postgres"):
    return {"backup_id": "b-%s" % hours_ago, "created_at": ago(hours=hours_ago), "completed_at": ago(hours=hours_ago),
            "valid": valid, "problems": [] if valid else ["object missing"], "sizes": {"stored_bytes": stored},
            "source": {"kind": kind}}


def listing(name, *backups, **kw):
    return {"name": name, "type": "local", "reachable": kw.get("reachable", True), "reason": kw.get("reason"),
            "backups": list(backups), "incomplete": 0}


def job(name="app-db", rpo="4h", rto="2h", kind=None):
    return model.job_config({"name": name, "rpo": rpo, "rto": rto, "kind": kind,
                             "destinations": [{"name": "nas", "type": "local", "path": "/x"}]})


def window(wid, start, duration="1h", status="scheduled", finish=None, impact="degraded", tasks=None):
    doc = policy.new_window({"title": "Window %s" % wid, "start": clock.isoformat(start), "duration": duration,
                             "impact": impact}, start - datetime.timedelta(days=3), window_id=wid)
    if status in ("in_progress", "completed"):
        doc = policy.transition(doc, "in_progress", start)
    if status == "completed":
        doc = policy.transition(doc, "completed", finish, task_results=tasks)
    if status == "cancelled":
        doc = policy.transition(doc, "cancelled", finish or start, reason="postponed")
    return doc


def drill(days_ago, jobs=(("app-db", 1800.0, 300.0, True),), verdict="met"):
    finished = NOW - datetime.timedelta(days=days_ago)
    entries = [{"job": name, "passed": passed, "rpo": {"achieved_s": rpo_s}, "rto": {"total_s": rto_s}}
               for name, rpo_s, rto_s, passed in jobs]
    return {"drill_id": "%s-abcd1234" % clock.compact(finished), "finished_at": clock.isoformat(finished),
            "verdict": verdict, "summary": {"jobs": len(entries), "passed": sum(1 for e in entries if e["passed"]),
                                            "failed": sum(1 for e in entries if not e["passed"])},
            "missed": [], "jobs": entries}
