# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One restore, verified: choose -> download and decode -> restore -> check -> swap or clean up.

``run_restore(params, mode)`` serves both modules:

* ``verify`` (``restore_verify``): into scratch space whose name this code generates (a database
  on the configured server, a file, a directory), never the source; always removed at the end.
* ``restore`` (``restore``): into a named target. The restored data is staged under a scratch name,
  checked, and only then swapped in (``target.py``), so a failed restore never touches the target.

Destinations are tried in order: one that is unreachable, has no matching backup or whose copy fails
its checksum is recorded in ``attempts`` and the next one is used. Timings: ``select_s`` (catalogs and
manifest), ``download_decrypt_s``, ``restore_data_s``, ``indexes_constraints_s``, ``checks_s``,
``cleanup_s``; ``restore_s`` is download through indexes, ``total_s`` everything but the cleanup (the
time until the data is known good), which is the measured RTO.
"""

import json
import os
import shutil
import time

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock, rundir, verified
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.catalog import read_catalog
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import (
    ConfigError, ManifestError, StorageError, WatchkeeperError)
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import fingerprint as policy_fp
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy.freshness import parse_duration
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore import content as rcontent
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore import files as rfiles
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore import globals as rglobals
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore import sqlite as rsqlite
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.decrypt import DecryptionPlan
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.fetch import (
    decode_to_file, decode_to_reader, verify_checksum)
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.postgres import PgServer, scratch_name
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.select import choose
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.summary import backup_summary, destination_summary
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.target import Target
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage


class RestoreFailed(WatchkeeperError):
    """A failure with the partial result (attempts, timings, checks) for ``fail_json``."""

    def __init__(self, cause, result):
        super(RestoreFailed, self).__init__(cause.msg, step=cause.step, destination=cause.destination, hint=cause.hint)
        self.result = result


class ChecksFailed(WatchkeeperError):
    pass


def _objects(manifest, role):
    return [o for o in manifest["objects"] if o["role"] == role]


class _Run(object):
    def __init__(self, params, mode, check_mode, log):
        self.params = params
        self.mode = mode
        self.check_mode = check_mode
        self.log = log or (lambda msg: None)
        self.job = mf.check_job_name(params["job"])
        self.started = time.monotonic()
        self.started_at = clock.now()
        self.phases = {}
        self.attempts = []
        self.checks = []
        self.cleaned = []
        self.storage = None
        self.spec = None
        self.manifest = None
        self.kind = None
        self.server = None
        self.scratch = None  # {"kind", "name", "removed"}
        self.work = None
        self.secret_dir = None
        self.decryption = None
        self.target = None
        self.safety = None
        self.dump_path = None  # postgres: the decoded dump
        self.tree = None  # files: what was rebuilt
        self.filelist = None  # files: the backup's file list
        self.globals = None  # postgres with restore_globals: what the replay of the globals object did
        self.deadline = self.started + params["timeout"] if params.get("timeout") else None

    def remaining(self):
        return None if self.deadline is None else max(1.0, self.deadline - time.monotonic())

    def timed(self, phase, fn, *args):
        started = time.monotonic()
        try:
            return fn(*args)
        finally:
            self.phases[phase] = round(self.phases.get(phase, 0.0) + time.monotonic() - started, 3)

    # -- 1. where ----------------------------------------------------------------------------
    def prepare(self):
        base = self.params.get("scratch_dir") or self.params.get("tmp_dir")
        if base:
            os.makedirs(base, mode=0o700, exist_ok=True)
        self.work, swept = rundir.create(base)
        self.secret_dir = self.work
        if base and base != self.params.get("tmp_dir"):
            # GnuPG's agent socket must fit in a unix socket path (108 bytes): keys live in a short temporary path.
            self.secret_dir, more = rundir.create(self.params.get("tmp_dir"))
            swept += more
        self.cleaned += ["directory %s (left by a killed run)" % p for p in swept]
        self.decryption = DecryptionPlan(self.params.get("decryption"), tmp_dir=self.secret_dir)

    def select(self, spec):
        storage = open_storage(spec)
        try:
            backups, _incomplete = read_catalog(storage, self.job, validate=True)
            entry, reason = choose(backups, self.params.get("backup_id"), self.params.get("at_or_before"))
            if entry is None:
                raise ManifestError("%s for job %s in %s" % (reason, self.job, storage.describe()), step="select",
                                    destination=storage.name)
            return storage, mf.loads(storage.get_bytes(entry["manifest_key"]), entry["manifest_key"])
        except Exception:
            storage.close()
            raise

    def each_destination(self, work_fn):
        """Run ``work_fn(storage, manifest)`` with the first destination that can provide the backup."""
        last = None
        for spec in self.params["destinations"]:
            name = spec.get("name") or spec.get("type")
            attempt = {"destination": name, "status": "failed", "backup_id": None, "error": None}
            self.attempts.append(attempt)
            storage = None
            try:
                storage, manifest = self.timed("select_s", self.select, spec)
                attempt["backup_id"] = manifest["backup_id"]
                self.kind = manifest["source"]["kind"]
                if self.target:
                    self.target.check_kind(self.kind)
                if not self.params.get("existing_database"):  # nothing is decrypted then
                    self.decryption.prepare().check_backup(manifest.get("encryption"))
                if self.kind == "postgres" and not self.check_mode:
                    self.open_server(manifest)  # a server that is down fails before anything is downloaded
                self.checks = []
                work_fn(storage, manifest)
            except (StorageError, ManifestError) as exc:
                # Only what is wrong with this destination's copy moves on to the next one; keys, options, the
                # scratch space and the server fail the same way everywhere.
                if exc.destination is None:
                    exc.destination = name
                attempt["error"] = exc.describe()
                last = exc
                self.log("restore: destination %s failed: %s" % (name, exc.describe()))
                self.discard_download()
                if storage is not None:
                    storage.close()
                continue
            except WatchkeeperError as exc:
                attempt["error"] = exc.describe()
                if storage is not None:
                    storage.close()
                raise
            attempt["status"] = "ok"
            self.storage, self.spec, self.manifest = storage, spec, manifest
            return
        raise ManifestError("no destination could provide a good copy of job %s: %s" % (
            self.job, "; ".join("%s: %s" % (a["destination"], a["error"]) for a in self.attempts)),
            step=last.step if last else "select", destination=last.destination if last else None)

    # -- 2. download and decode --------------------------------------------------------------
    def download_dir(self):
        path = os.path.join(self.work, "download")
        os.makedirs(path, mode=0o700, exist_ok=True)
        return path

    def discard_download(self):
        shutil.rmtree(os.path.join(self.work, "download"), ignore_errors=True)
        if self.scratch and self.scratch["kind"] == "directory":
            rfiles.remove_tree(self.scratch["name"])
        elif self.scratch and self.scratch["kind"] == "file" and os.path.exists(self.scratch["name"]):
            os.unlink(self.scratch["name"])

    def check_available(self, storage, manifest):
        """check_mode: every object present with the manifest's size and SHA-256; nothing decoded."""
        for obj in backup_summary(manifest)["objects"]:
            started = time.monotonic()
            verify_checksum(storage, obj)
            self.checks.append({"name": "object %s" % obj["key"], "kind": "integrity", "passed": True,
                                "expected": obj["sha256"], "found": obj["sha256"], "detail": None,
                                "duration_s": round(time.monotonic() - started, 3)})

    def download(self, storage, manifest):
        self.decryption.prepare()
        kind = manifest["source"]["kind"]
        rglobals.require(self.params, manifest)  # restore_globals without a globals object fails before any download
        if kind == "postgres":
            self.dump_path = os.path.join(self.download_dir(), "%s.pgdump" % manifest["backup_id"])
            self.timed("download_decrypt_s", decode_to_file, storage, _objects(manifest, "dump")[0], self.decryption,
                       self.dump_path, self.remaining())
            if rcontent.method(self.params.get("checks"), manifest.get("fingerprint")) == "dump":
                self.timed("checks_s", rcontent.check_dump_copy, self, manifest)
        elif kind == "sqlite":
            path = self.target.staging_file() if self.target else os.path.join(self.download_dir(), "restore.sqlite")
            self.scratch = {"kind": "file", "name": path, "removed": False}
            self.timed("download_decrypt_s", decode_to_file, storage, _objects(manifest, "db")[0], self.decryption,
                       path, self.remaining())
        elif kind == "files":
            self.download_files(storage, manifest)
        else:
            raise ManifestError("backup kind %r cannot be restored by this version" % kind, step="select")

    def download_files(self, storage, manifest):
        root = self.target.staging_dir() if self.target else os.path.join(self.download_dir(), "tree")
        os.makedirs(root, mode=0o700, exist_ok=True)
        self.scratch = {"kind": "directory", "name": root, "removed": False}
        self.tree = rfiles.Tree(root, apply_owner=self.mode == "restore")
        filelist_obj = _objects(manifest, "filelist")[0]
        self.filelist = self.timed("download_decrypt_s", decode_to_reader, storage, filelist_obj, self.decryption,
                                   json.load, self.remaining())
        if (manifest.get("files") or {}).get("mode") == "incremental":
            blobs = os.path.join(self.download_dir(), "chunks")
            os.makedirs(blobs, exist_ok=True)
            for pack in manifest["files"]["packs"]:
                self.timed("download_decrypt_s", decode_to_reader, storage, pack, self.decryption,
                           lambda stream: rfiles.unpack_chunks(stream, blobs), self.remaining())
            self.timed("restore_data_s", rfiles.rebuild_from_chunks, self.filelist, blobs, self.tree)
        else:
            self.timed("download_decrypt_s", decode_to_reader, storage, _objects(manifest, "tar")[0], self.decryption,
                       lambda stream: rfiles.extract_tar(stream, self.tree), self.remaining())
        self.tree.finish()

    # -- 3. restore ---------------------------------------------------------------------------
    def open_server(self, manifest=None):
        """The PostgreSQL server (connected, pg_restore found, leftovers of killed runs dropped), once per run."""
        manifest = manifest or self.manifest
        if self.server is None:
            if not self.params.get("server"):
                raise ConfigError("restoring a PostgreSQL backup needs 'server' (where the %s database is created)"
                                  % ("scratch" if self.mode == "verify" else "target"), step="configure")
            self.server = PgServer(self.params["server"], tmp_dir=self.work)
            self.server.check(manifest["source"].get("client_version") if manifest else None)
            self.cleaned += self.server.sweep_scratch(parse_duration(self.params.get("scratch_max_age") or "24h"))
        return self.server

    def restore_postgres(self):
        server = self.open_server()
        name = scratch_name(self.job)
        server.create(name)
        self.scratch = {"kind": "database", "name": name, "removed": False, "server": server.where()}
        jobs = self.params.get("jobs") or os.cpu_count() or 1
        phases = server.pg_restore(self.dump_path, name, jobs, scratch=self.mode == "verify",
                                   no_owner=self.params.get("no_owner", False), timeout=self.remaining())
        for phase, seconds in phases.items():
            self.phases[phase] = round(self.phases.get(phase, 0.0) + seconds, 3)
        os.unlink(self.dump_path)

    # -- 4. checks ----------------------------------------------------------------------------
    def run_checks(self):
        checks_opt = self.params.get("checks") or {}
        assertions = checks_opt.get("assertions") or []
        backup_time = clock.parse_time(self.manifest["created_at"])
        fingerprint = self.manifest.get("fingerprint") or {}
        want_fp = checks_opt.get("fingerprint", True) and fingerprint.get("tables") is not None
        if self.kind == "postgres":
            name = self.scratch["name"]
            if want_fp:
                jobs = self.params.get("jobs") or os.cpu_count() or 1
                if rcontent.method(checks_opt, fingerprint) == "database":
                    self.checks += rcontent.verify_database(self.server, name, fingerprint, jobs, self.remaining())
                else:
                    found = self.server.fingerprint(name, fingerprint["tables"], jobs)
                    self.checks += policy_fp.compare(fingerprint["tables"], found)
            self.checks += self.server.assertions(name, assertions, backup_time)
        elif self.kind == "sqlite":
            path = self.scratch["name"]
            self.checks.append(rsqlite.integrity(path))
            if want_fp and self.checks[-1]["passed"]:
                self.checks += policy_fp.compare(fingerprint["tables"], rsqlite.fingerprint(path))
            self.checks += rsqlite.assertions(path, assertions, backup_time)
        else:
            self.checks += rfiles.compare(self.filelist, self.tree.entries)
        failed = [c for c in self.checks if not c["passed"]]
        if failed:
            raise ChecksFailed("%d of %d checks failed on the restored data of %s (backup %s): %s" % (
                len(failed), len(self.checks), self.job, self.manifest["backup_id"],
                "; ".join(policy_fp.mismatches(failed)[:10])), step="checks")

    # -- 5. clean up --------------------------------------------------------------------------
    def cleanup(self):
        started = time.monotonic()
        if self.scratch and not self.scratch.get("kept"):
            try:
                if self.scratch["kind"] == "database":
                    self.server.drop(self.scratch["name"])
                elif self.scratch["kind"] == "file" and os.path.exists(self.scratch["name"]):
                    os.unlink(self.scratch["name"])
                elif self.scratch["kind"] == "directory":
                    rfiles.remove_tree(self.scratch["name"])
                self.scratch["removed"] = True
            except (WatchkeeperError, OSError) as exc:
                self.scratch["removed"] = False
                self.scratch["error"] = str(exc)
        if self.target:
            self.target.release()
        if self.decryption:
            self.decryption.cleanup()
        if self.server:
            self.server.close()
        if self.storage:
            self.storage.close()
        for path in {self.work, self.secret_dir} - {None}:
            rundir.remove(path)
        self.phases["cleanup_s"] = round(time.monotonic() - started, 3)

    # -- result -------------------------------------------------------------------------------
    def result(self):
        phases = dict((k, self.phases.get(k, 0.0)) for k in (
            "select_s", "download_decrypt_s", "restore_data_s", "indexes_constraints_s", "checks_s", "cleanup_s"))
        phases["restore_s"] = round(phases["download_decrypt_s"] + phases["restore_data_s"]
                                    + phases["indexes_constraints_s"], 3)
        phases["total_s"] = round(sum(phases[k] for k in ("select_s", "download_decrypt_s", "restore_data_s",
                                                          "indexes_constraints_s", "checks_s")), 3)
        out = {"job": self.job, "kind": self.kind, "mode": self.mode, "attempts": self.attempts, "rto": phases,
               "checks": self.checks, "mismatches": policy_fp.mismatches(self.checks), "cleaned_up": self.cleaned,
               "scratch": self.scratch, "passed": False, "backup_id": None, "created_at": None,
               "verify_started_at": clock.isoformat(self.started_at)}
        if self.manifest:
            created = clock.parse_time(self.manifest["created_at"])
            out.update(backup_id=self.manifest["backup_id"], created_at=self.manifest["created_at"],
                       backup=backup_summary(self.manifest),
                       destination=destination_summary(self.spec, self.storage.describe()),
                       rpo={"achieved_s": round(max(0.0, (self.started_at - created).total_seconds()), 1),
                            "backup_created_at": self.manifest["created_at"],
                            "verify_started_at": clock.isoformat(self.started_at)})
        if self.target:
            out["target"] = self.target.describe()
        if self.safety:
            out["safety_backup"] = self.safety
        if self.globals is not None:
            out["globals"] = self.globals
        return out


def run_restore(params, mode="verify", check_mode=False, log=None):
    """Returns the result dict; raises ``RestoreFailed`` (with the partial result) on any failure."""
    run = _Run(params, mode, check_mode, log)
    error = None
    try:
        run.prepare()
        if mode == "restore":
            run.target = Target(params, run)
        if params.get("existing_database"):
            if (params.get("checks") or {}).get("content") == "dump":
                raise ConfigError("checks.content=dump reads the backup's dump, which existing_database does not "
                                  "download: use database or none", step="configure")
            # Read-only, so the same in check mode: the manifest against the database as it is.
            run.each_destination(lambda storage, manifest: rcontent.use_existing(run, manifest))
            run.timed("checks_s", run.run_checks)
        elif check_mode:
            run.each_destination(run.check_available)
            if run.target:
                run.target.plan()
            run.globals = rglobals.apply(run)
        else:
            if run.target:
                run.target.preflight()
            run.each_destination(run.download)
            run.globals = rglobals.apply(run)  # roles before the database that needs them
            if run.kind == "postgres":
                run.restore_postgres()
            run.timed("checks_s", run.run_checks)
            if run.target:
                run.target.swap_in()
    except WatchkeeperError as exc:
        error = exc
    finally:
        run.cleanup()
    result = run.result()
    if error is not None:
        raise RestoreFailed(error, dict(result, passed=False, changed=bool(run.safety)))
    if params.get("existing_database"):
        result.update(passed=True, changed=False, status="matches", verified_record=None)
    elif check_mode:
        result.update(passed=True, status="available", changed=False)
    else:
        result.update(passed=True, changed=mode == "restore", status="restored" if mode == "restore" else "verified")
        result["verified_record"] = _record(params, mode, result, log)
    return result


def _record(params, mode, result, log):
    """Remember the passed verification for retention (the newest proven backup is never purged).

    A record that cannot be written does not undo the proof: it is logged and returned as None."""
    try:
        # Locally and (shared_state: destination) in the destination it was verified from, for every controller.
        return verified.record(params, result["job"], result["backup_id"], {
            "verified_at": clock.isoformat(clock.now()), "mode": mode,
            "destination": (result.get("destination") or {}).get("name"),
            "checks": len(result.get("checks") or [])}, log=log)[0]
    except (OSError, ValueError, WatchkeeperError) as exc:
        if log:
            log("restore: could not write the verification record: %s" % exc)
        return None
