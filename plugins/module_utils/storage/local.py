# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``local`` destination: a directory (local disk or a mounted NAS share).

Objects are written to ``<final>.wk-partial-<random>``, fsynced, read back and hashed (unless
``verify_readback: false``), then hard-linked to their final name (which refuses to replace an
existing object) and the directory fsynced. An aborted writer removes its partial file. The
root directory must exist: a missing NAS mount point must fail the backup, not fill the local
disk under it.

Conditional writes (shared state): ``create_exclusive`` writes a partial file and ``link(2)``s it
to its name (EEXIST: someone else won; a reader never sees half a file); the version token is the
file's inode and mtime; ``replace_if`` compares it and ``rename(2)``s a new file into place while
holding ``flock`` on a hidden sidecar file (``<name>.wk-partial-cas``, skipped by listings), so two
controllers sharing the directory over NFSv4 or locally never both replace the same version.
"""

import datetime
import errno
import fcntl
import hashlib
import os
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ChecksumMismatch, StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.base import (
    DEFAULT_CHUNK, ObjectInfo, Storage, Versioned, Writer)

PARTIAL_MARK = ".wk-partial-"


def _utc(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)


class LocalWriter(Writer):
    def __init__(self, storage, key):
        super(LocalWriter, self).__init__(storage, key)
        self.final = storage.path_for(key)
        self.partial = "%s%s%s" % (self.final, PARTIAL_MARK, uuid.uuid4().hex[:12])
        storage.makedirs(os.path.dirname(self.final))
        if os.path.lexists(self.final):
            raise StorageError("object %s already exists" % self.final, step="upload", destination=storage.name)
        try:
            self.fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise storage.error("cannot create %s" % self.partial, exc, step="upload")

    def _write(self, chunk):
        view = memoryview(chunk)
        try:
            while view:
                done = os.write(self.fd, view)
                view = view[done:]
        except OSError as exc:
            raise self.storage.error("write to %s failed" % self.partial, exc, step="upload")

    def _commit(self, size, sha256):
        try:
            os.fsync(self.fd)
            on_disk = os.fstat(self.fd).st_size
        except OSError as exc:
            raise self.storage.error("fsync of %s failed" % self.partial, exc, step="commit")
        finally:
            os.close(self.fd)
            self.fd = None
        if on_disk != size:
            raise StorageError("%s holds %d bytes, expected %d" % (self.partial, on_disk, size),
                               step="commit", destination=self.storage.name)
        confirmed = {"size_confirmed": True}
        if self.storage.verify_readback:
            digest = hashlib.sha256()
            with open(self.partial, "rb") as handle:
                for block in iter(lambda: handle.read(DEFAULT_CHUNK), b""):
                    digest.update(block)
            if digest.hexdigest() != sha256:
                raise ChecksumMismatch("read-back SHA-256 of %s is %s, expected %s" % (self.partial, digest.hexdigest(), sha256),
                                       step="commit", destination=self.storage.name)
            confirmed["sha256_confirmed"] = True
        self.storage.publish(self.partial, self.final)
        return confirmed

    def _abort(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        try:
            os.unlink(self.partial)
        except FileNotFoundError:
            pass


class LocalStorage(Storage):
    kind = "local"

    def __init__(self, spec):
        super(LocalStorage, self).__init__(spec)
        if not spec.get("path"):
            raise StorageError("a local destination needs 'path'", step="configure", destination=self.name)
        self.root = os.path.abspath(spec["path"])
        self.verify_readback = spec.get("verify_readback", True) is not False

    def describe(self):
        return self.root

    def error(self, what, exc, step):
        hint = None
        if getattr(exc, "errno", None) == errno.ENOSPC:
            hint = "the file system of %s is full; free space or use another destination" % self.root
        elif getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM, errno.EROFS):
            hint = "check permissions and that %s is mounted read-write" % self.root
        return StorageError("%s: %s" % (what, exc.strerror or exc), step=step, destination=self.name, hint=hint)

    def path_for(self, key):
        parts = [p for p in key.split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            raise StorageError("invalid object key %r" % key, step="configure", destination=self.name)
        return os.path.join(self.root, *parts)

    def _check_root(self, step):
        if not os.path.isdir(self.root):
            raise StorageError("directory %s does not exist" % self.root, step=step, destination=self.name,
                               hint="create it, or mount the share, before backing up to it")

    def makedirs(self, path):
        self._check_root("upload")
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as exc:
            raise self.error("cannot create directory %s" % path, exc, step="upload")

    def publish(self, partial, final):
        """Give a fully written file its final name without ever replacing an existing object."""
        try:
            try:
                os.link(partial, final)
            except OSError as exc:
                if exc.errno == errno.EEXIST:
                    raise StorageError("object %s already exists" % final, step="commit", destination=self.name)
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                # File systems without hard links (some SMB/NFS shares): check, then rename.
                if os.path.exists(final):
                    raise StorageError("object %s already exists" % final, step="commit", destination=self.name)
                os.rename(partial, final)
            else:
                os.unlink(partial)
            dir_fd = os.open(os.path.dirname(final), os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except StorageError:
            raise
        except OSError as exc:
            raise self.error("cannot publish %s" % final, exc, step="commit")

    def open_writer(self, key):
        self._check_root("upload")
        return LocalWriter(self, key)

    def put_bytes(self, key, data, overwrite=False):
        final = self.path_for(key)
        self.makedirs(os.path.dirname(final))
        partial = "%s%s%s" % (final, PARTIAL_MARK, uuid.uuid4().hex[:12])
        try:
            with open(partial, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if overwrite:
                os.replace(partial, final)
            else:
                self.publish(partial, final)
        except OSError as exc:
            raise self.error("cannot write %s" % final, exc, step="upload")
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        return ObjectInfo(key, len(data), _utc(os.stat(final).st_mtime))

    # -- conditional writes -------------------------------------------------------------------
    @staticmethod
    def _read_version(path):
        """``Versioned`` of a file: inode, mtime and a hash of the content (an inode number reused within one
        timestamp tick still gives another token when the content differs)."""
        with open(path, "rb") as handle:
            data = handle.read()
            st = os.fstat(handle.fileno())
        return Versioned(data, "%d.%d.%s" % (st.st_ino, st.st_mtime_ns, hashlib.sha256(data).hexdigest()[:16]))

    def _partial(self, final, data):
        partial = "%s%s%s" % (final, PARTIAL_MARK, uuid.uuid4().hex[:12])
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return partial

    def create_exclusive(self, key, data):
        final = self.path_for(key)
        self.makedirs(os.path.dirname(final))
        partial = None
        try:
            partial = self._partial(final, data)
            try:
                os.link(partial, final)
            except OSError as exc:
                if exc.errno == errno.EEXIST:
                    return None
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                # No hard links on this share: O_EXCL still lets exactly one run create the file.
                try:
                    fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    return None
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            return self._read_version(final).version
        except OSError as exc:
            raise self.error("cannot create %s" % final, exc, step="lock")
        finally:
            if partial and os.path.exists(partial):
                os.unlink(partial)

    def read_versioned(self, key):
        final = self.path_for(key)
        try:
            return self._read_version(final)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self.error("cannot read %s" % final, exc, step="lock")

    def replace_if(self, key, data, version):
        final = self.path_for(key)
        partial = None
        try:
            fd = os.open(final + PARTIAL_MARK + "cas", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    current = self._read_version(final).version
                except FileNotFoundError:
                    return None
                if current != version:
                    return None
                partial = self._partial(final, data)
                os.rename(partial, final)
                partial = None
                return self._read_version(final).version
            finally:
                os.close(fd)  # closing the descriptor releases the flock
        except OSError as exc:
            raise self.error("cannot replace %s" % final, exc, step="lock")
        finally:
            if partial and os.path.exists(partial):
                os.unlink(partial)

    def delete(self, key):
        try:
            os.unlink(self.path_for(key))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise self.error("cannot delete %s" % key, exc, step="delete")

    def stat(self, key):
        try:
            st = os.stat(self.path_for(key))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self.error("cannot stat %s" % key, exc, step="read")
        return ObjectInfo(key, st.st_size, _utc(st.st_mtime))

    def list(self, prefix=""):
        self._check_root("list")
        # Walk only the directory part of the prefix, then filter on the full prefix.
        dir_part = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.path_for(dir_part) if dir_part else self.root
        if not os.path.isdir(start):
            return
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, self.root)
            for name in filenames:
                if PARTIAL_MARK in name:
                    continue
                key = name if rel_dir == "." else "%s/%s" % (rel_dir.replace(os.sep, "/"), name)
                if not key.startswith(prefix):
                    continue
                try:
                    st = os.stat(os.path.join(dirpath, name))
                except FileNotFoundError:
                    continue
                yield ObjectInfo(key, st.st_size, _utc(st.st_mtime))

    def get_bytes(self, key, max_bytes=64 * 1024 * 1024):
        path = self.path_for(key)
        try:
            with open(path, "rb") as handle:
                data = handle.read(max_bytes + 1)
        except FileNotFoundError:
            raise StorageError("object %s not found" % key, step="read", destination=self.name)
        except OSError as exc:
            raise self.error("cannot read %s" % key, exc, step="read")
        if len(data) > max_bytes:
            raise StorageError("object %s is larger than %d bytes" % (key, max_bytes), step="read", destination=self.name)
        return data

    def iter_read(self, key, chunk_size=DEFAULT_CHUNK):
        path = self.path_for(key)
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            raise StorageError("object %s not found" % key, step="read", destination=self.name)
        except OSError as exc:
            raise self.error("cannot read %s" % key, exc, step="read")
        with handle:
            while True:
                try:
                    block = handle.read(chunk_size)
                except OSError as exc:
                    raise self.error("cannot read %s" % key, exc, step="read")
                if not block:
                    return
                yield block

    def probe(self):
        if not os.path.isdir(self.root):
            return {"reachable": False, "writable": False, "free_bytes": None,
                    "detail": "directory %s does not exist" % self.root}
        try:
            vfs = os.statvfs(self.root)
            free = vfs.f_bavail * vfs.f_frsize
        except OSError:
            free = None
        writable = os.access(self.root, os.W_OK | os.X_OK)
        return {"reachable": True, "writable": writable, "free_bytes": free,
                "detail": "%s (%s)" % (self.root, "writable" if writable else "not writable")}

    def cleanup_incomplete(self, prefix, older_than_s=0):
        cleaned = []
        dir_part = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.path_for(dir_part) if dir_part else self.root
        if not os.path.isdir(start):
            return cleaned
        now = datetime.datetime.now(datetime.timezone.utc).timestamp()
        for dirpath, _dirnames, filenames in os.walk(start):
            for name in filenames:
                if PARTIAL_MARK not in name:
                    continue
                path = os.path.join(dirpath, name)
                try:
                    if now - os.stat(path).st_mtime >= older_than_s:
                        os.unlink(path)
                        cleaned.append(os.path.relpath(path, self.root))
                except OSError:
                    continue
        return cleaned
