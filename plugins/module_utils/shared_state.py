# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""State shared by several controllers, kept in the destinations (``shared_state: destination``).

AWX runs jobs on several nodes with separate disks, so a lock or a record in one host's ``ops_state`` is not seen
by the others. With ``shared_state: destination`` (the default) every destination also holds, under a top-level
``_ops_state/`` prefix that no job name can take (job names start with a letter or digit) and that no listing of a
job (``<job>/``) and so no retention purge ever sees:

* ``_ops_state/<job>/job.lock``: the job lock, the same holder facts as ``lock.py`` (run id, host, pid, user,
  module, started, expires). Taken with the storage's conditional create (one run wins), refreshed by a heartbeat
  with a conditional replace of the version it wrote (a holder that lost the lock notices and never clobbers the
  winner), broken when stale (expired, or its process is gone on this host) with a conditional replace of the
  version judged stale, so of several breakers exactly one wins, and released by overwriting it with a release
  marker (conditional replace again): writers need no delete rights.
* ``_ops_state/<job>/verified/<backup_id>.json``: restore verification records (``verified.py``).

Expiry compares the controllers' clocks: keep them in NTP sync (skew must stay well below ``ttl``).
"""

import json
import os
import socket
import threading
import time
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import LockHeld, StorageError, WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.lock import _proc_start, _user, describe_holder, holder_alive
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

PREFIX = "_ops_state"
MODES = ("destination", "local")
DEFAULT_MODE = "destination"


def mode(params):
    """``destination`` or ``local`` from the module options (``destination`` when unset)."""
    value = (params or {}).get("shared_state") or DEFAULT_MODE
    if value not in MODES:
        raise WatchkeeperError("shared_state must be one of %s, not %r" % (", ".join(MODES), value), step="configure")
    return value


def lock_key(job):
    return "%s/%s/job.lock" % (PREFIX, mf.check_job_name(job))


def verified_prefix(job):
    return "%s/%s/verified/" % (PREFIX, mf.check_job_name(job))


class DestinationLock(object):
    """The job lock in one destination: ``DestinationLock(storage, job, module).acquire(timeout)``."""

    def __init__(self, storage, job, module="backup", ttl=300, heartbeat=None, run_id=None):
        self.storage = storage
        self.job = job
        self.key = lock_key(job)
        self.module = module
        self.ttl = int(ttl)
        self.heartbeat_s = heartbeat or max(1, self.ttl // 4)
        self.run_id = run_id or uuid.uuid4().hex
        self.version = None
        self.started_at = None
        self.held = False
        self.lost = None  # why the lock was lost while held (another run broke it), else None
        self.broke = []
        self.waited_s = 0.0
        self.heartbeat_errors = 0
        self._stop = threading.Event()
        self._thread = None

    def describe(self):
        return self.storage.location(self.key)

    def _content(self):
        now = clock.now()
        pid = os.getpid()
        doc = {"run_id": self.run_id, "lock": "job-%s" % self.job, "host": socket.gethostname(), "pid": pid,
               "pid_start": _proc_start(pid), "user": _user(), "module": self.module,
               "started_at": self.started_at or clock.isoformat(now),
               "expires_at": clock.isoformat(now.fromtimestamp(now.timestamp() + self.ttl, clock.UTC))}
        return json.dumps(doc, sort_keys=True).encode("utf-8")

    def _released(self):
        return json.dumps({"released": True, "run_id": self.run_id, "host": socket.gethostname(), "module": self.module,
                           "released_at": clock.isoformat(clock.now())}, sort_keys=True).encode("utf-8")

    @staticmethod
    def _parse(data):
        try:
            doc = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return {"run_id": "unreadable"}  # expires_at missing: judged by nobody alive, so stale
        return doc if isinstance(doc, dict) else {"run_id": "unreadable"}

    def read(self):
        """The current holder (a dict) or None when there is no lock or it was released."""
        current = self.storage.read_versioned(self.key)
        if current is None:
            return None
        holder = self._parse(current.data)
        return None if holder.get("released") else holder

    def try_acquire(self):
        """One attempt: True when this run holds the lock now; else ``self.holder`` names who does."""
        self.holder = None
        version = self.storage.create_exclusive(self.key, self._content())
        if version:
            self.version = version
            return True
        current = self.storage.read_versioned(self.key)
        if current is None:
            return False  # released and removed by hand between the two calls: try again
        holder = self._parse(current.data)
        if holder.get("run_id") == self.run_id and not holder.get("released"):
            self.version = current.version  # our own create, retried by the client after a lost answer
            return True
        if holder.get("released") or not holder_alive(holder) or "expires_at" not in holder:
            version = self.storage.replace_if(self.key, self._content(), current.version)
            if version:
                if not holder.get("released"):
                    self.broke.append(holder)
                self.version = version
                return True
            return False  # another breaker or taker won: judge again
        self.holder = holder
        return False

    def acquire(self, timeout=0, poll=0.5):
        started = time.monotonic()
        self.started_at = clock.isoformat(clock.now())
        while True:
            if self.try_acquire():
                self.waited_s = time.monotonic() - started
                self.held = True
                self._start_heartbeat()
                return self
            if time.monotonic() - started >= timeout:
                holder = self.holder or {}
                raise LockHeld("job lock of %s in destination %s (%s) is held by %s; waited %.0fs"
                               % (self.job, self.storage.name, self.describe(), describe_holder(holder), timeout),
                               holder=holder, step="lock", destination=self.storage.name,
                               hint="another controller runs this job; wait for it or raise lock_timeout. A lock of a "
                                    "dead run is broken once it expires (ttl %ss)" % self.ttl)
            time.sleep(poll)

    def _start_heartbeat(self):
        def beat():
            while not self._stop.wait(self.heartbeat_s):
                try:
                    version = self.storage.replace_if(self.key, self._content(), self.version)
                except WatchkeeperError:
                    self.heartbeat_errors += 1  # a passing outage: the lock stays valid until it expires
                    continue
                if version is None:
                    self.lost = "the lock %s was taken over by another run" % self.describe()
                    return
                self.version = version

        self._thread = threading.Thread(target=beat, name="dest-lock-heartbeat", daemon=True)
        self._thread.start()

    def check(self):
        """Raise when the lock was lost while held (never write after that). Reads the lock once more: a heartbeat
        that kept failing (an outage, a missing permission) would not have noticed a takeover."""
        if not self.lost:
            try:
                current = self.storage.read_versioned(self.key)
            except WatchkeeperError as exc:
                raise StorageError("cannot confirm that this run still holds %s: %s" % (self.describe(), exc.msg),
                                   step="lock", destination=self.storage.name)
            holder = self._parse(current.data) if current is not None else {}
            if holder.get("run_id") != self.run_id or holder.get("released"):
                self.lost = "the lock %s was taken over by another run" % self.describe()
        if self.lost:
            raise StorageError(self.lost, step="lock", destination=self.storage.name,
                               hint="the heartbeat could not refresh it in time (ttl %ss; %d heartbeat errors)"
                                    % (self.ttl, self.heartbeat_errors))

    def release(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if not self.held:
            return
        self.held = False
        if self.lost:
            return
        try:
            self.storage.replace_if(self.key, self._released(), self.version)
        except WatchkeeperError:
            pass  # the lock expires on its own


class DestinationLocks(object):
    """The job lock in every destination, taken in a fixed order (sorted names) so two runs never deadlock.

    A destination that cannot be reached (or cannot hold a lock) is reported through ``on_error(name, error)`` and
    left out; a lock held by another run releases every lock taken so far and raises ``LockHeld``.
    """

    def __init__(self, storages, job, module, ttl=300, owns_storages=False):
        self.storages = sorted(storages, key=lambda s: s.name)
        self.owns_storages = owns_storages
        self.job = job
        self.module = module
        self.ttl = ttl
        self.run_id = uuid.uuid4().hex
        self.locks = []

    def acquire(self, timeout, on_error):
        deadline = time.monotonic() + (timeout or 0)
        try:
            for storage in self.storages:
                lock = DestinationLock(storage, self.job, self.module, ttl=self.ttl, run_id=self.run_id)
                try:
                    lock.acquire(max(0.0, deadline - time.monotonic()))
                except LockHeld:
                    raise
                except WatchkeeperError as exc:
                    on_error(storage.name, exc)
                    continue
                self.locks.append(lock)
        except LockHeld:
            self.release()
            raise
        return self

    def facts(self):
        return [{"destination": l.storage.name, "key": l.describe(), "waited_s": round(l.waited_s, 3),
                 "broke_stale": l.broke} for l in self.locks]

    def lost(self):
        """``{destination name: error}`` for every lock lost while held."""
        out = {}
        for lock in self.locks:
            try:
                lock.check()
            except StorageError as exc:
                out[lock.storage.name] = exc
        return out

    def release(self):
        for lock in reversed(self.locks):
            lock.release()
        self.locks = []
        if self.owns_storages:
            for storage in self.storages:
                storage.close()
            self.storages = []


def lock_destinations(params, specs, job, module, timeout):
    """For callers that open each destination later themselves (retention): open every destination of ``specs`` and
    take its job lock. Returns ``(DestinationLocks or None, {name: error text})``; the errors name the destinations
    that could not be locked (they must not be written). Raises ``LockHeld`` when another run holds a lock."""
    errors = {}
    if mode(params) != "destination":
        return None, errors
    storages = []
    for spec in specs:
        try:
            storages.append(open_storage(dict(spec)))
        except WatchkeeperError as exc:
            errors[spec.get("name") or spec.get("type")] = exc.describe()
    locks = DestinationLocks(storages, job, module, owns_storages=True)
    try:
        locks.acquire(timeout, lambda name, exc: errors.__setitem__(name, exc.describe()))
    except LockHeld:
        locks.release()
        raise
    return locks, errors
