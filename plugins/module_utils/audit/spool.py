# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's local spool: one chain, appended with fsync per record, cut into sealed segments.

Layout (the same under a shipping destination, below its prefix)::

    <spool>/current                       the chain id of this controller (created once)
    <spool>/args.key                      HMAC key of argument fingerprints (0600, never shipped)
    <spool>/<chain>/chain.json            {"chain", "hostname", "created", "format"}
    <spool>/<chain>/segments/<first seq>.jsonl     records, 12-digit zero-padded first seq
    <spool>/<chain>/checkpoints/<last seq>.json    signed checkpoint closing the segment (+ .sig or .asc)
    <spool>/shipped/<destination id>.txt  what each destination has confirmed

Every append and seal runs under ``flock`` on ``<spool>/.lock``: several ``ansible-playbook`` processes of
one controller (AWX runs jobs side by side) extend the one chain in turn. A crash in the middle of a write
leaves a line without its newline; the next writer cuts it off and records a ``spool_repair`` record
saying how many bytes it dropped, so the repair itself is in the chain.
"""

import errno
import fcntl
import hashlib
import json
import os
import socket
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import record

SEG_DIR = "segments"
CKPT_DIR = "checkpoints"
FORMAT = 1
TAIL_READ = 256 * 1024


def seg_name(first_seq):
    return "%s/%012d.jsonl" % (SEG_DIR, first_seq)


def ckpt_name(seq):
    return "%s/%012d.json" % (CKPT_DIR, seq)


def name_seq(name):
    """The number in a segment or checkpoint file name, or None."""
    base = name.rsplit("/", 1)[-1].split(".", 1)[0]
    return int(base) if base.isdigit() else None


def write_atomic(path, data, mode=0o600):
    tmp = "%s.tmp-%s" % (path, uuid.uuid4().hex[:8])
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)
    _fsync_dir(os.path.dirname(path))


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        done = os.write(fd, view)
        view = view[done:]


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def last_line(path):
    """``(last complete line without newline, bytes after it)`` of a file, reading only its end."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        start = max(0, size - TAIL_READ)
        handle.seek(start)
        tail = handle.read()
    torn = len(tail) - (tail.rfind(b"\n") + 1)
    body = tail[:len(tail) - torn].rstrip(b"\n")
    cut = body.rfind(b"\n")
    if cut < 0 and start > 0:
        raise IOError("a record of %s is longer than %d bytes" % (path, TAIL_READ))
    return body[cut + 1:], torn


def first_line(path):
    with open(path, "rb") as handle:
        return handle.readline().rstrip(b"\n")


class Spool(object):
    """Appends records to this controller's chain and seals segments with signed checkpoints."""

    def __init__(self, root, hostname=None):
        self.root = os.path.abspath(os.path.expanduser(root))
        self.hostname = hostname or socket.getfqdn()
        self.chain = None
        self.arg_key = None
        self._lock_fd = None
        self._fd = None
        self._seg = None      # (relative name, size) of the open segment as this process last saw it
        self._head = (0, record.GENESIS)
        self._seg_first_ts = None
        self.repaired = 0

    # -- setup ------------------------------------------------------------------------------
    def open(self):
        """Create the spool (0700) and the chain on first use; returns the chain id."""
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        self._lock_fd = os.open(os.path.join(self.root, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        with self.locked():
            current = os.path.join(self.root, "current")
            if not os.path.exists(current):
                chain = str(uuid.uuid4())
                meta = {"chain": chain, "hostname": self.hostname, "created": record.fmt_ts(record.utc_now()), "format": FORMAT}
                os.makedirs(os.path.join(self.root, chain, SEG_DIR), mode=0o700, exist_ok=True)
                os.makedirs(os.path.join(self.root, chain, CKPT_DIR), mode=0o700, exist_ok=True)
                write_atomic(os.path.join(self.root, chain, "chain.json"), record.canonical(meta) + b"\n", 0o644)
                write_atomic(current, (chain + "\n").encode("ascii"))
            with open(current) as handle:
                self.chain = handle.read().strip()
            key_path = os.path.join(self.root, "args.key")
            if not os.path.exists(key_path):
                write_atomic(key_path, (os.urandom(32).hex() + "\n").encode("ascii"))
            with open(key_path) as handle:
                self.arg_key = bytes.fromhex(handle.read().strip())
        return self.chain

    def path(self, rel):
        return os.path.join(self.root, self.chain, rel)

    def locked(self):
        return _Flock(self._lock_fd)

    def close(self):
        for fd in (self._fd, self._lock_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._lock_fd = None

    # -- head -------------------------------------------------------------------------------
    def _listing(self, sub, suffix):
        try:
            names = os.listdir(self.path(sub))
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return []
            raise
        return sorted(n for n in names if n.endswith(suffix) and name_seq(n) is not None)

    def _recover(self):
        """Find the head of the chain and the open segment from the files (another process may have moved them)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        segs = self._listing(SEG_DIR, ".jsonl")
        while segs:
            path = self.path("%s/%s" % (SEG_DIR, segs[-1]))
            line, torn = last_line(path)
            if torn:
                with open(path, "r+b") as handle:
                    handle.truncate(os.path.getsize(path) - torn)
                    os.fsync(handle.fileno())
                self.repaired += torn
            if line:
                break
            os.unlink(path)  # an empty segment holds nothing (created, then the writer died)
            segs.pop()
        if not segs:
            self._head, self._seg, self._seg_first_ts = (0, record.GENESIS), (seg_name(1), 0), None
            return
        digest, _prev, seq, _ts, _hashed = record.split_line(line)
        self._head = (seq, digest)
        if os.path.exists(self.path(ckpt_name(seq))):
            self._seg, self._seg_first_ts = (seg_name(seq + 1), 0), None
        else:
            name = "%s/%s" % (SEG_DIR, segs[-1])
            self._seg = (name, os.path.getsize(self.path(name)))
            self._seg_first_ts = record.split_line(first_line(self.path(name)))[3]

    def _refresh(self):
        if self._seg is not None:
            name, size = self._seg
            try:
                current = os.path.getsize(self.path(name))
            except OSError:
                current = 0
            if current == size and not (size and os.path.exists(self.path(ckpt_name(self._head[0])))):
                return
        self._recover()

    def head(self):
        with self.locked():
            self._refresh()
            return self._head

    # -- append -----------------------------------------------------------------------------
    def append(self, data, when=None):
        """Append one record (fsync'd before returning); returns its seq."""
        with self.locked():
            self._refresh()
            if self.repaired:
                dropped, self.repaired = self.repaired, 0
                self._append_locked({"event": "spool_repair", "dropped_bytes": dropped}, when)
            return self._append_locked(data, when)

    def _append_locked(self, data, when):
        seq, prev = self._head
        ts = record.fmt_ts(when or record.utc_now())
        line, digest = record.make_record(self.chain, seq + 1, prev, data, ts)
        name, size = self._seg
        if self._fd is None:
            path = self.path(name)
            created = not os.path.exists(path)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            if created:
                _fsync_dir(os.path.dirname(path))
        _write_all(self._fd, line)
        os.fsync(self._fd)
        self._head = (seq + 1, digest)
        self._seg = (name, size + len(line))
        if self._seg_first_ts is None:
            self._seg_first_ts = ts
        return seq + 1

    def seal_due(self, interval_s, when=None):
        """Whether the open segment holds records older than ``interval_s`` (hourly sealing)."""
        if self._seg_first_ts is None:
            return False
        age = ((when or record.utc_now()) - record.parse_ts(self._seg_first_ts)).total_seconds()
        return age >= interval_s

    # -- seal -------------------------------------------------------------------------------
    def seal(self, signer, reason, when=None):
        """Close the open segment with a signed checkpoint; returns its name, or None when nothing is unsealed."""
        with self.locked():
            self._refresh()
            name, size = self._seg
            seq, digest = self._head
            if not size:
                return None
            ckpts = self._listing(CKPT_DIR, ".json")
            prev_name = "%s/%s" % (CKPT_DIR, ckpts[-1]) if ckpts else None
            prev_sha = record.GENESIS
            if prev_name:
                with open(self.path(prev_name), "rb") as handle:
                    prev_sha = hashlib.sha256(handle.read()).hexdigest()
            with open(self.path(name), "rb") as handle:
                seg_sha = hashlib.sha256(handle.read()).hexdigest()
            first = name_seq(name)
            body = {"chain": self.chain, "hostname": self.hostname, "format": FORMAT, "reason": reason,
                    "segment": name, "first_seq": first, "seq": seq, "records": seq - first + 1, "head_hash": digest,
                    "segment_sha256": seg_sha, "segment_bytes": size, "first_ts": self._seg_first_ts,
                    "last_ts": record.split_line(last_line(self.path(name))[0])[3],
                    "time": record.fmt_ts(when or record.utc_now()), "prev_checkpoint": prev_name,
                    "prev_checkpoint_sha256": prev_sha, "signer": {"alg": signer.alg, "key_id": signer.key_id}}
            data = record.canonical(body) + b"\n"
            cname = ckpt_name(seq)
            write_atomic(self.path(cname + signer.suffix), signer.sign(data), 0o644)
            write_atomic(self.path(cname), data, 0o644)
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self._seg, self._seg_first_ts = (seg_name(seq + 1), 0), None
            return cname

    # -- shipping ---------------------------------------------------------------------------
    def sealed_files(self):
        """Relative paths (under the chain dir) of everything sealed, in shipping order: per checkpoint its
        segment, its signature, then the checkpoint; ``chain.json`` first."""
        out = ["chain.json"]
        for name in self._listing(CKPT_DIR, ".json"):
            rel = "%s/%s" % (CKPT_DIR, name)
            try:
                with open(self.path(rel), "rb") as handle:
                    body = json.loads(handle.read())
            except (IOError, OSError, ValueError):
                continue
            out.append(body.get("segment"))
            for suffix in (".sig", ".asc"):
                if os.path.exists(self.path(rel + suffix)):
                    out.append(rel + suffix)
            out.append(rel)
        return [o for o in out if o]

    def shipped(self, dest_id):
        path = os.path.join(self.root, "shipped", dest_id + ".txt")
        try:
            with open(path) as handle:
                return set(line.strip() for line in handle if line.strip())
        except (IOError, OSError):
            return set()

    def mark_shipped(self, dest_id, names):
        folder = os.path.join(self.root, "shipped")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with open(os.path.join(folder, dest_id + ".txt"), "a") as handle:
            for name in names:
                handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())


class _Flock(object):
    def __init__(self, fd):
        self.fd = fd

    def __enter__(self):
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        return False
