# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The history of backup runs: one JSON record per run, failures included, in the ``ops_state`` directory.

Manifests exist only for backups that succeeded; an auditor asking "every backup run of November and how it
ended" needs the failed ones too. The backup module writes, after every run that was not in check mode::

    <ops_state>/history/backup/<job>/<UTC start stamp>-<backup_id>.json

schema ``watchkeeper.ops/backup-run`` version 1: ``job``, ``backup_id``, ``status`` (``ok``: every destination
holds the backup; ``partial``: some do; ``failed``: none), ``started``, ``finished``, ``duration_s``, per
destination its ``name``, ``type``, ``location`` (never credentials), ``status`` and ``error``/``step``, and on
failure the run's ``step`` and ``msg``. Module parameters are never copied (they may hold secrets) and messages
pass through the module's ``no_log`` values first.

A record is written atomically (temporary file, fsync, rename, fsync of the directory). A record that cannot be
written is a warning of the backup task, never a failed backup. ``read_runs`` and ``jobs`` read the history.
"""

import json
import os
import time
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf

SCHEMA = "watchkeeper.ops/backup-run"
SCHEMA_VERSION = 1
BASE = ("history", "backup")
STATUSES = ("ok", "partial", "failed")
DEST_FIELDS = ("name", "type", "location", "status", "error", "step")


def start():
    """What ``record_run`` needs to date a run: ``(UTC start time, monotonic start)``."""
    return clock.now(), time.monotonic()


def run_status(result):
    """``ok``, ``partial`` or ``failed`` from a backup result's destinations."""
    dests = (result or {}).get("destinations") or []
    ok = [d for d in dests if d.get("status") == "ok"]
    if dests and len(ok) == len(dests) and (result or {}).get("status", "ok") == "ok":
        return "ok"
    return "partial" if ok else "failed"


def build_record(job, backup_id, started, finished, duration_s, result=None, error=None, redact=None):
    """The record of one run (pure). ``result``: the backup result (or the one a ``BackupFailed`` carries);
    ``error``: the ``WatchkeeperError`` of a failed run; ``redact``: text -> text that removes secrets."""
    redact = redact or (lambda text: text)
    result = result or {}
    dests = []
    for dest in result.get("destinations") or []:
        entry = dict((k, dest.get(k)) for k in DEST_FIELDS)
        entry["error"] = redact(entry["error"]) if entry["error"] else None
        dests.append(entry)
    doc = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "job": job, "backup_id": backup_id,
           "status": "failed" if error is not None and not dests else run_status(result),
           "started": clock.isoformat(started), "finished": clock.isoformat(finished),
           "duration_s": round(max(0.0, float(duration_s)), 3), "destinations": dests,
           "sizes": dict((k, v) for k, v in (result.get("sizes") or {}).items() if isinstance(v, int)),
           "sha256": result.get("sha256"), "step": None, "msg": None}
    if error is not None:
        doc["step"] = getattr(error, "step", None)
        describe = getattr(error, "describe", None)
        doc["msg"] = redact(describe() if describe else str(error))
    return doc


def job_dir(ops_state, job):
    return os.path.join(ops_state, *(BASE + (mf.check_job_name(job),)))


def record_path(ops_state, doc):
    stamp = clock.compact(clock.parse_time(doc["started"]))
    return os.path.join(job_dir(ops_state, doc["job"]), "%s-%s.json" % (stamp, doc["backup_id"]))


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_record(ops_state, doc):
    """Write one record atomically; returns its path. Raises OSError or ManifestError (bad job name)."""
    if not mf.BACKUP_ID_RE.match(doc.get("backup_id") or ""):
        raise ValueError("not a backup id: %r" % doc.get("backup_id"))
    path = record_path(ops_state, doc)
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o750, exist_ok=True)
    tmp = os.path.join(directory, ".%s.tmp-%s" % (os.path.basename(path), uuid.uuid4().hex[:8]))
    try:
        with open(tmp, "w") as handle:
            handle.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o640)
        os.rename(tmp, path)
        tmp = None
        _fsync_dir(directory)
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
    return path


def record_run(module, ops_state, job, started, result=None, error=None):
    """Record a run of the backup module; a failure to write becomes a warning. Returns the path or None.

    ``started`` is what ``start()`` returned; ``result`` the backup result, ``error`` the exception of a failed
    run. A run without a backup id (it failed before one was made) gets a new one dated at its start."""
    when, mono = started
    try:
        from ansible.module_utils.common.parameters import remove_values
        secrets = set(getattr(module, "no_log_values", None) or ())

        def redact(text):
            return remove_values(text, secrets) if secrets else text
        backup_id = (result or {}).get("backup_id") or mf.new_backup_id(when)
        doc = build_record(job, backup_id, when, clock.now(), time.monotonic() - mono, result, error, redact)
        return write_record(ops_state, doc)
    except Exception as exc:  # pylint: disable=broad-except
        module.warn("the run history record of job %s was not written: %s" % (job, getattr(exc, "strerror", None) or exc))
        return None


# --------------------------------------------------------------------------- reading

def jobs(ops_state):
    """Names of the jobs that have a history directory (sorted)."""
    try:
        names = os.listdir(os.path.join(ops_state, *BASE))
    except OSError:
        return []
    return sorted(n for n in names if mf.JOB_RE.match(n) and os.path.isdir(os.path.join(ops_state, *(BASE + (n,)))))


def _read_file(path):
    with open(path, "rb") as handle:
        return handle.read()


def read_runs(ops_state, job, since=None, until=None, reader=None):
    """``[(path, record or None)]`` of a job's runs that started in ``[since, until)`` (aware datetimes or None),
    oldest first, chosen by the start stamp of the file name. ``reader(path) -> bytes`` reads a file (the
    compliance report passes one that hashes what it read). A file that is not a readable record of this job is
    returned as ``(path, None)``: it must not vanish from a population silently."""
    reader = reader or _read_file
    directory = job_dir(ops_state, job)
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    out = []
    for name in names:
        if not name.endswith(".json") or name.startswith("."):
            continue
        try:
            when = clock.parse_compact(name.split("-", 1)[0])
        except ValueError:
            when = None
        if when is not None and ((since is not None and when < since) or (until is not None and when >= until)):
            continue
        path = os.path.join(directory, name)
        try:
            doc = json.loads(reader(path).decode("utf-8"))
            if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or doc.get("job") != job:
                raise ValueError("not a %s record of job %s" % (SCHEMA, job))
            if doc.get("status") not in STATUSES or not name.endswith("-%s.json" % doc.get("backup_id")):
                raise ValueError("status or backup id do not match the file")
            clock.parse_time(doc["started"])
        except (IOError, OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
            doc = None
        out.append((path, doc))
    return out
