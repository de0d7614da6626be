# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seeding of the dashboard tests (issue 16): an ``ops_state`` and local destinations written with the collection's
own writers, so that the dashboards are judged against records shaped exactly like the real ones.

* backups: synthetic but valid (an object, a manifest checked with ``manifest.validate`` and an index entry, the way
  bench/backup_info.py writes them) through ``manifest``/``catalog_index`` and ``storage.put_bytes``;
* the integrity sweep: a real run of ``watchkeeper.ops.backup_integrity`` with ``ops_state`` over a really damaged
  object;
* maintenance windows: ``policy/maintenance.py`` (new_window, transition) stored with the ``WindowStore`` of
  ``maintenance_window``;
* the drill report: ``report/drill.build_report`` from restore_verify-shaped results (``restore/summary.py``) written
  with ``report/store.write_directory``;
* health snapshots: ``health/snapshots.write`` of ``{"time", "status", "host"}`` as health_facts writes them, the
  status judged by ``policy/health.classify`` with the default thresholds.
"""

import datetime
import hashlib
import os
import sys

from helpers import assert_ok, collections_path, run_module

sys.path.insert(0, collections_path())

from ansible_collections.watchkeeper.ops.plugins.module_utils import catalog_index  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.health import snapshots  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.store import WindowStore  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import health as health_policy  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as mw  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.report import drill  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.report import store as drill_store  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.summary import (  # noqa: E402 pylint: disable=wrong-import-position
    backup_summary, destination_summary)
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.versioned_store import open_ops_state  # noqa: E402 pylint: disable=wrong-import-position

UTC = datetime.timezone.utc
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)

# Values that must never reach a page or dashboard.json (given to the jobs as their configuration).
SECRETS = {
    "access_key": "AKIA-Zq8fV3kT1-never-shown",
    "secret_key": "sk-Hh71LmQp0-never-shown",
    "credentials_file": "/etc/watchkeeper/creds-9b2f-never-shown.json",
}
FORBIDDEN = list(SECRETS.values()) + ["PRIVATE KEY", "Traceback"]

# Every action key of the contract -> the playbook its command runs (issue 16 interface).
QUICK_ACTIONS = {"schedule_maintenance": "maintenance_schedule.yml", "backup_now": "backup.yml", "scale_resources": "scale.yml",
                 "view_logs": "troubleshoot.yml", "security_audit": "security_audit.yml",
                 "emergency_procedures": "emergency_maintenance.yml"}
WINDOW_ACTIONS = {"edit_window": "maintenance_schedule.yml", "cancel_window": "maintenance_schedule.yml",
                  "notify_users": "maintenance_notify.yml", "start_early": "maintenance_start.yml"}
EMERGENCY_ACTIONS = {"service_restart": "service_restart.yml", "rollback": "rollback.yml", "security_patch": "security_patch.yml",
                     "scale_down": "scale.yml", "emergency_maintenance": "emergency_maintenance.yml",
                     "database_recovery": "database_recovery.yml"}
PROCEDURE_ACTIONS = {"drill": "dr_drill.yml", "recovery": "database_recovery.yml"}
ALL_ACTIONS = dict(QUICK_ACTIONS, **WINDOW_ACTIONS)
ALL_ACTIONS.update(EMERGENCY_ACTIONS)
ALL_ACTIONS.update(PROCEDURE_ACTIONS)
AWX_URL = "https://awx.example.test"
AWX_TEMPLATES = dict((key, 100 + index) for index, key in enumerate(sorted(ALL_ACTIONS)))
INVENTORY = "inventories/production"

# The seeded estate. Ages are relative to the frozen "now" of the run.
JOBS = {
    # name: (kind, max_age, {destination: [ages of its backups]})
    "app-db": ("postgres", "26h", {"db-nas": [2 * HOUR, 26 * HOUR], "db-vault": [2 * HOUR, 26 * HOUR]}),
    "uploads": ("files", "26h", {"files-nas": [30 * HOUR, 54 * HOUR]}),
    "app-sqlite": ("sqlite", "12h", {"sqlite-nas": [1 * HOUR, 13 * HOUR]}),
}
STALE_JOB = "uploads"                  # newest backup 30 h old, RPO 26 h
DAMAGED = ("app-db", "db-vault")       # the newest backup's object is damaged in this destination only
HOSTS = {"web1": (22.0, 41.0, 55.0), "db1": (35.0, 62.0, 96.0), "cache1": (12.0, 30.0, 20.0)}  # cpu, memory, disk used %
FULL_HOST = "db1"
DRILL_AGE = 100 * DAY + 2 * HOUR
OVERRAN_ID = "mw-reindex-overran"
ON_TIME_ID = "mw-kernel-on-time"
TOMORROW_ID = "mw-db-upgrade-tomorrow"


def iso(when):
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def frozen_now():
    """The run's "now": the real time to the second (the pages' own staleness script compares with the browser's
    clock, so a date far from the real one would show every page as stale)."""
    return datetime.datetime.now(UTC).replace(microsecond=0)


# --------------------------------------------------------------------------- backups

def _ext(kind):
    return {"postgres": ("dump", ".pgdump"), "sqlite": ("db", ".sqlite"), "files": ("tar", ".tar")}[kind]


def write_backup(storage, job, kind, when, payload):
    """One complete backup (objects, manifest, index entry) written the way the backup runner orders them; a file
    backup has its tar and its file list, as a full file backup does."""
    backup_id = "%s-%s" % (when.strftime("%Y%m%dT%H%M%SZ"), hashlib.sha256((job + iso(when)).encode()).hexdigest()[:8])
    role, ext = _ext(kind)
    parts = [(role, ext, payload)] + ([("filelist", ".json", payload[:500])] if kind == "files" else [])
    objects = [{"role": name, "key": mf.object_key(job, backup_id, name, suffix + mf.stream_ext(True, "public_key")),
                "format": name, "raw_bytes": len(data) * 2, "compressed_bytes": len(data), "stored_bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest()} for name, suffix, data in parts]
    source = {"postgres": {"kind": "postgres", "host": "db1.internal", "port": 5432, "database": "app"},
              "sqlite": {"kind": "sqlite", "path": "/srv/app/app.sqlite3"},
              "files": {"kind": "files", "mode": "full", "paths": ["/srv/uploads"]}}[kind]
    doc = {"schema": mf.SCHEMA, "schema_version": 1, "backup_id": backup_id, "job": job, "status": "complete",
           "created_at": iso(when - datetime.timedelta(minutes=3)), "completed_at": iso(when), "source": source,
           "sizes": {"stored_bytes": sum(len(data) for _n, _s, data in parts)}, "compression": {"algorithm": "zstd", "level": 3},
           "encryption": {"mode": "public_key", "tool": "gnupg"}, "sha256": objects[0]["sha256"], "objects": objects}
    if kind == "files":
        doc["files"] = {"mode": "full", "count": 3}
    problems = mf.validate(doc)
    assert problems == [], problems
    data = mf.dumps(doc)
    for (_name, _suffix, body), obj in zip(parts, objects):
        storage.put_bytes(obj["key"], body)
    storage.put_bytes(mf.manifest_key(job, backup_id), data)
    storage.put_bytes(catalog_index.index_key(job, backup_id), catalog_index.build(doc, mf.manifest_key(job, backup_id), data))
    return doc


def destination_spec(root, name):
    """A local destination carrying secret-bearing fields (ignored by local storage), as a shared inventory might."""
    path = os.path.join(str(root), "dest", name)
    os.makedirs(path, exist_ok=True)
    return {"name": name, "type": "local", "path": path, "credentials_file": SECRETS["credentials_file"],
            "access_key": SECRETS["access_key"], "secret_key": SECRETS["secret_key"]}


def destinations_config(root):
    """``destinations`` of ops_dashboard: every destination of every job, once."""
    return [destination_spec(root, dest) for _kind, _max_age, dests in JOBS.values() for dest in dests]


def jobs_config():
    """``jobs`` of ops_dashboard: each job with its RPO (``max_age``, as the backup role names it), RTO and the names of
    its destinations."""
    return [{"name": name, "max_age": max_age, "rto": "2h", "destinations": list(dests)}
            for name, (_kind, max_age, dests) in JOBS.items()]


def seed_backups(root, now):
    """Write every job's backups; returns ``{(job, destination): [manifest, ...]}`` (newest first)."""
    written = {}
    for name, (kind, _max_age, dests) in JOBS.items():
        for dest, ages in dests.items():
            storage = open_storage({"name": dest, "type": "local", "path": destination_spec(root, dest)["path"]})
            written[(name, dest)] = [write_backup(storage, name, kind, now - age, os.urandom(3000 + 100 * index))
                                     for index, age in enumerate(sorted(ages))]
    return written


def damage(root, manifest):
    """Flip bytes in the middle of the backup's object (same size: only the SHA-256 can tell)."""
    path = os.path.join(str(root), "dest", DAMAGED[1], *manifest["objects"][0]["key"].split("/"))
    with open(path, "r+b") as handle:
        handle.seek(1000)
        data = handle.read(16)
        handle.seek(1000)
        handle.write(bytes(b ^ 0xFF for b in data))
    return path


def sweep(root, ops_state, now):
    """The real integrity sweep of the damaged job over both its destinations (reported, not failed)."""
    dests = [{"name": d, "type": "local", "path": destination_spec(root, d)["path"]} for d in JOBS[DAMAGED[0]][2]]
    result = assert_ok(run_module("watchkeeper.ops.backup_integrity", {
        "job": DAMAGED[0], "destinations": dests, "ops_state": str(ops_state), "fail_on_bad": False},
        env={"WATCHKEEPER_NOW": iso(now)}))
    assert result["passed"] is False, result
    return result


# --------------------------------------------------------------------------- maintenance windows

def seed_windows(ops_state, now):
    """One window tomorrow; one that overran by 20 min and one on time, both finished within the last week."""
    store = WindowStore(open_ops_state(str(ops_state)))
    tomorrow = (now + DAY).replace(minute=0, second=0)
    store.create(mw.new_window({"title": "Database upgrade", "start": iso(tomorrow), "timezone": "Europe/Berlin",
                                "duration": "2h", "impact": "read_only", "components": ["API"],
                                "owner": "ops@example.com"}, now - DAY, window_id=TOMORROW_ID))
    for window_id, title, days_ago, finished_after in ((OVERRAN_ID, "Reindex", 3, 80), (ON_TIME_ID, "Kernel update", 5, 50)):
        start = (now - days_ago * DAY).replace(minute=0, second=0)
        store.create(mw.new_window({"title": title, "start": iso(start), "duration": "1h", "impact": "degraded"},
                                   start - 7 * DAY, window_id=window_id))
        store.update(window_id, lambda doc, at=start: mw.transition(doc, "in_progress", at))
        done = start + datetime.timedelta(minutes=finished_after)
        store.update(window_id, lambda doc, at=done: mw.transition(doc, "completed", at))
    windows = dict((doc["id"], doc) for doc in store.all())
    assert windows[OVERRAN_ID]["outcome"]["result"] == "overran" and windows[ON_TIME_ID]["outcome"]["result"] == "on_time"
    return windows


# --------------------------------------------------------------------------- drill report

def seed_drill(root, ops_state, backups, now):
    """The last drill, ``DRILL_AGE`` ago: every job restored from its first destination, objectives met."""
    finished = now - DRILL_AGE
    results = []
    for job, (_kind, _max_age, dests) in JOBS.items():
        dest = destination_spec(root, list(dests)[0])
        backup = backup_summary(backups[(job, dest["name"])][-1])
        results.append({
            "changed": False, "failed": False, "passed": True, "status": "verified", "job": job,
            "kind": backup.get("kind"), "backup_id": backup["backup_id"], "created_at": backup["created_at"],
            "backup": backup,
            "destination": destination_summary({"name": dest["name"], "type": "local", "path": dest["path"]}, dest["path"]),
            "attempts": [{"destination": dest["name"], "status": "ok", "error": None}],
            "rto": {"select_s": 0.2, "download_decrypt_s": 60.0, "restore_data_s": 300.0, "indexes_constraints_s": 30.0,
                    "checks_s": 10.0, "cleanup_s": 1.0, "total_s": 401.2},
            "rpo": {"achieved_s": 3600.0, "verify_started_at": iso(finished - HOUR)},
            "checks": [{"name": "integrity", "kind": "checksum", "passed": True}]})
    doc = drill.build_report(results, {"rpo": "26h", "rto": "2h"}, "dr-operator", finished - HOUR, finished, "0d1e2f3a",
                             "Quarterly DR drill", host="ctl1")
    files = drill_store.render_files(doc)
    drill_store.write_directory(str(ops_state), doc["drill_id"], files, files[-1][1])
    return doc


# --------------------------------------------------------------------------- health snapshots

def host_facts(cpu, memory, disk, size=100 * 1024 ** 3):
    avail = int(size * (100.0 - disk) / 100.0)
    return {"cpu_percent": cpu, "load": {"1m": 0.4, "5m": 0.3, "15m": 0.2, "cores": 2, "per_core_5m": 0.15},
            "memory": {"total_bytes": 8 * 1024 ** 3, "available_bytes": int(8 * 1024 ** 3 * (100 - memory) / 100),
                       "percent": memory, "swap_total_bytes": 0, "swap_free_bytes": 0, "swap_percent": None},
            "mounts": [{"mount": "/", "device": "/dev/vda1", "fstype": "ext4", "readonly": False, "size_bytes": size,
                        "avail_bytes": avail, "used_bytes": size - avail, "free_percent": round(100.0 - disk, 3),
                        "used_percent": round(disk, 3), "inodes_total": 6553600, "inodes_free": 6000000,
                        "inode_free_percent": 91.553}],
            "files": {"allocated": 2000, "max": 1000000, "percent": 0.2}, "uptime_s": 864000.0, "errors": []}


def seed_health(health_dir, now, count=12):
    """``count`` snapshots per host, 5 minutes apart; the disk of each host rises by 2 points to its final value."""
    thresholds = health_policy.merge_thresholds({})[0]
    for host, (cpu, memory, disk) in HOSTS.items():
        for index in range(count):
            back = count - 1 - index
            facts = host_facts(cpu - back * 0.5, memory, disk - 2.0 * back / (count - 1))
            stamp = (now - datetime.timedelta(minutes=5 * back)).timestamp()
            status = health_policy.classify(facts, {}, thresholds)["status"]
            snapshots.write(os.path.join(str(health_dir), host), stamp, {"time": stamp, "status": status, "host": facts})


def seed_all(root, now):
    """Everything; returns ``{"ops_state", "jobs", "destinations", "backups", "windows", "drill", "sweep", "health_dir"}``."""
    ops_state = os.path.join(str(root), "ops_state")
    os.makedirs(ops_state)
    backups = seed_backups(root, now)
    damage(root, backups[DAMAGED][0])
    swept = sweep(root, ops_state, now)
    windows = seed_windows(ops_state, now)
    report = seed_drill(root, ops_state, backups, now)
    health_dir = os.path.join(ops_state, "health_snapshots")
    seed_health(health_dir, now)
    return {"ops_state": ops_state, "jobs": jobs_config(), "destinations": destinations_config(root), "backups": backups,
            "windows": windows, "drill": report, "sweep": swept, "health_dir": health_dir}
