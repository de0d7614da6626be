# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 Object Lock holds for the ``s3`` destination (a mixin of ``S3Storage``).

* Whether the bucket has Object Lock is asked once per run (GetObjectLockConfiguration); a bucket without it
  answers ``ObjectLockConfigurationNotFoundError`` and holds nothing, so no per-object request is made.
* Per object, HEAD answers the legal hold and the retention (``x-amz-object-lock-legal-hold``, ``-mode``,
  ``-retain-until-date``; AWS sends them to callers with s3:GetObjectLegalHold / s3:GetObjectRetention, the same
  permissions GetObjectLegalHold and GetObjectRetention need). GetObjectLegalHold is asked when HEAD carries no
  legal hold header. GetObjectRetention is not used: HEAD has the same facts, and moto does not implement it.
* With versioning (which Object Lock requires) a plain DELETE of a held object "succeeds": it only adds a delete
  marker, the backup disappears for every reader while its bytes stay locked. Checking the holds before a delete
  is what protects a held backup, so the retention purge never sends that DELETE.
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # the s3 backend itself reports the missing library
    class BotoCoreError(Exception):
        pass

    class ClientError(Exception):
        pass

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError

LOCK_ABSENT = ("ObjectLockConfigurationNotFoundError", "NoSuchObjectLockConfiguration")
LEGAL_HOLD = "s3 object lock legal hold"


class S3Holds(object):
    """Needs ``client``, ``bucket_name``, ``name``, ``full_key``, ``_head``, ``call`` and ``error`` (S3Storage)."""

    _object_lock = None  # None: not asked yet in this run

    def object_lock_enabled(self):
        """Whether the bucket has S3 Object Lock (asked once per run)."""
        if self._object_lock is None:
            what = "cannot read the Object Lock configuration of bucket %s" % self.bucket_name
            try:
                resp = self.client.get_object_lock_configuration(Bucket=self.bucket_name)
                self._object_lock = (resp.get("ObjectLockConfiguration") or {}).get("ObjectLockEnabled") == "Enabled"
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in LOCK_ABSENT:
                    raise self.error(exc, what, "holds")
                self._object_lock = False
            except BotoCoreError as exc:
                raise self.error(exc, what, "holds")
        return self._object_lock

    def holds(self, key, now=None):
        """Legal hold and unexpired retention of the current version of ``key`` (human strings)."""
        if not self.object_lock_enabled():
            return []
        full = self.full_key(key)
        head = self._head(full, "holds")
        if head is None:
            return []
        out = []
        legal = head.get("ObjectLockLegalHoldStatus")
        if legal is None:
            try:
                legal = self.client.get_object_legal_hold(Bucket=self.bucket_name, Key=full).get("LegalHold", {}).get("Status")
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in LOCK_ABSENT + ("InvalidRequest",):
                    raise self.error(exc, "cannot read the legal hold of %s" % full, "holds")
            except BotoCoreError as exc:
                raise self.error(exc, "cannot read the legal hold of %s" % full, "holds")
        if legal == "ON":
            out.append(LEGAL_HOLD)
        until = head.get("ObjectLockRetainUntilDate")
        if until is not None and until > (now or clock.now()):
            out.append("s3 object lock retention (%s) until %s" % (head.get("ObjectLockMode") or "?", clock.isoformat(until)))
        return out

    def set_hold(self, key, on):
        """Set or clear the legal hold of ``key`` (the bucket needs Object Lock)."""
        full = self.full_key(key)
        if not self.object_lock_enabled():
            raise StorageError("bucket %s has no S3 Object Lock, so %s cannot carry a legal hold" % (self.bucket_name, full),
                               step="hold", destination=self.name,
                               hint="create the bucket with Object Lock enabled, or set provider_hold: false")
        self.call("hold", "cannot %s the legal hold of %s" % ("set" if on else "clear", full), self.client.put_object_legal_hold,
                  Bucket=self.bucket_name, Key=full, LegalHold={"Status": "ON" if on else "OFF"})
        return LEGAL_HOLD
