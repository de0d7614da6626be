# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integrity sweep of one job in one destination: read the stored bytes and compare them with the manifests.

For every backup the run selects (all of them, one rotation slot, or given ids):

* its manifest must be well-formed (the catalog's schema check) and name this job and backup;
* every object it names, and for incremental file backups every shared pack in
  ``manifest["files"]["packs"]``, must be listed at the manifest's ``stored_bytes``;
* the SHA-256 of the stored bytes, streamed with ``Storage.iter_read`` (never held in memory),
  must equal the manifest's ``sha256``.

Every object is read at most once per run, even a pack many backups share, by a small thread
pool; a bad pack makes every selected backup that references it bad. Backups outside the run's
slot are ``skipped``: not read, not counted good or bad. Their ``problems`` still show what the
listing alone proves (a missing or resized object, an unreadable manifest) or what a pack read for
another backup proved, so nothing found is hidden; their own slot's run reports them bad.
"""

import concurrent.futures
import datetime
import hashlib
import threading
import time

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.catalog import read_catalog
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ManifestError, WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import rotation
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.base import DEFAULT_CHUNK

DEFAULT_PARALLEL = 4
GOOD, BAD, SKIPPED = "good", "bad", "skipped"


class _Recording(object):
    """The storage as the catalog sees it, keeping the listing's sizes and the bytes of the manifests
    the sweep needs, so that nothing is listed or read twice. Everything else is passed through."""

    def __init__(self, storage, keep):
        self._storage = storage
        self._keep = keep
        self._lock = threading.Lock()
        self.sizes = {}
        self.manifests = {}

    def __getattr__(self, name):
        return getattr(self._storage, name)

    def list(self, prefix=""):
        for info in self._storage.list(prefix):
            self.sizes[info.key] = info.size
            yield info

    def get_bytes(self, key, max_bytes=64 * 1024 * 1024):
        data = self._storage.get_bytes(key, max_bytes=max_bytes)
        if self._keep(key):
            with self._lock:
                self.manifests[key] = data
        return data


class _Expected(object):
    """What one manifest says about one stored object."""

    __slots__ = ("key", "size", "sha256", "label")

    def __init__(self, key, size, sha256, label):
        self.key, self.size, self.sha256, self.label = key, size, sha256, label


def _expectations(manifest):
    """``(expected objects, problems)``: the backup's own objects, then its shared packs."""
    out, problems = [], []
    for obj in manifest["objects"]:
        out.append(_Expected(obj["key"], obj["stored_bytes"], obj["sha256"], "object"))
    packs = _packs(manifest)
    if packs is None:
        return out, ["files.packs is not a list of packs"]
    for index, pack in enumerate(packs):
        if not isinstance(pack, dict) or not isinstance(pack.get("key"), str) or not pack["key"]:
            problems.append("files.packs[%d] names no key" % index)
        elif not isinstance(pack.get("stored_bytes"), int) or not pack.get("sha256"):
            problems.append("shared pack %s: the manifest records no size or SHA-256, so its content cannot be "
                            "verified" % pack["key"])
        else:
            out.append(_Expected(pack["key"], pack["stored_bytes"], pack["sha256"], "shared pack"))
    return out, problems


def _packs(manifest):
    """The ``files.packs`` list of a manifest ([] when absent), or None when it is malformed."""
    files = manifest.get("files") or {}
    if not isinstance(files, dict):
        return None
    packs = files.get("packs") or []
    return packs if isinstance(packs, list) else None


def _hash(storage, key, chunk_size):
    """``(size, sha256 hex, None)`` of the stored bytes, or ``(None, None, error)``."""
    digest = hashlib.sha256()
    size = 0
    try:
        for block in storage.iter_read(key, chunk_size=chunk_size):
            digest.update(block)
            size += len(block)
    except WatchkeeperError as exc:
        return None, None, exc.msg
    except Exception as exc:  # pylint: disable=broad-except
        # A backend should raise StorageError; whatever leaks is still this object's problem.
        return None, None, "%s: %s" % (type(exc).__name__, exc)
    return size, digest.hexdigest(), None


def _compare(storage, expected, listed_size, read):
    """Problems of one object against one manifest's expectation (empty when it matches)."""
    what = "%s %s" % (expected.label, expected.key)
    where = storage.location(expected.key)
    if listed_size is None:
        return ["%s is missing (the manifest records %s bytes; expected at %s)" % (what, expected.size, where)]
    if listed_size != expected.size:
        return ["%s has %d bytes, the manifest records %s (%s)" % (what, listed_size, expected.size, where)]
    if read is None:
        return ["%s was not read" % what]
    size, found, error = read
    if error:
        return ["%s could not be read: %s (%s)" % (what, error, where)]
    if size != expected.size:
        return ["%s streamed %d bytes, the manifest records %s (%s)" % (what, size, expected.size, where)]
    if found != expected.sha256:
        return ["%s: SHA-256 of the stored bytes is %s, the manifest expects %s (%s)" % (what, found, expected.sha256, where)]
    return []


def _wanted(now, cycle, period_s, backup_ids):
    """Predicate on backup ids: does this run read the backup?"""
    if backup_ids is not None:
        ids = set(backup_ids)
        return ids.__contains__
    slot = rotation.run_slot(now, cycle, period_s)

    def in_slot(backup_id):
        return bool(mf.BACKUP_ID_RE.match(backup_id)) and rotation.backup_slot(mf.backup_time(backup_id), cycle, period_s) == slot
    return in_slot


def _load_manifest(recording, storage, entry):
    data = recording.manifests.get(entry["manifest_key"])
    if data is None:
        data = storage.get_bytes(entry["manifest_key"], max_bytes=16 * 1024 * 1024)
    return mf.loads(data, entry["manifest_key"])


def sweep(storage, job, now=None, cycle=1, period_s=rotation.DEFAULT_PERIOD_S, backup_ids=None,
          parallel=DEFAULT_PARALLEL, chunk_size=DEFAULT_CHUNK):
    """Check the backups of ``job`` in ``storage`` that this run selects.

    ``cycle``/``period_s``: the rotation (``cycle=1`` reads everything); ``backup_ids``: read exactly
    these instead (an id without a manifest here is bad). Raises ``WatchkeeperError`` only when the
    destination cannot be listed; every finding about a backup is in its verdict. Returns
    ``{"backups": [{backup_id, created_at, verdict, problems}] newest first, "checked", "good",
    "bad", "skipped", "bytes_read", "objects_read", "duration_s", "good_restore_points",
    "incomplete", "location", "pack_verdicts"}``; ``pack_verdicts``: ``{shared pack key: first problem, or None}``
    for every pack this run compared.
    """
    started = time.monotonic()
    now = now or clock.now()
    mf.check_job_name(job)
    for backup_id in backup_ids or []:
        if not mf.BACKUP_ID_RE.match(str(backup_id)):
            raise ManifestError("backup id %r is not of the form YYYYMMDDTHHMMSSZ-xxxxxxxx" % (backup_id,),
                                step="configure", destination=storage.name)
    wanted = _wanted(now, cycle, period_s, backup_ids)
    recording = _Recording(storage, lambda key: wanted(mf.parse_manifest_key(job, key) or ""))
    # manifest.validate checks objects and files.packs, so a malformed manifest makes only its backup bad
    entries, incomplete = read_catalog(recording, job, validate=True)
    sizes = recording.sizes

    rows, plans = [], {}
    for entry in entries:
        row = {"backup_id": entry["backup_id"], "created_at": entry["created_at"], "verdict": SKIPPED, "problems": []}
        rows.append(row)
        if not wanted(entry["backup_id"]):
            row["problems"] = list(entry["problems"])  # what the listing alone shows
            continue
        if "objects" not in entry:  # the manifest could not be read or parsed
            row.update(verdict=BAD, problems=list(entry["problems"]))
            continue
        try:
            manifest = _load_manifest(recording, storage, entry)
        except WatchkeeperError as exc:
            row.update(verdict=BAD, problems=[exc.msg])
            continue
        expected, problems = _expectations(manifest)
        if manifest["job"] != job or manifest["backup_id"] != entry["backup_id"]:
            problems.insert(0, "manifest names %s/%s, not %s/%s" % (manifest["job"], manifest["backup_id"], job,
                                                                    entry["backup_id"]))
        plans[entry["backup_id"]] = (row, expected, problems)

    missing = sorted(set(backup_ids or []) - set(r["backup_id"] for r in rows), reverse=True)
    for backup_id in missing:
        rows.append({"backup_id": backup_id, "created_at": clock.isoformat(mf.backup_time(backup_id)), "verdict": BAD,
                     "problems": ["no manifest %s: the backup does not exist here, or its run did not complete here"
                                  % storage.location(mf.manifest_key(job, backup_id))]})
    rows.sort(key=lambda r: r["backup_id"], reverse=True)

    # Read every object once (packs shared by several backups included), when its listed size is right.
    to_read = {}  # key -> None, in the order of the backups (newest first)
    for _row, expected, _problems in plans.values():
        for exp in expected:
            if sizes.get(exp.key) == exp.size:
                to_read.setdefault(exp.key)
    reads = {}
    if to_read:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            futures = dict((key, pool.submit(_hash, storage, key, chunk_size)) for key in to_read)
            reads = dict((key, future.result()) for key, future in futures.items())

    bad_packs = {}
    pack_verdicts = {}  # shared pack key -> first problem, or None when it matched (integrity_record.py)
    for row, expected, problems in plans.values():
        for exp in expected:
            found = _compare(storage, exp, sizes.get(exp.key), reads.get(exp.key))
            problems.extend(found)
            if exp.label == "shared pack":
                pack_verdicts[exp.key] = pack_verdicts.get(exp.key) or (found[0] if found else None)
            if found and exp.label == "shared pack":
                bad_packs.setdefault(exp.key, found[0] + " (found checking backup %s)" % row["backup_id"])
        row["problems"] = problems
        row["verdict"] = BAD if problems else GOOD
    if bad_packs:  # tell skipped backups that share a bad pack; they are read in their own slot
        skipped = [row for row in rows if row["verdict"] == SKIPPED]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            list(pool.map(lambda row: _note_bad_packs(storage, job, row, bad_packs), skipped))

    counts = dict((v, sum(1 for r in rows if r["verdict"] == v)) for v in (GOOD, BAD, SKIPPED))
    return {
        "location": storage.describe(),
        "backups": rows,
        "checked": counts[GOOD] + counts[BAD],
        "good": counts[GOOD], "bad": counts[BAD], "skipped": counts[SKIPPED],
        "bytes_read": sum(r[0] for r in reads.values() if r[0] is not None),
        "objects_read": len(reads),
        "duration_s": round(time.monotonic() - started, 3),
        "good_restore_points": [r["backup_id"] for r in rows if r["verdict"] == GOOD],
        "incomplete": incomplete,
        "pack_verdicts": pack_verdicts,
    }


def _note_bad_packs(storage, job, row, bad_packs):
    """Adds to a skipped backup's problems the bad packs it references. Its manifest is read again:
    manifests of skipped backups are not kept (this happens only after a pack was found bad)."""
    key = mf.manifest_key(job, row["backup_id"])
    try:
        manifest = mf.loads(storage.get_bytes(key, max_bytes=16 * 1024 * 1024), key)
    except WatchkeeperError:
        return  # its listing problems already say so
    for pack in _packs(manifest) or []:
        if isinstance(pack, dict) and pack.get("key") in bad_packs:
            row["problems"].append(bad_packs[pack["key"]])


def _stamp(epoch):
    """Wall-clock time (never the frozen ``WATCHKEEPER_NOW``: these stamps show real overlap) as ISO 8601 UTC."""
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def each_in_parallel(items, work, parallel=DEFAULT_PARALLEL, timeout=None, log=None, name=str):
    """``[(result, times, error)]`` of ``work(item)`` for every item, in the order of ``items``.

    At most ``parallel`` items run at once, each on its own daemon thread. ``error`` is the exception ``work``
    raised, or ``TimeoutError`` when an item did not finish within ``timeout`` seconds of its start: its thread is
    abandoned (it cannot be killed; a daemon thread does not keep the process alive) and its slot goes to the next
    item, so one hanging destination hides nothing else. ``times``: ``{"started_at", "finished_at"}`` (wall clock),
    ``finished_at`` being the give-up time for an abandoned item."""
    log = log or (lambda msg: None)
    lock = threading.Lock()
    free = threading.Semaphore(max(1, parallel))
    state = [{"done": threading.Event(), "started": None, "finished": None, "result": None, "error": None,
              "abandoned": False} for _item in items]

    def run(index):
        free.acquire()
        slot = state[index]
        slot["started"] = time.time()
        log("started %s" % name(items[index]))
        try:
            slot["result"] = work(items[index])
        except Exception as exc:  # pylint: disable=broad-except
            slot["error"] = exc
        finally:
            with lock:
                if not slot["abandoned"]:
                    slot["finished"] = time.time()
                    free.release()
                    log("finished %s in %.1f s" % (name(items[index]), slot["finished"] - slot["started"]))
            slot["done"].set()

    for index in range(len(items)):
        threading.Thread(target=run, args=(index,), name="integrity-%d" % index, daemon=True).start()
    out = []
    for index, slot in enumerate(state):
        while not slot["done"].wait(0.1):
            with lock:
                started = slot["started"]
                if timeout and started is not None and time.time() - started > timeout and not slot["abandoned"]:
                    slot["abandoned"] = True
                    slot["finished"] = time.time()
                    free.release()  # the next item may start; the hanging thread keeps nothing
                    log("gave up on %s after %d s" % (name(items[index]), timeout))
                    break
        with lock:
            if slot["abandoned"]:
                out.append((None, {"started_at": _stamp(slot["started"]), "finished_at": _stamp(slot["finished"])},
                            TimeoutError("did not finish within %s s" % timeout)))
            else:
                out.append((slot["result"], {"started_at": _stamp(slot["started"]),
                                             "finished_at": _stamp(slot["finished"])}, slot["error"]))
    return out
