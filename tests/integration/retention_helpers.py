# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the retention purge tests: real backups made by ``watchkeeper.ops.backup``, cloned through the storage
API under other ids and times (manifests rewritten so the catalog validates them), and the purge module."""

import datetime
import json
import os
import uuid

from helpers import assert_ok, backup_args, run_module

from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

UTC = datetime.timezone.utc
PURGE = "watchkeeper.ops.retention_purge"


def iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def now_env(when):
    return {"WATCHKEEPER_NOW": iso(when)}


def sqlite_file(path):
    """A tiny SQLite database file (written by the sqlite3 module)."""
    import sqlite3
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO t (v) VALUES (?)", [("row %d" % i,) for i in range(50)])
    conn.commit()
    conn.close()
    return str(path)


def real_backup(job, source, dests, ops_state, scratch, when):
    """One backup through the module, at the frozen time ``when``; returns its result."""
    args = backup_args(job, source, dests, {"mode": "none"}, ops_state, tmp_dir=scratch)
    return assert_ok(run_module("watchkeeper.ops.backup", args, env=now_env(when)))


def backup_id_at(when):
    return "%s-%s" % (when.strftime("%Y%m%dT%H%M%SZ"), uuid.uuid4().hex[:8])


def clone(spec, job, manifest, when, backup_id=None):
    """Copy a backup under a new id dated ``when`` through the storage API; the manifest is written last."""
    storage = open_storage(dict(spec))
    try:
        old_id = manifest["backup_id"]
        new_id = backup_id or backup_id_at(when)
        old_base = "%s/%s/%s" % (job, datetime.datetime.strptime(old_id[:16], "%Y%m%dT%H%M%SZ").strftime("%Y/%m/%d"), old_id)
        new_base = "%s/%s/%s" % (job, when.strftime("%Y/%m/%d"), new_id)
        doc = json.loads(json.dumps(manifest))
        for obj in doc["objects"]:
            new_key = new_base + obj["key"][len(old_base):]
            storage.put_bytes(new_key, storage.get_bytes(obj["key"]))
            obj["key"] = new_key
        doc.update(backup_id=new_id, created_at=iso(when), completed_at=iso(when + datetime.timedelta(seconds=5)))
        storage.put_bytes(new_base + ".manifest.json", (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8"))
        return new_id
    finally:
        storage.close()


def purge(job, dests, policy, ops_state, when, check_mode=False, **extra):
    args = {"target": "backups", "job": job, "destinations": dests, "policy": policy, "ops_state": str(ops_state),
            "lock_timeout": 5}
    args.update(extra)
    return run_module(PURGE, args, check_mode=check_mode, env=now_env(when))


def hold(job, backup_id, dests, when, check_mode=False, **extra):
    args = {"job": job, "backup_id": backup_id, "destinations": dests, "reason": "litigation hold", "case": "CASE-42",
            "created_by": "alice"}
    args.update(extra)
    return run_module("watchkeeper.ops.backup_hold", args, check_mode=check_mode, env=now_env(when))


def write_verified(ops_state, job, backup_id, destination="nas"):
    """A verification record the documented way (what restore_verify writes after a passed run)."""
    folder = os.path.join(str(ops_state), "verified", job)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "%s.json" % backup_id), "w") as handle:
        json.dump({"job": job, "backup_id": backup_id, "verified_at": "2027-01-01T00:00:00Z",
                   "destination": destination}, handle)


def ids_of(listing_keys):
    """Backup ids whose manifest is in a listing (keys may carry a bucket prefix)."""
    return sorted(k.rsplit("/", 1)[-1][:-len(".manifest.json")] for k in listing_keys if k.endswith(".manifest.json"))
