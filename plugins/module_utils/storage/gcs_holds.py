# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GCS holds and retention for the ``gcs`` destination (a mixin of ``GCSStorage``).

An object cannot be deleted while it has a temporary hold, an event-based hold, an unexpired object retention,
or while the bucket's retention policy still covers it (GCS computes ``retentionExpirationTime`` =
``timeCreated`` + the policy's period; it is derived here too when the object resource lacks it). The bucket's
retention policy is read once per run.

gcp-storage-emulator (the test server) does not store ``temporaryHold`` / ``eventBasedHold`` (an object PATCH
ignores them) nor enforce a bucket retention policy, though it keeps the policy itself: ``set_hold`` therefore
reads the object back and fails when the store did not keep the hold, instead of reporting a hold that is not there.
"""

import datetime

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError

TEMPORARY_HOLD = "gcs temporary hold"


def blob_holds(blob, now, bucket_period_s=None):
    """Holds of one blob (a ``google.cloud.storage.Blob`` as loaded from the JSON API), as human strings."""
    out = []
    if blob.temporary_hold:
        out.append(TEMPORARY_HOLD)
    if blob.event_based_hold:
        out.append("gcs event-based hold")
    expires = blob.retention_expiration_time
    if expires is None and bucket_period_s and blob.time_created is not None:
        expires = blob.time_created + datetime.timedelta(seconds=bucket_period_s)
    if expires is not None and expires > now:
        out.append("gcs retention policy until %s" % clock.isoformat(expires))
    retention = getattr(blob, "retention", None)
    until = getattr(retention, "retain_until_time", None) if retention is not None else None
    if until is not None and until > now:
        out.append("gcs object retention (%s) until %s" % (getattr(retention, "mode", None) or "?", clock.isoformat(until)))
    return out


class GCSHolds(object):
    """Needs ``bucket``, ``bucket_name``, ``name``, ``timeout``, ``retry``, ``full_key``, ``_get_blob`` and ``call``."""

    _bucket_period = None  # None: not read yet in this run; 0: no retention policy

    def bucket_retention_s(self):
        """The bucket retention policy's period in seconds (0 without one), read once per run."""
        if self._bucket_period is None:
            self.call("holds", "cannot read the retention policy of bucket %s" % self.bucket_name, self.bucket.reload,
                      timeout=self.timeout, retry=self.retry)
            self._bucket_period = int(self.bucket.retention_period or 0)
        return self._bucket_period

    def holds(self, key, now=None):
        blob = self._get_blob(self.full_key(key), "holds")
        if blob is None:
            return []
        return blob_holds(blob, now or clock.now(), self.bucket_retention_s())

    def set_hold(self, key, on):
        """Set or clear the temporary hold of ``key``, then read it back."""
        full = self.full_key(key)
        blob = self._get_blob(full, "hold")
        if blob is None:
            raise StorageError("object %s not found" % self.location(key), step="hold", destination=self.name)
        blob.temporary_hold = bool(on)
        self.call("hold", "cannot %s the temporary hold of %s" % ("set" if on else "clear", full), blob.patch,
                  timeout=self.timeout, retry=self.retry)
        again = self._get_blob(full, "hold")
        if again is None or bool(again.temporary_hold) != bool(on):
            raise StorageError("the store did not keep the temporary hold of %s (it answers temporaryHold=%s after the "
                               "update); it does not support GCS holds" % (full, again.temporary_hold if again else None),
                               step="hold", destination=self.name,
                               hint="gcp-storage-emulator and some GCS-compatible stores ignore holds: rely on the "
                                    "hold marker (provider_hold: false)")
        return TEMPORARY_HOLD
