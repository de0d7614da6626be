# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records of backups that passed a restore verification, in ``<ops_state>/verified/<job>/<backup_id>.json``.

``restore_verify`` (and ``restore``, whose checks are the same) write one record per passed run; retention reads
them so that the newest *proven* backup is never removed. A record is small JSON:
``{"job", "backup_id", "verified_at", "destination", "mode", "checks"}``; the newest verification wins.

With ``shared_state: destination`` (the default) the record is also written to the destination the backup was
verified from, as ``_ops_state/<job>/verified/<backup_id>.json`` (conditional create, or a conditional replace when
this verification is newer), and retention reads the union of the local and the destination records
(``read_union``): a verification on one controller protects the backup from a purge run on another.
"""

import json
import os
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils import shared_state
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

DIRNAME = "verified"


def job_dir(ops_state, job):
    mf.check_job_name(job)
    return os.path.join(ops_state, DIRNAME, job)


def write(ops_state, job, backup_id, record):
    """Write (or replace) the record of one backup atomically; returns its path."""
    if not mf.BACKUP_ID_RE.match(backup_id or ""):
        raise ValueError("not a backup id: %r" % backup_id)
    directory = job_dir(ops_state, job)
    os.makedirs(directory, mode=0o750, exist_ok=True)
    path = os.path.join(directory, "%s.json" % backup_id)
    doc = dict(record, job=job, backup_id=backup_id)
    tmp = "%s.tmp-%s" % (path, uuid.uuid4().hex[:8])
    with open(tmp, "w") as handle:
        handle.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def read(ops_state, job):
    """``{backup_id: record}`` for every readable record of ``job`` (unreadable files are skipped)."""
    directory = job_dir(ops_state, job)
    try:
        names = os.listdir(directory)
    except OSError:
        return {}
    out = {}
    for name in names:
        backup_id = name[:-len(".json")] if name.endswith(".json") else None
        if not backup_id or not mf.BACKUP_ID_RE.match(backup_id):
            continue
        try:
            with open(os.path.join(directory, name), "r") as handle:
                doc = json.load(handle)
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("backup_id") == backup_id:
            out[backup_id] = doc
    return out


def _doc(data, backup_id):
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) and doc.get("backup_id") == backup_id else None


def write_destination(storage, job, backup_id, record):
    """Write the record to a destination; an existing record is replaced only by a newer verification.

    Returns the record's location, or the location of the newer record that was kept."""
    if not mf.BACKUP_ID_RE.match(backup_id or ""):
        raise ValueError("not a backup id: %r" % backup_id)
    key = "%s%s.json" % (shared_state.verified_prefix(job), backup_id)
    doc = dict(record, job=job, backup_id=backup_id)
    data = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")
    for _attempt in range(5):
        if storage.create_exclusive(key, data):
            return storage.location(key)
        current = storage.read_versioned(key)
        if current is None:
            continue
        old = _doc(current.data, backup_id) or {}
        if str(old.get("verified_at") or "") > str(doc.get("verified_at") or ""):
            return storage.location(key)  # a newer verification is already recorded: newest wins
        if storage.replace_if(key, data, current.version):
            return storage.location(key)
    raise WatchkeeperError("the verification record %s kept changing under this run" % storage.location(key),
                           step="record", destination=storage.name)


def read_destination(storage, job):
    """``{backup_id: record}`` of the records in one destination (unreadable ones skipped)."""
    prefix = shared_state.verified_prefix(job)
    out = {}
    for info in storage.list(prefix):
        name = info.key[len(prefix):]
        backup_id = name[:-len(".json")] if name.endswith(".json") else None
        if not backup_id or not mf.BACKUP_ID_RE.match(backup_id):
            continue
        try:
            doc = _doc(storage.get_bytes(info.key, max_bytes=1024 * 1024), backup_id)
        except WatchkeeperError:
            continue
        if doc is not None:
            out[backup_id] = doc
    return out


def read_union(ops_state, job, specs, params=None, errors=None):
    """Local records plus, with ``shared_state: destination``, every destination's. The newest record of a backup
    wins. A destination whose records cannot be read is noted in ``errors`` (``{name: message}``) and skipped:
    its own purge fails on the same listing, and what other destinations read still counts."""
    out = read(ops_state, job)
    if shared_state.mode(params) != "destination":
        return out
    for spec in specs:
        storage = None
        try:
            storage = open_storage(dict(spec))
            found = read_destination(storage, job)
        except WatchkeeperError as exc:
            if errors is not None:
                errors[spec.get("name") or spec.get("type")] = exc.describe()
            continue
        finally:
            if storage is not None:
                storage.close()
        for backup_id, doc in found.items():
            if str(doc.get("verified_at") or "") >= str((out.get(backup_id) or {}).get("verified_at") or ""):
                out[backup_id] = doc
    return out


def record(params, job, backup_id, doc, log=None):
    """Write the record of one passed verification locally and, with ``shared_state: destination``, to the
    destination it was verified from. Returns ``(local path, destination location or None)``; a destination that
    cannot take the record is logged (the proof stands, the local record is written)."""
    path = write(params["ops_state"], job, backup_id, doc)
    if shared_state.mode(params) != "destination":
        return path, None
    spec = next((d for d in params.get("destinations") or [] if (d.get("name") or d.get("type")) == doc.get("destination")), None)
    if spec is None:
        return path, None
    storage = None
    try:
        storage = open_storage(dict(spec, name=doc.get("destination")))
        return path, write_destination(storage, job, backup_id, doc)
    except (WatchkeeperError, ValueError) as exc:
        if log:
            log("could not write the verification record to destination %s: %s" % (doc.get("destination"), exc))
        return path, None
    finally:
        if storage is not None:
            storage.close()
