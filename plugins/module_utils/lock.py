# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-job locks in the ``ops_state`` directory (shared by every controller, AWX node and timer).

AWX cannot stop two job templates from running at once and schedulers misfire, so every module
that writes for a job (backup, purge) holds ``<ops_state>/locks/job-<job>.lock`` while it works.

* Taken with ``O_CREAT | O_EXCL``: exactly one run wins. The file says who holds it: run id,
  host, pid (and the pid's start time), user, module, start and expiry.
* A holder refreshes ``expires_at`` while it runs (heartbeat thread), so a lock left by a
  holder on *another* host that died becomes stale when it expires; on the *same* host a lock
  whose process is gone (``kill -9``) is stale at once.
* A stale lock is broken by renaming it aside (atomic: one breaker wins), checking that what was
  renamed is the stale holder that was judged (else it is put back), then taking the lock anew.
* A second run waits up to ``timeout`` seconds, then fails naming the holder.
"""

import errno
import getpass
import json
import os
import socket
import threading
import time
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import LockHeld, WatchkeeperError


def _proc_start(pid):
    """Start time of a process in clock ticks since boot (None if it does not exist)."""
    try:
        with open("/proc/%d/stat" % pid, "r") as handle:
            data = handle.read()
    except (OSError, ValueError):
        return None
    # The command name is in parentheses and may contain spaces: split after the last ')'.
    fields = data[data.rindex(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def holder_alive(holder, hostname=None):
    """False when the holder is provably gone (same host, process gone) or its lock expired."""
    hostname = hostname or socket.gethostname()
    if holder.get("host") == hostname and holder.get("pid"):
        start = _proc_start(int(holder["pid"]))
        if start is None or (holder.get("pid_start") and start != holder["pid_start"]):
            return False
    expires = holder.get("expires_at")
    if expires:
        try:
            if clock.parse_time(expires) < clock.now():
                return False
        except ValueError:
            return False
    return True


def describe_holder(holder):
    return "run %s on host %s (pid %s, user %s, %s) since %s, lock expires %s" % (
        holder.get("run_id", "?"), holder.get("host", "?"), holder.get("pid", "?"), holder.get("user", "?"),
        holder.get("module", "?"), holder.get("started_at", "?"), holder.get("expires_at", "?"))


class JobLock(object):
    """``with JobLock(state_dir, "job-app-db", module="backup").acquire(timeout=60): ...``"""

    def __init__(self, state_dir, name, module="backup", ttl=300, heartbeat=None):
        self.dir = os.path.join(state_dir, "locks")
        self.path = os.path.join(self.dir, "%s.lock" % name)
        self.name = name
        self.ttl = int(ttl)
        self.heartbeat_s = heartbeat or max(1, self.ttl // 4)
        self.run_id = uuid.uuid4().hex
        self.module = module
        self.held = False
        self.broke = []
        self.waited_s = 0.0
        self._stop = threading.Event()
        self._thread = None

    # -- content ---------------------------------------------------------------------------
    def _content(self, started_at=None):
        now = clock.now()
        pid = os.getpid()
        return {"run_id": self.run_id, "lock": self.name, "host": socket.gethostname(), "pid": pid,
                "pid_start": _proc_start(pid), "user": _user(), "module": self.module,
                "started_at": started_at or clock.isoformat(now),
                "expires_at": clock.isoformat(now.fromtimestamp(now.timestamp() + self.ttl, clock.UTC))}

    def read(self, path=None):
        try:
            with open(path or self.path, "r") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            # Unreadable or half-written lock: judge it by its age instead of its content.
            try:
                age = time.time() - os.stat(path or self.path).st_mtime
            except OSError:
                return None
            return {"run_id": "unreadable", "expires_at": clock.isoformat(
                clock.now().fromtimestamp(time.time() - age + self.ttl, clock.UTC))}

    # -- acquire / release -----------------------------------------------------------------
    def acquire(self, timeout=0, poll=0.25):
        try:
            os.makedirs(self.dir, exist_ok=True)
        except OSError as exc:
            raise WatchkeeperError("cannot create lock directory %s: %s" % (self.dir, exc.strerror), step="lock",
                                   hint="set ops_state to a writable directory")
        started = time.monotonic()
        while True:
            if self._try_create():
                self.waited_s = time.monotonic() - started
                self.held = True
                self._start_heartbeat()
                return self
            holder = self.read()
            if holder is not None and not holder_alive(holder):
                self._break(holder)
                continue
            if time.monotonic() - started >= timeout:
                holder = holder or {}
                raise LockHeld("job lock %s is held by %s; waited %.0fs" % (self.name, describe_holder(holder), timeout),
                               holder=holder, step="lock",
                               hint="wait for that run, or raise lock_timeout; a lock of a dead run is broken "
                                    "automatically once its process is gone or it expires")
            time.sleep(poll)

    def _try_create(self):
        content = json.dumps(self._content()).encode("utf-8")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                return False
            raise WatchkeeperError("cannot create lock %s: %s" % (self.path, exc.strerror), step="lock")
        try:
            os.write(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def _break(self, judged):
        aside = "%s.stale-%s" % (self.path, uuid.uuid4().hex[:8])
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return  # someone else broke or released it
        taken = self.read(aside) or {}
        if taken.get("run_id") != judged.get("run_id"):
            # The lock changed hands between our judgement and the rename: put it back.
            try:
                os.link(aside, self.path)
            except OSError:
                pass
            os.unlink(aside)
            return
        self.broke.append(taken)
        os.unlink(aside)

    def release(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if not self.held:
            return
        current = self.read()
        if current is not None and current.get("run_id") == self.run_id:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
        self.held = False

    def _start_heartbeat(self):
        started_at = (self.read() or {}).get("started_at")

        def beat():
            while not self._stop.wait(self.heartbeat_s):
                current = self.read()
                if current is None or current.get("run_id") != self.run_id:
                    return  # lost (broken by an operator): never clobber someone else's lock
                tmp = "%s.tmp-%s" % (self.path, self.run_id[:8])
                with open(tmp, "w") as handle:
                    json.dump(self._content(started_at), handle)
                os.replace(tmp, self.path)

        self._thread = threading.Thread(target=beat, name="lock-heartbeat", daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
        return False


def _user():
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())
