# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Searching the audit trail: filter records by time, user, playbook, host, action, outcome; export JSON or CSV.

Task records name their run; who ran it and which playbook come from the run's ``play_start`` record, so a
filter on user or playbook selects the play starts, task results and run end of the matching runs. The walk
reads segments in seq order (the same files ``audit_verify`` checks) and decodes only records inside the time
window.
"""

import csv
import io
import json

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import record
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.spool import seg_name
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.verify import discover, read

COLUMNS = ["chain", "seq", "ts", "event", "run", "playbook", "user", "awx_job_id", "awx_job_template", "awx_user",
           "semaphore_task_id", "play", "host", "task", "action", "outcome", "check_mode", "hash"]
OUTCOMES = ("ok", "changed", "failed", "skipped", "unreachable")


class Filters(object):
    def __init__(self, since=None, until=None, users=(), playbooks=(), hosts=(), actions=(), outcomes=(), events=(),
                 job_ids=()):
        self.since = record.fmt_ts(record.parse_ts(since)) if since else None
        self.until = record.fmt_ts(record.parse_ts(until)) if until else None
        self.users = set(users or ())
        self.playbooks = list(playbooks or ())
        self.hosts = set(hosts or ())
        self.actions = set(actions or ())
        self.outcomes = set(outcomes or ())
        self.events = set(events or ())
        self.job_ids = set(str(j) for j in job_ids or ())

    def as_dict(self):
        return {"since": self.since, "until": self.until, "users": sorted(self.users), "playbooks": self.playbooks,
                "hosts": sorted(self.hosts), "actions": sorted(self.actions), "outcomes": sorted(self.outcomes),
                "events": sorted(self.events), "job_ids": sorted(self.job_ids)}

    def in_time(self, ts):
        return not ((self.since and ts < self.since) or (self.until and ts > self.until))

    def match(self, data, run):
        who = run.get("who") or {}
        names = set(n for n in (who.get("user"), (who.get("awx") or {}).get("user"), (who.get("semaphore") or {}).get("user")) if n)
        if self.users and not names & self.users:
            return False
        if self.job_ids and str((who.get("awx") or {}).get("job_id")) not in self.job_ids \
                and str((who.get("semaphore") or {}).get("task_id")) not in self.job_ids:
            return False
        playbook = run.get("playbook") or ""
        if self.playbooks and not any(playbook == p or playbook.endswith("/" + p.lstrip("/")) for p in self.playbooks):
            return False
        if self.events and data.get("event") not in self.events:
            return False
        task_fields = self.hosts or self.actions or self.outcomes
        if task_fields and data.get("event") != "task":
            return False
        if self.hosts and data.get("host") not in self.hosts:
            return False
        if self.actions and not any(data.get("action") == a or (data.get("action") or "").endswith("." + a) for a in self.actions):
            return False
        return not (self.outcomes and data.get("outcome") not in self.outcomes)


def search(storage, prefix, filters, chains=None):
    """Iterate ``(record, its run's play_start data, segment)`` of the matching records, in chain then seq order."""
    found = discover(storage, prefix)
    for chain in sorted(found):
        if chains and chain not in chains:
            continue
        runs = {}
        for first in sorted(found[chain]["segments"]):
            data = read(storage, found[chain]["segments"][first])
            for line in data.split(b"\n"):
                if not line:
                    continue
                try:
                    ts = record.split_line(line)[3]
                except record.RecordError:
                    continue  # audit_verify names it; a query shows what can be read
                if not filters.in_time(ts) and b'"play_start"' not in line:
                    continue
                rec = json.loads(line)
                body = rec.get("data") or {}
                if body.get("event") == "play_start":
                    runs[body.get("run")] = body
                if not filters.in_time(ts):
                    continue
                run = runs.get(body.get("run")) or body
                if filters.match(body, run):
                    yield rec, run, seg_name(first)


def flat(rec, run=None):
    """One CSV row: the record's own fields, completed by its run's playbook and who."""
    data = rec.get("data") or {}
    run = run or {}
    who = data.get("who") or run.get("who") or {}
    awx, sem = who.get("awx") or {}, who.get("semaphore") or {}
    return {"chain": rec.get("chain"), "seq": rec.get("seq"), "ts": rec.get("ts"), "event": data.get("event"),
            "run": data.get("run"), "playbook": data.get("playbook") or run.get("playbook"), "user": who.get("user"),
            "awx_job_id": awx.get("job_id"), "awx_job_template": awx.get("job_template"), "awx_user": awx.get("user"),
            "semaphore_task_id": sem.get("task_id"), "play": data.get("play") or run.get("play"), "host": data.get("host"),
            "task": data.get("task"), "action": data.get("action"), "outcome": data.get("outcome"),
            "check_mode": data.get("check_mode"), "hash": rec.get("hash")}


def to_csv(rows):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buf.getvalue().encode("utf-8")


def to_json(records, query):
    return (json.dumps({"query": query, "count": len(records), "records": records}, indent=1, sort_keys=True,
                       ensure_ascii=False) + "\n").encode("utf-8")
