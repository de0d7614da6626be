# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure PostgreSQL insight rules (no I/O): from the facts ``pg_insights`` collected and the
thresholds, the findings ``{kind, severity, object, detail, recommendation}`` and the merged list
of maintenance tasks.

A recommendation is ``None`` (advice only, in ``detail``) or a task of the maintenance role
(``roles/maintenance/tasks/run_one.yml``): ``{name, type: vacuum_analyze, database, tables}``,
``{name, type: reindex, database, indexes}`` or ``{name, type: sql, database, sql}``.
"""

import math

WRAPAROUND_LIMIT = 2 ** 31

DEFAULT_THRESHOLDS = {
    "connections_warning": 0.8,          # share of max_connections in use
    "connections_critical": 0.95,
    "idle_in_transaction_s": 300,        # idle-in-transaction session older than this -> warning
    "idle_in_transaction_critical_s": 3600,
    "long_query_s": 300,                 # active query running longer -> warning
    "lock_wait_s": 30,                   # a session waiting on a lock longer -> warning (any wait is info)
    "cache_hit_ratio": 0.99,             # below -> warning (when enough blocks were read)
    "cache_min_blocks": 10000,
    "replication_lag_bytes": 64 * 1024 ** 2,
    "replication_lag_s": 60,
    "slot_retained_bytes": 1024 ** 3,    # WAL held back by a replication slot
    "xid_age_warning": 0.5,              # share of 2^31 (age(datfrozenxid))
    "xid_age_critical": 0.75,
    "dead_tuples_min": 10000,            # n_dead_tup at least ...
    "dead_tuples_ratio": 0.2,            # ... and at least this share of all tuples -> vacuum_analyze
    "analyze_modified_ratio": 0.5,       # n_mod_since_analyze / n_live_tup -> vacuum_analyze
    "bloat_ratio": 0.3,                  # estimated wasted share of a table or btree index
    "bloat_min_bytes": 10 * 1024 ** 2,
    "unused_index_min_bytes": 1024 ** 2,
    "seq_scan_table_bytes": 100 * 1024 ** 2,
    "seq_scan_min": 10,
    "seq_tup_read_min": 10 ** 7,
    "top_statements": 10,
}


def thresholds(overrides):
    """Defaults updated by ``overrides``; raises ValueError naming an unknown key or a non-number."""
    merged = dict(DEFAULT_THRESHOLDS)
    for key, value in (overrides or {}).items():
        if key not in DEFAULT_THRESHOLDS:
            raise ValueError("unknown threshold %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_THRESHOLDS))))
        if isinstance(value, bool):
            raise ValueError("threshold %s must be a number, not %r" % (key, value))
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError("threshold %s must be a number, not %r" % (key, value))
        if number < 0 or math.isnan(number):
            raise ValueError("threshold %s must be a number >= 0, not %r" % (key, value))
        merged[key] = number
    return merged


def qualified(schema, name):
    """``"schema"."name"`` quoted as PostgreSQL identifiers."""
    return '%s.%s' % (quote_ident(schema), quote_ident(name))


def quote_ident(name):
    return '"%s"' % str(name).replace('"', '""')


def maxalign(size, align=8):
    return int(math.ceil(size / float(align)) * align)


def estimate_bloat(size_bytes, tuples, row_width, block_size=8192, fillfactor=100, tuple_overhead=28, page_overhead=24):
    """Estimated wasted bytes of a heap or btree index (a simple estimate, see docs/monitoring.md).

    Expected size = ceil(tuples / tuples_per_page) pages, tuples_per_page = floor(usable page bytes /
    (tuple_overhead + MAXALIGN(row_width))), usable = (block_size - page_overhead) * fillfactor / 100.
    Returns ``(bloat_bytes, ratio)`` with bloat >= 0, or ``(None, None)`` when it cannot be estimated."""
    if size_bytes is None or tuples is None or row_width is None or size_bytes <= 0 or tuples < 0:
        return None, None
    usable = (block_size - page_overhead) * max(10, min(100, fillfactor)) / 100.0
    per_page = max(1, int(usable // (tuple_overhead + maxalign(row_width))))
    expected = int(math.ceil(tuples / float(per_page))) * block_size
    bloat = max(0, int(size_bytes) - expected)
    return bloat, round(bloat / float(size_bytes), 4)


def blocking_chain(pid, blocked_by):
    """The chain ``[pid, its first blocker, that one's first blocker, ...]`` (stops on a cycle)."""
    chain = [pid]
    while blocked_by.get(chain[-1]):
        nxt = blocked_by[chain[-1]][0]
        if nxt in chain:
            break
        chain.append(nxt)
    return chain


def _finding(kind, severity, obj, detail, recommendation=None):
    return {"kind": kind, "severity": severity, "object": obj, "detail": detail, "recommendation": recommendation}


def _drop_index(database, index):
    name = qualified(index["schema"], index["name"])
    return {"name": "drop index %s" % name, "type": "sql", "database": database, "sql": "DROP INDEX CONCURRENTLY IF EXISTS %s" % name}


def _vacuum(database, tables):
    return {"name": "vacuum analyze %s" % (", ".join(tables) or database), "type": "vacuum_analyze", "database": database,
            "tables": list(tables)}


def _ok(facts, section):
    data = facts.get(section) or {}
    return data if data.get("status") == "ok" else None


def connections_findings(facts, th):
    data = _ok(facts, "connections")
    if not data or not data.get("max_connections"):
        return []
    used = sum(data.get("by_state", {}).values())
    ratio = used / float(data["max_connections"])
    if ratio < th["connections_warning"]:
        return []
    severity = "critical" if ratio >= th["connections_critical"] else "warning"
    return [_finding("connections", severity, "max_connections",
                     "%d of %d connections in use (%.0f %%), by state %s; use a pooler (PgBouncer) or raise max_connections"
                     % (used, data["max_connections"], ratio * 100, data.get("by_state")))]


def activity_findings(facts, th):
    data = _ok(facts, "activity")
    if not data:
        return []
    out = []
    for sess in data.get("idle_in_transaction", []):
        age = sess.get("idle_s") or 0
        if age >= th["idle_in_transaction_s"]:
            severity = "critical" if age >= th["idle_in_transaction_critical_s"] else "warning"
            out.append(_finding("idle_in_transaction", severity, "pid %s" % sess["pid"],
                                "pid %s (%s, application %r, user %s) idle in transaction for %ds (transaction age %ds): it holds its "
                                "locks and its snapshot stops VACUUM; fix the application or pg_terminate_backend(%s), "
                                "and set idle_in_transaction_session_timeout"
                                % (sess["pid"], sess.get("database"), sess.get("application_name"), sess.get("user"), age,
                                   sess.get("xact_s") or 0, sess["pid"])))
    for sess in data.get("long_queries", []):
        age = sess.get("query_s") or 0
        if age >= th["long_query_s"]:
            out.append(_finding("long_query", "warning", "pid %s" % sess["pid"],
                                "pid %s (application %r) has run one query for %ds since %s: %s"
                                % (sess["pid"], sess.get("application_name"), age, sess.get("query_start"), sess.get("query"))))
    return out


def lock_findings(facts, th):
    data = _ok(facts, "locks")
    if not data:
        return []
    blocked_by = dict((w["pid"], w["blocked_by"]) for w in data.get("waits", []))
    out = []
    for wait in data.get("waits", []):
        chain = blocking_chain(wait["pid"], blocked_by)
        wait_s = wait.get("wait_s") or 0
        severity = "warning" if wait_s >= th["lock_wait_s"] else "info"
        out.append(_finding("lock_wait", severity, "pid %s" % wait["pid"],
                            "pid %s has waited %ds for a lock (%s); blocking chain %s (root blocker pid %s); end the root "
                            "blocker's transaction if it is stuck" % (wait["pid"], wait_s, wait.get("query"),
                                                                      " <- ".join(str(p) for p in chain), chain[-1])))
        wait["chain"] = chain
    return out


def cache_findings(facts, th):
    data = _ok(facts, "cache")
    if not data or data.get("ratio") is None:
        return []
    if data.get("blks_hit", 0) + data.get("blks_read", 0) < th["cache_min_blocks"] or data["ratio"] >= th["cache_hit_ratio"]:
        return []
    return [_finding("cache_hit_ratio", "warning", data.get("database"),
                     "cache hit ratio %.4f below %.4f: the working set does not fit shared_buffers (raise it, or find the "
                     "statements that read the most blocks)" % (data["ratio"], th["cache_hit_ratio"]))]


def replication_findings(facts, th):
    data = _ok(facts, "replication")
    if not data:
        return []
    out = []
    for rep in data.get("replicas", []):
        lag_b, lag_s = rep.get("lag_bytes") or 0, rep.get("lag_s") or 0
        if lag_b >= th["replication_lag_bytes"] or lag_s >= th["replication_lag_s"]:
            detail = "replica %s (%s) replays %d bytes / %.1fs behind" % (rep.get("application_name"), rep.get("state"), lag_b, lag_s)
            out.append(_finding("replication_lag", "warning", rep.get("application_name") or rep.get("client_addr"), detail))
    for slot in data.get("slots", []):
        kept = slot.get("retained_bytes") or 0
        if kept >= th["slot_retained_bytes"] or slot.get("wal_status") == "lost":
            severity = "critical" if slot.get("wal_status") in ("unreserved", "lost") or not slot.get("active") else "warning"
            detail = ("replication slot %s (%s, active %s, wal_status %s) retains %d bytes of WAL; drop it with "
                      "pg_drop_replication_slot() if its consumer is gone"
                      % (slot["slot_name"], slot.get("slot_type"), slot.get("active"), slot.get("wal_status"), kept))
            out.append(_finding("slot_retention", severity, "slot %s" % slot["slot_name"], detail))
    return out


def wraparound_findings(facts, th):
    data = _ok(facts, "wraparound")
    if not data:
        return []
    out = []
    for db in data.get("databases", []):
        ratio = (db.get("xid_age") or 0) / float(WRAPAROUND_LIMIT)
        if ratio >= th["xid_age_warning"]:
            severity = "critical" if ratio >= th["xid_age_critical"] else "warning"
            out.append(_finding("xid_wraparound", severity, "database %s" % db["datname"],
                                "age(datfrozenxid) %d is %.0f %% of the 2^31 wraparound limit; VACUUM the database (an old "
                                "transaction or a forgotten slot can stop it)" % (db["xid_age"], ratio * 100),
                                _vacuum(db["datname"], [])))
    return out


def table_findings(facts, th):
    data = _ok(facts, "tables")
    if not data:
        return []
    database, out = data.get("database"), []
    for tab in data.get("tables", []):
        name = qualified(tab["schema"], tab["name"])
        live, dead = tab.get("n_live_tup") or 0, tab.get("n_dead_tup") or 0
        last = "last vacuum %s, autovacuum %s, analyze %s, autoanalyze %s" % (
            tab.get("last_vacuum"), tab.get("last_autovacuum"), tab.get("last_analyze"), tab.get("last_autoanalyze"))
        if dead >= th["dead_tuples_min"] and dead >= th["dead_tuples_ratio"] * (live + dead):
            out.append(_finding("dead_tuples", "warning", name, "%d dead tuples for %d live (%s)" % (dead, live, last),
                                _vacuum(database, [name])))
        elif live and (tab.get("n_mod_since_analyze") or 0) >= th["analyze_modified_ratio"] * live and live >= th["dead_tuples_min"]:
            out.append(_finding("stale_statistics", "info", name, "%d rows changed since the last analyze (%s)"
                                % (tab["n_mod_since_analyze"], last), _vacuum(database, [name])))
        bloat, ratio = tab.get("bloat_bytes"), tab.get("bloat_ratio")
        if bloat is not None and bloat >= th["bloat_min_bytes"] and ratio >= th["bloat_ratio"]:
            if dead >= th["dead_tuples_min"]:
                detail, rec = "dead tuples make up most of it: VACUUM makes the space reusable", _vacuum(database, [name])
            else:
                detail, rec = "free space after VACUUM: only VACUUM FULL or pg_repack (exclusive lock) returns it to the OS", None
            out.append(_finding("table_bloat", "warning" if rec else "info", name, "estimated bloat %d bytes (%.0f %% of %d); %s"
                                % (bloat, ratio * 100, tab.get("size_bytes") or 0, detail), rec))
        if ((tab.get("size_bytes") or 0) >= th["seq_scan_table_bytes"] and (tab.get("seq_scan") or 0) >= th["seq_scan_min"]
                and (tab.get("seq_tup_read") or 0) >= th["seq_tup_read_min"]):
            out.append(_finding("seq_scans", "warning", name,
                                "%d sequential scans read %d rows of a %d-byte table (index scans: %s); find the statements "
                                "(pg_stat_statements) and add an index for their filter" % (
                                    tab["seq_scan"], tab["seq_tup_read"], tab["size_bytes"], tab.get("idx_scan"))))
    return out


def duplicate_groups(indexes):
    """Groups (2+) of indexes with the same table, method, key columns, opclasses, collations, expressions
    and predicate; in each group the index to keep comes first (primary, constraint, unique, most scans, name)."""
    groups = {}
    for idx in indexes:
        key = (idx.get("table_oid"), idx.get("method"), idx.get("indkey"), idx.get("indclass"), idx.get("indcollation"),
               idx.get("exprs") or "", idx.get("predicate") or "")
        groups.setdefault(key, []).append(idx)
    out = []
    for members in groups.values():
        if len(members) > 1:
            out.append(sorted(members, key=lambda i: (not i.get("primary"), not i.get("constraint"), not i.get("unique"),
                                                      -(i.get("idx_scan") or 0), i["name"])))
    return sorted(out, key=lambda g: (g[0]["schema"], g[0]["name"]))


def index_findings(facts, th):
    data = _ok(facts, "indexes")
    if not data:
        return []
    database, out, dropped = data.get("database"), [], set()
    for group in duplicate_groups([i for i in data.get("indexes", []) if i.get("valid", True)]):
        keep = group[0]
        for dup in group[1:]:
            name = qualified(dup["schema"], dup["name"])
            if dup.get("constraint"):
                rec, extra = None, "it backs a constraint: drop the constraint instead if it is redundant"
            else:
                rec, extra = _drop_index(database, dup), "drop it"
                dropped.add(name)
            out.append(_finding("duplicate_index", "warning", name, "same definition as %s on %s (%d bytes): %s"
                                % (qualified(keep["schema"], keep["name"]), dup.get("table"), dup.get("size_bytes") or 0, extra), rec))
    for idx in data.get("indexes", []):
        name = qualified(idx["schema"], idx["name"])
        if name in dropped:
            continue
        if (idx.get("idx_scan") or 0) == 0 and not (idx.get("unique") or idx.get("primary") or idx.get("constraint")) \
                and idx.get("valid", True) and (idx.get("size_bytes") or 0) >= th["unused_index_min_bytes"]:
            detail = ("never scanned since the statistics reset (%s), %d bytes, on %s; check the replicas before "
                      "dropping (their scans are not counted here)" % (data.get("stats_reset"), idx.get("size_bytes") or 0, idx.get("table")))
            out.append(_finding("unused_index", "warning", name, detail, _drop_index(database, idx)))
            continue
        bloat, ratio = idx.get("bloat_bytes"), idx.get("bloat_ratio")
        if bloat is not None and bloat >= th["bloat_min_bytes"] and ratio >= th["bloat_ratio"]:
            out.append(_finding("index_bloat", "warning", name, "estimated bloat %d bytes (%.0f %% of %d)"
                                % (bloat, ratio * 100, idx.get("size_bytes") or 0),
                                {"name": "reindex %s" % name, "type": "reindex", "database": database, "indexes": [name]}))
    return out


def statement_findings(facts, th):
    data = _ok(facts, "statements")
    if not data or not data.get("installed"):
        return []
    out = []
    for stmt in data.get("top", [])[:int(th["top_statements"])]:
        out.append(_finding("top_statement", "info", "queryid %s" % stmt.get("queryid"),
                            "%s calls, %.1f ms in total, %.2f ms mean, %s blocks read: %s" % (
                                stmt.get("calls"), stmt.get("total_ms") or 0, stmt.get("mean_ms") or 0,
                                stmt.get("shared_blks_read"), stmt.get("query"))))
    return out


RULES = (connections_findings, activity_findings, lock_findings, cache_findings, replication_findings, wraparound_findings,
         table_findings, index_findings, statement_findings)
RANK = {"ok": 0, "info": 0, "warning": 1, "critical": 2}


def merge_recommendations(findings):
    """The maintenance tasks of the findings, deduplicated; VACUUM tasks of one database merged."""
    tasks, vacuums, seen = [], {}, set()
    for finding in findings:
        rec = finding.get("recommendation")
        if not rec:
            continue
        if rec["type"] == "vacuum_analyze":
            entry = vacuums.get(rec["database"])
            if entry is None:
                entry = vacuums[rec["database"]] = dict(rec, tables=list(rec["tables"]))
                tasks.append(entry)
            elif not entry["tables"] or not rec["tables"]:
                entry["tables"] = []
            else:
                entry["tables"] += [t for t in rec["tables"] if t not in entry["tables"]]
            continue
        key = (rec["type"], rec.get("database"), rec.get("sql"), tuple(rec.get("indexes") or ()))
        if key not in seen:
            seen.add(key)
            tasks.append(dict(rec))
    for entry in vacuums.values():
        entry["name"] = "vacuum analyze %s" % (", ".join(entry["tables"]) or entry["database"])
    return tasks


def assess(facts, overrides=None):
    """``{"status", "findings", "recommendations"}``; status is the worst severity (info counts as ok)."""
    th = thresholds(overrides)
    findings = []
    for section in sorted(facts):
        data = facts[section] or {}
        if data.get("status") in ("skipped", "error"):
            findings.append(_finding("section_%s" % data["status"], "info" if data["status"] == "skipped" else "warning",
                                     "section %s" % section, data.get("reason") or "not collected"))
    for rule in RULES:
        findings.extend(rule(facts, th))
    status = "ok"
    for finding in findings:
        if RANK[finding["severity"]] > RANK[status]:
            status = finding["severity"]
    return {"status": status, "findings": findings, "recommendations": merge_recommendations(findings)}
