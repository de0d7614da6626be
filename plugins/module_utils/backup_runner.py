# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``backup`` module does, as plain functions (the module only parses and shapes).

One run: check the source -> prepare encryption -> take the job lock -> clean what an interrupted
run left -> stream every artifact of the source once to all destinations -> commit each object
where every byte and the checksum were confirmed -> write the manifest last, per destination ->
release the lock. Any failure names its step and destination; the result still lists every
destination's outcome. The run succeeds only when every destination holds its manifest.
"""

import json
import os
import socket
import threading
import time

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils import catalog_index
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils import rundir
from ansible_collections.watchkeeper.ops.plugins.module_utils import shared_state
from ansible_collections.watchkeeper.ops.plugins.module_utils.compression import (
    compression_facts, compression_stage, resolve_level)
from ansible_collections.watchkeeper.ops.plugins.module_utils.crypto import prepare_encryption
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError, WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.lock import JobLock
from ansible_collections.watchkeeper.ops.plugins.module_utils.pipeline import redact, run_stream
from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.base import RunContext
from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.factory import make_source
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

PLANNED = {"postgres": [("dump", ".pgdump")], "sqlite": [("db", ".sqlite")], "files": [("tar", ".tar"), ("filelist", ".json")]}


class BackupFailed(WatchkeeperError):
    """A run that failed; ``result`` is the full result dict (every destination's outcome)."""

    def __init__(self, cause, result):
        super(BackupFailed, self).__init__(cause.msg, step=cause.step, destination=cause.destination, hint=cause.hint)
        self.result = result


def _destinations(specs):
    names = set()
    for spec in specs:
        name = spec.get("name") or spec["type"]
        if name in names:
            raise ConfigError("two destinations are named %r; give each a unique name" % name, step="configure")
        names.add(name)
        spec["name"] = name
    if not specs:
        raise ConfigError("at least one destination is required", step="configure")
    return [open_storage(spec) for spec in specs]


class _Run(object):
    def __init__(self, params, log):
        self.params = params
        self.log = log or (lambda msg: None)
        self.job = mf.check_job_name(params["job"])
        self.started = time.monotonic()
        self.created = clock.now()
        self.backup_id = mf.new_backup_id(self.created)
        self.storages = _destinations([dict(d) for d in params["destinations"]])
        opened = time.monotonic() - self.started
        self.failures = {}      # name -> {"error", "step"}
        self.objects = {s.name: [] for s in self.storages}
        self.confirmed = {s.name: [] for s in self.storages}
        self.manifests = {}     # name -> manifest key written
        # Every second of total_s is in one phase: prepare_s includes opening the destinations,
        # cleanup_s removing what an interrupted run left.
        self.timings = {"lock_wait_s": 0.0, "prepare_s": opened, "cleanup_s": 0.0, "stream_s": 0.0, "commit_s": 0.0,
                        "manifest_s": 0.0}
        self.totals = {"raw_bytes": 0, "compressed_bytes": 0, "stored_bytes": 0}
        self.secrets = []
        self.lock_info = {}
        self.cleaned = []
        self.manifest = None
        self.run_dir = None
        self.warnings = []
        self.source = None
        self.enc = None

    # -- helpers ---------------------------------------------------------------------------
    def alive(self):
        return [s for s in self.storages if s.name not in self.failures]

    def fail_destination(self, name, err):
        if name not in self.failures:
            text = err.describe() if isinstance(err, WatchkeeperError) else str(err)
            self.failures[name] = {"error": redact(text, self.secrets), "step": getattr(err, "step", None) or "upload"}
            self.log("destination %s failed: %s" % (name, self.failures[name]["error"]))

    def remaining(self):
        timeout = self.params.get("timeout")
        return max(1.0, timeout - (time.monotonic() - self.started)) if timeout else None

    def progress_path(self):
        return os.path.join(self.params["ops_state"], "progress", "%s.json" % self.job)

    def write_progress(self, role, info):
        try:
            os.makedirs(os.path.dirname(self.progress_path()), exist_ok=True)
            info = dict(info, job=self.job, backup_id=self.backup_id, object=role, updated_at=clock.isoformat(clock.now()))
            tmp = self.progress_path() + ".tmp"
            with open(tmp, "w") as handle:
                json.dump(info, handle)
            os.replace(tmp, self.progress_path())
        except OSError:
            pass

    # -- the run ---------------------------------------------------------------------------
    def prepare(self):
        started = time.monotonic()
        self.run_dir, swept = rundir.create(self.params.get("tmp_dir"))
        self.cleaned += ["scratch:%s" % path for path in swept]
        self.source = make_source(self.params["source"], self.run_dir)
        self.source_facts = self.source.check()
        if hasattr(self.source, "password") and self.source.password:
            self.secrets.append(self.source.password)
        self.enc = prepare_encryption(self.params.get("encryption"), self.run_dir)
        self.secrets.extend(self.enc.secrets)
        comp = self.params.get("compression") or {}
        self.level_requested = comp.get("level", "auto")
        self.level, self.threads = resolve_level(self.level_requested), int(comp.get("threads", 0))
        compression_stage(self.level, self.threads)  # validates the options early
        self.ext = mf.stream_ext(True, self.enc.mode)
        self.timings["prepare_s"] += time.monotonic() - started

    def stream_all(self):
        ctx = RunContext(self.job, self.backup_id, {s.name: s for s in self.alive()}, self.params["ops_state"],
                         self.run_dir, log=self.log)
        ctx.stream_ext = self.ext
        artifacts = self.source.artifacts(ctx)
        while True:
            # What the source does between objects (walking a tree, reading the index) is stream time.
            started = time.monotonic()
            artifact = next(artifacts, None)
            self.timings["stream_s"] += time.monotonic() - started
            if artifact is None:
                break
            alive = self.alive()
            if not alive:
                break
            key = artifact.key or mf.object_key(self.job, self.backup_id, artifact.role, artifact.ext + self.ext)
            writers = {}
            for storage in alive:
                try:
                    writers[storage.name] = storage.open_writer(key)
                except WatchkeeperError as exc:
                    self.fail_destination(storage.name, exc)
            if not writers:
                break
            stages = [compression_stage(self.level, self.threads)]
            gpg = self.enc.make_stage()
            if gpg is not None:
                stages.append(gpg)
            started = time.monotonic()
            result = run_stream(artifact.producer, stages, writers, timeout=self.remaining(),
                                progress=lambda info, role=artifact.role: self.write_progress(role, info),
                                secrets=self.secrets + artifact.secrets)
            self.timings["stream_s"] += time.monotonic() - started
            for name, outcome in result.destinations.items():
                if outcome["status"] != "ok":
                    self.failures.setdefault(name, {"error": outcome["error"], "step": outcome["step"]})
            self.commit(artifact, key, result, {n: w for n, w in writers.items() if n not in self.failures})
            ctx.storages = {s.name: s for s in self.alive()}
        if not self.alive():
            first = sorted(self.failures.items())[0]
            raise WatchkeeperError("no destination holds a complete copy; first failure: %s" % first[1]["error"],
                                   step=first[1]["step"], destination=first[0])

    def commit(self, artifact, key, result, writers):
        started = time.monotonic()
        confirmations = {}

        def commit_one(name, writer):
            try:
                confirmations[name] = writer.commit(result.stored_bytes, result.sha256)
            except WatchkeeperError as exc:
                self.fail_destination(name, exc)
            except Exception as exc:  # pylint: disable=broad-except
                self.fail_destination(name, WatchkeeperError("commit failed: %s" % exc, step="commit", destination=name))

        threads = [threading.Thread(target=commit_one, args=item, daemon=True) for item in writers.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.timings["commit_s"] += time.monotonic() - started
        compressed = result.stage_bytes.get("zstd", result.stored_bytes)
        record = {"role": artifact.role, "key": key, "format": artifact.ext.lstrip("."), "raw_bytes": result.raw_bytes,
                  "compressed_bytes": compressed, "stored_bytes": result.stored_bytes, "sha256": result.sha256}
        if confirmations:
            for name, confirmed in confirmations.items():
                if artifact.role != "pack":
                    self.objects[name].append(record)
                self.confirmed[name].append(confirmed)
            self.totals["raw_bytes"] += result.raw_bytes
            self.totals["compressed_bytes"] += compressed
            self.totals["stored_bytes"] += result.stored_bytes
            if artifact.on_stored is not None:
                artifact.on_stored(result)

    def build_manifest(self):
        objects = next(self.objects[s.name] for s in self.alive())
        main = [o for o in objects if o["role"] in mf.PRIMARY_ROLES]
        manifest = {
            "schema": mf.SCHEMA, "schema_version": mf.SCHEMA_VERSION, "backup_id": self.backup_id, "job": self.job,
            "status": "complete", "created_at": clock.isoformat(self.created), "completed_at": clock.isoformat(clock.now()),
            "runner": {"host": socket.gethostname(), "collection_version": mf.COLLECTION_VERSION},
            "source": self.source_facts, "objects": objects, "sizes": dict(self.totals),
            "sha256": main[0]["sha256"] if main else objects[0]["sha256"],
            "compression": compression_facts(self.level, self.threads, requested=self.level_requested), "encryption": self.enc.facts,
            "phases": {k: round(v, 3) for k, v in self.timings.items()},
            "collection_version": mf.COLLECTION_VERSION,
        }
        manifest.update(self.source.manifest_extra())
        if manifest.get("files", {}).get("packs"):
            manifest["sizes"]["referenced_pack_bytes"] = sum(p["stored_bytes"] or 0 for p in manifest["files"]["packs"])
        return manifest

    def write_manifests(self):
        started = time.monotonic()
        self.manifest = self.build_manifest()
        key = mf.manifest_key(self.job, self.backup_id)
        self.manifest["phases"]["total_s"] = round(time.monotonic() - self.started, 3)
        data = mf.dumps(self.manifest)
        for storage in self.alive():
            try:
                storage.put_bytes(key, data)
                self.manifests[storage.name] = key
            except WatchkeeperError as exc:
                self.fail_destination(storage.name, exc)
                continue
            try:  # the backup is complete without it: a full listing still finds the manifest
                catalog_index.write(storage, self.manifest, key, data)
            except WatchkeeperError as exc:
                self.warnings.append("destination %s: the index entry of this backup was not written (%s); a full "
                                     "listing still finds it" % (storage.name, exc.describe()))
        if self.manifests and hasattr(self.source, "save_index"):
            try:
                self.source.save_index(self.backup_id)
            except OSError as exc:
                # Only an optimisation: the next run uploads what it cannot prove is stored.
                self.warnings.append("could not save the incremental index: %s" % exc)
        self.timings["manifest_s"] += time.monotonic() - started

    def discard_orphans(self):
        """Best effort: remove this run's objects where no manifest was written (writers may lack
        delete rights; retention removes what is left after its grace period)."""
        for storage in self.storages:
            if storage.name in self.manifests:
                continue
            for record in self.objects.get(storage.name, []):
                try:
                    storage.delete(record["key"])
                except WatchkeeperError:
                    pass

    def result(self):
        total = time.monotonic() - self.started
        dests = []
        for storage in self.storages:
            entry = {"name": storage.name, "type": storage.kind, "location": storage.describe()}
            if storage.name in self.manifests and storage.name not in self.failures:
                main = [o for o in self.objects[storage.name] if o["role"] in mf.PRIMARY_ROLES]
                entry.update(status="ok", manifest_key=self.manifests[storage.name],
                             key=(main or self.objects[storage.name] or [{"key": None}])[0]["key"],
                             stored_bytes=sum(o["stored_bytes"] for o in self.objects[storage.name]),
                             objects=len(self.confirmed[storage.name]), confirmed=self.confirmed[storage.name])
            else:
                failure = self.failures.get(storage.name) or {"error": "not stored: the run failed", "step": "stream"}
                entry.update(status="failed", error=failure["error"], step=failure["step"])
            dests.append(entry)
        timings = {k: round(v, 3) for k, v in self.timings.items()}
        timings["total_s"] = round(total, 3)
        ok = bool(dests) and all(d["status"] == "ok" for d in dests)
        return {"changed": bool(self.manifests), "job": self.job, "backup_id": self.backup_id,
                "status": "ok" if ok else "failed", "destinations": dests, "sizes": dict(self.totals),
                "sha256": self.manifest["sha256"] if self.manifest else None, "manifest": self.manifest,
                "timings": timings, "lock": self.lock_info, "cleaned_incomplete": self.cleaned,
                "warnings": self.warnings}

    def close(self):
        if self.source is not None:
            self.source.close()
        if self.enc is not None:
            self.enc.cleanup()
        if self.run_dir is not None:
            rundir.remove(self.run_dir)
        for storage in self.storages:
            storage.close()
        try:
            os.unlink(self.progress_path())
        except OSError:
            pass


def run_backup(params, log=None):
    """Run one backup. Returns the result dict, or raises ``BackupFailed`` (carrying it)."""
    run = _Run(params, log)
    lock = shared = None
    try:
        run.prepare()
        lock = JobLock(params["ops_state"], "job-%s" % run.job, module="backup")
        started = time.monotonic()
        timeout = params.get("lock_timeout", 60)
        lock.acquire(timeout=timeout)
        run.lock_info = {"path": lock.path, "waited_s": round(lock.waited_s, 3), "broke_stale": lock.broke}
        if shared_state.mode(params) == "destination":
            # Several controllers: the job lock in every destination too (sorted names); an unreachable one fails.
            shared = shared_state.DestinationLocks(run.storages, run.job, "backup")
            shared.acquire(max(0.0, timeout - (time.monotonic() - started)), run.fail_destination)
            run.lock_info["destinations"] = shared.facts()
        run.timings["lock_wait_s"] = time.monotonic() - started
        # The backup starts once the lock is held: a run that waited must not be dated (nor sorted,
        # by its id) before the end of the run it waited for.
        run.created = clock.now()
        run.backup_id = mf.new_backup_id(run.created)
        started = time.monotonic()
        for storage in run.storages:
            try:
                run.cleaned += ["%s:%s" % (storage.name, c) for c in storage.cleanup_incomplete(run.job + "/", 0)]
            except WatchkeeperError as exc:
                run.fail_destination(storage.name, exc)
        run.timings["cleanup_s"] = time.monotonic() - started
        run.stream_all()
        for name, exc in (shared.lost() if shared else {}).items():
            run.fail_destination(name, exc)  # another run took the lock over: never publish a manifest there
        run.write_manifests()
        result = run.result()
        if result["status"] != "ok":
            failed = [d for d in result["destinations"] if d["status"] != "ok"]
            cause = WatchkeeperError("backup %s is missing from %d of %d destinations: %s" % (
                run.backup_id, len(failed), len(result["destinations"]),
                "; ".join("%s (%s): %s" % (d["name"], d["step"], d["error"]) for d in failed)),
                step=failed[0]["step"], destination=failed[0]["name"])
            raise BackupFailed(cause, result)
        return result
    except BackupFailed:
        raise
    except Exception as exc:  # pylint: disable=broad-except
        if not isinstance(exc, WatchkeeperError):
            # A bug or an unexpected library error: still fail the way every other failure does.
            exc = WatchkeeperError("unexpected error: %s: %s" % (type(exc).__name__, exc), step="internal")
        exc.msg = redact(exc.msg, run.secrets)
        for storage in run.storages:
            run.fail_destination(storage.name, exc)
        run.discard_orphans()
        raise BackupFailed(exc, run.result())
    finally:
        if shared is not None:
            shared.release()
        if lock is not None:
            lock.release()
        run.close()


def plan_backup(params):
    """check_mode: what a run would do, read-only. Never takes the lock or writes anything.

    Returns ``(plan, problems)``; ``problems`` lists what would make the real run fail.
    """
    job = mf.check_job_name(params["job"])
    storages = _destinations([dict(d) for d in params["destinations"]])
    backup_id = mf.new_backup_id(clock.now())
    problems = []
    plan = {"job": job, "backup_id": backup_id, "source": {}, "destinations": [], "encryption": None}
    source = enc = None
    run_dir = rundir.create(params.get("tmp_dir"), sweep_dead=False)[0]  # check mode removes nothing
    try:
        try:
            source = make_source(params["source"], run_dir)
            plan["source"] = {"reachable": True, "facts": source.check(), "estimate_bytes": source.estimate_bytes()}
        except WatchkeeperError as exc:
            plan["source"] = {"reachable": False, "error": exc.describe()}
            problems.append(exc.describe())
        try:
            enc = prepare_encryption(params.get("encryption"), run_dir)
            plan["encryption"] = enc.facts
            ext = mf.stream_ext(True, enc.mode)
        except WatchkeeperError as exc:
            problems.append(exc.describe())
            ext = ".zst.gpg"
        comp = params.get("compression") or {}
        try:
            compression_stage(resolve_level(comp.get("level", "auto")), comp.get("threads", 0))
        except WatchkeeperError as exc:
            problems.append(exc.describe())
        kind = params["source"].get("type")
        roles = list(PLANNED.get(kind, []))
        if kind == "postgres" and params["source"].get("include_globals"):
            roles.insert(0, ("globals", ".sql"))
        if kind == "files" and params["source"].get("mode") == "incremental":
            roles = [("filelist", ".json")]
        keys = [mf.object_key(job, backup_id, role, e + ext) for role, e in roles] + [
            mf.manifest_key(job, backup_id), catalog_index.index_key(job, backup_id)]
        if kind == "files" and params["source"].get("mode") == "incremental":
            keys.insert(0, mf.pack_key(job, "<new-pack-id>", ".tar" + ext) + " (new packs only)")
        plan["keys"] = keys
        for storage in storages:
            try:
                probe = storage.probe()
            except WatchkeeperError as exc:
                probe = {"reachable": False, "writable": False, "free_bytes": None, "detail": exc.describe()}
            entry = {"name": storage.name, "type": storage.kind, "location": storage.describe(),
                     "keys": [storage.location(k) for k in keys]}
            entry.update(probe)
            plan["destinations"].append(entry)
            if not probe.get("reachable") or probe.get("writable") is False:
                problems.append("destination %s: %s" % (storage.name, probe.get("detail")))
        lock = JobLock(params["ops_state"], "job-%s" % job, module="backup")
        holder = lock.read()
        plan["lock"] = {"path": lock.path, "held_by": holder}
        if shared_state.mode(params) == "destination":
            plan["lock"]["destinations"] = [_shared_holder(s, job) for s in storages]
    finally:
        if source is not None:
            source.close()
        if enc is not None:
            enc.cleanup()
        rundir.remove(run_dir)
        for storage in storages:
            storage.close()
    return plan, problems


def _shared_holder(storage, job):
    """check_mode: who holds the job lock in one destination (read only)."""
    lock = shared_state.DestinationLock(storage, job)
    entry = {"destination": storage.name, "key": lock.describe()}
    try:
        entry["held_by"] = lock.read()
    except WatchkeeperError as exc:
        entry["error"] = exc.describe()
    return entry
