"""The seeded state of the ``dashboards`` bench, written with the collection's own writers where they exist.

Under one work directory::

    dest/<nas|offsite|archive>/<job>/...    the jobs' local destinations: per backup an object, a manifest and an
                                             index entry (``wkbench_backups``, the writer ``backup_info.py`` uses)
    ops_state/maintenance/...                maintenance windows (``WindowStore`` + ``policy.maintenance``)
    ops_state/reports/dr_drill/...           drill reports (``report.drill.build_report`` + ``report.store``)
    ops_state/integrity/<job>.sweep.json     the last integrity sweep per job (``integrity_record.record_sweep``)
    ops_state/health_snapshots/<host>/       ``health_facts`` snapshots (``health.snapshots`` names and format)

Varied on purpose (every ``n``-th item), so that the dashboards have every state to render: jobs whose newest
backup is older than their RPO, an archive copy that lags, a destination whose last sweep found a damaged backup,
windows that overran, were cancelled or had a failed task, drills with a failed restore or a missed RTO, hosts
at 96 % disk or busy CPU.
"""

import datetime
import hashlib
import json
import math
import os
import random
import time

from ansible_collections.watchkeeper.ops.plugins.module_utils import integrity_record
from ansible_collections.watchkeeper.ops.plugins.module_utils.health import disks, host as host_facts, snapshots
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.store import WindowStore, open_ops_state
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import health as health_policy
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as mpolicy
from ansible_collections.watchkeeper.ops.plugins.module_utils.report import drill, store as drill_store
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.summary import backup_summary, destination_summary

import wkbench_backups

UTC = datetime.timezone.utc
DESTINATIONS = ("nas", "offsite", "archive")
KINDS = ("app-db", "orders-db", "billing-db", "crm-db", "auth-db")
SNAPSHOT_STEP_S = 300
QUARTER_S = 91.3 * 86400


def job_name(index):
    return "%s-%02d" % (KINDS[index % len(KINDS)], index)


def host_name(index):
    return "%s-%02d" % (("web", "db", "worker", "cache")[index % 4], index)


class Seed(object):
    """Seeds the work directory ``work`` at ``now`` (epoch seconds); ``log(msg)`` prints progress."""

    def __init__(self, work, now, jobs=50, backups=1000, hosts=20, snapshots_per_host=288, windows=200, drills=40,
                 log=print, seed=16):
        self.work, self.now = work, now
        self.n_jobs, self.n_backups, self.n_hosts, self.n_snapshots = jobs, backups, hosts, snapshots_per_host
        self.n_windows, self.n_drills = windows, drills
        self.log = log
        self.random = random.Random(seed)
        self.ops_state = os.path.join(work, "ops_state")
        self.health_dir = os.path.join(self.ops_state, "health_snapshots")
        self.dest_root = os.path.join(work, "dest")
        self.jobs = []          # the ``jobs`` option of ops_dashboard
        self.newest = {}        # job -> newest manifest document
        self.counts = {}

    # -- the jobs and their destinations ------------------------------------------------------
    def job_spec(self, index):
        spec = {"name": job_name(index), "max_age": "26h", "rto": "2h",
                "destinations": [{"name": d, "type": "local", "path": os.path.join(self.dest_root, d)} for d in DESTINATIONS]}
        if index % 5 == 1:
            spec["max_age"] = "4h"  # an hourly job with a tight RPO
        return spec

    def backups(self):
        files = 0
        started = time.monotonic()
        for index in range(self.n_jobs):
            spec = self.job_spec(index)
            self.jobs.append(spec)
            # newest backup 30 min ago, except every 10th job (index 3, 13...): 30 h ago, older than its RPO
            newest = self.now - (30 * 3600 if index % 10 == 3 else 1800)
            docs = []
            payload = os.urandom(1024 + 97 * index)
            items = list(wkbench_backups.synthetic(spec["name"], self.n_backups, newest=newest, payload=payload, rich=True,
                                                   docs=docs, host="db%02d.internal" % (index % 20), database="app%02d" % index))
            self.newest[spec["name"]] = docs[0]
            for dest in DESTINATIONS:
                # every 7th job's archive copy lags a day behind (the newest 24 backups are not there yet)
                skip = 3 * 24 if dest == "archive" and index % 7 == 0 else 0
                files += wkbench_backups.write_local(os.path.join(self.dest_root, dest), items[skip:])
            self.log("backups: job %d/%d (%s), %d files, %.0f s"
                     % (index + 1, self.n_jobs, spec["name"], files, time.monotonic() - started))
        self.counts.update(jobs=self.n_jobs, destinations=len(DESTINATIONS), backups_per_job=self.n_backups,
                           backup_files=files)

    # -- integrity sweeps -------------------------------------------------------------------------
    def sweeps(self):
        if not hasattr(integrity_record, "record_sweep"):
            self.log("integrity sweeps: integrity_record.record_sweep does not exist; none seeded")
            self.counts["sweeps"] = 0
            return
        checked_at = iso(self.now - 6 * 3600)
        for index, spec in enumerate(self.jobs):
            newest = self.newest[spec["name"]]["backup_id"]
            summaries = {}
            for dest in DESTINATIONS:
                rows = [{"backup_id": "b%d" % n, "verdict": "good"} for n in range(self.n_backups)]
                if index == 2 and dest == "offsite":  # one destination whose last sweep found a damaged backup
                    rows[0] = {"backup_id": newest, "verdict": "bad",
                               "problems": ["object %s: SHA-256 differs from the manifest" % newest]}
                summaries[dest] = integrity_record.sweep_summary({"status": "ok", "backups": rows})
            integrity_record.record_sweep(self.ops_state, spec["name"], checked_at, summaries)
        self.counts["sweeps"] = len(self.jobs)
        self.log("integrity sweeps: %d jobs" % len(self.jobs))

    # -- health snapshots -------------------------------------------------------------------------
    def health(self):
        template = dict(host_facts.collect_static()[0])
        template["mounts"] = disks.collect()[0][:3]
        template["errors"] = []
        thresholds = health_policy.merge_thresholds({})[0]
        checks = {"services": [], "endpoints": [], "certificates": [], "redis": [], "postgres": []}
        written = 0
        for index in range(self.n_hosts):
            directory = os.path.join(self.health_dir, host_name(index))
            os.makedirs(directory, exist_ok=True)
            base_cpu, base_mem = 15 + 3 * index, 35 + 2 * index
            disk = 96.0 if index == 3 else 40 + 2.5 * index  # host 3: 96 % disk
            for step in range(self.n_snapshots):
                when = self.now - SNAPSHOT_STEP_S * (self.n_snapshots - step)
                wave = math.sin(2 * math.pi * step / 288.0)
                facts = json.loads(json.dumps(template))
                facts["cpu_percent"] = round(min(100.0, max(0.0, base_cpu + 20 * wave + self.random.uniform(-5, 5))), 2)
                if index == 5 and step > self.n_snapshots - 12:
                    facts["cpu_percent"] = round(self.random.uniform(93, 99), 2)  # busy for the last hour
                facts["memory"]["percent"] = round(min(99.0, base_mem + 5 * wave + self.random.uniform(-2, 2)), 2)
                for number, mount in enumerate(facts["mounts"]):
                    used = min(99.5, disk + 0.002 * step - 10 * number) if number == 0 else 30.0
                    mount["used_percent"] = round(used, 3)
                    mount["free_percent"] = round(100 - used, 3)
                    mount["avail_bytes"] = int(mount["size_bytes"] * (100 - used) / 100)
                    mount["used_bytes"] = mount["size_bytes"] - mount["avail_bytes"]
                verdict = health_policy.classify(facts, checks, thresholds)
                doc = {"time": when, "status": verdict["status"], "host": facts, "reasons": verdict["reasons"]}
                with open(os.path.join(directory, snapshots.name_for(when)), "w") as handle:
                    json.dump(doc, handle, sort_keys=True)
                written += 1
        self.counts.update(hosts=self.n_hosts, snapshots=written)
        self.log("health: %d hosts x %d snapshots" % (self.n_hosts, self.n_snapshots))

    # -- maintenance windows ----------------------------------------------------------------------
    def windows(self):
        store = WindowStore(open_ops_state(self.ops_state))
        upcoming = max(1, self.n_windows // 14)
        kinds = {"completed": 0, "overran": 0, "cancelled": 0, "task_failed": 0, "scheduled": 0}
        for number in range(self.n_windows):
            title = ("Kernel upgrade", "Database index rebuild", "Certificate renewal", "Storage expansion",
                     "PostgreSQL minor upgrade")[number % 5]
            today = dt(self.now).replace(hour=2, minute=0, second=0, microsecond=0)
            if number < upcoming:  # the next ones: 02:00 UTC every two days from tomorrow on
                start = today + datetime.timedelta(days=1 + 2 * number)
            else:  # the history: one every 3.5 days going back
                start = today - datetime.timedelta(days=3.5 * (number - upcoming + 1))
            spec = {"title": "%s #%d" % (title, number), "start": mpolicy.iso(start), "timezone": "Europe/Berlin",
                    "duration": "%dm" % (30 * (1 + number % 4)), "impact": mpolicy.IMPACTS[number % 4],
                    "components": ["database"] if "Database" in title or "PostgreSQL" in title else ["web"],
                    "description": "Seeded by bench/dashboards.py"}
            created = start - datetime.timedelta(days=7)
            window_id = "mw-bench-%04d" % number
            doc = store.create(mpolicy.new_window(spec, created, window_id))
            if doc is None:
                raise SystemExit("window %s exists already: seed into an empty directory" % window_id)
            if number < upcoming:
                kinds["scheduled"] += 1
                continue
            if number % 23 == 7:
                cancel_at = created + datetime.timedelta(days=1)
                store.update(window_id, lambda d, c=cancel_at: mpolicy.transition(d, "cancelled", c, reason="postponed"))
                kinds["cancelled"] += 1
                continue
            store.update(window_id, lambda d, s=start: mpolicy.transition(d, "in_progress", s))
            length = datetime.timedelta(seconds=doc["duration_s"])
            finished = start + (length + datetime.timedelta(minutes=25) if number % 9 == 4 else length * 0.8)
            tasks = [{"name": "apply", "ok": number % 17 != 5}, {"name": "health check", "ok": True}]
            store.update(window_id, lambda d, f=finished, t=tasks: mpolicy.transition(d, "completed", f, task_results=t))
            kinds["overran" if number % 9 == 4 else "completed"] += 1
            kinds["task_failed"] += number % 17 == 5
        self.counts["windows"] = kinds
        self.log("maintenance windows: %s" % kinds)

    # -- drill reports ----------------------------------------------------------------------------
    def drills(self):
        span = 10 * QUARTER_S
        per_drill = max(1, min(10, self.n_jobs))
        for number in range(self.n_drills):
            finished = dt(self.now - 10 * 86400 - span * number / max(1, self.n_drills))
            results = []
            for slot in range(per_drill):
                index = (number * per_drill + slot) % self.n_jobs
                results.append(self.drill_result(index, finished, number, slot))
            token = hashlib.sha256(("%d" % number).encode()).hexdigest()[:8]
            doc = drill.build_report(results, {"rpo": "4h", "rto": "2h"}, "dr-operator", None, finished, token,
                                     "Quarterly recovery drill", host="ctl1", collection_version="bench")
            files = drill_store.render_files(doc)
            drill_store.write_directory(self.ops_state, doc["drill_id"], files, files[-1][1])
        self.counts["drills"] = self.n_drills
        self.log("drill reports: %d x %d jobs" % (self.n_drills, per_drill))

    def drill_result(self, index, finished, number, slot):
        spec = self.jobs[index]
        rpo_s = 1800.0 + 600 * slot
        rto_s = 9000.0 if (number + slot) % 13 == 6 else 600.0 + 120 * slot  # every 13th: RTO missed
        passed = (number + slot) % 19 != 11  # every 19th: the restore failed its checks
        verify_start = finished - datetime.timedelta(seconds=rto_s + 60)
        created = verify_start - datetime.timedelta(seconds=rpo_s)
        doc = wkbench_backups.manifest(spec["name"], created, b"x" * 1024, rich=True, host="db%02d.internal" % (index % 20))
        dest = spec["destinations"][slot % len(DESTINATIONS)]
        backup = backup_summary(doc)
        checks = [{"name": "rows public.orders", "kind": "fingerprint", "table": "public.orders", "passed": True,
                   "expected": 120000, "found": 120000, "detail": None},
                  {"name": "checksum public.orders", "kind": "checksum", "table": "public.orders", "passed": passed,
                   "expected": "9f1c", "found": "9f1c" if passed else "0000", "detail": None if passed else "checksum differs"}]
        return {"changed": False, "failed": False, "passed": passed, "status": "verified", "job": spec["name"],
                "kind": "postgres", "backup_id": doc["backup_id"], "created_at": doc["created_at"], "backup": backup,
                "destination": destination_summary(dest, dest["path"]),
                "attempts": [{"destination": dest["name"], "status": "ok", "error": None}],
                "scratch": {"kind": "database", "name": "wk_scratch_%s" % spec["name"].replace("-", "_"), "removed": True},
                "rto": {"select_s": 0.3, "download_decrypt_s": rto_s * 0.2, "restore_data_s": rto_s * 0.5,
                        "indexes_constraints_s": rto_s * 0.2, "checks_s": rto_s * 0.1 - 0.3, "cleanup_s": 1.0,
                        "restore_s": rto_s * 0.9, "total_s": rto_s},
                "rpo": {"achieved_s": rpo_s, "backup_created_at": doc["created_at"], "verify_started_at": mpolicy.iso(verify_start)},
                "checks": checks, "mismatches": [] if passed else ["checksum public.orders: expected 9f1c, found 0000"]}

    # -- all --------------------------------------------------------------------------------------
    def run(self, scale=None):
        """Seed everything; returns the counts (``scale``: the options, kept to recognise the seed with ``load``)."""
        started = time.monotonic()
        os.makedirs(self.ops_state, exist_ok=True)
        self.backups()
        self.sweeps()
        self.health()
        self.windows()
        self.drills()
        self.counts.update(seed_s=round(time.monotonic() - started, 1), scale=scale, snapshots_per_host=self.n_snapshots)
        with open(os.path.join(self.work, "seed.json"), "w") as handle:
            json.dump({"now": self.now, "counts": self.counts, "jobs": self.jobs}, handle)
        return self.counts


def load(work):
    """``(now, counts, jobs)`` of a work directory seeded before, or None."""
    try:
        with open(os.path.join(work, "seed.json")) as handle:
            doc = json.load(handle)
    except (OSError, ValueError):
        return None
    return doc["now"], doc["counts"], doc["jobs"]


def dt(epoch):
    return datetime.datetime.fromtimestamp(epoch, UTC) if not isinstance(epoch, datetime.datetime) else epoch


def iso(epoch):
    return mpolicy.iso(dt(epoch))
