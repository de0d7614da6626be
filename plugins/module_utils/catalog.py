# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog of a job in one destination, read from the destination itself (no local state).

A backup is listed when its manifest exists. It is *valid* when the manifest parses, has the
known schema, and every object it names is present at the size the manifest records. Objects
without a manifest belong to incomplete (failed or interrupted) runs: they are reported apart and
never counted as backups. Hold markers (``<job>/holds/<backup_id>.json``, see ``retention.holds``) and
shared packs belong to no run.

Manifests are immutable (written once, never replaced), so a reader may keep parsed manifests in a
local cache keyed by key and size: the first listing of a destination reads every manifest, later
ones read only new manifests. Object presence and sizes are checked against a fresh listing every
time; integrity sweeps read everything.
"""

import concurrent.futures
import hashlib
import json
import os
import uuid

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


class ManifestCache(object):
    """Parsed manifests of one job in one destination, in ``<cache_dir>/<sha1(location, job)>.json``."""

    def __init__(self, cache_dir, location, job):
        name = hashlib.sha1(("%s\n%s" % (location, job)).encode("utf-8")).hexdigest()
        self.path = os.path.join(cache_dir, "%s.json" % name)
        self.entries = {}
        self.dirty = False
        try:
            with open(self.path, "r") as handle:
                doc = json.load(handle)
            if doc.get("location") == location and doc.get("job") == job:
                self.entries = doc.get("manifests", {})
        except (OSError, ValueError):
            pass
        self.location = location
        self.job = job

    def get(self, key, size):
        entry = self.entries.get(key)
        return entry[1] if entry and entry[0] == size else None

    def put(self, key, size, manifest):
        self.entries[key] = [size, manifest]
        self.dirty = True

    def prune(self, keys):
        for key in set(self.entries) - set(keys):
            del self.entries[key]
            self.dirty = True

    def save(self):
        if not self.dirty:
            return
        try:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            tmp = "%s.tmp-%s" % (self.path, uuid.uuid4().hex[:8])
            with open(tmp, "w") as handle:
                # dumps, not dump: json.dump encodes in pure Python, several times slower
                handle.write(json.dumps({"location": self.location, "job": self.job, "manifests": self.entries}))
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache that cannot be written only costs speed


def read_catalog(storage, job, validate=True, readers=READERS, cache_dir=None):
    """Returns ``(backups, incomplete)``: backups newest first (dicts), and the ids of incomplete runs."""
    cache = ManifestCache(cache_dir, storage.describe(), job) if cache_dir and validate else None
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
        manifest = cache.get(key, sizes[key]) if cache else None
        if manifest is None:
            try:
                manifest = mf.loads(storage.get_bytes(key, max_bytes=16 * 1024 * 1024), key)
            except WatchkeeperError as exc:
                return _entry(backup_id, key, None, [exc.msg])
            if cache:
                cache.put(key, sizes[key], manifest)
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
    if cache:
        cache.prune(manifests.values())
    uncached = [i for i in items if not cache or cache.get(i[1], sizes[i[1]]) is None]
    if len(uncached) > 1 and validate:
        with concurrent.futures.ThreadPoolExecutor(max_workers=readers) as pool:
            backups = list(pool.map(load, items))
    else:
        backups = [load(item) for item in items]
    if cache:
        cache.save()

    incomplete = set()
    manifest_keys = set(manifests.values())
    for key in sizes:
        if key in manifest_keys or key.startswith(job + "/packs/") or key.startswith(job + "/holds/"):
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
