# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 11 acceptance 3: several controllers, one estate (``shared_state: destination``).

* Two controllers (two module processes with separate ``ops_state`` directories, so the local lock cannot
  serialise them) start the same backup job at the same moment (both wait on a start file) against one
  destination, local, moto S3 and fake-gcs-server (GCS with its preconditions honoured): exactly one backup is
  written, the other run fails naming the holder.
* A restore verification on controller A protects that backup from a purge on controller B (empty ``ops_state``)
  whose policy would remove it; the same purge with ``shared_state: local`` plans to remove it (the contrast that
  shows the protection comes from the destination's record).
* A purge on controller B waits for the job lock that controller A's backup holds in the destination, then fails
  naming it and deletes nothing.
"""

import datetime
import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from fake_gcs import fake_gcs, fake_gcs_bucket  # noqa: F401  pylint: disable=unused-import
from helpers import (
    Store, assert_ok, backup_args, gcs_dest, local_dest, module_cmd, module_env, new_job, s3_dest, write_module_args)
from restore_helpers import restore_verify, verify_args
from retention_helpers import UTC, clone, ids_of, iso, purge, real_backup, sqlite_file

# Wait until the start file exists, then become the module: both controllers leave the barrier together.
BARRIER = ("import os, sys, time\n"
           "open(sys.argv[1], 'w').close()\n"
           "while not os.path.exists(sys.argv[2]):\n"
           "    time.sleep(0.002)\n"
           "os.execv(sys.argv[3], sys.argv[3:])\n")
# Level 19 on one thread over incompressible bytes: the winner holds the lock for seconds, not milliseconds.
SLOW = {"level": 19, "threads": 1}


def _destination(kind, tmp_path, request):
    if kind == "local":
        return local_dest(tmp_path / "nas", name="nas"), Store.local(tmp_path / "nas"), ""
    if kind == "gcs":  # fake-gcs-server: it honours ifGenerationMatch, unlike gcp-storage-emulator
        server, bucket = request.getfixturevalue("fake_gcs"), request.getfixturevalue("fake_gcs_bucket")
        return gcs_dest(server.info["endpoint"], bucket[0], name="gcs", prefix="estate"), Store.gcs(bucket), "estate/"
    moto, s3_bucket = request.getfixturevalue("moto"), request.getfixturevalue("s3_bucket")
    return s3_dest(moto, s3_bucket[0], name="s3", prefix="estate"), Store.s3(s3_bucket), "estate/"


def _start_together(tmp_path, args_by_controller):
    go = tmp_path / "go"
    procs = []
    for name, args in args_by_controller.items():
        path = write_module_args(tmp_path / ("%s.json" % name), args)
        ready = tmp_path / ("%s.ready" % name)
        argv = [sys.executable, "-c", BARRIER, str(ready), str(go)] + module_cmd(path)
        procs.append((name, ready, subprocess.Popen(argv, env=module_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
    deadline = time.monotonic() + 60
    while not all(ready.exists() for _n, ready, _p in procs):
        assert time.monotonic() < deadline, "the controllers never reached the barrier"
        time.sleep(0.01)
    go.write_text("go")
    results = {}
    for name, _ready, proc in procs:
        out, err = proc.communicate(timeout=600)
        try:
            results[name] = json.loads(out.decode())
        except ValueError:
            raise AssertionError("controller %s printed no JSON: %s %s" % (name, out[-2000:], err[-2000:]))
    return results


@pytest.mark.parametrize("kind", ["local", "s3", "gcs"])
def test_two_controllers_start_the_same_job_at_once_and_exactly_one_backup_is_written(kind, tmp_path, scratch, request):
    dest, store, prefix = _destination(kind, tmp_path, request)
    data = tmp_path / "data"
    data.mkdir()
    (data / "random.bin").write_bytes(os.urandom(6 * 1024 * 1024))
    job = new_job("ctrl")
    args = {name: backup_args(job, {"type": "files", "paths": [str(data)]}, [dest], {"mode": "none"},
                              tmp_path / ("ops-%s" % name), compression=SLOW, lock_timeout=0, tmp_dir=scratch)
            for name in ("controller-a", "controller-b")}
    results = _start_together(tmp_path, args)

    ok = [r for r in results.values() if not r.get("failed")]
    failed = [r for r in results.values() if r.get("failed")]
    assert len(ok) == 1 and len(failed) == 1, [r.get("msg") for r in results.values()]
    winner, loser = ok[0], failed[0]
    assert loser["step"] == "lock", loser["msg"]
    holder = re.search(r"held by run ([0-9a-f]{32}) on host (\S+) \(pid (\d+)", loser["msg"])
    assert holder, loser["msg"]
    assert holder.group(2) == socket.gethostname()
    assert "_ops_state/%s/job.lock" % job in loser["msg"]
    assert [d["destination"] for d in winner["lock"]["destinations"]] == [dest["name"]]
    # Exactly one backup: one manifest, and every object of the job belongs to the winner.
    assert store.manifests() == [prefix + winner["destinations"][0]["manifest_key"]]
    job_keys = [k for k in store.listing() if k.startswith(prefix + job + "/")]
    assert job_keys and [k for k in job_keys if winner["backup_id"] not in k] == []
    # The winner released the lock in the destination with a release marker (no delete rights needed).
    assert store.manifest(prefix + "_ops_state/%s/job.lock" % job)["released"] is True
    # Each controller had its own ops_state: the local lock did not serialise them.
    assert all(os.path.isdir(tmp_path / ("ops-%s" % n) / "locks") for n in args)


def test_verification_on_controller_a_protects_the_backup_from_a_purge_on_controller_b(tmp_path, moto, s3_bucket, scratch):
    job = new_job("vshare")
    dests = [local_dest(tmp_path / "nas", name="nas"), s3_dest(moto, s3_bucket[0], name="s3")]
    stores = {"nas": Store.local(tmp_path / "nas"), "s3": Store.s3(s3_bucket)}
    ops_a, ops_b = tmp_path / "controller-a", tmp_path / "controller-b"
    newest = datetime.datetime(2027, 6, 2, 2, 30, tzinfo=UTC)
    first = real_backup(job, {"type": "sqlite", "path": sqlite_file(tmp_path / "app.sqlite")}, dests, ops_a, scratch, newest)
    older = None
    for spec in dests:
        older = clone(spec, job, first["manifest"], newest - datetime.timedelta(days=1), backup_id=older)

    # Controller A proves the older backup (read from the first destination, nas).
    proof = restore_verify(verify_args(job, dests, ops_a, backup_id=older, tmp_dir=scratch))
    assert proof.get("passed") is True, {k: v for k, v in proof.items() if k not in ("stdout", "stderr")}
    record = stores["nas"].manifest("_ops_state/%s/verified/%s.json" % (job, older))
    assert (record["backup_id"], record["destination"]) == (older, "nas")

    # Controller B has never seen that verification locally; keep_last: 1 would remove the older backup.
    when = newest + datetime.timedelta(hours=6)
    contrast = assert_ok(purge(job, dests, {"keep_last": 1}, ops_b, when, check_mode=True, shared_state="local"))
    assert all(older in contrast["plan"][name]["remove"] for name in ("nas", "s3")), contrast["plan"]
    done = assert_ok(purge(job, dests, {"keep_last": 1}, ops_b, when))
    assert not os.path.exists(ops_b / "verified")
    for name, store in stores.items():
        assert ids_of(store.listing()) == sorted([older, first["backup_id"]]), name
        why = dict((b["backup_id"], b["reasons"]) for b in done["backups"][name]["backups"])
        assert why[older][0] == "safety: newest backup that passed restore verification", why[older]
    assert done["removed"] == 0


def test_a_purge_on_controller_b_waits_for_the_lock_a_backup_on_controller_a_holds(tmp_path, moto, s3_bucket, scratch,
                                                                                   monkeypatch):
    """Controller A's backup holds the job lock in the S3 destination (taken here through the same code, from this
    process); a purge on controller B, whose ops_state is empty, fails naming that holder and deletes nothing."""
    from ansible_collections.watchkeeper.ops.plugins.module_utils import shared_state
    from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage
    job = new_job("purgelock")
    dest = s3_dest(moto, s3_bucket[0], name="s3")
    store = Store.s3(s3_bucket)
    newest = datetime.datetime(2027, 6, 2, 2, 30, tzinfo=UTC)
    first = real_backup(job, {"type": "sqlite", "path": sqlite_file(tmp_path / "app.sqlite")}, [dest],
                        tmp_path / "controller-a", scratch, newest)
    older = clone(dest, job, first["manifest"], newest - datetime.timedelta(days=1))
    when = newest + datetime.timedelta(hours=6)
    monkeypatch.setenv("WATCHKEEPER_NOW", iso(when))  # the purge runs at that frozen time: so does the holder's expiry
    storage = open_storage(dict(dest))
    held = shared_state.DestinationLock(storage, job, module="backup").acquire(timeout=0)
    try:
        blocked = purge(job, [dest], {"keep_last": 1}, tmp_path / "controller-b", when, lock_timeout=1)
        assert blocked.failed and "held by run %s" % held.run_id in blocked["msg"], blocked.get("msg")
        assert ids_of(store.listing()) == sorted([older, first["backup_id"]])
    finally:
        held.release()
        storage.close()
    done = assert_ok(purge(job, [dest], {"keep_last": 1}, tmp_path / "controller-b", when, lock_timeout=1))
    assert done["removed"] == 1 and ids_of(store.listing()) == [first["backup_id"]]
