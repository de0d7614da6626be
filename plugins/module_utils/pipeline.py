# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One streamed pass: producer -> stages (zstd, gpg) -> SHA-256 -> fan-out to N writers.

* The producer is a process (``pg_dump``) or a Python function writing into a pipe (tar, SQLite).
* Stages are processes connected by OS pipes. Between two processes a relay thread moves the
  bytes with ``os.splice`` (no copy through Python) and counts them, so the result knows the raw,
  compressed and stored sizes.
* The last stage's output is read in chunks by the calling thread, hashed once, and handed to one
  thread per destination through a bounded queue (backpressure instead of a local copy).
* A destination that fails is dropped and reported; the stream goes on for the others. When all
  destinations failed the stream is stopped.
* The exit status of **every** process is checked. A producer that dies mid-stream makes zstd and
  gpg finish cleanly on a truncated input; only the producer's status tells, so it always fails
  the run. Commands are argv lists (never a shell); secrets go through files, pipes or the
  environment, and known secrets are redacted from every stderr text we return.
"""

import errno
import fcntl
import hashlib
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import PipelineError, WatchkeeperError

CHUNK = 4 * 1024 * 1024
PIPE_SIZE = 1024 * 1024
F_SETPIPE_SZ = 1031
QUEUE_DEPTH = 4
STDERR_TAIL = 4000


def _grow_pipe(fd):
    try:
        fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE)
    except OSError:
        pass


def redact(text, secrets):
    for secret in secrets or ():
        if secret and len(secret) >= 3:
            text = text.replace(secret, "********")
    return text


def describe_status(name, returncode):
    if returncode is None:
        return "%s did not finish" % name
    if returncode < 0:
        try:
            signame = signal.Signals(-returncode).name
        except ValueError:
            signame = "signal %d" % -returncode
        return "%s was killed by %s" % (name, signame)
    return "%s exited with status %d" % (name, returncode)


class _Proc(object):
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
        _grow_pipe(self.popen.stdout.fileno())

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


class Stage(object):
    """A process stage: ``argv`` reads stdin and writes stdout. ``pass_fds`` are inherited fds
    (e.g. a passphrase pipe) that the parent closes once the process started."""

    def __init__(self, name, argv, env=None, pass_fds=(), cwd=None):
        self.name = name
        self.argv = argv
        self.env = env
        self.pass_fds = tuple(pass_fds)
        self.cwd = cwd


class ProcessProducer(Stage):
    """The first stage, a process that reads nothing (stdin is /dev/null)."""


class FunctionProducer(object):
    """The first stage as a Python callable ``fn(fileobj)`` run in a thread, writing into a pipe."""

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn
        self.error = None
        self.thread = None

    def start(self):
        read_fd, write_fd = os.pipe()
        _grow_pipe(write_fd)

        def run():
            try:
                with os.fdopen(write_fd, "wb", buffering=CHUNK) as handle:
                    self.fn(handle)
            except BrokenPipeError:
                self.error = PipelineError("the next stage stopped reading", step=self.name)
            except WatchkeeperError as exc:
                self.error = exc
            except Exception as exc:  # pylint: disable=broad-except
                self.error = PipelineError("%s failed: %s" % (self.name, exc), step=self.name)

        self.thread = threading.Thread(target=run, name="producer-%s" % self.name, daemon=True)
        self.thread.start()
        return read_fd


class _Relay(threading.Thread):
    """Moves bytes from one pipe to another with splice and counts them."""

    def __init__(self, name, src_fd, dst_fd, close_src):
        super(_Relay, self).__init__(name="relay-%s" % name, daemon=True)
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


class _Sink(threading.Thread):
    """Feeds one destination's writer from a bounded queue; on error it drains and discards."""

    def __init__(self, name, writer):
        super(_Sink, self).__init__(name="sink-%s" % name, daemon=True)
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


class StreamResult(object):
    def __init__(self):
        self.raw_bytes = 0
        self.stage_bytes = {}
        self.stored_bytes = 0
        self.sha256 = None
        self.duration_s = 0.0
        self.destinations = {}  # name -> {"status": "ok"|"failed", "error": str, "step": str}

    def ok_destinations(self):
        return [name for name, res in self.destinations.items() if res["status"] == "ok"]


def run_stream(producer, stages, writers, timeout=None, progress=None, secrets=(), chunk_size=CHUNK):
    """Run one streamed pass and return a ``StreamResult``.

    ``producer``: ``ProcessProducer`` or ``FunctionProducer``; ``stages``: list of ``Stage``
    (may be empty); ``writers``: dict destination name -> ``storage.base.Writer``.
    Writers whose destination failed are aborted here; the others are left open for the caller
    to ``commit`` (it knows the size and SHA-256 from the result). Raises ``PipelineError`` when
    the producer or any stage failed or the timeout passed; every writer is aborted then.
    """
    started = time.monotonic()
    deadline = started + timeout if timeout else None
    procs = []
    relays = []
    sinks = {name: _Sink(name, writer) for name, writer in writers.items()}
    result = StreamResult()
    timed_out = threading.Event()
    stop_reason = []
    hard_failure = []

    def kill_all():
        for proc in procs:
            proc.kill()

    watchdog = None
    if timeout:
        def on_timeout():
            timed_out.set()
            kill_all()
        watchdog = threading.Timer(timeout, on_timeout)
        watchdog.daemon = True

    first_name = producer.name
    read_fd = None
    try:
        # Start the producer, then each stage reading from the previous one through a relay.
        if isinstance(producer, FunctionProducer):
            upstream_fd = producer.start()
            upstream_owned = True
            upstream_close = _once_closer(upstream_fd)
        else:
            proc = _Proc(producer.name, producer.argv, subprocess.DEVNULL, producer.env, producer.cwd, producer.pass_fds)
            procs.append(proc)
            _close_all(producer.pass_fds)
            upstream_fd = proc.stdout_fd
            upstream_owned = False
            upstream_close = proc.close_stdout
        upstream_name = producer.name
        for stage in stages:
            pipe_r, pipe_w = os.pipe()
            _grow_pipe(pipe_w)
            try:
                proc = _Proc(stage.name, stage.argv, pipe_r, stage.env, stage.cwd, stage.pass_fds)
            finally:
                os.close(pipe_r)
                _close_all(stage.pass_fds)
            procs.append(proc)
            relay = _Relay(upstream_name, upstream_fd, pipe_w, upstream_close)
            relay.owned_src = upstream_owned
            relays.append(relay)
            relay.start()
            upstream_fd = proc.stdout_fd
            upstream_owned = False
            upstream_close = proc.close_stdout
            upstream_name = stage.name
        read_fd = upstream_fd
        if watchdog:
            watchdog.start()
        for sink in sinks.values():
            sink.start()

        digest = hashlib.sha256()
        buf = bytearray()
        last_progress = time.monotonic()
        while True:
            data = os.read(read_fd, PIPE_SIZE)
            if data:
                buf += data
            if len(buf) >= chunk_size or (not data and buf):
                chunk = bytes(buf)
                buf = bytearray()
                digest.update(chunk)
                result.stored_bytes += len(chunk)
                alive = [s for s in sinks.values() if not s.failed.is_set()]
                if sinks and not alive:
                    stop_reason.append("every destination failed")
                    kill_all()
                    break
                for sink in alive:
                    sink.queue.put(chunk)
                if progress and time.monotonic() - last_progress >= 2.0:
                    last_progress = time.monotonic()
                    progress({"stored_bytes": result.stored_bytes, "raw_bytes": relays[0].count if relays else None,
                              "elapsed_s": round(last_progress - started, 1)})
            if not data:
                break
        result.sha256 = digest.hexdigest()
    except BaseException:
        hard_failure.append(True)
        kill_all()
        for sink in sinks.values():
            sink.failed.set()
        raise
    finally:
        for sink in sinks.values():
            if sink.is_alive():
                sink.queue.put(None)
        for sink in sinks.values():
            if sink.ident is not None:
                sink.join()
        remaining = (deadline - time.monotonic()) if deadline else 3600.0
        statuses = [(proc, proc.wait(remaining)) for proc in procs]
        for relay in relays:
            relay.join(5)
            if getattr(relay, "owned_src", False):
                relay.close_src()
        if isinstance(producer, FunctionProducer) and not stages and read_fd is not None:
            _close_all([read_fd])
        if isinstance(producer, FunctionProducer) and producer.thread is not None:
            producer.thread.join(5)
        if watchdog:
            watchdog.cancel()
        if hard_failure:
            for writer in writers.values():
                writer.abort()
        result.duration_s = time.monotonic() - started

    # Sizes: the relay after the producer counted the raw bytes; each later relay the output of
    # the stage before it; the last stage's output is what we stored.
    names = [first_name] + [s.name for s in stages]
    for index, relay in enumerate(relays):
        result.stage_bytes[names[index]] = relay.count
    result.stage_bytes[names[-1]] = result.stored_bytes
    result.raw_bytes = result.stage_bytes[first_name]

    errors = _stage_errors(producer, statuses, relays, secrets)
    if timed_out.is_set():
        errors.insert(0, PipelineError("the stream did not finish within %ss and was stopped" % timeout,
                                       step="stream", hint="raise 'timeout' or check what is slow"))
    if stop_reason and not errors:
        errors.append(PipelineError("stream stopped: %s" % stop_reason[0], step="upload"))

    for name, sink in sinks.items():
        if sink.error is not None or sink.failed.is_set():
            err = sink.error or PipelineError("stream stopped before this destination got every byte", step="upload")
            if err.destination is None:
                err.destination = name
            writers[name].abort()
            result.destinations[name] = {"status": "failed", "error": redact(err.describe(), secrets),
                                         "step": err.step or "upload"}
        else:
            result.destinations[name] = {"status": "ok"}

    if errors:
        for writer in writers.values():
            writer.abort()
        primary = errors[0]
        if len(errors) > 1:
            primary.msg = "%s; also: %s" % (primary.msg, "; ".join(e.describe() for e in errors[1:3]))
        for name, res in result.destinations.items():
            if res["status"] == "ok":
                result.destinations[name] = {"status": "failed", "step": primary.step,
                                             "error": "not stored: %s" % primary.describe()}
        primary.result = result
        raise primary
    return result


def _once_closer(fd):
    """A callable that closes ``fd`` the first time it is called (never a reused fd number)."""
    state = {"open": True}
    lock = threading.Lock()

    def close():
        with lock:
            if state["open"]:
                state["open"] = False
                _close_all([fd])
    return close


def _close_all(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _stage_errors(producer, statuses, relays, secrets):
    """Errors of every failed stage, the root cause first.

    A stage that died of SIGPIPE/EPIPE only because the next one stopped reading is secondary.
    """
    primary, secondary = [], []
    if isinstance(producer, FunctionProducer) and producer.error is not None:
        err = producer.error
        broken = "stopped reading" in err.msg
        (secondary if broken else primary).append(err)
    for proc, code in statuses:
        if code == 0:
            continue
        text = redact(proc.stderr_text(), secrets)
        err = PipelineError(describe_status(proc.name, code) + (": %s" % text if text else ""), step=proc.name)
        broken = code == -signal.SIGPIPE or "Broken pipe" in text
        (secondary if broken else primary).append(err)
        proc.close()
    for proc, code in statuses:
        if code == 0:
            proc.close()
    for relay in relays:
        if relay.error is not None and relay.error.errno != errno.EPIPE:
            primary.append(PipelineError("relay after %s failed: %s" % (relay.name, relay.error), step="stream"))
    return primary + secondary
