# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The moving parts of a stream (used by ``pipeline.run_stream``).

* ``Proc``: a stage process with its stderr captured in an anonymous temporary file.
* ``Relay``: moves bytes between two pipes with ``os.splice`` (no copy through Python) and counts
  them; when the next stage stops reading it closes the upstream pipe, so the upstream process
  gets SIGPIPE instead of blocking forever.
* ``TapRelay``: the same for the first hop of a producer that has a ``tap`` (the PostgreSQL dump's
  content digests): large reads and writes through a memoryview, each read also handed to the tap.
  A tap that raises is dropped (its error kept); the stream never fails for it.
* ``Sink``: feeds one destination's writer from a bounded queue; on error it drains and discards,
  so one failed destination never stalls the others.
"""

import errno
import fcntl
import os
import queue
import subprocess
import tempfile
import threading

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import PipelineError, WatchkeeperError

PIPE_SIZE = 1024 * 1024
F_SETPIPE_SZ = 1031
QUEUE_DEPTH = 4
STDERR_TAIL = 4000


def grow_pipe(fd):
    try:
        fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE)
    except OSError:
        pass


class Proc(object):
    """A pipeline process with its stderr captured in an anonymous temporary file."""

    def __init__(self, name, argv, stdin, env=None, cwd=None, pass_fds=()):
        self.name = name
        self.argv = argv
        self.stderr = tempfile.TemporaryFile()
        try:
            self.popen = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=self.stderr, env=env,
                                          cwd=cwd, pass_fds=tuple(pass_fds), close_fds=True)
        except OSError as exc:
            self.stderr.close()
            raise PipelineError("cannot start %s (%s): %s" % (name, argv[0], exc.strerror or exc), step=name)
        grow_pipe(self.popen.stdout.fileno())

    @property
    def stdout_fd(self):
        return self.popen.stdout.fileno()

    def close_stdout(self):
        try:
            self.popen.stdout.close()
        except OSError:
            pass

    def stderr_text(self):
        self.stderr.seek(0)
        data = self.stderr.read()
        text = data[-STDERR_TAIL:].decode("utf-8", "replace").strip()
        return text

    def kill(self):
        if self.popen.poll() is None:
            try:
                self.popen.kill()
            except OSError:
                pass

    def wait(self, timeout):
        try:
            return self.popen.wait(timeout=max(timeout, 0.1))
        except subprocess.TimeoutExpired:
            self.kill()
            return self.popen.wait()

    def close(self):
        for handle in (self.popen.stdout, self.stderr):
            try:
                handle.close()
            except OSError:
                pass


class Relay(threading.Thread):
    """Moves bytes from one pipe to another with splice and counts them."""

    def __init__(self, name, src_fd, dst_fd, close_src):
        super(Relay, self).__init__(name="relay-%s" % name, daemon=True)
        self.src_fd = src_fd
        self.dst_fd = dst_fd
        self.close_src = close_src
        self.count = 0
        self.error = None

    def run(self):
        try:
            while True:
                try:
                    moved = os.splice(self.src_fd, self.dst_fd, PIPE_SIZE)
                except OSError as exc:
                    if exc.errno == errno.EINVAL:  # not spliceable: fall back to read/write
                        moved = self._copy_once()
                    else:
                        raise
                if moved == 0:
                    break
                self.count += moved
        except OSError as exc:
            self.error = exc
            # The next stage stopped reading: close our end of the upstream pipe so that the
            # upstream process gets SIGPIPE instead of blocking forever on a full pipe.
            self.close_src()
        finally:
            try:
                os.close(self.dst_fd)
            except OSError:
                pass

    def _copy_once(self):
        data = os.read(self.src_fd, PIPE_SIZE)
        view = memoryview(data)
        while view:
            view = view[os.write(self.dst_fd, view):]
        return len(data)


class TapRelay(Relay):
    """A relay that also hands every read to ``tap(bytes)`` (read/write instead of splice)."""

    def __init__(self, name, src_fd, dst_fd, close_src, tap):
        super(TapRelay, self).__init__(name, src_fd, dst_fd, close_src)
        self.tap = tap
        self.tap_error = None

    def run(self):
        try:
            while True:
                data = os.read(self.src_fd, PIPE_SIZE)
                if not data:
                    break
                self.count += len(data)
                feed_tap(self, data)
                view = memoryview(data)
                while view:
                    view = view[os.write(self.dst_fd, view):]
        except OSError as exc:
            self.error = exc
            self.close_src()
        finally:
            try:
                os.close(self.dst_fd)
            except OSError:
                pass


def feed_tap(holder, data):
    """``holder.tap(data)``; a tap that raises is dropped and its error kept in ``holder.tap_error``."""
    if holder.tap is None:
        return
    try:
        holder.tap(data)
    except Exception as exc:  # pylint: disable=broad-except
        holder.tap = None
        holder.tap_error = exc


class Sink(threading.Thread):
    """Feeds one destination's writer from a bounded queue; on error it drains and discards."""

    def __init__(self, name, writer):
        super(Sink, self).__init__(name="sink-%s" % name, daemon=True)
        self.dest = name
        self.writer = writer
        self.queue = queue.Queue(maxsize=QUEUE_DEPTH)
        self.error = None
        self.failed = threading.Event()

    def run(self):
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.failed.is_set():
                continue
            try:
                self.writer.write(item)
            except WatchkeeperError as exc:
                self.error = exc
                self.failed.set()
            except Exception as exc:  # pylint: disable=broad-except
                self.error = WatchkeeperError("upload failed: %s" % exc, step="upload", destination=self.dest)
                self.failed.set()


def once_closer(fd):
    """A callable that closes ``fd`` the first time it is called (never a reused fd number)."""
    state = {"open": True}
    lock = threading.Lock()

    def close():
        with lock:
            if state["open"]:
                state["open"] = False
                close_all([fd])
    return close


def close_all(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
