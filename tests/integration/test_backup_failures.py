# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AC3 and AC4: a failed run names its cause and leaves no backup behind; one dead destination
does not stop the others.

AC3: pg_dump dying mid-stream (a wrapper that kills itself after N bytes, one that exits 1 on a
truncated dump, and ``kill -9`` of the real pg_dump), a dropped database and a wrong password:
the task fails naming the cause, no destination holds a manifest (listed out of band),
``backup_info`` counts 0, S3 has no open multipart upload and the NAS no partial file.

AC4: with the GCS endpoint down, local and S3 get the backup and their manifest, the result
shows GCS failed with its error, and ``backup_info`` finds the backup in local and S3.
"""

import os
import signal
import stat
import time
import sys

import pytest

from helpers import (
    SLOW_COMPRESSION, Background, Store, assert_failed, backup_args, closed_port, drop_db, find_procs, gcs_dest, info,
    local_dest, new_job,
    moto_requests, pg_source, public_key_encryption, run_module, s3_dest, sha256_file, wait_for)

MIB = 1024 * 1024

WRAPPER = r'''#!%(python)s
"""pg_dump that forwards only the first %(limit)d bytes of the real pg_dump, then dies (or stalls)."""
import os, signal, subprocess, sys, time
REAL = %(real)r
if any(a in ("--version", "-V") for a in sys.argv[1:]):
    os.execv(REAL, [REAL] + sys.argv[1:])
child = subprocess.Popen([REAL] + sys.argv[1:], stdout=subprocess.PIPE)
sent = 0
while sent < %(limit)d:
    data = child.stdout.read(min(65536, %(limit)d - sent))
    if not data:
        break
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]
    sent += len(data)
if %(mode)r == "stall":
    time.sleep(3600)  # the real pg_dump stays blocked on its full pipe, as on a stuck server
child.kill()
child.wait()
if %(mode)r == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
sys.stderr.write("pg_dump: error: Dumping the contents of table \"blobs\" failed: simulated\n")
sys.exit(1)
'''


def make_pg_bin_dir(path, pg, limit, mode):
    os.makedirs(path)
    script = os.path.join(path, "pg_dump")
    with open(script, "w") as handle:
        handle.write(WRAPPER % {"python": sys.executable, "real": os.path.join(pg.bindir, "pg_dump"), "limit": limit,
                                "mode": mode})
    os.chmod(script, os.stat(script).st_mode | stat.S_IXUSR)
    os.symlink(os.path.join(pg.bindir, "pg_dumpall"), os.path.join(path, "pg_dumpall"))
    return path


@pytest.fixture
def everywhere(tmp_path, moto, s3_bucket, gcs, gcs_bucket):
    """local + S3 + GCS with 5 MiB parts, so a stream of a few MiB already opened a multipart upload."""
    dests = [local_dest(tmp_path / "nas", name="nas"), s3_dest(moto, s3_bucket[0], part_size_mb=5),
             gcs_dest(gcs.info["endpoint"], gcs_bucket[0], part_size_mb=5)]
    stores = {"nas": Store.local(tmp_path / "nas"), "s3": Store.s3(s3_bucket), "gcs": Store.gcs(gcs_bucket)}
    return dests, stores


def assert_no_backup_anywhere(job, dests, stores, allow_objects=False):
    for name, store in stores.items():
        listing = store.listing()
        assert [k for k in listing if k.endswith(".manifest.json")] == [], (name, listing)
        assert [k for k in listing if ".wk-partial-" in k] == [], (name, listing)
        if not allow_objects:
            assert listing == {}, (name, listing)
    assert stores["s3"].open_multipart_uploads() == []
    runs = [Background(info, job, dest) for dest in dests]
    for run in runs:
        run.start()
    for dest, run in zip(dests, runs):
        res = run.result()
        assert not res.failed, res.get("msg")
        assert (res["count"], res["valid_count"], res["stale"], res["latest"]) == (0, 0, True, None), dest["name"]


def assert_every_destination_failed(result):
    assert result["status"] == "failed"
    assert not result.get("changed")
    for entry in result["destinations"]:
        assert entry["status"] == "failed" and entry.get("error"), entry
        assert "manifest_key" not in entry


@pytest.mark.parametrize("mode", ["kill", "exit1"])
def test_pg_dump_dying_mid_stream_leaves_no_backup(mode, pg, big_db, moto, gpg_keys, everywhere, tmp_path, scratch):
    dests, stores = everywhere
    bin_dir = make_pg_bin_dir(str(tmp_path / "pgbin"), pg, 24 * MIB, mode)
    job = new_job("trunc")
    result = assert_failed(run_module("watchkeeper.ops.backup", backup_args(
        job, pg_source(pg, big_db, pg_bin_dir=bin_dir, include_globals=True), dests, public_key_encryption(gpg_keys),
        tmp_path / "state", tmp_dir=scratch)))
    assert "pg_dump" in result["msg"]
    assert result["step"] == "pg_dump"
    if mode == "kill":
        assert "killed by SIGKILL" in result["msg"]
    else:
        assert "exited with status 1" in result["msg"] and "simulated" in result["msg"]
    assert_every_destination_failed(result)
    # The truncated stream was long enough to be in flight everywhere (>= one 5 MiB part), and the
    # globals object had been stored before the dump started: both are gone.
    assert_no_backup_anywhere(job, dests, stores)
    wire = moto_requests(moto, stores["s3"].bucket)
    started = [line for line in wire if "POST /%s/%s/" % (stores["s3"].bucket, job) in line and "?uploads" in line]
    aborted = [line for line in wire if "DELETE /%s/%s/" % (stores["s3"].bucket, job) in line and "uploadId=" in line]
    assert started and aborted, "the dump never reached S3 as a multipart upload: %s" % wire
    assert os.listdir(scratch) == []


def test_kill_9_of_the_real_pg_dump_fails_the_run(pg, big_db, gpg_keys, everywhere, tmp_path, scratch):
    dests, stores = everywhere
    job = new_job("kill9")
    run = Background(run_module, "watchkeeper.ops.backup", backup_args(
        job, pg_source(pg, big_db), dests, public_key_encryption(gpg_keys), tmp_path / "state",
        compression=SLOW_COMPRESSION, tmp_dir=scratch))
    run.start()

    def dumping():
        pids = find_procs(lambda argv: argv[0].endswith(b"/pg_dump") and any(a.startswith(b"--snapshot=") for a in argv)
                          and (b"--dbname=" + big_db.encode()) in argv)
        partial = [k for k in stores["nas"].listing() if ".wk-partial-" in k and stores["nas"].listing().get(k)]
        return pids if pids and partial else None

    pids = wait_for(dumping, timeout=120, what="pg_dump streaming into the NAS")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    result = assert_failed(run.result(600))
    assert "pg_dump" in result["msg"] and "SIGKILL" in result["msg"], result["msg"]
    assert_every_destination_failed(result)
    assert_no_backup_anywhere(job, dests, stores)
    assert os.listdir(scratch) == []


def test_dropped_database_fails_naming_it(pg, gpg_keys, everywhere, tmp_path, scratch):
    dests, stores = everywhere
    name = "gone_%s" % os.urandom(4).hex()
    pg.psql("CREATE DATABASE %s" % name)
    drop_db(pg, name)
    job = new_job("dropped")
    result = assert_failed(run_module("watchkeeper.ops.backup", backup_args(
        job, pg_source(pg, name), dests, public_key_encryption(gpg_keys), tmp_path / "state", tmp_dir=scratch)))
    assert "does not exist" in result["msg"] and name in result["msg"], result["msg"]
    assert result["step"] == "connect"
    assert_no_backup_anywhere(job, dests, stores)
    assert os.listdir(scratch) == []


def test_wrong_password_fails_naming_it(pg, pg_db, gpg_keys, everywhere, tmp_path, scratch):
    dests, stores = everywhere
    wrong = "wrong-pw-%s" % os.urandom(6).hex()
    job = new_job("badpw")
    result = assert_failed(run_module("watchkeeper.ops.backup", backup_args(
        job, pg_source(pg, pg_db, login_password=wrong), dests, public_key_encryption(gpg_keys), tmp_path / "state",
        tmp_dir=scratch)))
    assert "password authentication failed" in result["msg"], result["msg"]
    assert wrong not in result["stdout"] and wrong not in result["stderr"]
    assert_no_backup_anywhere(job, dests, stores)


def test_gcs_down_other_destinations_keep_the_backup(pg, pg_db, gpg_keys, tmp_path, moto, s3_bucket, scratch):
    pg.psql("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000)", dbname=pg_db)
    down = "http://127.0.0.1:%d" % closed_port()
    dests = [local_dest(tmp_path / "nas", name="nas"), s3_dest(moto, s3_bucket[0]),
             gcs_dest(down, "wk-nowhere", timeout=5, retries=0)]
    job = new_job("gcsdown")
    result = assert_failed(run_module("watchkeeper.ops.backup", backup_args(
        job, pg_source(pg, pg_db), dests, public_key_encryption(gpg_keys), tmp_path / "state", tmp_dir=scratch)))
    assert result["status"] == "failed"
    assert result["destination"] == "gcs"
    assert "gcs" in result["msg"]
    by_name = {d["name"]: d for d in result["destinations"]}
    assert by_name["gcs"]["status"] == "failed"
    assert "unreachable" in by_name["gcs"]["error"] or "refused" in by_name["gcs"]["error"].lower(), by_name["gcs"]
    assert by_name["gcs"].get("step")
    manifest = result["manifest"]
    dump = manifest["objects"][0]
    stores = {"nas": Store.local(tmp_path / "nas"), "s3": Store.s3(s3_bucket)}
    for name in ("nas", "s3"):
        entry = by_name[name]
        assert entry["status"] == "ok" and entry["key"] == dump["key"], entry
        assert stores[name].manifests() == [entry["manifest_key"]]
        assert stores[name].manifest(entry["manifest_key"]) == manifest
        path = stores[name].download(dump["key"], str(tmp_path / ("dump-" + name)))
        assert sha256_file(path) == dump["sha256"]
        res = info(job, dests[0] if name == "nas" else dests[1])
        assert not res.failed, res.get("msg")
        assert (res["count"], res["valid_count"], res["stale"]) == (1, 1, False)
        assert res["latest"]["backup_id"] == result["backup_id"] and res["latest"]["valid"] is True
    assert stores["s3"].open_multipart_uploads() == []


def test_timeout_stops_every_process_and_leaves_no_backup(pg, big_db, gpg_keys, everywhere, tmp_path, scratch):
    # A pg_dump that stalls after 6 MiB (a multipart upload is open on S3 and GCS) makes the timeout
    # certain to strike mid-stream, however fast this machine compresses.
    dests, stores = everywhere
    bin_dir = make_pg_bin_dir(str(tmp_path / "pgbin"), pg, 6 * MIB, "stall")
    job = new_job("timeout")
    started = time.monotonic()
    result = assert_failed(run_module("watchkeeper.ops.backup", backup_args(
        job, pg_source(pg, big_db, pg_bin_dir=bin_dir), dests, public_key_encryption(gpg_keys), tmp_path / "state",
        timeout=3, tmp_dir=scratch)))
    assert time.monotonic() - started < 60, "the run was not stopped at its timeout"
    assert "did not finish within" in result["msg"], result["msg"]
    assert_every_destination_failed(result)
    assert_no_backup_anywhere(job, dests, stores)

    def dump_processes_gone():
        return find_procs(lambda argv: (b"--dbname=" + big_db.encode()) in argv) == []

    # The wrapper is killed by the module; its real pg_dump child dies on the broken pipe right after.
    wait_for(dump_processes_gone, timeout=10, what="pg_dump gone after the timeout")
    assert os.listdir(scratch) == []
