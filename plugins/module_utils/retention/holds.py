# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Legal hold markers: ``<job>/holds/<backup_id>.json`` in each destination, beside the backups they protect.

A marker is ``{"backup_id", "reason", "case", "created_by", "created_at"}``. While it exists the retention purge
never removes the backup, whatever the policy. A marker that cannot be read still holds its backup (its reason
says so): a damaged marker must not release a hold.
"""

import json

from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError

FIELDS = ("backup_id", "reason", "case", "created_by", "created_at")


def marker_key(job, backup_id):
    return "%s/holds/%s.json" % (job, backup_id)


def marker_doc(backup_id, reason, case, created_by, created_at):
    return {"backup_id": backup_id, "reason": reason, "case": case, "created_by": created_by, "created_at": created_at}


def dumps(doc):
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def describe(doc):
    """``legal hold marker: <reason>; case 42 (by alice, since 2026-11-27T10:00:00Z)``."""
    text = "legal hold marker: %s" % (doc.get("reason") or "no reason given")
    if doc.get("case"):
        text += "; case %s" % doc["case"]
    who = ", ".join(p for p in ("by %s" % doc["created_by"] if doc.get("created_by") else "",
                                "since %s" % doc["created_at"] if doc.get("created_at") else "") if p)
    return text + (" (%s)" % who if who else "")


def parse(data, key):
    """The marker dict, or a dict whose reason says it is unreadable (it still holds)."""
    try:
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        return doc
    except (ValueError, UnicodeDecodeError) as exc:
        return {"reason": "unreadable marker %s (%s); it still holds" % (key, str(exc)[:120])}


def read_markers(storage, job, keys=None):
    """``{backup_id: marker dict}`` for every hold marker of ``job`` in ``storage``; ``keys`` (the keys of a
    listing of the job that the caller already has) saves a listing."""
    out = {}
    prefix = "%s/holds/" % job
    found = [k for k in keys if k.startswith(prefix)] if keys is not None else [i.key for i in storage.list(prefix)]
    for key in found:
        name = key[len(prefix):]
        if "/" in name or not name.endswith(".json") or not mf.BACKUP_ID_RE.match(name[:-5]):
            continue
        try:
            data = storage.get_bytes(key, max_bytes=1024 * 1024)
        except StorageError as exc:
            if "not found" in exc.msg:
                continue  # released between the listing and the read
            raise
        out[name[:-5]] = parse(data, key)
    return out
