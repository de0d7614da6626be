# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a compliance report's files. Layout (the default ``output_dir``)::

    <ops_state>/reports/compliance/<period label>/<report_id>.json   the document
    <ops_state>/reports/compliance/<period label>/<report_id>.html   the same, for humans (self-contained)
    <ops_state>/reports/compliance/latest.json                       a copy of the newest JSON (replaced)

A report file is never overwritten (each run has its own ``report_id``); each is written to a hidden temporary
file, fsynced, then linked to its name. The JSON lists the HTML's SHA-256, so the pair can be checked.
"""

import json
import os
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import html
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance.evidence import sha256_bytes

BASE = ("reports", "compliance")


def default_dir(ops_state, label):
    return os.path.join(ops_state, *(BASE + (label,)))


def latest_path(ops_state):
    return os.path.join(ops_state, *(BASE + ("latest.json",)))


def dumps(doc):
    return (json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def render(doc, formats):
    """``[(file name, bytes)]`` in writing order (HTML first, its hash recorded in the JSON)."""
    files = []
    doc["files"] = {}
    if "html" in formats:
        page = html.render(doc).encode("utf-8")
        name = "%s.html" % doc["report_id"]
        doc["files"]["html"] = {"name": name, "sha256": sha256_bytes(page), "bytes": len(page)}
        files.append((name, page))
    if "json" in formats:
        files.append(("%s.json" % doc["report_id"], dumps(doc)))
    return files


def planned(output_dir, ops_state, files):
    out = dict((name.rsplit(".", 1)[1], os.path.join(output_dir, name)) for name, _data in files)
    out["latest"] = latest_path(ops_state) if "json" in out else None
    return out


def _write_new(path, data, replace=False):
    tmp = os.path.join(os.path.dirname(path), ".%s.partial-%s" % (os.path.basename(path), uuid.uuid4().hex[:8]))
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o640)
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # refuses to replace an existing report
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def write(output_dir, ops_state, files):
    """Write the files, then replace ``latest.json``; returns ``planned(...)``. Raises OSError."""
    os.makedirs(output_dir, mode=0o750, exist_ok=True)
    for name, data in files:
        _write_new(os.path.join(output_dir, name), data)
    where = planned(output_dir, ops_state, files)
    if where["latest"]:
        os.makedirs(os.path.dirname(where["latest"]), mode=0o750, exist_ok=True)
        _write_new(where["latest"], [d for n, d in files if n.endswith(".json")][0], replace=True)
    return where
