# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a drill report's files and write them to the ``ops_state`` directory or a bucket prefix.

Layout (keys relative to ``ops_state`` or to the destination's root)::

    reports/dr_drill/<drill_id>/report.json      the document (schema watchkeeper.ops/drill-report)
    reports/dr_drill/<drill_id>/report.html      the same, for humans
    reports/dr_drill/<drill_id>/runbooks/<job>.md
    reports/dr_drill/latest.json                 a copy of the newest report.json (overwritten)

In a directory the drill's folder appears at once (built under a hidden name, then renamed) and
``latest.json`` is replaced atomically. In a bucket every object is written with ``put_bytes``,
``report.json`` after the files it lists and ``latest.json`` last.
"""

import hashlib
import json
import os
import re
import shutil
import tempfile

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.report import html as html_report
from ansible_collections.watchkeeper.ops.plugins.module_utils.report import runbook as runbooks

BASE = "reports/dr_drill"
LATEST = BASE + "/latest.json"


def runbook_paths(jobs):
    """``{job id: "runbooks/<safe name>.md"}`` for every job with a runbook; file names made unique."""
    out, used = {}, set()
    for job in jobs:
        if not job.get("runbook"):
            continue
        base = re.sub(r"[^A-Za-z0-9._-]", "_", job["id"]).lstrip(".")[:80] or "job"
        name, n = base, 1
        while name.lower() in used:
            n += 1
            name = "%s-%d" % (base, n)
        used.add(name.lower())
        out[job["id"]] = "runbooks/%s.md" % name
    return out


def render_files(doc):
    """``[(relative path, bytes)]`` of a drill, ``report.json`` last; adds ``files`` (paths and
    SHA-256 of the HTML page and the runbooks) to ``doc``."""
    paths = runbook_paths(doc["jobs"])
    files = []
    for job in doc["jobs"]:
        job["runbook_file"] = paths.get(job["id"])
        if job["runbook_file"]:
            text = runbooks.to_markdown(job["runbook"], doc["drill_id"], doc["finished_at"])
            files.append((job["runbook_file"], text.encode("utf-8")))
    files.append(("report.html", html_report.render(doc, paths).encode("utf-8")))
    doc["files"] = dict((path, {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}) for path, data in files)
    files.append(("report.json", dumps(doc)))
    return files


def dumps(doc):
    return (json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def planned(drill_id, files, ops_state=None, storage=None):
    """Where each file goes: ``{relative path: path or URL}``, plus ``latest``."""
    out = {}
    for rel in [f[0] for f in files] + ["latest"]:
        key = LATEST if rel == "latest" else "%s/%s/%s" % (BASE, drill_id, rel)
        out[rel] = storage.location(key) if storage is not None else os.path.join(ops_state, *key.split("/"))
    return out


def _write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o644)


def write_directory(ops_state, drill_id, files, latest):
    """Publish the drill's folder atomically, then replace ``latest.json``. Raises StorageError."""
    base = os.path.join(ops_state, *BASE.split("/"))
    final = os.path.join(base, drill_id)
    tmp = None
    try:
        os.makedirs(base, exist_ok=True)
        if os.path.lexists(final):
            raise StorageError("%s already exists; refusing to overwrite a drill report" % final, step="write report")
        tmp = tempfile.mkdtemp(prefix=".%s.partial-" % drill_id, dir=base)
        for rel, data in files:
            path = os.path.join(tmp, *rel.split("/"))
            if not os.path.isdir(os.path.dirname(path)):
                os.makedirs(os.path.dirname(path), mode=0o755)
            _write(path, data)
        os.chmod(tmp, 0o755)
        os.rename(tmp, final)
        tmp = None
        partial = os.path.join(base, ".latest.json.partial-%s" % drill_id)
        _write(partial, latest)
        os.replace(partial, os.path.join(base, "latest.json"))
    except OSError as exc:
        raise StorageError("cannot write the drill report under %s: %s" % (base, exc.strerror or exc), step="write report",
                           hint="check that ops_state is writable by the user running the module")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return planned(drill_id, files, ops_state=ops_state)


def write_storage(storage, drill_id, files, latest):
    """Write every file with ``put_bytes`` (report.json after what it lists), ``latest.json`` last."""
    for rel, data in files:
        storage.put_bytes("%s/%s/%s" % (BASE, drill_id, rel), data)
    storage.put_bytes(LATEST, latest, overwrite=True)
    return planned(drill_id, files, storage=storage)
