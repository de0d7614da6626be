# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Download one stored object and decode it in one pass: storage -> SHA-256 -> gpg -d -> zstd -d.

* A feeder thread reads the object in chunks from the destination, hashes every byte and writes
  it into gpg (or straight into zstd for unencrypted backups). zstd writes the plaintext into a
  scratch file (``decode_to_file``) or a pipe the caller reads (``decode_to_reader``: tar streams).
* Nothing counts until every check passed: the size and SHA-256 of the stored bytes equal the
  manifest's, and gpg and zstd both exited 0. When a downstream stage dies early the feeder still
  reads (and hashes) the rest, so a damaged object is reported as a checksum mismatch, which is
  the cause, not as the gpg error it provoked.
* ``verify_checksum`` is the same read without decoding (check_mode, integrity checks).
"""

import hashlib
import os
import subprocess
import tempfile
import threading
import time

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import (
    ChecksumMismatch, CryptoError, PipelineError, StorageError, WatchkeeperError)
from ansible_collections.watchkeeper.ops.plugins.module_utils.pipeline import describe_status, redact
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.decrypt import explain_gpg_failure

CHUNK = 4 * 1024 * 1024


def _encrypted(key):
    return key.endswith(".gpg")


def _compressed(key):
    return key.endswith(".zst") or key.endswith(".zst.gpg")


class _Feeder(threading.Thread):
    """Reads an object from storage, hashes it, writes it to ``fd`` (until the reader goes away)."""

    def __init__(self, storage, key, fd):
        super(_Feeder, self).__init__(name="fetch-%s" % key.rsplit("/", 1)[-1], daemon=True)
        self.storage = storage
        self.key = key
        self.fd = fd
        self.digest = hashlib.sha256()
        self.size = 0
        self.error = None
        self.downstream_gone = False
        self.stop = threading.Event()

    def run(self):
        try:
            for chunk in self.storage.iter_read(self.key, chunk_size=CHUNK):
                if self.stop.is_set():
                    return
                self.digest.update(chunk)
                self.size += len(chunk)
                if not self.downstream_gone:
                    try:
                        view = memoryview(chunk)
                        while view:
                            written = os.write(self.fd, view)
                            view = view[written:]
                    except (BrokenPipeError, OSError):
                        self.downstream_gone = True  # keep hashing: a damaged object must say so
        except WatchkeeperError as exc:
            self.error = exc
        except Exception as exc:  # pylint: disable=broad-except
            self.error = StorageError("reading %s failed: %s" % (self.key, exc), step="download",
                                      destination=self.storage.name)
        finally:
            try:
                os.close(self.fd)
            except OSError:
                pass


def _check_stored(obj, feeder, storage):
    if feeder.error is not None:
        if feeder.error.destination is None:
            feeder.error.destination = storage.name
        raise feeder.error
    expected_size = obj.get("stored_bytes")
    if expected_size is not None and feeder.size != expected_size:
        where = storage.location(obj["key"])
        raise ChecksumMismatch("%s has %d bytes, the manifest says %d" % (where, feeder.size, expected_size),
                               step="download", destination=storage.name)
    found = feeder.digest.hexdigest()
    if found != obj["sha256"]:
        where = storage.location(obj["key"])
        raise ChecksumMismatch("SHA-256 of %s is %s, the manifest says %s" % (where, found, obj["sha256"]),
                               step="download", destination=storage.name)


def verify_checksum(storage, obj):
    """Read ``obj`` (``{key, sha256, stored_bytes}``) and compare; returns the bytes read."""
    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in storage.iter_read(obj["key"], chunk_size=CHUNK):
            digest.update(chunk)
            size += len(chunk)
    except WatchkeeperError as exc:
        if exc.destination is None:
            exc.destination = storage.name
        raise
    feeder = type("Done", (), {"error": None, "size": size, "digest": digest})()
    _check_stored(obj, feeder, storage)
    return size


class _Decoder(object):
    """gpg and zstd processes fed by a ``_Feeder``; ``out`` is a file descriptor or ``PIPE``."""

    def __init__(self, storage, obj, decryption, out, zstd_path="zstd", timeout=None):
        self.storage = storage
        self.obj = obj
        self.procs = []
        self.stderr = {}
        self.secrets = list(decryption.secrets) if decryption else []
        self.timed_out = threading.Event()
        key = obj["key"]
        upstream = None
        stages = []
        if _encrypted(key):
            argv, pass_fds = decryption.argv()
            stages.append(("gpg", argv, decryption.env(), pass_fds))
        if _compressed(key):
            stages.append(("zstd", [zstd_path, "-d", "-q", "-c", "--no-progress"], None, ()))
        if not stages:
            stages.append(("copy", ["cat"], None, ()))
        feed_r, feed_w = os.pipe()
        upstream = feed_r
        try:
            for index, (name, argv, env, pass_fds) in enumerate(stages):
                last = index == len(stages) - 1
                err = tempfile.TemporaryFile()
                self.stderr[name] = err
                try:
                    proc = subprocess.Popen(argv, stdin=upstream, stdout=out if last else subprocess.PIPE, stderr=err,
                                            env=env, pass_fds=pass_fds, close_fds=True)
                except OSError as exc:
                    raise PipelineError("cannot start %s: %s" % (argv[0], exc.strerror or exc), step=name)
                finally:
                    for fd in pass_fds:
                        os.close(fd)
                    if isinstance(upstream, int):
                        os.close(upstream)
                    else:
                        upstream.close()
                proc.wk_name = name
                self.procs.append(proc)
                upstream = proc.stdout
        except Exception:
            os.close(feed_w)
            self.kill()
            raise
        self.stdout = self.procs[-1].stdout
        self.feeder = _Feeder(storage, key, feed_w)
        self.watchdog = None
        if timeout:
            self.watchdog = threading.Timer(timeout, self._on_timeout)
            self.watchdog.daemon = True
            self.watchdog.start()
        self.feeder.start()

    def _on_timeout(self):
        self.timed_out.set()
        self.feeder.stop.set()
        self.kill()

    def kill(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()

    def finish(self, check_status=True):
        """Wait for everything, then raise the root cause of any failure (the stored bytes first)."""
        statuses = [(p.wk_name, p.wait()) for p in self.procs]
        self.feeder.join()
        if self.watchdog:
            self.watchdog.cancel()
        texts = {}
        for name, handle in self.stderr.items():
            handle.seek(0)
            texts[name] = redact(handle.read()[-4000:].decode("utf-8", "replace").strip(), self.secrets)
            handle.close()
        if self.timed_out.is_set():
            raise PipelineError("downloading and decoding %s did not finish in time and was stopped" % self.obj["key"],
                                step="download", destination=self.storage.name, hint="raise 'timeout'")
        _check_stored(self.obj, self.feeder, self.storage)
        if not check_status:
            return
        for name, code in statuses:
            if code == 0:
                continue
            text = texts.get(name, "")
            msg = "%s of %s: %s" % (describe_status(name, code), self.storage.location(self.obj["key"]), text or "no output")
            if name == "gpg":
                raise CryptoError(msg, step="decrypt", destination=self.storage.name, hint=explain_gpg_failure(text))
            hint = "free space in scratch_dir (the decoded backup is written there)" if "No space left" in text else None
            raise PipelineError(msg, step="decompress" if name == "zstd" else name, hint=hint)


def decode_to_file(storage, obj, decryption, path, timeout=None, zstd_path="zstd"):
    """Download, check and decode ``obj`` into ``path`` (created, mode 0600). Returns plaintext bytes."""
    started = time.monotonic()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        decoder = _Decoder(storage, obj, decryption, fd, zstd_path=zstd_path, timeout=timeout)
    finally:
        os.close(fd)
    decoder.finish()
    return {"bytes": os.path.getsize(path), "stored_bytes": decoder.feeder.size,
            "duration_s": round(time.monotonic() - started, 3)}


def decode_to_reader(storage, obj, decryption, consume, timeout=None, zstd_path="zstd"):
    """Download, check and decode ``obj``, handing the plaintext stream (a binary file object) to
    ``consume(stream)``. ``consume``'s result is returned only when every check passed; when the
    stored bytes are damaged, the checksum error wins over whatever ``consume`` raised."""
    decoder = _Decoder(storage, obj, decryption, subprocess.PIPE, zstd_path=zstd_path, timeout=timeout)
    consumed = None
    failure = None
    stage_failed_first = False
    try:
        consumed = consume(decoder.stdout)
        decoder.stdout.read()  # drain what the consumer left (tar end padding)
    except Exception as exc:  # pylint: disable=broad-except
        failure = exc
        time.sleep(0.05)
        # A stage that already failed (wrong key, bad zstd frame) starved the consumer: it is the cause.
        stage_failed_first = any(p.poll() not in (None, 0) for p in decoder.procs)
        decoder.kill()
    finally:
        decoder.stdout.close()
    decoder.finish(check_status=failure is None or stage_failed_first)
    if failure is not None:
        raise failure
    return consumed
