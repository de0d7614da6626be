# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shipping sealed segments and checkpoints off the controller, through the collection's storage interface.

Only sealed files are shipped, per checkpoint in the order segment, signature, checkpoint: a checkpoint
that a destination shows always has its segment next to it. Nothing is ever overwritten; a file that is
already there with the same bytes counts as shipped (a retry after a lost answer), one with other bytes is a
conflict and stops shipping for that destination. What a destination confirmed is remembered in the spool
(``shipped/<destination id>.txt``), so an unreachable destination simply gets the backlog at the next run.

On S3, when the bucket has Object Lock and ``object_lock_days`` is set, every object is written with that
retention (``ObjectLockMode`` / ``ObjectLockRetainUntilDate``); without it the bucket's default retention, if
any, applies.
"""

import datetime
import hashlib
import os

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError, WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

DEFAULT_PREFIX = "audit"


def dest_id(storage, prefix):
    """Names a target in ``shipped/``: its location, endpoint and prefix (never credentials)."""
    where = "%s|%s|%s" % (storage.describe(), getattr(storage, "endpoint", None) or "", prefix)
    return hashlib.sha256(where.encode("utf-8")).hexdigest()[:16]


def join_key(*parts):
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def storage_for(spec=None, directory=None, timeout=None):
    """A ``Storage`` for a destination dict, or for a plain directory (created when missing)."""
    if directory:
        directory = os.path.abspath(os.path.expanduser(directory))
        os.makedirs(directory, exist_ok=True)
        return open_storage({"name": "directory", "type": "local", "path": directory})
    spec = dict(spec)
    spec.setdefault("name", spec.get("type"))
    if timeout:
        spec.setdefault("timeout", timeout)
        spec.setdefault("retries", 1)
    return open_storage(spec)


def _object_lock(storage, days, mode):
    if storage.kind != "s3" or not days or not storage.object_lock_enabled():
        return
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    storage.put_args = dict(storage.put_args, ObjectLockMode=mode, ObjectLockRetainUntilDate=until)


def ship(spool, storage, prefix=DEFAULT_PREFIX, object_lock_days=0, object_lock_mode="GOVERNANCE"):
    """Ship every sealed file the destination has not confirmed yet. Returns ``{"shipped": [...], "pending": n}``;
    raises ``WatchkeeperError`` at the first failure (what was shipped before it stays marked)."""
    did = dest_id(storage, prefix)
    done = spool.shipped(did)
    todo = [rel for rel in spool.sealed_files() if rel not in done]
    shipped = []
    if todo:
        _object_lock(storage, object_lock_days, object_lock_mode)
    for rel in todo:
        with open(spool.path(rel), "rb") as handle:
            data = handle.read()
        key = join_key(prefix, spool.chain, rel)
        if storage.stat(key) is not None:
            if storage.get_bytes(key) != data:
                raise StorageError("%s already holds other bytes than the spool's %s; refusing to overwrite it"
                                   % (storage.location(key), rel), step="ship", destination=storage.name)
        else:
            storage.put_bytes(key, data)
        spool.mark_shipped(did, [rel])
        shipped.append(rel)
    return {"shipped": shipped, "pending": 0, "destination": storage.describe()}


def ship_quietly(spool, storage_factory, prefix, **lock):
    """``ship`` that never raises: ``{"shipped": [...], "error": str or None}``."""
    try:
        storage = storage_factory()
    except WatchkeeperError as exc:
        return {"shipped": [], "error": exc.describe()}
    try:
        return dict(ship(spool, storage, prefix, **lock), error=None)
    except WatchkeeperError as exc:
        return {"shipped": [], "error": exc.describe()}
    except (IOError, OSError) as exc:
        return {"shipped": [], "error": str(exc)}
    finally:
        storage.close()
