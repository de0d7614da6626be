# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retention purge of backups (``retention_purge`` with ``target: backups``), destination by destination.

Per destination: list the job's keys once (a ``catalog.Listing``: the catalog, the sizes, the packs, the hold
markers and the incomplete runs all come from it) and read the catalog; read the restore verification records
(``<ops_state>/verified/<job>/<id>.json``, any destination's record counts) and the hold markers; select with the
policy; ask the provider's holds of every backup about to go (and select again with them); then delete, each backup
**index entry and manifest first** (it disappears for every reader at once: the index listing, then the full one),
then its objects; then the shared packs no remaining manifest references (older than the grace); then incomplete
runs past the grace (an index entry whose manifest is gone, an *orphan*, belongs to the incomplete run of its
backup id). A delete that fails after the manifest is gone leaves objects without a manifest: they are reported as
``leftovers`` and a later run removes them as an incomplete run past the grace. Last, kept backups without an index
entry (written before index entries existed) get one, so the index listing of ``backup_info`` takes over.

One destination failing never stops the others; ``run`` returns the failures and the caller fails the task.
"""

import time

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils import shared_state
from ansible_collections.watchkeeper.ops.plugins.module_utils import verified as verified_records
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils import catalog
from ansible_collections.watchkeeper.ops.plugins.module_utils import catalog_index as cindex
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError, WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.lock import JobLock
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import retention
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy.freshness import parse_duration
from ansible_collections.watchkeeper.ops.plugins.module_utils.retention import holds as markers
from ansible_collections.watchkeeper.ops.plugins.module_utils.retention import sweep
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage


def _config(params):
    """Validated settings: ``(job, {destination name: (spec, Policy)}, grace_s)``; raises ``ConfigError``."""
    try:
        job = mf.check_job_name(params.get("job"))
    except WatchkeeperError as exc:
        raise ConfigError(exc.msg, step="configure")
    if not params.get("policy"):
        raise ConfigError("target backups needs a policy (for example keep_daily: 7); without one only min_keep "
                          "would keep backups", step="configure")
    base = dict((k, v) for k, v in params["policy"].items() if v is not None)
    specs, names = {}, []
    for spec in params.get("destinations") or []:
        spec = dict(spec)
        spec["name"] = spec.get("name") or spec["type"]
        if spec["name"] in names:
            raise ConfigError("two destinations are named %r; give each a unique name" % spec["name"], step="configure")
        names.append(spec["name"])
        specs[spec["name"]] = spec
    if not names:
        raise ConfigError("target backups needs at least one destination", step="configure")
    overrides = params.get("destination_policies") or {}
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ConfigError("destination_policies names %s, not among the destinations (%s)"
                          % (", ".join(unknown), ", ".join(names)), step="configure")
    out = {}
    for name in names:
        merged = dict(base)
        extra = overrides.get(name) or {}
        if not isinstance(extra, dict):
            raise ConfigError("destination_policies.%s must be a policy dict, not %r" % (name, extra), step="configure")
        merged.update((k, v) for k, v in extra.items() if v is not None)
        try:
            out[name] = (specs[name], retention.Policy.from_dict(merged))
        except ValueError as exc:
            where = "destination_policies.%s" % name if name in overrides else "policy"
            raise ConfigError("%s: %s" % (where, exc), step="configure")
    try:
        grace_s = parse_duration(params.get("incomplete_grace") or "24h")
    except ValueError as exc:
        raise ConfigError("incomplete_grace: %s" % exc, step="configure")
    return job, out, grace_s


def read_verified(ops_state, job):
    """Ids of backups of ``job`` that passed a restore verification (records written by restore_verify)."""
    return set(verified_records.read(ops_state, job))


def run(params, check_mode, now, log=None):
    """Purge every destination. Returns ``(result, failures)``; raises ``WatchkeeperError`` for bad options or a
    held job lock (nothing was done)."""
    log = log or (lambda msg: None)
    job, dests, grace_s = _config(params)
    opts = {"grace_s": grace_s, "purge_damaged": bool(params.get("purge_damaged")),
            "provider_holds": params.get("provider_holds", True) is not False, "check_mode": check_mode}
    ops_state = params.get("ops_state") or "/var/lib/watchkeeper"
    lock = shared = None
    unlocked = {}  # destinations whose shared lock could not be taken: not purged, reported as failed
    if not check_mode:  # a dry run deletes nothing, so it never waits for a backup
        lock = JobLock(ops_state, "job-%s" % job, module="retention_purge")
        lock.acquire(timeout=params.get("lock_timeout", 60))
    try:
        if not check_mode:
            shared, unlocked = shared_state.lock_destinations(params, [s for s, _p in dests.values()], job,
                                                              "retention_purge", params.get("lock_timeout", 60))
        verified = set(verified_records.read_union(ops_state, job, [s for s, _p in dests.values()], params))
        outcomes, failures = {}, []
        for name, (spec, policy) in dests.items():
            purge = Purge(spec, job, policy, now, verified, opts, log)
            out = dict(purge.out, status="failed", error=unlocked[name], step="lock") if name in unlocked else purge.run()
            outcomes[name] = out
            if out["status"] != "ok":
                failures.append("destination %s: %s" % (name, out["error"]))
    finally:
        if shared is not None:
            shared.release()
        if lock is not None:
            lock.release()
    return _result(job, outcomes, check_mode), failures


def _result(job, outcomes, check_mode):
    total = dict((k, sum(o[k] for o in outcomes.values()))
                 for k in ("removed", "kept", "bytes_freed", "packs_removed", "incomplete_removed", "bytes_to_free"))
    changed = any(o["removed"] or o["packs_removed"] or o["incomplete_removed"] or o["leftovers"] or o["index_written"]
                  for o in outcomes.values())
    result = dict(changed=changed, job=job, backups=outcomes,
                  failed_destinations=sorted(n for n, o in outcomes.items() if o["status"] != "ok"), **total)
    if check_mode:
        result["changed"] = total["bytes_to_free"] > 0 or any(
            o["to_remove"] or o["packs_to_remove"] or o["incomplete_to_remove"] or o["index_to_write"]
            for o in outcomes.values())
        result["plan"] = dict((name, {"remove": [b["backup_id"] for b in o["backups"] if b["verdict"] == "remove"],
                                      "keep": [b["backup_id"] for b in o["backups"] if b["verdict"] == "keep"],
                                      "packs": o["packs_to_remove"], "incomplete": o["incomplete_to_remove"],
                                      "bytes_to_free": o["bytes_to_free"]}) for name, o in outcomes.items())
    return result


class Purge(object):
    """The purge of one job in one destination."""

    def __init__(self, spec, job, policy, now, verified, opts, log):
        self.spec, self.job, self.policy, self.now = spec, job, policy, now
        self.verified, self.opts, self.log = verified, opts, log
        self.storage = None
        self.sizes, self.mtimes = {}, {}
        self.out = {"type": spec["type"], "location": None, "status": "ok", "error": None, "step": None,
                    "policy": policy.describe(), "backups": [], "removed": 0, "kept": 0, "bytes_freed": 0,
                    "bytes_to_free": 0, "to_remove": 0, "packs_removed": 0, "packs_bytes_freed": 0, "packs_to_remove": [],
                    "packs_kept_young": [], "packs_sweep_blocked": None, "incomplete": [], "incomplete_removed": 0,
                    "incomplete_to_remove": [], "leftovers": [], "orphans": [], "unindexed": [], "index_to_write": [], "index_written": 0,
                    "index_errors": [], "duration_s": 0.0}

    def run(self):
        started = time.monotonic()
        try:
            self.storage = open_storage(self.spec)
            self.out["location"] = self.storage.describe()
            self._purge()
        except WatchkeeperError as exc:
            exc.destination = exc.destination or self.spec["name"]
            self.out.update(status="failed", error=exc.describe(), step=exc.step)
            self.log("destination %s failed: %s" % (self.spec["name"], exc.describe()))
        finally:
            if self.storage is not None:
                self.storage.close()
            self.out["duration_s"] = round(time.monotonic() - started, 3)
        return self.out

    # -- plan ---------------------------------------------------------------------------------
    def _own_keys(self, entry):
        """The index entry and the manifest first, then every other object of the backup (``<base>.*``, listed or
        not in the manifest)."""
        base = mf.base_key(self.job, entry["backup_id"])
        named = set(k for k in entry.get("objects") or [] if k in self.sizes and not k.startswith(self.job + "/packs/"))
        rest = sorted(named | set(k for k in self.sizes if k.startswith(base + ".")) - set([entry["manifest_key"]]))
        index = cindex.index_key(self.job, entry["backup_id"])
        return ([index] if index in self.sizes else []) + [entry["manifest_key"]] + rest

    def _provider_holds(self, keys):
        found = []
        if self.opts["provider_holds"]:
            for key in keys:
                found.extend("%s on %s" % (h, key) for h in self.storage.holds(key, now=self.now))
        return found

    def _purge(self):
        listing = catalog.Listing(self.storage, self.job)
        self.sizes, self.mtimes = listing.sizes, listing.mtimes
        found = catalog.read(self.storage, self.job, validate=True, listing=listing)
        backups = found.backups
        self.out["orphans"], self.out["unindexed"] = found.orphans, found.unindexed
        incomplete = sorted(set(found.incomplete) | set(o["backup_id"] for o in found.orphans), reverse=True)
        held = markers.read_markers(self.storage, self.job, keys=listing.sizes)
        entries = dict((b["backup_id"], b) for b in backups)
        extra = dict((i, tuple([markers.describe(held[i])]) if i in held else ()) for i in entries)

        def candidates():
            return [retention.Candidate(i, clock.parse_time(b["created_at"]), bool(b["valid"]), i in self.verified,
                                        extra[i]) for i, b in entries.items()]

        verdicts = retention.select(candidates(), self.policy, self.now, purge_damaged=self.opts["purge_damaged"])
        keys = dict((i, self._own_keys(b)) for i, b in entries.items())
        again = False
        for verdict in verdicts:
            if not verdict.keep:
                found = self._provider_holds(keys[verdict.backup_id])
                if found:
                    extra[verdict.backup_id] = extra[verdict.backup_id] + tuple(found)
                    again = True
        if again:
            verdicts = retention.select(candidates(), self.policy, self.now, purge_damaged=self.opts["purge_damaged"])

        rows = []
        for verdict in verdicts:
            size = sum(self.sizes.get(k, 0) for k in keys[verdict.backup_id])
            rows.append({"backup_id": verdict.backup_id, "created_at": entries[verdict.backup_id]["created_at"],
                         "verdict": "keep" if verdict.keep else "remove", "reasons": list(verdict.reasons),
                         "bytes": size, "valid": entries[verdict.backup_id]["valid"]})
        self.out["backups"] = rows
        self.out["kept"] = sum(1 for r in rows if r["verdict"] == "keep")
        self.out["to_remove"] = sum(1 for r in rows if r["verdict"] == "remove")
        self.out["bytes_to_free"] = sum(r["bytes"] for r in rows if r["verdict"] == "remove")

        # Delete backups, oldest first: were the run to stop half-way, the newest stay.
        for row in reversed(rows):
            if row["verdict"] == "remove" and not self.opts["check_mode"]:
                self._remove_backup(row, keys[row["backup_id"]])
        self._sweep_packs(entries, [r["backup_id"] for r in rows if r["verdict"] in ("keep", "failed")])
        self._incomplete(incomplete)
        self._backfill_index([entries[r["backup_id"]] for r in rows if r["verdict"] == "keep"])
        self.out["bytes_to_free"] += sum(self.sizes.get(k, 0) for k in self.out["packs_to_remove"])

    # -- delete -------------------------------------------------------------------------------
    def _remove_backup(self, row, keys):
        done = []
        try:
            for key in keys:
                self.storage.delete(key)
                done.append(key)
        except WatchkeeperError as exc:
            left = [k for k in keys if k not in done]
            row["verdict"] = "failed"
            row["reasons"].append("delete failed after %d of %d objects: %s" % (len(done), len(keys), exc.msg))
            if done:  # the manifest is gone: what is left is an incomplete run for a later purge
                row["leftovers"] = left
                self.out["leftovers"].extend(left)
                self.out["removed"] += 1
            raise
        row["verdict"] = "removed"
        self.out["removed"] += 1
        self.out["bytes_freed"] += row["bytes"]
        self.log("removed %s from %s (%d objects)" % (row["backup_id"], self.spec["name"], len(keys)))

    def _sweep_packs(self, entries, remaining_ids):
        packs = dict((k, self.mtimes.get(k)) for k in self.sizes if k.startswith(self.job + "/packs/"))
        if not packs:
            return
        remaining = {}
        for backup_id in remaining_ids:
            entry = entries[backup_id]
            if entry.get("source", {}).get("kind") not in (None, "files") and entry.get("objects") is not None:
                remaining[backup_id] = {}
                continue  # a database backup never references packs
            remaining[backup_id] = self._manifest(entry["manifest_key"])
        plan = sweep.sweep(packs, remaining, self.now, self.opts["grace_s"])
        self.out["packs_sweep_blocked"] = plan.blocked
        self.out["packs_kept_young"] = plan.young
        for key in plan.remove:
            if self._provider_holds([key]):
                continue
            self.out["packs_to_remove"].append(key)
            if not self.opts["check_mode"]:
                self.storage.delete(key)
                self.out["packs_removed"] += 1
                self.out["packs_bytes_freed"] += self.sizes.get(key, 0)
                self.out["bytes_freed"] += self.sizes.get(key, 0)

    def _backfill_index(self, kept):
        """Index entries for kept, valid backups that have none (written before index entries existed), so that
        ``backup_info`` with ``listing: index`` stops falling back to full listings. Never fails the purge."""
        for entry in kept:
            if entry.get("indexed") is not False or not entry["valid"]:
                continue
            self.out["index_to_write"].append(entry["backup_id"])
            if self.opts["check_mode"]:
                continue
            try:
                data = self.storage.get_bytes(entry["manifest_key"], max_bytes=16 * 1024 * 1024)
                cindex.write(self.storage, mf.loads(data, entry["manifest_key"]), entry["manifest_key"], data)
                self.out["index_written"] += 1
            except WatchkeeperError as exc:
                self.out["index_errors"].append("%s: %s" % (entry["backup_id"], exc.msg))

    def _manifest(self, key):
        try:
            return mf.loads(self.storage.get_bytes(key, max_bytes=16 * 1024 * 1024), key)
        except WatchkeeperError:
            return None

    def _incomplete(self, ids):
        runs = [(i, mf.backup_time(i)) for i in ids]
        for verdict in retention.incomplete(runs, self.now, self.opts["grace_s"]):
            keys = sorted(k for k in self.sizes if self._run_of(k) == verdict.backup_id)
            reasons = list(verdict.reasons)
            held = self._provider_holds(keys) if not verdict.keep else []
            if held:
                reasons = ["hold: %s" % h for h in held] + reasons
            remove = not verdict.keep and not held
            row = {"backup_id": verdict.backup_id, "created_at": clock.isoformat(verdict.time),
                   "verdict": "remove" if remove else "keep", "reasons": reasons, "keys": keys,
                   "bytes": sum(self.sizes.get(k, 0) for k in keys)}
            self.out["incomplete"].append(row)
            if not remove:
                continue
            self.out["incomplete_to_remove"].append(verdict.backup_id)
            self.out["bytes_to_free"] += row["bytes"]
            if not self.opts["check_mode"]:
                for key in keys:
                    self.storage.delete(key)
                row["verdict"] = "removed"
                self.out["incomplete_removed"] += 1
                self.out["bytes_freed"] += row["bytes"]

    def _run_of(self, key):
        index_of = cindex.parse_index_key(self.job, key)
        if index_of:
            return index_of
        if cindex.outside_runs(self.job, key):
            return None
        return key.rsplit("/", 1)[-1].split(".", 1)[0]
