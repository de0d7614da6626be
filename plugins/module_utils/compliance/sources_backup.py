# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evidence collectors of the backup estate: backup run history, restore verifications, drill reports.

Each collector reads the ``ops_state`` directory and returns plain facts for ``evaluate`` (pure) with the query
that selected the files and the files themselves (``evidence``: path, SHA-256, bytes). ``present`` is false when
the source directory does not exist: the check is then not applicable, never passed.
"""

import datetime
import json
import os

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils import run_history
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance.evidence import Evidence, listdir
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance.evidence import iso as _iso, parse_time as _time

VERIFIED = "verified"
DRILLS = ("reports", "dr_drill")


def discover_jobs(ops_state):
    """Every job with a run history or verification records (what the report covers by default)."""
    found = set(run_history.jobs(ops_state))
    found.update(n for n in listdir(os.path.join(ops_state, VERIFIED), dirs=True) if mf.JOB_RE.match(n))
    return sorted(found)


def backup_runs(ops_state, jobs, period):
    """Every recorded run of every job that started in the period."""
    base = os.path.join(ops_state, *run_history.BASE)
    ev = Evidence()
    out = {"present": os.path.isdir(base), "source": base, "evidence": ev.files, "jobs": {},
           "query": "every file %s/<job>/<UTC start stamp>-<backup_id>.json whose start stamp is in [%s, %s), for the jobs %s"
                    % (base, _iso(period["start"]), _iso(period["end"]), ", ".join(jobs) or "(none)")}
    for job in jobs:
        runs = []
        for path, doc in run_history.read_runs(ops_state, job, period["start"], period["end"], reader=ev.read):
            if doc is None:
                runs.append({"file": path, "backup_id": None, "status": "unreadable", "started": None, "step": None,
                             "msg": "not a readable %s record" % run_history.SCHEMA})
            else:
                runs.append({"file": path, "backup_id": doc["backup_id"], "status": doc["status"], "started": doc["started"],
                             "step": doc.get("step"), "msg": doc.get("msg")})
        out["jobs"][job] = runs
    return out


def _window(period, max_age_days):
    return period["end"] - datetime.timedelta(days=max_age_days)


def verifications(ops_state, jobs, period, max_age_days):
    """Per job the passed restore verifications of the last ``max_age_days`` before the period's end, and the
    newest one before that when there is none."""
    base = os.path.join(ops_state, VERIFIED)
    since = _window(period, max_age_days)
    ev = Evidence()
    out = {"present": os.path.isdir(base), "source": base, "evidence": ev.files, "jobs": {}, "since": _iso(since),
           "query": "every file %s/<job>/<backup_id>.json (written by restore_verify when a verification passed) with "
                    "verified_at in [%s, %s), else the newest before, for the jobs %s"
                    % (base, _iso(since), _iso(period["end"]), ", ".join(jobs) or "(none)")}
    for job in jobs:
        directory = os.path.join(base, job)
        records, older, bad = [], None, []
        for name in listdir(directory, ".json"):
            if not mf.BACKUP_ID_RE.match(name[:-5]):
                continue
            path = os.path.join(directory, name)
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
                doc = json.loads(data.decode("utf-8"))
                when = _time(doc.get("verified_at"))
            except (IOError, OSError, ValueError, AttributeError, UnicodeDecodeError):
                bad.append(path)
                continue
            if when is None or when >= period["end"]:
                continue
            entry = {"file": path, "backup_id": doc.get("backup_id"), "verified_at": _iso(when), "data": data}
            if when >= since:
                records.append(entry)
            elif older is None or entry["verified_at"] > older["verified_at"]:
                older = entry
        chosen = sorted(records, key=lambda r: r["verified_at"]) or ([older] if older else [])
        for entry in chosen:
            ev.add_bytes(entry["file"], entry.pop("data"))
        out["jobs"][job] = {"in_window": [e for e in chosen if e["verified_at"] >= _iso(since)],
                            "newest": chosen[-1] if chosen else None, "unreadable": bad}
    return out


def _drill_jobs(doc):
    jobs = {}
    for entry in doc.get("jobs") or []:
        if not isinstance(entry, dict) or not entry.get("job"):
            continue
        rto, rpo = entry.get("rto") or {}, entry.get("rpo") or {}
        item = {"verdict": entry.get("verdict"), "status": entry.get("status"), "rto_s": rto.get("total_s"),
                "rto": rto.get("verdict"), "rpo_s": rpo.get("achieved_s"), "rpo": rpo.get("verdict")}
        prev = jobs.get(entry["job"])
        if prev is not None and prev["verdict"] != "met":
            continue  # drilled twice in one drill: met only when every restore met
        jobs[entry["job"]] = item
    return jobs


def drills(ops_state, jobs, period, max_age_days):
    """The drill reports that finished in the last ``max_age_days`` before the period's end, with each job's
    verdict, RTO and RPO; for a job with no met drill there, the newest drill before that naming it."""
    base = os.path.join(ops_state, *DRILLS)
    since = _window(period, max_age_days)
    ev = Evidence()
    out = {"present": os.path.isdir(base), "source": base, "evidence": ev.files, "since": _iso(since), "drills": [],
           "unreadable": [],
           "query": "every file %s/<drill_id>/report.json (schema watchkeeper.ops/drill-report, written by drill_report) "
                    "with finished_at in [%s, %s), else the newest before naming the job, for the jobs %s"
                    % (base, _iso(since), _iso(period["end"]), ", ".join(jobs) or "(none)")}
    older = []
    for name in listdir(base, dirs=True):
        path = os.path.join(base, name, "report.json")
        data = None
        try:
            with open(path, "rb") as handle:
                data = handle.read()
            doc = json.loads(data.decode("utf-8"))
            when = _time(doc.get("finished_at"))
            if doc.get("schema") != "watchkeeper.ops/drill-report" or when is None:
                raise ValueError("not a drill report")
        except (IOError, OSError, ValueError, AttributeError, UnicodeDecodeError):
            try:
                stamp = clock.parse_compact(name.split("-", 1)[0])
            except ValueError:
                stamp = None
            if stamp is None or since <= stamp < period["end"]:
                out["unreadable"].append(path)
                if data is not None:
                    ev.add_bytes(path, data)
            continue
        if when >= period["end"]:
            continue
        entry = {"file": path, "drill_id": doc.get("drill_id") or name, "finished_at": _iso(when),
                 "verdict": doc.get("verdict"), "jobs": _drill_jobs(doc), "data": data}
        (out["drills"] if when >= since else older).append(entry)
    out["drills"].sort(key=lambda d: d["finished_at"])
    for entry in out["drills"]:
        ev.add_bytes(entry["file"], entry.pop("data"))
    out["older"] = {}
    for job in jobs:
        if any((d["jobs"].get(job) or {}).get("verdict") == "met" for d in out["drills"]):
            continue
        naming = sorted((d for d in older if job in d["jobs"]), key=lambda d: d["finished_at"])
        if naming:
            last = naming[-1]
            ev.add_bytes(last["file"], last["data"])
            out["older"][job] = dict((k, v) for k, v in last.items() if k != "data")
    return out
