# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog of a job in one destination, read from the destination itself (no local state).

A backup is listed when its manifest exists. It is *valid* when the manifest parses, has the
known schema, and every object it names is present at the size the manifest records. Objects
without a manifest belong to incomplete (failed or interrupted) runs: they are reported apart and
never counted as backups. Hold markers (``<job>/holds/<backup_id>.json``, see ``retention.holds``) and
shared packs belong to no run.

Manifests are immutable (written once, never replaced), so a reader may keep parsed manifests (what the
catalog uses of them) in a local cache keyed by key and size: the first listing of a destination reads every manifest, later
ones read only new manifests. Object presence and sizes are checked against a fresh listing every
time; integrity sweeps read everything.

Two ways to list (``mode``):

* ``full``: one listing of every key under ``<job>/`` (a ``Listing``, which retention shares with the catalog
  so that a purge lists each destination once). Every backup's objects are checked against it; index entries
  without a manifest are reported as ``orphans``, manifests without an index entry as ``unindexed``.
* ``index``: lists only ``<job>/_index/`` (one key per backup, see ``catalog_index``) and takes manifests and
  index entries from the cache, so a warm listing reads O(backups) keys and no data key. The newest backups
  are confirmed object by object (``stat``) until one is valid: the freshness verdict and ``latest`` are as
  proven as with a full listing; older backups are reported as their index and manifest say
  (``checked: index``). It falls back to a full listing when there is no cache, on the first listing of a
  destination on this host, once the last full listing on this host is more than 24 h old (so an index entry
  whose manifest went behind the collection's back is found within a day), while the last full listing found
  manifests without an index entry (backups written before index entries existed), and when the job has no
  index entry at all.

``read_newest`` is a third, cheaper reading for status pages (``ops_dashboard``): the number of index entries and
the newest backups proven object by object down to the first valid one; nothing is cached.

Keys under ``<job>/_<name>/`` (index entries, lock and verification records), ``packs/`` and ``holds/``
belong to no run: they are never backups or incomplete runs.
"""

import concurrent.futures

from ansible_collections.watchkeeper.ops.plugins.module_utils import catalog_index as cindex
from ansible_collections.watchkeeper.ops.plugins.module_utils.catalog_cache import ManifestCache
from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError

READERS = 16
FULL_EVERY_S = 24 * 3600  # the index listing lists in full at least this often per host, destination and job
NEWEST_MAX_CHECKED = 50  # read_newest: backups checked at most, newest first, to find a valid one


SOURCE_FIELDS = ("kind", "host", "database", "path", "mode", "server_version")


def _summary(manifest):
    """What the catalog uses of a (validated) manifest, and all the cache keeps of it: table fingerprints, phases
    and the like stay out, so a warm listing loads a small cache."""
    summary = {"job": manifest["job"], "backup_id": manifest["backup_id"], "created_at": manifest.get("created_at"),
               "completed_at": manifest.get("completed_at"), "sizes": manifest.get("sizes"),
               "sha256": manifest.get("sha256"),
               "source": dict((k, v) for k, v in (manifest.get("source") or {}).items() if k in SOURCE_FIELDS),
               "encryption": {"mode": (manifest.get("encryption") or {}).get("mode")},
               "objects": [{"key": o["key"], "stored_bytes": o.get("stored_bytes")} for o in manifest["objects"]]}
    packs = (manifest.get("files") or {}).get("packs")
    if packs:
        summary["files"] = {"packs": [{"key": p["key"], "stored_bytes": p.get("stored_bytes")} for p in packs]}
    return summary


def _entry(backup_id, key, manifest, problems, checked="objects"):
    entry = {"backup_id": backup_id, "manifest_key": key, "created_at": None, "completed_at": None,
             "valid": not problems, "problems": problems, "checked": checked}
    if manifest:
        entry.update(created_at=manifest.get("created_at"), completed_at=manifest.get("completed_at"),
                     sizes=manifest.get("sizes"), sha256=manifest.get("sha256"),
                     source=dict((k, v) for k, v in (manifest.get("source") or {}).items() if k in SOURCE_FIELDS),
                     encryption=(manifest.get("encryption") or {}).get("mode"),
                     objects=[o.get("key") for o in manifest.get("objects", [])])
    else:
        entry["created_at"] = clock.isoformat(mf.backup_time(backup_id))
    return entry


class Listing(object):
    """One listing of every key under ``<job>/`` in one destination: ``sizes`` and ``mtimes`` by key.

    Retention reads the catalog from the listing it also uses for sizes, packs and incomplete runs, so each
    destination is listed once per run."""

    def __init__(self, storage, job):
        self.job = job
        self.sizes = {}
        self.mtimes = {}
        for info in storage.list(job + "/"):
            self.sizes[info.key] = info.size
            self.mtimes[info.key] = info.mtime


class Catalog(object):
    """What ``read`` found: ``backups`` newest first, ``incomplete`` run ids, ``orphans`` (index entries
    without a readable manifest: ``{backup_id, index_key, problem}``), ``unindexed`` (ids of backups without an
    index entry; ``None`` when not known), ``listing`` (``full``, ``index`` or ``newest``), ``reason`` (why a full
    listing was used when the index was asked for) and ``count`` (backups in the destination; with ``newest``, index
    entries, more than ``backups`` holds)."""

    def __init__(self, backups, incomplete, orphans, unindexed, listing, reason=None):
        self.backups, self.incomplete, self.orphans = backups, incomplete, orphans
        self.unindexed, self.listing, self.reason = unindexed, listing, reason
        self.count = len(backups)


def read_catalog(storage, job, validate=True, readers=READERS, cache_dir=None, listing=None):
    """Returns ``(backups, incomplete)`` of a full listing: backups newest first (dicts), and the ids of
    incomplete runs. ``read`` returns the whole ``Catalog``."""
    found = read(storage, job, validate=validate, readers=readers, cache_dir=cache_dir, listing=listing)
    return found.backups, found.incomplete


def read(storage, job, validate=True, readers=READERS, cache_dir=None, listing=None, mode="full"):
    """The ``Catalog`` of ``job`` in ``storage``; ``listing`` (a ``Listing`` of this job) saves the listing."""
    cache = ManifestCache(cache_dir, storage.describe(), job) if cache_dir and validate else None
    reason = None
    if mode == "index":
        reason = _full_needed(cache, validate)
        if reason is None:
            found = _read_indexed(storage, job, cache, readers)
            if found is not None:
                cache.save()
                return found
            reason = "the job has no index entry in this destination"
    found = _read_full(storage, job, validate, readers, cache, listing or Listing(storage, job))
    found.reason = reason
    if cache:
        cache.set_meta("full", {"unindexed": len(found.unindexed or []), "at": clock.isoformat(clock.now())})
        cache.save()
    return found


def _full_needed(cache, validate):
    if not validate:
        return "validate is false"
    if cache is None:
        return "no cache directory (the index listing needs cached manifests)"
    last = cache.meta.get("full")
    if last is None:
        return "first listing of this destination and job on this host"
    if last.get("unindexed"):
        return "the last full listing found %d backups without an index entry" % last["unindexed"]
    try:
        age = (clock.now() - clock.parse_time(last["at"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        age = None
    if age is None or age > FULL_EVERY_S:
        return "the last full listing on this host is more than %d h old" % (FULL_EVERY_S // 3600)
    return None


def _identity(manifest, job, backup_id):
    if manifest["job"] != job or manifest["backup_id"] != backup_id:
        return ["manifest names %s/%s, not %s/%s" % (manifest["job"], manifest["backup_id"], job, backup_id)]
    return []


def _object_problems(manifest, sizes):
    problems = []
    for key_needed, size in _needed(manifest):
        if key_needed not in sizes or sizes[key_needed] is None:
            problems.append("object %s is missing" % key_needed)
        elif size is not None and sizes[key_needed] != size:
            problems.append("object %s has %d bytes, manifest says %d" % (key_needed, sizes[key_needed], size))
    return problems


def _read_full(storage, job, validate, readers, cache, listing):
    sizes = listing.sizes
    manifests, indexed = {}, {}
    for key in sizes:
        if cindex.outside_runs(job, key):
            backup_id = cindex.parse_index_key(job, key)
            if backup_id:
                indexed[backup_id] = key
            continue
        backup_id = mf.parse_manifest_key(job, key)
        if backup_id:
            manifests[backup_id] = key

    def load(item):
        backup_id, key = item
        if not validate:
            return _entry(backup_id, key, None, [], checked="none")
        manifest = cache.get(key, sizes[key]) if cache else None
        if manifest is None:
            try:
                manifest = _summary(mf.loads(storage.get_bytes(key, max_bytes=16 * 1024 * 1024), key))
            except WatchkeeperError as exc:
                return _entry(backup_id, key, None, [exc.msg])
            if cache:
                cache.put(key, sizes[key], manifest)
        return _entry(backup_id, key, manifest, _identity(manifest, job, backup_id) + _object_problems(manifest, sizes))

    items = sorted(manifests.items(), reverse=True)
    if cache:
        cache.prune(set(manifests.values()) | set(indexed.values()))
    uncached = [i for i in items if not cache or cache.get(i[1], sizes[i[1]]) is None]
    if len(uncached) > 1 and validate:
        with concurrent.futures.ThreadPoolExecutor(max_workers=readers) as pool:
            backups = list(pool.map(load, items))
    else:
        backups = [load(item) for item in items]
    for entry in backups:
        entry["indexed"] = entry["backup_id"] in indexed

    incomplete = set()
    manifest_keys = set(manifests.values())
    for key in sizes:
        if key in manifest_keys or cindex.outside_runs(job, key):
            continue
        name = key.rsplit("/", 1)[-1]
        backup_id = name.split(".", 1)[0]
        if mf.BACKUP_ID_RE.match(backup_id) and backup_id not in manifests:
            incomplete.add(backup_id)
    orphans = [{"backup_id": i, "index_key": k, "problem": "index entry without a manifest (%s is missing)"
                % mf.manifest_key(job, i)} for i, k in sorted(indexed.items(), reverse=True) if i not in manifests]
    unindexed = sorted((i for i in manifests if i not in indexed), reverse=True)
    return Catalog(backups, sorted(incomplete, reverse=True), orphans, unindexed, "full")


def _read_indexed(storage, job, cache, readers):
    """The catalog from ``<job>/_index/``; None when the job has no index entry (the caller lists in full)."""
    infos = {}
    for info in storage.list(cindex.index_prefix(job)):
        backup_id = cindex.parse_index_key(job, info.key)
        if backup_id:
            infos[backup_id] = info
    if not infos:
        return None
    manifests = {}
    keys = dict((backup_id, mf.manifest_key(job, backup_id)) for backup_id in infos)

    def load(backup_id):
        key = keys[backup_id]
        cached = cache.get_any(key)
        if cached is not None:
            manifests[backup_id] = cached
            return _entry(backup_id, key, cached[1], _identity(cached[1], job, backup_id), checked="index"), None
        info = infos[backup_id]
        try:  # a backup not seen before on this host: its index entry, then its manifest
            doc = cindex.loads(storage.get_bytes(info.key, max_bytes=cindex.MAX_INDEX_BYTES), info.key, job, backup_id)
            stat = storage.stat(key)
        except WatchkeeperError as exc:
            return None, {"backup_id": backup_id, "index_key": info.key, "problem": exc.msg}
        if stat is None:
            return None, _orphan(job, backup_id, info.key)
        try:
            manifest = _summary(mf.loads(storage.get_bytes(key, max_bytes=16 * 1024 * 1024), key))
        except WatchkeeperError as exc:
            return _entry(backup_id, key, None, [exc.msg], checked="index"), None
        manifests[backup_id] = (stat.size, manifest)
        problems = _identity(manifest, job, backup_id)
        if stat.size != doc["manifest_bytes"]:
            problems.append("manifest %s has %d bytes, its index entry says %d" % (key, stat.size, doc["manifest_bytes"]))
        else:
            cache.put(key, stat.size, manifest)
        return _entry(backup_id, key, manifest, problems, checked="index"), None

    ids = sorted(infos, reverse=True)
    if sum(1 for i in ids if cache.get_any(keys[i]) is None) > 1:
        with concurrent.futures.ThreadPoolExecutor(max_workers=readers) as pool:
            loaded = list(pool.map(load, ids))
    else:
        loaded = [load(i) for i in ids]
    backups = [e for e, o in loaded if e is not None]
    for entry in backups:
        entry["indexed"] = True
    orphans = [o for e, o in loaded if o is not None]
    cache.prune(set(keys[i] for i in manifests))
    _confirm_newest(storage, job, backups, orphans, manifests, infos, readers)
    orphans.sort(key=lambda o: o["backup_id"], reverse=True)
    return Catalog(backups, [], orphans, None, "index")


def read_newest(storage, job, readers=READERS, max_checked=NEWEST_MAX_CHECKED):
    """What a status page needs, without reading every manifest: ``listing`` ``newest``, ``count`` (the job's index
    entries) and ``backups``, the newest backups checked object by object (their manifest read, every object
    ``stat``-ed) down to the first valid one, at most ``max_checked``. Older backups are neither read nor
    judged: ``backup_info`` and the integrity sweeps do that. A job without index entries is listed in full."""
    ids = sorted((i for i in (cindex.parse_index_key(job, info.key) for info in storage.list(cindex.index_prefix(job)))
                  if i), reverse=True)
    if not ids:
        found = _read_full(storage, job, True, readers, None, Listing(storage, job))
        found.count = len(found.backups)
        return found
    backups, orphans = [], []
    for backup_id in ids[:max_checked]:
        key = mf.manifest_key(job, backup_id)
        if storage.stat(key) is None:
            orphans.append(_orphan(job, backup_id, cindex.index_key(job, backup_id)))
            continue
        try:
            manifest = _summary(mf.loads(storage.get_bytes(key, max_bytes=16 * 1024 * 1024), key))
        except WatchkeeperError as exc:
            backups.append(_entry(backup_id, key, None, [exc.msg]))
            continue
        sizes = _stat_sizes(storage, [k for k, _size in _needed(manifest)], readers)
        entry = _entry(backup_id, key, manifest, _identity(manifest, job, backup_id) + _object_problems(manifest, sizes))
        entry["indexed"] = True
        backups.append(entry)
        if entry["valid"]:
            break
    found = Catalog(backups, [], orphans, None, "newest")
    found.count = len(ids)
    return found


def _orphan(job, backup_id, index_key):
    return {"backup_id": backup_id, "index_key": index_key,
            "problem": "index entry without a manifest (%s is missing)" % mf.manifest_key(job, backup_id)}


def _stat_sizes(storage, keys, readers):
    """``{key: size, or None when the object is missing}``, the ``stat`` calls in parallel."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(readers, len(keys)))) as pool:
        return dict((k, s.size if s else None) for k, s in zip(keys, pool.map(storage.stat, keys)))


def _confirm_newest(storage, job, backups, orphans, manifests, infos, readers):
    """Check the newest backups object by object until one is valid; a manifest found gone makes its
    entry an orphan."""
    for entry in list(backups):
        if not entry["valid"] or entry["backup_id"] not in manifests:
            continue
        size, manifest = manifests[entry["backup_id"]]
        key = entry["manifest_key"]
        sizes = _stat_sizes(storage, [key] + [k for k, s in _needed(manifest)], readers)
        if sizes[key] is None:
            backups.remove(entry)
            orphans.append(_orphan(job, entry["backup_id"], infos[entry["backup_id"]].key))
            continue
        problems = _object_problems(manifest, sizes)
        if sizes[key] != size:
            problems.insert(0, "manifest %s has %d bytes now, %d when it was read" % (key, sizes[key], size))
        entry.update(problems=problems, valid=not problems, checked="objects")
        if not problems:
            return


def _needed(manifest):
    for obj in manifest.get("objects", []):
        yield obj["key"], obj.get("stored_bytes")
    for pack in (manifest.get("files") or {}).get("packs", []):
        yield pack["key"], pack.get("stored_bytes")
