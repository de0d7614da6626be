"""Per-job locks on a real file system, with real processes."""

import json
import multiprocessing
import os
import socket
import subprocess
import threading
import time

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils import lock as lockmod
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import LockHeld


def write_lock(state_dir, name, **content):
    os.makedirs(os.path.join(state_dir, "locks"), exist_ok=True)
    path = os.path.join(state_dir, "locks", "%s.lock" % name)
    base = {"run_id": "r-old", "host": socket.gethostname(), "pid": os.getpid(), "pid_start": lockmod._proc_start(os.getpid()),
            "user": "someone", "module": "backup", "started_at": "2026-11-27T00:00:00Z", "expires_at": "2999-01-01T00:00:00Z"}
    base.update(content)
    with open(path, "w") as handle:
        json.dump(base, handle)
    return path


def dead_pid():
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_acquire_writes_the_holder_and_release_removes_it(tmp_path):
    lk = lockmod.JobLock(str(tmp_path), "job-a").acquire()
    content = json.load(open(lk.path))
    assert content["run_id"] == lk.run_id and content["pid"] == os.getpid()
    assert content["host"] == socket.gethostname() and content["module"] == "backup"
    lk.release()
    assert not os.path.exists(lk.path)


def test_second_run_fails_naming_the_holder(tmp_path):
    first = lockmod.JobLock(str(tmp_path), "job-a").acquire()
    with pytest.raises(LockHeld) as err:
        lockmod.JobLock(str(tmp_path), "job-a").acquire(timeout=0)
    assert first.run_id in err.value.msg and socket.gethostname() in err.value.msg and str(os.getpid()) in err.value.msg
    assert err.value.holder["run_id"] == first.run_id
    first.release()


def test_second_run_waits_for_the_first(tmp_path):
    first = lockmod.JobLock(str(tmp_path), "job-a").acquire()
    threading.Timer(1.0, first.release).start()
    second = lockmod.JobLock(str(tmp_path), "job-a").acquire(timeout=10)
    assert second.waited_s >= 0.9 and second.broke == []
    second.release()


def test_lock_of_a_dead_process_is_broken_at_once(tmp_path):
    write_lock(str(tmp_path), "job-a", pid=dead_pid(), pid_start="1")
    lk = lockmod.JobLock(str(tmp_path), "job-a").acquire(timeout=0)
    assert lk.broke and lk.broke[0]["run_id"] == "r-old"
    lk.release()


def test_reused_pid_is_detected_by_its_start_time(tmp_path):
    write_lock(str(tmp_path), "job-a", pid=os.getpid(), pid_start="12345")
    lk = lockmod.JobLock(str(tmp_path), "job-a").acquire(timeout=0)
    assert lk.broke
    lk.release()


def test_live_holder_on_another_host_is_respected_until_it_expires(tmp_path):
    write_lock(str(tmp_path), "job-a", host="other-host", pid=1, expires_at="2999-01-01T00:00:00Z")
    with pytest.raises(LockHeld, match="other-host"):
        lockmod.JobLock(str(tmp_path), "job-a").acquire(timeout=0)
    write_lock(str(tmp_path), "job-a", host="other-host", pid=1, expires_at="2020-01-01T00:00:00Z")
    lk = lockmod.JobLock(str(tmp_path), "job-a").acquire(timeout=0)
    assert lk.broke[0]["host"] == "other-host"
    lk.release()


def test_unreadable_lock_is_judged_by_age(tmp_path):
    os.makedirs(tmp_path / "locks")
    path = tmp_path / "locks" / "job-a.lock"
    path.write_text("{half written")
    with pytest.raises(LockHeld):
        lockmod.JobLock(str(tmp_path), "job-a", ttl=300).acquire(timeout=0)
    old = time.time() - 3600
    os.utime(path, (old, old))
    lockmod.JobLock(str(tmp_path), "job-a", ttl=300).acquire(timeout=0).release()


def test_heartbeat_extends_expiry_and_release_spares_a_new_holder(tmp_path):
    lk = lockmod.JobLock(str(tmp_path), "job-a", ttl=2, heartbeat=0.2).acquire()
    first = json.load(open(lk.path))["expires_at"]
    time.sleep(1.5)
    assert json.load(open(lk.path))["expires_at"] > first
    # An operator broke the lock and someone else took it: our release must not remove theirs.
    os.unlink(lk.path)
    write_lock(str(tmp_path), "job-a", run_id="r-new")
    lk.release()
    assert json.load(open(lk.path))["run_id"] == "r-new"


def _contend(state_dir, barrier, results):
    barrier.wait()
    try:
        lk = lockmod.JobLock(state_dir, "job-a").acquire(timeout=0)
        results.put("won")
        time.sleep(0.5)
        lk.release()
    except LockHeld:
        results.put("lost")


def test_exactly_one_of_many_processes_wins(tmp_path):
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_contend, args=(str(tmp_path), barrier, results)) for index in range(6)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(20)
    outcomes = sorted(results.get(timeout=5) for proc in procs)
    assert outcomes.count("won") == 1 and outcomes.count("lost") == 5
