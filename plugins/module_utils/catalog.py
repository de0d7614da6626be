# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog of a job in one destination, read from the destination itself (no local state).

A backup is listed when its manifest exists. It is *valid* when the manifest parses, has the
known schema, and every object it names is present at the size the manifest records. Objects
without a manifest belong to incomplete (failed or interrupted) runs: they are reported apart and
never counted as backups.
"""

import concurrent.futures

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError

READERS = 16


def _entry(backup_id, key, manifest, problems):
    entry = {"backup_id": backup_id, "manifest_key": key, "created_at": None, "completed_at": None,
             "valid": not problems, "problems": problems}
    if manifest:
        entry.update(created_at=manifest.get("created_at"), completed_at=manifest.get("completed_at"),
                     sizes=manifest.get("sizes"), sha256=manifest.get("sha256"),
                     source=dict((k, v) for k, v in (manifest.get("source") or {}).items()
                                 if k in ("kind", "host", "database", "path", "mode", "server_version")),
                     encryption=(manifest.get("encryption") or {}).get("mode"),
                     objects=[o.get("key") for o in manifest.get("objects", [])])
    else:
        entry["created_at"] = clock.isoformat(mf.backup_time(backup_id))
    return entry


def read_catalog(storage, job, validate=True, readers=READERS):
    """Returns ``(backups, incomplete)``: backups newest first (dicts), and the ids of incomplete runs."""
    sizes = {}
    manifests = {}
    for info in storage.list(job + "/"):
        sizes[info.key] = info.size
        backup_id = mf.parse_manifest_key(job, info.key)
        if backup_id:
            manifests[backup_id] = info.key

    def load(item):
        backup_id, key = item
        if not validate:
            return _entry(backup_id, key, None, [])
        try:
            manifest = mf.loads(storage.get_bytes(key, max_bytes=16 * 1024 * 1024), key)
        except WatchkeeperError as exc:
            return _entry(backup_id, key, None, [exc.msg])
        problems = []
        if manifest["job"] != job or manifest["backup_id"] != backup_id:
            problems.append("manifest names %s/%s, not %s/%s" % (manifest["job"], manifest["backup_id"], job, backup_id))
        for key_needed, size in _needed(manifest):
            if key_needed not in sizes:
                problems.append("object %s is missing" % key_needed)
            elif size is not None and sizes[key_needed] != size:
                problems.append("object %s has %d bytes, manifest says %d" % (key_needed, sizes[key_needed], size))
        return _entry(backup_id, key, manifest, problems)

    items = sorted(manifests.items(), reverse=True)
    if len(items) > 1 and validate:
        with concurrent.futures.ThreadPoolExecutor(max_workers=readers) as pool:
            backups = list(pool.map(load, items))
    else:
        backups = [load(item) for item in items]

    incomplete = set()
    for key in sizes:
        if key.startswith(job + "/packs/") or mf.parse_manifest_key(job, key):
            continue
        name = key.rsplit("/", 1)[-1]
        backup_id = name.split(".", 1)[0]
        if mf.BACKUP_ID_RE.match(backup_id) and backup_id not in manifests:
            incomplete.add(backup_id)
    return backups, sorted(incomplete, reverse=True)


def _needed(manifest):
    for obj in manifest.get("objects", []):
        yield obj["key"], obj.get("stored_bytes")
    for pack in (manifest.get("files") or {}).get("packs", []):
        yield pack["key"], pack.get("stored_bytes")
