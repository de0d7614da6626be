# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evidence collectors of operations: retention reports, maintenance windows, the audit trail, security audits.

Same contract as ``sources_backup``: plain facts for ``evaluate``, the ``query`` that selected the files, the
files as ``evidence`` (path, SHA-256, bytes) and ``present`` false when the source does not exist.
"""

import json
import os

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import verify as audit_verify
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.sign import Verifier, read_key_file
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance.evidence import Evidence, listdir
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance.evidence import iso as _iso, parse_time as _time
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.store import WINDOWS, WindowStore
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as mpolicy
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

RETENTION = ("reports", "retention")
SECURITY = ("reports", "security_audit")
SEVERE = ("high", "critical")


def _stamp(name):
    try:
        return clock.parse_compact(name.split("-", 1)[0].split(".", 1)[0])
    except ValueError:
        return None


def _in(period, when):
    return when is not None and period["start"] <= when < period["end"]


def retention(ops_state, period):
    """Every retention report (``<stamp>-<host>.json``) of the period: failures and tables with a backlog."""
    base = os.path.join(ops_state, *RETENTION)
    ev = Evidence()
    out = {"present": os.path.isdir(base), "source": base, "evidence": ev.files, "reports": [],
           "query": "every file %s/<UTC stamp>-<host>.json (schema watchkeeper.ops/retention-report, written by the "
                    "retention role) whose stamp is in [%s, %s)" % (base, _iso(period["start"]), _iso(period["end"]))}
    for name in listdir(base, ".json"):
        stamp = _stamp(name)
        if stamp is None or not _in(period, stamp):
            continue
        path = os.path.join(base, name)
        doc, why = ev.load_json(path)
        if doc is None or doc.get("schema") != "watchkeeper.ops/retention-report":
            out["reports"].append({"file": path, "unreadable": why or "not a watchkeeper.ops/retention-report"})
            continue
        backlog = []
        for db in doc.get("databases") or []:
            for table in (db or {}).get("tables") or []:
                rows = (table or {}).get("backlog_rows")
                if isinstance(rows, int) and rows > 0:
                    backlog.append({"database": db.get("name"), "table": table.get("table"), "backlog_rows": rows})
        failures = [str(f) for f in doc.get("failures") or []]
        if doc.get("status") not in ("ok", None) and not failures:
            failures = ["the run's status is %s" % doc.get("status")]
        out["reports"].append({"file": path, "host": doc.get("host"), "finished_at": doc.get("finished_at"),
                               "status": doc.get("status"), "check_mode": doc.get("check_mode") in (True, "True", "true"),
                               "backlog": backlog, "failures": failures})
    return out


def maintenance(ops_state, period, target):
    """Windows that ended in the period with their outcomes, through the maintenance module_utils (the same
    selection and KPI as ``maintenance_history``); evidence is each window's immutable version file."""
    root = os.path.join(ops_state, "maintenance")
    ev = Evidence()
    out = {"present": os.path.isdir(os.path.join(ops_state, WINDOWS)), "source": root, "evidence": ev.files,
           "query": "watchkeeper.ops.maintenance_history since=%s until=%s target_pct=%s ops_state=%s (windows completed "
                    "or cancelled in the period, each as maintenance/versions/<id>/<generation>.json)"
                    % (_iso(period["start"]), _iso(period["end"]), target, ops_state), "kpi": None, "windows": [],
           "error": None}
    if not out["present"]:
        return out
    store = WindowStore(open_storage({"type": "local", "name": "ops_state", "path": ops_state, "verify_readback": False}))
    try:
        windows = store.all()
        kpi = mpolicy.kpi(windows, period["start"], period["end"], target=target)
    except (WatchkeeperError, ValueError, KeyError, TypeError) as exc:
        out["error"] = "cannot read the maintenance windows in %s: %s" % (root, exc)
        return out
    generation = dict((w["id"], int(w.get("generation") or 1)) for w in windows)
    for row in kpi["windows"]:
        key = store.version_key(row["id"], generation.get(row["id"], 1))
        path = os.path.join(ops_state, *key.split("/"))
        try:
            ev.read(path)
        except (IOError, OSError):
            path = os.path.join(ops_state, *(WINDOWS + row["id"] + ".json").split("/"))
            ev.read(path)
        out["windows"].append({"id": row["id"], "result": row["result"], "overran_s": row["overran_s"],
                               "finished_at": row["finished_at"], "file": path})
    out["kpi"] = {"within_window_pct": kpi["within_window_pct"], "counts": kpi["counts"]}
    return out


def _trail_files(storage, prefix, period, ev):
    """Evidence of the trail: ``chain.json``, and every segment whose records overlap the period with its checkpoint
    and signature (the open segment too)."""
    for chain, entry in sorted(audit_verify.discover(storage, prefix).items()):
        if entry["meta"]:
            ev.add_bytes(storage.path_for(entry["meta"]), audit_verify.read(storage, entry["meta"]))
        sealed = set()
        for _seq, key in sorted(entry["checkpoints"].items()):
            data = audit_verify.read(storage, key)
            try:
                body = json.loads(data.decode("utf-8"))
                first, last = _time(body.get("first_ts")), _time(body.get("last_ts"))
            except (ValueError, UnicodeDecodeError, AttributeError):
                body, first, last = {}, None, None
            seg_key = key.rsplit("/", 2)[0] + "/" + str(body.get("segment") or "")
            sealed.add(seg_key)
            if first is not None and last is not None and (last < period["start"] or first >= period["end"]):
                continue
            for part in (seg_key, key + ".sig", key + ".asc"):
                if part.endswith("/") or storage.stat(part) is None:
                    continue
                ev.add_bytes(storage.path_for(part), audit_verify.read(storage, part), chain)
            ev.add_bytes(storage.path_for(key), data, chain)
        for _first, key in sorted(entry["segments"].items()):
            if key not in sealed:
                ev.add_bytes(storage.path_for(key), audit_verify.read(storage, key), chain)


def audit_trail(spec, period):
    """Verify the trail in a directory (``audit_verify``'s code) and keep its coverage and gaps. ``spec``: the
    module's ``audit_trail`` option (``path``, ``prefix``, keys) or None. Raises ConfigError for a key that
    cannot be read."""
    ev = Evidence()
    out = {"present": bool(spec and spec.get("path")), "source": None, "evidence": ev.files, "error": None}
    if not out["present"]:
        out["reason"] = "no audit trail configured (option audit_trail)"
        return out
    path, prefix = spec["path"], spec.get("prefix") or ""
    out["source"] = os.path.join(path, prefix) if prefix else path
    out["query"] = ("watchkeeper.ops.audit_verify destination={type: local, path: %s} prefix=%r, then the segments whose "
                    "records overlap [%s, %s) with their checkpoints and signatures"
                    % (path, prefix, _iso(period["start"]), _iso(period["end"])))
    if not os.path.isdir(out["source"]):
        out["present"] = False
        out["reason"] = "the audit trail directory %s does not exist" % out["source"]
        return out
    verifier = Verifier([read_key_file(p) for p in spec.get("hmac_key_files") or []], spec.get("gpg_home"),
                        spec.get("gpg_fingerprints") or [])
    storage = open_storage({"type": "local", "name": "audit_trail", "path": path, "verify_readback": False})
    try:
        result = audit_verify.verify(storage, prefix, verifier)
        _trail_files(storage, prefix, period, ev)
    except (WatchkeeperError, IOError, OSError) as exc:
        out["error"] = "cannot verify the audit trail in %s: %s" % (out["source"], exc)
        return out
    finally:
        storage.close()
    out.update(ok=result["ok"], records=result["records"], chains=len(result["chains"]),
               breaks=sum(len(c["breaks"]) for c in result["chains"]), first_break=result["first_break"],
               coverage=result["coverage"], gaps=result["gaps"], missing_chains=result["missing_chains"])
    return out


def security(ops_state, period):
    """Every security audit of the period (``<stamp>/summary.json``) and the failed high and critical findings of
    the last one (from its ``hosts/<host>.json`` files)."""
    base = os.path.join(ops_state, *SECURITY)
    ev = Evidence()
    out = {"present": os.path.isdir(base), "source": base, "evidence": ev.files, "audits": [], "last": None,
           "findings": [], "host_errors": [], "unreadable": [],
           "query": "every file %s/<stamp>/summary.json (written by security_audit_report) generated in [%s, %s); the "
                    "last one's hosts/<host>.json" % (base, _iso(period["start"]), _iso(period["end"]))}
    for name in listdir(base, dirs=True):
        path = os.path.join(base, name, "summary.json")
        if not os.path.isfile(path):
            continue
        try:
            with open(path, "rb") as handle:
                data = handle.read()
            doc = json.loads(data.decode("utf-8"))
            when = _time(doc.get("generated_at")) or _stamp(name)
        except (IOError, OSError, ValueError, AttributeError, UnicodeDecodeError):
            if _in(period, _stamp(name)):
                out["unreadable"].append(path)
            continue
        if _in(period, when):
            ev.add_bytes(path, data)
            out["audits"].append({"file": path, "stamp": doc.get("stamp") or name, "generated_at": _iso(when),
                                  "hosts": sorted((doc.get("hosts") or {}).keys()), "doc": doc})
    out["audits"].sort(key=lambda a: a["generated_at"])
    if not out["audits"]:
        return out
    last = out["audits"][-1]
    out["last"] = last["stamp"]
    for host, entry in sorted((last["doc"].get("hosts") or {}).items()):
        if entry.get("error"):
            out["host_errors"].append({"host": host, "error": entry["error"]})
        parts = str(entry.get("file") or "").split("/")
        if ".." in parts or not parts[-1]:
            out["unreadable"].append("host %s: bad file name %r in %s" % (host, entry.get("file"), last["file"]))
            continue
        doc, why = ev.load_json(os.path.join(os.path.dirname(last["file"]), *parts))
        if doc is None:
            out["unreadable"].append(why)
            continue
        for finding in doc.get("findings") or []:
            if finding.get("status") == "fail" and finding.get("severity") in SEVERE:
                out["findings"].append({"host": host, "id": finding.get("id"), "severity": finding.get("severity"),
                                        "title": finding.get("title"), "subject": finding.get("subject")})
    for audit in out["audits"]:
        audit.pop("doc")
    return out
