# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build a ``Storage`` from a destination dict (``type``: local, s3, gcs).

Backends import their SDKs lazily so that a host backing up to a local NAS does not need
boto3 or google-cloud-storage installed.
"""

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError

TYPES = ("local", "s3", "gcs")


def open_storage(spec):
    kind = spec.get("type")
    if kind == "local":
        from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.local import LocalStorage
        return LocalStorage(spec)
    if kind == "s3":
        from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.s3 import S3Storage
        return S3Storage(spec)
    if kind == "gcs":
        from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.gcs import GCSStorage
        return GCSStorage(spec)
    raise ConfigError("unknown destination type %r (expected one of %s)" % (kind, ", ".join(TYPES)),
                      step="configure", destination=spec.get("name"))
