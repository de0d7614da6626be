# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Conditional writes of small objects for the ``s3`` destination (a mixin of ``S3Storage``).

* ``create_exclusive``: PutObject with ``If-None-Match: *``; 412 PreconditionFailed (or 409
  ConditionalRequestConflict, when another conditional write of the key is in flight) means the key exists.
* ``read_versioned``: GetObject; the version token is the ETag.
* ``replace_if``: PutObject with ``If-Match: <etag>``; 412 (or 404: the key is gone) means someone else won.

AWS S3 enforces both headers on PutObject (If-Match since November 2024); so do the moto server used in the tests
(checked: 5.2.5 answers 412 for both) and current MinIO and Ceph RGW. A store that answers 501 or rejects the
header fails the lock with a clear error (use ``shared_state: local`` there). A store that silently *ignores* the
headers cannot be detected from here: check your store's documentation before sharing state through it.
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # the s3 backend itself reports the missing library
    class BotoCoreError(Exception):
        pass

    class ClientError(Exception):
        pass

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.base import Versioned, md5_b64

LOST = ("PreconditionFailed", "ConditionalRequestConflict")


class S3Conditional(object):
    """Needs ``client``, ``bucket_name``, ``put_args``, ``full_key``, ``error`` and ``call`` of ``S3Storage``."""

    def _conditional_put(self, key, data, what, **condition):
        full = self.full_key(key)
        try:
            data = bytes(data)
            # Content-MD5 as every other put: buckets with Object Lock refuse a PutObject without an integrity header.
            resp = self.client.put_object(Bucket=self.bucket_name, Key=full, Body=data, ContentMD5=md5_b64(data),
                                          **dict(self.put_args, **condition))
        except ClientError as exc:
            err = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if err.get("Code") in LOST or status in (409, 412) or (condition.get("IfMatch") and status == 404):
                return None
            text = ("%s %s" % (err.get("Code"), err.get("Message"))).lower()
            if status == 501 or "notimplemented" in text or (status == 400 and "match" in text):
                raise StorageError("%s does not enforce conditional writes (%s): it cannot hold shared state"
                                   % (self.describe(), err.get("Code")), step="lock", destination=self.name,
                                   hint="set shared_state: local, or use a store that honours If-None-Match and If-Match")
            raise self.error(exc, "%s %s failed" % (what, full), "lock")
        except BotoCoreError as exc:
            raise self.error(exc, "%s %s failed" % (what, full), "lock")
        return resp.get("ETag") or ""

    def create_exclusive(self, key, data):
        return self._conditional_put(key, data, "conditional create of", IfNoneMatch="*")

    def read_versioned(self, key):
        full = self.full_key(key)
        try:
            resp = self.client.get_object(Bucket=self.bucket_name, Key=full)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise self.error(exc, "cannot read %s" % full, "lock")
        except BotoCoreError as exc:
            raise self.error(exc, "cannot read %s" % full, "lock")
        body = resp["Body"]
        try:
            return Versioned(body.read(), resp.get("ETag") or "")
        except (BotoCoreError, ClientError, OSError) as exc:
            raise self.error(exc, "reading %s failed" % full, "lock")
        finally:
            body.close()

    def replace_if(self, key, data, version):
        return self._conditional_put(key, data, "conditional replace of", IfMatch=version)
