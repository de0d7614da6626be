# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-backup index entries: ``<job>/_index/<backup_id>.json``, one small object per backup.

The backup runner writes a backup's index entry right after its manifest, in every destination that
holds the manifest, with the same no-overwrite put as the manifest (a writer needs no delete rights, and
two controllers never share an object to read, modify and write). Listing ``<job>/_index/`` gives one key
per backup, so a warm ``backup_info`` with ``listing: index`` reads O(backups) keys instead of every data
object. The manifest stays the proof that a backup exists: an index entry without a manifest is an
*orphan* (reported, never a backup), a manifest without an index entry is *unindexed* (still a backup;
a full listing finds it).

Keys under ``<job>/_<name>/`` (``_index`` here, lock and verification records of other features) and the
shared ``packs/`` and ``holds/`` belong to no backup run: they are never backups, incomplete runs or
objects of a backup.
"""

import hashlib
import json

from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ManifestError

INDEX_DIR = "_index"
INDEX_SCHEMA = "watchkeeper.ops/backup-index"
INDEX_SCHEMA_VERSION = 1
MAX_INDEX_BYTES = 64 * 1024
SHARED_DIRS = ("packs", "holds")


def index_prefix(job):
    return "%s/%s/" % (job, INDEX_DIR)


def index_key(job, backup_id):
    return "%s%s.json" % (index_prefix(job), backup_id)


def parse_index_key(job, key):
    """``backup_id`` if ``key`` is an index entry of ``job``, else None."""
    prefix = index_prefix(job)
    if not key.startswith(prefix) or not key.endswith(".json"):
        return None
    name = key[len(prefix):-len(".json")]
    return name if mf.BACKUP_ID_RE.match(name) else None


def outside_runs(job, key):
    """True for keys that belong to no backup run: ``<job>/_*/`` (index, locks, records), packs and holds."""
    rest = key[len(job) + 1:] if key.startswith(job + "/") else key
    top = rest.split("/", 1)[0]
    return "/" in rest and (top.startswith("_") or top in SHARED_DIRS)


def build(manifest, manifest_key, manifest_data):
    """The index entry (bytes) of a backup whose manifest ``manifest_data`` was written at ``manifest_key``."""
    doc = {"schema": INDEX_SCHEMA, "schema_version": INDEX_SCHEMA_VERSION, "job": manifest["job"],
           "backup_id": manifest["backup_id"], "manifest_key": manifest_key, "manifest_bytes": len(manifest_data),
           "manifest_sha256": hashlib.sha256(manifest_data).hexdigest(), "created_at": manifest.get("created_at"),
           "completed_at": manifest.get("completed_at")}
    return (json.dumps(doc, sort_keys=True) + "\n").encode("utf-8")


def loads(data, key, job, backup_id):
    """Parse and check an index entry; raises ``ManifestError`` naming what is wrong."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError("index entry %s is not valid JSON: %s" % (key, exc))
    if not isinstance(doc, dict) or doc.get("schema") != INDEX_SCHEMA:
        raise ManifestError("index entry %s has no %s schema" % (key, INDEX_SCHEMA))
    if not isinstance(doc.get("schema_version"), int) or doc["schema_version"] > INDEX_SCHEMA_VERSION:
        raise ManifestError("index entry %s has schema_version %r, newer than this collection understands (%d)"
                            % (key, doc.get("schema_version"), INDEX_SCHEMA_VERSION))
    if doc.get("job") != job or doc.get("backup_id") != backup_id:
        raise ManifestError("index entry %s names %s/%s" % (key, doc.get("job"), doc.get("backup_id")))
    if doc.get("manifest_key") != mf.manifest_key(job, backup_id) or not isinstance(doc.get("manifest_bytes"), int):
        raise ManifestError("index entry %s does not name the manifest %s and its size"
                            % (key, mf.manifest_key(job, backup_id)))
    return doc


def write(storage, manifest, manifest_key, manifest_data):
    """Write the index entry of a backup (no overwrite); raises ``StorageError``."""
    key = index_key(manifest["job"], manifest["backup_id"])
    storage.put_bytes(key, build(manifest, manifest_key, manifest_data))
    return key
