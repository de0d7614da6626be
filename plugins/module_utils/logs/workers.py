# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one job per file in forked worker processes, a few at a time, and kill a job whose pattern matching
runs longer than its time limit (CPython's ``re`` cannot be interrupted from inside the process).

A child reports ``R``/``D`` around each pattern search (so reading and decompressing do not count against the
limit) and finally its pickled result, over a pipe.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pickle
import selectors
import signal
import struct
import time

_LEN = struct.Struct("!Q")


class FileTimeout(Exception):
    """The pattern ran longer than the limit on one file (``label`` names it)."""

    def __init__(self, label, seconds):
        Exception.__init__(self, "pattern matching on %s exceeded file_timeout (%.1f s): the job was killed; "
                                 "simplify the pattern (nested quantifiers like (a+)+ backtrack exponentially)" % (label, seconds))
        self.label = label


class WorkerError(Exception):
    """A job failed in its worker (the message names the file and the error)."""


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _child(fd, func, key):
    code = 0
    try:
        def progress(on):
            os.write(fd, b"R" if on else b"D")
        data = pickle.dumps(func(key, progress), protocol=pickle.HIGHEST_PROTOCOL)
        frame = b"X" + _LEN.pack(len(data)) + data
    except BaseException as exc:  # pylint: disable=broad-except
        data = pickle.dumps("%s: %s" % (type(exc).__name__, exc))
        frame = b"F" + _LEN.pack(len(data)) + data
        code = 1
    try:
        _write_all(fd, frame)
    finally:
        os._exit(code)  # pylint: disable=protected-access


class _Running(object):

    def __init__(self, pid, fd, key, label):
        self.pid = pid
        self.fd = fd
        self.key = key
        self.label = label
        self.buffer = b""
        self.spent = 0.0
        self.since = None
        self.result = None
        self.error = None
        self.done = False

    def elapsed(self, now):
        return self.spent + (now - self.since if self.since is not None else 0.0)

    def feed(self, data, now):
        self.buffer += data
        while self.buffer and not self.done:
            kind = self.buffer[:1]
            if kind == b"R":
                self.since = now
                self.buffer = self.buffer[1:]
            elif kind == b"D":
                if self.since is not None:
                    self.spent += now - self.since
                self.since = None
                self.buffer = self.buffer[1:]
            elif kind in (b"X", b"F"):
                if len(self.buffer) < 1 + _LEN.size:
                    return
                size = _LEN.unpack(self.buffer[1:1 + _LEN.size])[0]
                if len(self.buffer) < 1 + _LEN.size + size:
                    return
                payload = pickle.loads(self.buffer[1 + _LEN.size:1 + _LEN.size + size])
                if kind == b"X":
                    self.result = payload
                else:
                    self.error = payload
                self.done = True
            else:
                self.error = "unexpected data from the worker"
                self.done = True


def _reap(job, kill=False):
    if kill:
        try:
            os.kill(job.pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.waitpid(job.pid, 0)
    except OSError:
        pass
    try:
        os.close(job.fd)
    except OSError:
        pass


def run(jobs, func, timeout, workers=2, skip_timeout=None):
    """Yield (key, result) for each (key, label) of ``jobs``: ``func(key, progress)`` runs in a forked child.

    A job whose matching exceeds ``timeout`` seconds is killed: ``skip_timeout(label)`` is called when given (the
    job is skipped), else FileTimeout is raised (the other jobs are killed). A job that fails raises WorkerError."""
    pending = list(jobs)
    running = {}
    selector = selectors.DefaultSelector()
    try:
        while pending or running:
            while pending and len(running) < max(1, workers):
                key, label = pending.pop(0)
                read_fd, write_fd = os.pipe()
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child
                    os.close(read_fd)
                    _child(write_fd, func, key)
                os.close(write_fd)
                job = _Running(pid, read_fd, key, label)
                running[read_fd] = job
                selector.register(read_fd, selectors.EVENT_READ, job)
            now = time.monotonic()
            wait = 1.0
            for job in running.values():
                if job.since is not None:
                    wait = min(wait, max(0.0, timeout - job.elapsed(now)) + 0.01)
            for selected, _mask in selector.select(wait):
                job = selected.data
                data = os.read(job.fd, 1 << 20)
                now = time.monotonic()
                if data:
                    job.feed(data, now)
                if not data or job.done:
                    if not job.done and not data:
                        job.error = "the worker exited without a result"
                    selector.unregister(job.fd)
                    del running[job.fd]
                    _reap(job)
                    if job.error is not None:
                        raise WorkerError("searching %s failed: %s" % (job.label, job.error))
                    yield job.key, job.result
            now = time.monotonic()
            for job in list(running.values()):
                if job.elapsed(now) > timeout:
                    selector.unregister(job.fd)
                    del running[job.fd]
                    _reap(job, kill=True)
                    if skip_timeout is None:
                        raise FileTimeout(job.label, timeout)
                    skip_timeout(job.label)
    finally:
        for job in list(running.values()):
            try:
                selector.unregister(job.fd)
            except (KeyError, ValueError):
                pass
            _reap(job, kill=True)
        selector.close()
