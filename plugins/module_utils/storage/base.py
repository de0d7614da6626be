# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one storage interface every destination implements (local, s3, gcs).

Keys are relative to the destination's root (a directory for ``local``, ``bucket/prefix`` for
``s3`` and ``gcs``) and always use ``/``. A backend never decides *what* to write; it moves bytes
and confirms them:

* ``open_writer(key)`` returns a ``Writer``: ``write(chunk)`` any number of times, then exactly
  one of ``commit(size, sha256)`` (the object becomes visible, the backend confirms every byte
  and the checksum, or raises) or ``abort()`` (nothing visible is left: partial files removed,
  multipart/resumable uploads cancelled). Writers are used from one thread at a time.
* ``put_bytes`` writes a small object atomically (manifests, lock-free metadata).
* Reads stream in chunks; nothing loads a whole backup into memory.
* Shared state (job locks, verification records; see ``shared_state.py``) needs three conditional
  operations on small objects: ``create_exclusive`` (create only if absent: local ``link(2)`` of a
  fully written file, S3 ``If-None-Match: *``, GCS ``if_generation_match=0``), ``read_versioned``
  (content plus a version token: local inode and mtime, S3 ETag, GCS generation) and ``replace_if``
  (replace only if the version is still the one read: local under ``flock``, S3 ``If-Match``, GCS
  ``if_generation_match=<generation>``). No conditional delete is needed: a released lock is
  overwritten with a release marker, so writers still need no delete rights.

Every method raises ``StorageError`` (with ``destination`` set) on failure, never a
library-specific exception, and no method ever includes credentials in a message.
"""

import base64
import collections
import hashlib

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError

ObjectInfo = collections.namedtuple("ObjectInfo", ["key", "size", "mtime"])
"""``key`` relative to the destination root, ``size`` in bytes, ``mtime`` aware datetime or None."""

Versioned = collections.namedtuple("Versioned", ["data", "version"])
"""The content of a small object and an opaque version token (a string) for ``replace_if``."""

DEFAULT_CHUNK = 4 * 1024 * 1024


def md5(data=b""):
    """MD5 for integrity (Content-MD5, ETags, GCS md5Hash), allowed on FIPS hosts where Python supports the flag."""
    try:
        return hashlib.md5(data, usedforsecurity=False)
    except TypeError:  # Python < 3.9
        return hashlib.md5(data)  # nosec


def md5_b64(data):
    """The base64 MD5 of ``data``, as a Content-MD5 header carries it."""
    return base64.b64encode(md5(data).digest()).decode("ascii")


class Writer(object):
    """A streaming upload of one object. Subclasses implement ``_write``, ``_commit``, ``_abort``."""

    def __init__(self, storage, key):
        self.storage = storage
        self.key = key
        self.bytes_written = 0
        self.state = "open"  # open -> committed | aborted

    def write(self, chunk):
        if self.state != "open":
            raise StorageError("write after %s" % self.state, step="upload", destination=self.storage.name)
        try:
            self._write(chunk)
        except Exception:
            self.abort()  # a failed write leaves nothing behind, whoever catches the error
            raise
        self.bytes_written += len(chunk)

    def commit(self, size, sha256):
        """Make the object visible once every byte is confirmed; returns a dict of what was confirmed.

        ``size`` and ``sha256`` are what the pipeline produced. A backend must raise
        ``StorageError`` (or ``ChecksumMismatch``) when it cannot confirm them, and leave nothing
        visible in that case.
        """
        if self.state != "open":
            raise StorageError("commit after %s" % self.state, step="commit", destination=self.storage.name)
        if self.bytes_written != size:
            self.abort()
            raise StorageError("writer received %d bytes but the stream had %d" % (self.bytes_written, size),
                               step="commit", destination=self.storage.name)
        try:
            confirmed = self._commit(size, sha256)
        except StorageError:
            self.abort()
            raise
        except Exception as exc:  # pylint: disable=broad-except
            self.abort()
            raise StorageError("commit failed: %s" % exc, step="commit", destination=self.storage.name)
        self.state = "committed"
        result = {"key": self.key, "size": size}
        result.update(confirmed or {})
        return result

    def abort(self):
        """Cancel the upload; never raises (errors are recorded in ``abort_error``)."""
        if self.state != "open":
            return
        self.state = "aborted"
        try:
            self._abort()
        except Exception as exc:  # pylint: disable=broad-except
            self.abort_error = str(exc)

    def _write(self, chunk):
        raise NotImplementedError

    def _commit(self, size, sha256):
        raise NotImplementedError

    def _abort(self):
        raise NotImplementedError


class Storage(object):
    """A destination. ``spec`` is the destination dict from the module options."""

    kind = "base"

    def __init__(self, spec):
        self.spec = spec
        self.name = spec.get("name") or spec.get("type")

    # -- identity ---------------------------------------------------------------------------
    def describe(self):
        """A location string without secrets, e.g. ``s3://bucket/prefix``."""
        raise NotImplementedError

    def location(self, key):
        """Where one key lives, for humans (``/mnt/nas/x``, ``s3://bucket/prefix/x``)."""
        return "%s/%s" % (self.describe().rstrip("/"), key)

    # -- writes -----------------------------------------------------------------------------
    def open_writer(self, key):
        raise NotImplementedError

    def put_bytes(self, key, data, overwrite=False):
        """Write a small object atomically. Refuses to replace an existing key unless ``overwrite``."""
        raise NotImplementedError

    def delete(self, key):
        """Delete one object; a missing key is not an error."""
        raise NotImplementedError

    # -- conditional writes (shared state) ----------------------------------------------------
    def create_exclusive(self, key, data):
        """Create ``key`` holding ``data`` only if no object has that key. Returns the new version token, or
        ``None`` when the key already exists (someone else created it first). A reader never sees a partly
        written object. Raises ``StorageError`` when the store cannot enforce the condition."""
        raise StorageError("destination type %s offers no conditional create" % self.kind, step="lock",
                           destination=self.name, hint="use shared_state: local for this destination")

    def read_versioned(self, key):
        """``Versioned(data, version)`` of a small object, or ``None`` when it does not exist."""
        raise StorageError("destination type %s offers no versioned read" % self.kind, step="lock", destination=self.name)

    def replace_if(self, key, data, version):
        """Replace ``key`` with ``data`` only if its version is still ``version``. Returns the new version token,
        or ``None`` when the object changed or disappeared since it was read (someone else won)."""
        raise StorageError("destination type %s offers no conditional replace" % self.kind, step="lock",
                           destination=self.name, hint="use shared_state: local for this destination")

    def holds(self, key, now=None):
        """The provider's own holds that forbid deleting ``key`` now (S3 Object Lock, GCS holds and retention),
        as human strings; empty when there are none, the object is missing, or the backend has no holds."""
        return []

    def set_hold(self, key, on):
        """Set (``on`` true) or clear the provider's own indefinite hold on ``key`` (S3 legal hold, GCS temporary
        hold). Returns a human description of the hold; raises ``StorageError`` where the store offers none."""
        raise StorageError("destination type %s has no provider holds; the hold marker is the hold" % self.kind,
                           step="hold", destination=self.name)

    # -- reads ------------------------------------------------------------------------------
    def stat(self, key):
        """``ObjectInfo`` or ``None`` when the key does not exist."""
        raise NotImplementedError

    def list(self, prefix=""):
        """Iterate ``ObjectInfo`` for every key under ``prefix`` (no order guaranteed)."""
        raise NotImplementedError

    def get_bytes(self, key, max_bytes=64 * 1024 * 1024):
        """The whole content of a small object (manifests). Raises if larger than ``max_bytes``."""
        raise NotImplementedError

    def iter_read(self, key, chunk_size=DEFAULT_CHUNK):
        """Iterate the content of an object in chunks."""
        raise NotImplementedError

    # -- housekeeping -----------------------------------------------------------------------
    def probe(self):
        """Read-only health check for check_mode and freshness reports.

        Returns ``{"reachable": bool, "writable": True|False|None, "free_bytes": int|None,
        "detail": str}``; ``writable`` is ``None`` when it cannot be known without writing.
        Never writes anything.
        """
        raise NotImplementedError

    def cleanup_incomplete(self, prefix, older_than_s=0):
        """Abort multipart/resumable uploads and remove partial files under ``prefix``.

        Returns a list of what was cleaned (strings). Used after an interrupted run.
        """
        return []

    def close(self):
        """Release clients and connections."""


class BucketStorage(Storage):
    """What the object stores (s3, gcs) share: a bucket, an optional key prefix inside it, an
    endpoint and a timeout; keys are relative to the prefix. Subclasses set ``scheme`` and
    implement ``_exists(full_key, step)``."""

    scheme = None
    writer_class = None

    def __init__(self, spec):
        super(BucketStorage, self).__init__(spec)
        if not spec.get("bucket"):
            raise StorageError("the %s destination needs 'bucket'" % self.kind, step="configure", destination=self.name)
        self.bucket_name = spec["bucket"]
        self.prefix = (spec.get("prefix") or "").strip("/")
        self.endpoint = spec.get("endpoint_url")
        self.timeout = spec.get("timeout") or 60

    def describe(self):
        base = "%s://%s" % (self.scheme, self.bucket_name)
        return "%s/%s" % (base, self.prefix) if self.prefix else base

    def full_key(self, key):
        """The key in the bucket (prefix included); refuses empty keys and empty path segments."""
        key = key.lstrip("/")
        if not key or "//" in key:
            raise StorageError("invalid object key %r" % key, step="configure", destination=self.name)
        return "%s/%s" % (self.prefix, key) if self.prefix else key

    def full_prefix(self, prefix):
        """A listing prefix in the bucket (may be empty, unlike a key)."""
        return "%s/%s" % (self.prefix, prefix) if self.prefix else prefix

    def rel_key(self, full):
        return full[len(self.prefix) + 1:] if self.prefix else full

    def _exists(self, full, step):
        raise NotImplementedError

    def refuse_existing(self, full, step):
        if self._exists(full, step):
            raise StorageError("object %s://%s/%s already exists; refusing to overwrite it" % (self.scheme, self.bucket_name, full),
                               step=step, destination=self.name)

    def open_writer(self, key):
        self.refuse_existing(self.full_key(key), "upload")
        return self.writer_class(self, key)  # pylint: disable=not-callable
