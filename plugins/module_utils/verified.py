# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records of backups that passed a restore verification, in ``<ops_state>/verified/<job>/<backup_id>.json``.

``restore_verify`` (and ``restore``, whose checks are the same) write one record per passed run; retention reads
them so that the newest *proven* backup is never removed. A record is small JSON:
``{"job", "backup_id", "verified_at", "destination", "mode", "checks"}``; the newest verification wins.
"""

import json
import os
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf

DIRNAME = "verified"


def job_dir(ops_state, job):
    mf.check_job_name(job)
    return os.path.join(ops_state, DIRNAME, job)


def write(ops_state, job, backup_id, record):
    """Write (or replace) the record of one backup atomically; returns its path."""
    if not mf.BACKUP_ID_RE.match(backup_id or ""):
        raise ValueError("not a backup id: %r" % backup_id)
    directory = job_dir(ops_state, job)
    os.makedirs(directory, mode=0o750, exist_ok=True)
    path = os.path.join(directory, "%s.json" % backup_id)
    doc = dict(record, job=job, backup_id=backup_id)
    tmp = "%s.tmp-%s" % (path, uuid.uuid4().hex[:8])
    with open(tmp, "w") as handle:
        handle.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def read(ops_state, job):
    """``{backup_id: record}`` for every readable record of ``job`` (unreadable files are skipped)."""
    directory = job_dir(ops_state, job)
    try:
        names = os.listdir(directory)
    except OSError:
        return {}
    out = {}
    for name in names:
        backup_id = name[:-len(".json")] if name.endswith(".json") else None
        if not backup_id or not mf.BACKUP_ID_RE.match(backup_id):
            continue
        try:
            with open(os.path.join(directory, name), "r") as handle:
                doc = json.load(handle)
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("backup_id") == backup_id:
            out[backup_id] = doc
    return out
