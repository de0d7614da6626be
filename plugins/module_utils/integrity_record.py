# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What integrity sweeps found about shared packs, kept where incremental backups look.

``backup_integrity`` with ``ops_state`` records, per job, the verdict of the **last** read of every
shared pack in every destination: ``<ops_state>/integrity/<job>.json``::

    {"schema": "watchkeeper.ops/integrity-packs", "job": "...", "updated_at": "...",
     "packs": {"<job>/packs/<id>.tar.zst.gpg": {"<destination>": {"verdict": "bad", "checked_at": "...",
                                                                 "problem": "shared pack ...: SHA-256 ..."}}}}

An incremental backup of the job (same ``ops_state``) does not reference a pack whose last verdict is
``bad`` in any destination: it reads the files again and stores their chunks in a new pack. A later
sweep that reads the pack good again (it was repaired) clears it. Packs a sweep did not read keep
their earlier verdict. The file is replaced atomically; two sweeps of one job finishing at the same
moment may lose one's update (the next sweep writes it again).
"""

import json
import os
import uuid

SCHEMA = "watchkeeper.ops/integrity-packs"
GOOD, BAD = "good", "bad"


def record_path(ops_state, job):
    return os.path.join(ops_state, "integrity", "%s.json" % job)


def _read(path):
    try:
        with open(path, "r") as handle:
            doc = json.load(handle)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("schema") == SCHEMA and isinstance(doc.get("packs"), dict) else None


def record(ops_state, job, checked_at, verdicts):
    """Merge ``verdicts`` (``{destination: {pack key: problem text, or None when good}}``) into the job's record;
    returns its path."""
    path = record_path(ops_state, job)
    doc = _read(path) or {"schema": SCHEMA, "job": job, "packs": {}}
    for destination, packs in verdicts.items():
        for key, problem in packs.items():
            doc["packs"].setdefault(key, {})[destination] = {
                "verdict": BAD if problem else GOOD, "checked_at": checked_at, "problem": problem}
    doc["updated_at"] = checked_at
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = "%s.tmp-%s" % (path, uuid.uuid4().hex[:8])
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(doc, indent=1, sort_keys=True))
    os.replace(tmp, path)
    return path


def bad_packs(ops_state, job):
    """``{pack key: "destination nas (checked ...): problem"}`` for every pack whose last sweep failed somewhere."""
    if not ops_state:
        return {}
    doc = _read(record_path(ops_state, job)) or {"packs": {}}
    out = {}
    for key, by_destination in doc["packs"].items():
        for destination, seen in sorted((by_destination or {}).items()):
            if isinstance(seen, dict) and seen.get("verdict") == BAD:
                out[key] = "the integrity sweep of %s in destination %s found: %s" % (
                    seen.get("checked_at"), destination, seen.get("problem"))
                break
    return out


# --------------------------------------------------------------------------- the last sweep, per destination
SWEEP_SCHEMA = "watchkeeper.ops/integrity-sweep"


def sweep_path(ops_state, job):
    return os.path.join(ops_state, "integrity", "%s.sweep.json" % job)


def sweep_summary(outcome):
    """One destination's entry from ``backup_integrity``'s per-destination outcome: ``status`` V(passed),
    V(damaged) (a checked backup is bad) or V(failed) (the destination could not be checked), the counts, the bad
    backups (id and first problems) and the reason of a failure."""
    rows = outcome.get("backups") or []
    bad = [{"backup_id": row.get("backup_id"), "problems": list(row.get("problems") or [])[:3]}
           for row in rows if row.get("verdict") == "bad"]
    failed = outcome.get("status") == "failed"
    return {"status": "failed" if failed else "damaged" if bad else "passed",
            "checked": sum(1 for row in rows if row.get("verdict") in ("good", "bad")), "bad": bad[:20],
            "bad_count": len(bad), "reason": outcome.get("error") if failed else None, "step": outcome.get("step") if failed else None}


def record_sweep(ops_state, job, checked_at, destinations):
    """Replace the job's last-sweep record: ``{destination: sweep_summary(...)}``; returns its path. A destination
    not in this sweep keeps its previous entry (a sweep of one destination does not erase the others)."""
    path = sweep_path(ops_state, job)
    doc = last_sweep(ops_state, job) or {"schema": SWEEP_SCHEMA, "job": job, "destinations": {}}
    for name, summary in destinations.items():
        doc["destinations"][name] = dict(summary, checked_at=checked_at)
    doc["updated_at"] = checked_at
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = "%s.tmp-%s" % (path, uuid.uuid4().hex[:8])
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(doc, indent=1, sort_keys=True))
    os.replace(tmp, path)
    return path


def last_sweep(ops_state, job):
    """The job's last-sweep record, or None when there is none (or it is unreadable)."""
    try:
        with open(sweep_path(ops_state, job), "r") as handle:
            doc = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("schema") != SWEEP_SCHEMA or not isinstance(doc.get("destinations"), dict):
        return None
    return doc
