# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AC9: one writer per job.

Two runs of the same job started together: with ``lock_timeout: 0`` exactly one backup is
written and the other run fails naming the lock holder; with a long ``lock_timeout`` the second
waits and then writes its own backup, never overlapping the first. A run killed with ``kill -9``
leaves its lock; the next run breaks it, cleans the killed run's open multipart upload and
partial file, and succeeds; the killed run never becomes a backup.
"""

import json
import os
import re
import signal
import socket
import subprocess

import pytest

from helpers import (
    SLOW_COMPRESSION, Background, Store, assert_ok, backup_args, info, local_dest, module_cmd, module_env, new_job,
    pg_source, public_key_encryption, run_module, s3_dest, wait_for, write_module_args)


@pytest.fixture
def two_stores(tmp_path, moto, s3_bucket):
    dests = [local_dest(tmp_path / "nas", name="nas"), s3_dest(moto, s3_bucket[0], part_size_mb=5)]
    stores = {"nas": Store.local(tmp_path / "nas"), "s3": Store.s3(s3_bucket)}
    return dests, stores


def _together(args_a, args_b):
    runs = [Background(run_module, "watchkeeper.ops.backup", args) for args in (args_a, args_b)]
    for run in runs:
        run.start()
    return [run.result(900) for run in runs]


def test_second_run_with_lock_timeout_0_fails_naming_the_holder(pg, big_db, gpg_keys, two_stores, tmp_path, scratch):
    dests, stores = two_stores
    job = new_job("lock0")
    args = backup_args(job, pg_source(pg, big_db), dests, public_key_encryption(gpg_keys), tmp_path / "state",
                       compression=SLOW_COMPRESSION, lock_timeout=0, tmp_dir=scratch)
    results = _together(args, args)
    ok = [r for r in results if not r.failed]
    failed = [r for r in results if r.failed]
    assert len(ok) == 1 and len(failed) == 1, [r.get("msg") for r in results]
    loser = failed[0]
    assert loser["step"] == "lock"
    holder = re.search(r"held by run ([0-9a-f]{32}) on host (\S+) \(pid (\d+)", loser["msg"])
    assert holder, loser["msg"]
    assert holder.group(2) == socket.gethostname()
    assert int(holder.group(3)) != os.getpid()
    for name, store in stores.items():
        manifests = store.manifests()
        assert manifests == [next(d["manifest_key"] for d in ok[0]["destinations"] if d["name"] == name)]
        assert [k for k in store.listing() if ok[0]["backup_id"] not in k] == []  # the loser wrote nothing at all
    assert stores["s3"].open_multipart_uploads() == []
    assert not os.path.exists(ok[0]["lock"]["path"]), "the winner did not release its lock"


def test_second_run_waits_for_the_lock_and_never_overlaps(pg, big_db, gpg_keys, two_stores, tmp_path, scratch):
    dests, stores = two_stores
    job = new_job("lockwait")
    args = backup_args(job, pg_source(pg, big_db), dests, public_key_encryption(gpg_keys), tmp_path / "state",
                       compression=SLOW_COMPRESSION, lock_timeout=600, tmp_dir=scratch)
    results = [assert_ok(r) for r in _together(args, args)]
    first, second = sorted(results, key=lambda r: r["lock"]["waited_s"])
    assert second["lock"]["waited_s"] >= 1.0, "the runs did not overlap; the test proves nothing"
    assert first["backup_id"] != second["backup_id"]
    m1, m2 = first["manifest"], second["manifest"]
    assert m2["created_at"] >= m1["completed_at"], (m1["created_at"], m1["completed_at"], m2["created_at"])
    assert m2["backup_id"] > m1["backup_id"], "backup ids must sort in the order the backups were taken"
    for name, store in stores.items():
        assert store.manifests() == sorted(d["manifest_key"] for r in (first, second) for d in r["destinations"]
                                           if d["name"] == name)
    res = info(job, dests[1])
    assert (res["count"], res["valid_count"]) == (2, 2)
    assert res["latest"]["backup_id"] == second["backup_id"]


def test_kill_9_leaves_a_stale_lock_that_the_next_run_breaks(pg, big_db, gpg_keys, two_stores, tmp_path, scratch):
    dests, stores = two_stores
    job = new_job("killed")
    state = tmp_path / "state"
    args = backup_args(job, pg_source(pg, big_db, include_globals=True), dests, public_key_encryption(gpg_keys), state,
                       compression=SLOW_COMPRESSION, tmp_dir=scratch)
    args_file = write_module_args(str(tmp_path / "args.json"), args)
    proc = subprocess.Popen(module_cmd(args_file), env=module_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    lock_path = str(state / "locks" / ("job-%s.lock" % job))
    try:
        def in_flight():
            uploads = stores["s3"].open_multipart_uploads()
            partial = [k for k in stores["nas"].listing() if ".wk-partial-" in k]
            return uploads if uploads and partial and proc.poll() is None else None

        uploads = wait_for(in_flight, timeout=180, what="a multipart upload and a partial file of the running backup")
        with open(lock_path) as handle:
            holder = json.load(handle)
        assert holder["pid"] == proc.pid
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        # pg_dump, zstd and gpg of the killed run share its process group: stop them too.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    killed_id = re.search(r"(\d{8}T\d{6}Z-[0-9a-f]{8})", uploads[0]["Key"]).group(1)
    assert os.path.exists(lock_path), "the lock of a killed run must remain (nothing could remove it)"
    left = os.listdir(scratch)
    assert len(left) == 1 and left[0].startswith("wk-run-%d-" % proc.pid), left
    assert [f for f in os.listdir(os.path.join(scratch, left[0])) if f.startswith("wk-pgpass-")], \
        "the killed run's password file is what the next run must remove"
    for store in stores.values():
        assert store.manifests() == []

    # The next run (no waiting allowed) breaks the stale lock, cleans up and succeeds.
    args2 = dict(args, compression={"level": 1, "threads": 0}, lock_timeout=0)
    result = assert_ok(run_module("watchkeeper.ops.backup", args2))
    broke = result["lock"]["broke_stale"]
    assert [b["pid"] for b in broke] == [proc.pid], broke
    assert broke[0]["run_id"] == holder["run_id"]
    cleaned = result["cleaned_incomplete"]
    assert any(c.startswith("s3:") and killed_id in c and "multipart" in c for c in cleaned), cleaned
    assert any(c.startswith("nas:") and killed_id in c and ".wk-partial-" in c for c in cleaned), cleaned
    assert stores["s3"].open_multipart_uploads() == []
    assert not os.path.exists(lock_path)
    assert "scratch:%s" % os.path.join(scratch, left[0]) in cleaned
    assert os.listdir(scratch) == [], "the killed run's password file and GnuPG home outlived it"
    for name, store in stores.items():
        listing = store.listing()
        assert [k for k in listing if ".wk-partial-" in k] == []
        assert store.manifests() == [next(d["manifest_key"] for d in result["destinations"] if d["name"] == name)]
        assert not [k for k in listing if killed_id in k and k.endswith(".manifest.json")]
        res = info(job, dests[0] if name == "nas" else dests[1])
        assert (res["count"], res["valid_count"]) == (1, 1)
        assert res["latest"]["backup_id"] == result["backup_id"]
        # The globals object the killed run had already committed is reported, never counted.
        assert killed_id in res["incomplete"]
