# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's report files under ``<ops_state>/reports/security_audit/``::

    <stamp>/hosts/<host>.json    one host's findings (schema watchkeeper.ops/security-audit-host)
    <stamp>/summary.json         the fleet summary: counts, failed rule ids per host, new and fixed findings
    latest.json                  a copy of the newest summary.json (compared with by the next audit)

``new``: failing now, not failing in the previous audit; ``fixed``: failing then, passing or absent now
(for a host audited both times). Built pure (``build_summary``), written by ``write``."""

import json
import os
import re
import shutil
import tempfile

from ansible_collections.watchkeeper.ops.plugins.module_utils.security import rules as rl

SCHEMA = "watchkeeper.ops/security-audit"
BASE = ("reports", "security_audit")
SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def failing_keys(findings):
    return set(rl.key(f) for f in findings if f["status"] == rl.FAIL)


def build_summary(stamp, hosts, previous=None, generated_at=None):
    """``hosts``: ``{name: {"findings": [...], ...}}``; ``previous``: the last summary (or None)."""
    prev_hosts = (previous or {}).get("hosts") or {}
    out_hosts, new, fixed, totals = {}, [], [], dict((s, 0) for s in rl.STATUSES)
    for name in sorted(hosts):
        findings = hosts[name].get("findings") or []
        counts = rl.counts(findings)
        for status, count in counts.items():
            totals[status] += count
        now_failing = failing_keys(findings)
        entry = {"counts": counts, "failed": rl.failed_ids(findings), "failing": sorted(now_failing),
                 "error": hosts[name].get("error"), "file": "hosts/%s.json" % SAFE.sub("_", name)}
        if name in prev_hosts:
            before = set(prev_hosts[name].get("failing") or [])
            entry["new"], entry["fixed"] = sorted(now_failing - before), sorted(before - now_failing)
        else:
            entry["new"], entry["fixed"] = sorted(now_failing), []
        new += ["%s|%s" % (name, k) for k in entry["new"]]
        fixed += ["%s|%s" % (name, k) for k in entry["fixed"]]
        out_hosts[name] = entry
    return {"schema": SCHEMA + "-summary", "schema_version": 1, "stamp": stamp, "generated_at": generated_at,
            "previous": (previous or {}).get("stamp"), "hosts": out_hosts, "counts": totals,
            "hosts_failing": sorted(h for h, e in out_hosts.items() if e["failed"] or e["error"]),
            "new": new, "fixed": fixed}


def host_doc(stamp, name, result):
    return {"schema": SCHEMA + "-host", "schema_version": 1, "stamp": stamp, "host": name,
            "audited_at": result.get("audited_at"), "error": result.get("error"),
            "counts": rl.counts(result.get("findings") or []), "findings": result.get("findings") or []}


def read_latest(ops_state):
    path = os.path.join(ops_state, *(BASE + ("latest.json",)))
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def _dump(path, doc):
    with open(path, "w") as handle:
        handle.write(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o640)


def write(ops_state, stamp, hosts, summary):
    """Publish ``<stamp>/`` atomically (built under a hidden name, renamed) then replace latest.json."""
    base = os.path.join(ops_state, *BASE)
    os.makedirs(base, mode=0o750, exist_ok=True)
    final = os.path.join(base, stamp)
    if os.path.lexists(final):
        raise OSError("%s already exists; refusing to overwrite an audit" % final)
    tmp = tempfile.mkdtemp(prefix=".%s.partial-" % stamp, dir=base)
    try:
        os.mkdir(os.path.join(tmp, "hosts"), 0o750)
        for name, result in hosts.items():
            _dump(os.path.join(tmp, summary["hosts"][name]["file"]), host_doc(stamp, name, result))
        _dump(os.path.join(tmp, "summary.json"), summary)
        os.chmod(tmp, 0o750)
        os.rename(tmp, final)
        tmp = None
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    partial = os.path.join(base, ".latest.json.partial-%s" % stamp)
    _dump(partial, summary)
    os.replace(partial, os.path.join(base, "latest.json"))
    return final
