# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The job lock in a destination (shared_state.py): taking, waiting, stale-breaking with one winner, heartbeat,
loss, release, and the order of several destinations. An in-memory store with the storage contract's conditional
writes (the real backends are held to the same contract in storage/test_contract_conditional.py); the last test
runs two breakers against a local directory."""

import json
import threading
import time

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils import shared_state
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import LockHeld, StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.base import Versioned
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.local import LocalStorage

KEY = shared_state.lock_key("app-db")


class MemoryStore(object):
    """Conditional writes over a dict; versions count up. ``calls`` records every write."""

    kind = "memory"

    def __init__(self, name="mem"):
        self.name = name
        self.objects = {}
        self.counter = 0
        self.guard = threading.Lock()
        self.calls = []
        self.fail = False
        self.read_gate = None  # a Barrier: every thread's first read waits for the others (all judge the same lock)
        self.gated = threading.local()

    def location(self, key):
        return "mem://%s/%s" % (self.name, key)

    def _bump(self, key, data):
        self.counter += 1
        self.objects[key] = Versioned(bytes(data), str(self.counter))
        return str(self.counter)

    def create_exclusive(self, key, data):
        with self.guard:
            self.calls.append(("create", key))
            if self.fail:
                raise StorageError("endpoint unreachable", step="lock", destination=self.name)
            return None if key in self.objects else self._bump(key, data)

    def read_versioned(self, key):
        if self.read_gate is not None and not getattr(self.gated, "done", False):
            self.gated.done = True
            self.read_gate.wait()
        with self.guard:
            if self.fail:
                raise StorageError("endpoint unreachable", step="lock", destination=self.name)
            return self.objects.get(key)

    def replace_if(self, key, data, version):
        with self.guard:
            self.calls.append(("replace", key))
            if self.fail:
                raise StorageError("endpoint unreachable", step="lock", destination=self.name)
            current = self.objects.get(key)
            if current is None or current.version != version:
                return None
            return self._bump(key, data)

    def doc(self, key=KEY):
        return json.loads(self.objects[key].data)

    def close(self):
        pass


def stale_holder(store, **extra):
    doc = {"run_id": "f" * 32, "host": "other-node", "pid": 4242, "user": "awx", "module": "backup",
           "started_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-01T00:05:00Z"}
    doc.update(extra)
    store._bump(KEY, json.dumps(doc).encode())
    return doc


def test_first_run_takes_the_lock_with_holder_facts_and_releases_it():
    store = MemoryStore()
    lock = shared_state.DestinationLock(store, "app-db", module="backup", ttl=60).acquire(timeout=0)
    doc = store.doc()
    assert doc["run_id"] == lock.run_id and doc["module"] == "backup" and doc["lock"] == "job-app-db"
    assert set(doc) >= {"host", "pid", "user", "started_at", "expires_at"}
    assert lock.read()["run_id"] == lock.run_id
    lock.release()
    assert store.doc()["released"] is True  # released by a replace: no delete rights needed
    assert lock.read() is None
    again = shared_state.DestinationLock(store, "app-db").acquire(timeout=0)  # a released lock is free
    assert again.broke == []
    again.release()


def test_a_live_holder_makes_the_second_run_fail_naming_it_after_the_timeout():
    store = MemoryStore()
    first = shared_state.DestinationLock(store, "app-db", ttl=60).acquire(timeout=0)
    started = time.monotonic()
    with pytest.raises(LockHeld) as info:
        shared_state.DestinationLock(store, "app-db").acquire(timeout=1, poll=0.1)
    assert time.monotonic() - started >= 1.0
    assert "held by run %s" % first.run_id in info.value.msg and "mem://mem/%s" % KEY in info.value.msg
    assert info.value.step == "lock" and info.value.destination == "mem"
    assert store.doc()["run_id"] == first.run_id
    first.release()


def test_an_expired_holder_is_broken_and_reported():
    store = MemoryStore()
    old = stale_holder(store)
    lock = shared_state.DestinationLock(store, "app-db").acquire(timeout=0)
    assert [b["run_id"] for b in lock.broke] == [old["run_id"]]
    assert store.doc()["run_id"] == lock.run_id
    lock.release()


def test_of_many_breakers_of_one_stale_lock_exactly_one_wins():
    store = MemoryStore()
    stale_holder(store)
    store.read_gate = threading.Barrier(6)  # all six have read the stale lock before any of them replaces it
    results = []

    def breaker():
        lock = shared_state.DestinationLock(store, "app-db", ttl=60)
        results.append(lock.try_acquire())

    threads = [threading.Thread(target=breaker) for _i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]


def test_heartbeat_refreshes_expiry_and_notices_a_takeover():
    store = MemoryStore()
    lock = shared_state.DestinationLock(store, "app-db", ttl=60, heartbeat=0.1).acquire(timeout=0)
    first_version = lock.version
    time.sleep(0.35)
    assert lock.version != first_version and store.doc()["run_id"] == lock.run_id
    assert store.doc()["started_at"] == lock.started_at  # the start stays, the expiry moves
    intruder = stale_holder(store, run_id="e" * 32)  # an operator (or a breaker) replaced the lock
    time.sleep(0.3)
    assert lock.lost and "taken over" in lock.lost
    with pytest.raises(StorageError):
        lock.check()
    lock.release()
    assert store.doc()["run_id"] == intruder["run_id"]  # a lost lock is never clobbered by the release


def test_several_destinations_are_locked_in_name_order_and_a_held_one_releases_the_rest():
    stores = [MemoryStore("zeta"), MemoryStore("alpha"), MemoryStore("mid")]
    holder = shared_state.DestinationLock(stores[2], "app-db", ttl=60).acquire(timeout=0)  # "mid" is busy
    locks = shared_state.DestinationLocks(stores, "app-db", "backup")
    with pytest.raises(LockHeld):
        locks.acquire(0, on_error=lambda name, exc: None)
    assert stores[1].doc()["released"] is True  # alpha was taken first, then given back
    assert KEY not in stores[0].objects  # zeta comes after mid: never touched
    holder.release()
    taken = shared_state.DestinationLocks(stores, "app-db", "backup").acquire(0, on_error=lambda name, exc: None)
    assert [f["destination"] for f in taken.facts()] == ["alpha", "mid", "zeta"]
    taken.release()


def test_an_unreachable_destination_is_reported_and_left_out():
    good, down = MemoryStore("good"), MemoryStore("down")
    down.fail = True
    errors = {}
    locks = shared_state.DestinationLocks([good, down], "app-db", "backup").acquire(
        0, on_error=lambda name, exc: errors.__setitem__(name, exc.describe()))
    assert list(errors) == ["down"] and "unreachable" in errors["down"]
    assert [f["destination"] for f in locks.facts()] == ["good"]
    locks.release()


def test_shared_state_option_is_checked():
    assert shared_state.mode({}) == "destination"
    assert shared_state.mode({"shared_state": "local"}) == "local"
    with pytest.raises(Exception):
        shared_state.mode({"shared_state": "bucket"})


def test_two_breakers_on_a_local_directory(tmp_path):
    """The same race through LocalStorage (link(2) and flock): one breaker wins."""
    spec = {"type": "local", "name": "nas", "path": str(tmp_path)}
    seed = LocalStorage(spec)
    seed.create_exclusive(KEY, json.dumps({"run_id": "f" * 32, "host": "gone", "pid": 1,
                                           "expires_at": "2026-01-01T00:05:00Z"}).encode())
    barrier = threading.Barrier(4)
    results = []

    def breaker():
        lock = shared_state.DestinationLock(LocalStorage(spec), "app-db", ttl=60)
        barrier.wait()
        results.append((lock.try_acquire(), lock.run_id))

    threads = [threading.Thread(target=breaker) for _i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [run_id for won, run_id in results if won]
    assert len(winners) == 1
    assert json.loads(seed.read_versioned(KEY).data)["run_id"] == winners[0]


def test_check_notices_a_takeover_that_failing_heartbeats_missed():
    store = MemoryStore()
    lock = shared_state.DestinationLock(store, "app-db", ttl=60, heartbeat=3600).acquire(timeout=0)
    lock.check()  # still ours
    stale_holder(store, run_id="d" * 32)  # taken over while no heartbeat ran
    with pytest.raises(StorageError) as info:
        lock.check()
    assert "taken over" in info.value.msg
    lock.release()
    assert store.doc()["run_id"] == "d" * 32
