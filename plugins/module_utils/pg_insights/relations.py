# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sections of the connected database: tables (dead tuples, (auto)vacuum/analyze, sequential
scans, estimated bloat), indexes (scans, definition keys for duplicates, estimated btree bloat) and
``pg_stat_statements``. ``pg_relation_size`` takes AccessShare on each relation, so a table held in
ACCESS EXCLUSIVE makes the section wait at most ``lock_timeout`` and be reported as skipped."""

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy.pg_insights import estimate_bloat

TABLES_SQL = """
SELECT s.schemaname, s.relname, s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze, s.seq_scan, s.seq_tup_read, s.idx_scan,
       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze, s.vacuum_count, s.autovacuum_count,
       pg_relation_size(s.relid), c.reltuples,
       (SELECT sum((1 - st.null_frac) * st.avg_width) FROM pg_stats st
         WHERE st.schemaname = s.schemaname AND st.tablename = s.relname AND NOT st.inherited),
       coalesce((SELECT split_part(o, '=', 2)::int FROM unnest(c.reloptions) o WHERE o LIKE 'fillfactor=%%'), 100)
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE c.relkind = 'r'
ORDER BY c.relpages DESC, 1, 2 LIMIT %s
"""

INDEXES_SQL = """
SELECT s.schemaname, s.relname, s.indexrelname, s.idx_scan, i.indisunique, i.indisprimary, i.indisvalid,
       EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid), pg_relation_size(i.indexrelid),
       ic.reltuples, am.amname, i.indrelid::bigint, i.indkey::text, i.indclass::text, i.indcollation::text,
       pg_get_expr(i.indexprs, i.indrelid), pg_get_expr(i.indpred, i.indrelid), pg_get_indexdef(i.indexrelid),
       (SELECT sum(coalesce(st.avg_width, 8)) FROM unnest(i.indkey) k
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k
          LEFT JOIN pg_stats st ON st.schemaname = s.schemaname AND st.tablename = s.relname AND st.attname = a.attname
                                AND NOT st.inherited),
       coalesce((SELECT split_part(o, '=', 2)::int FROM unnest(ic.reloptions) o WHERE o LIKE 'fillfactor=%%'), 90)
FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
ORDER BY ic.relpages DESC, 1, 3 LIMIT %s
"""


def _iso(value):
    return None if value is None else value.isoformat()


def _block_size(cur):
    cur.execute("SELECT current_setting('block_size')::int, current_database()")
    return cur.fetchone()


def tables(cur, options):
    block, database = _block_size(cur)
    cur.execute(TABLES_SQL, (options["max_rows_relations"],))
    out = []
    for r in cur.fetchall():
        size, tuples, width = int(r[14]), float(r[15]), r[16]
        bloat, ratio = (None, None)
        if width is not None and tuples >= 0:
            bloat, ratio = estimate_bloat(size, tuples, float(width), block_size=block, fillfactor=r[17], tuple_overhead=28)
        out.append({"schema": r[0], "name": r[1], "n_live_tup": int(r[2]), "n_dead_tup": int(r[3]),
                    "n_mod_since_analyze": int(r[4]), "seq_scan": int(r[5] or 0), "seq_tup_read": int(r[6] or 0),
                    "idx_scan": None if r[7] is None else int(r[7]), "last_vacuum": _iso(r[8]), "last_autovacuum": _iso(r[9]),
                    "last_analyze": _iso(r[10]), "last_autoanalyze": _iso(r[11]), "vacuum_count": int(r[12]),
                    "autovacuum_count": int(r[13]), "size_bytes": size, "reltuples": tuples,
                    "bloat_bytes": bloat, "bloat_ratio": ratio})
    return {"database": database, "block_size": block, "tables": out}


def indexes(cur, options):
    block, database = _block_size(cur)
    cur.execute("SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()")
    stats_reset = _iso(cur.fetchone()[0])
    cur.execute(INDEXES_SQL, (options["max_rows_relations"],))
    out = []
    for r in cur.fetchall():
        size, tuples, method, exprs, width = int(r[8]), float(r[9]), r[10], r[15], r[18]
        bloat, ratio = (None, None)
        if method == "btree" and exprs is None and width is not None and tuples >= 0:
            bloat, ratio = estimate_bloat(max(0, size - block), tuples, float(width), block_size=block, fillfactor=r[19],
                                          tuple_overhead=12, page_overhead=40)
        out.append({"schema": r[0], "table": "%s.%s" % (r[0], r[1]), "name": r[2], "idx_scan": int(r[3] or 0), "unique": r[4],
                    "primary": r[5], "valid": r[6], "constraint": r[7], "size_bytes": size, "reltuples": tuples, "method": method,
                    "table_oid": r[11], "indkey": r[12], "indclass": r[13], "indcollation": r[14], "exprs": exprs,
                    "predicate": r[16], "definition": r[17], "bloat_bytes": bloat, "bloat_ratio": ratio})
    return {"database": database, "stats_reset": stats_reset, "indexes": out}


def statements(cur, options):
    cur.execute("SELECT n.nspname, e.extversion FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                "WHERE e.extname = 'pg_stat_statements'")
    row = cur.fetchone()
    if row is None:
        return {"installed": False, "top": [],
                "note": "pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements, "
                        "with shared_preload_libraries = 'pg_stat_statements')"}
    schema, version = row
    cur.execute("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(quote_ident(%s) || '.pg_stat_statements') "
                "AND attname IN ('total_exec_time', 'total_time')", (schema,))
    names = [r[0] for r in cur.fetchall()]
    total = "total_exec_time" if "total_exec_time" in names else "total_time"
    mean = "mean_exec_time" if total == "total_exec_time" else "mean_time"
    cur.execute("SELECT queryid, calls, %s, %s, rows, shared_blks_hit, shared_blks_read, left(query, %%s) "
                "FROM %s.pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "ORDER BY %s DESC LIMIT %%s" % (total, mean, '"%s"' % schema.replace('"', '""'), total),
                (options["query_chars"], options["max_rows"]))
    top = [{"queryid": None if r[0] is None else str(r[0]), "calls": int(r[1]), "total_ms": round(float(r[2]), 3),
            "mean_ms": round(float(r[3]), 3), "rows": int(r[4]), "shared_blks_hit": int(r[5]), "shared_blks_read": int(r[6]),
            "query": r[7]} for r in cur.fetchall()]
    return {"installed": True, "version": version, "top": top}
