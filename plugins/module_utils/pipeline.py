# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One streamed pass: producer -> stages (zstd, gpg) -> SHA-256 -> fan-out to N writers.

* The producer is a process (``pg_dump``) or a Python function writing into a pipe (tar, SQLite).
* Stages are processes connected by OS pipes. Between two processes a relay thread moves the
  bytes with ``os.splice`` (no copy through Python) and counts them, so the result knows the raw,
  compressed and stored sizes.
* A producer may carry ``tap``, a callable that sees every raw byte it writes (the PostgreSQL dump's
  content digests): its first hop then reads and writes instead of splicing (``TapRelay``), or, with
  no stages, the main loop feeds it. Every other hop keeps splice.
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
import hashlib
import os
import signal
import subprocess
import threading
import time

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import PipelineError, WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.pipeline_io import (
    PIPE_SIZE, Proc, Relay, Sink, TapRelay, close_all, feed_tap, grow_pipe, once_closer)

CHUNK = 4 * 1024 * 1024


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
    """The first stage, a process that reads nothing (stdin is /dev/null). ``tap``: optional
    ``fn(bytes)`` that sees every byte the process writes, in order (never fails the stream)."""

    def __init__(self, name, argv, env=None, pass_fds=(), cwd=None, tap=None):
        super(ProcessProducer, self).__init__(name, argv, env, pass_fds, cwd)
        self.tap = tap
        self.tap_error = None


class FunctionProducer(object):
    """The first stage as a Python callable ``fn(fileobj)`` run in a thread, writing into a pipe."""

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn
        self.error = None
        self.thread = None

    def start(self):
        read_fd, write_fd = os.pipe()
        grow_pipe(write_fd)

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
    sinks = {name: Sink(name, writer) for name, writer in writers.items()}
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
    tap_holder = None
    try:
        # Start the producer, then each stage reading from the previous one through a relay.
        if isinstance(producer, FunctionProducer):
            upstream_fd = producer.start()
            upstream_owned = True
            upstream_close = once_closer(upstream_fd)
        else:
            proc = Proc(producer.name, producer.argv, subprocess.DEVNULL, producer.env, producer.cwd, producer.pass_fds)
            procs.append(proc)
            close_all(producer.pass_fds)
            upstream_fd = proc.stdout_fd
            upstream_owned = False
            upstream_close = proc.close_stdout
        upstream_name = producer.name
        tap_holder = producer if getattr(producer, "tap", None) is not None else None
        for stage in stages:
            pipe_r, pipe_w = os.pipe()
            grow_pipe(pipe_w)
            try:
                proc = Proc(stage.name, stage.argv, pipe_r, stage.env, stage.cwd, stage.pass_fds)
            finally:
                os.close(pipe_r)
                close_all(stage.pass_fds)
            procs.append(proc)
            if tap_holder is not None and not relays:
                relay = TapRelay(upstream_name, upstream_fd, pipe_w, upstream_close, producer.tap)
            else:
                relay = Relay(upstream_name, upstream_fd, pipe_w, upstream_close)
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
                if tap_holder is not None and not stages:
                    feed_tap(tap_holder, data)
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
            close_all([read_fd])
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
    if tap_holder is not None and relays and isinstance(relays[0], TapRelay) and relays[0].tap_error is not None:
        producer.tap_error = relays[0].tap_error

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
