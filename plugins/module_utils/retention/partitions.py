# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Range-partitioned tables (``relkind 'p'``, partitioned by range on the retention ``column``).

* A partition whose upper bound is <= the cutoff holds only old rows. When none of them must stay (held by
  ``hold_condition``, or not matching ``condition``) it is detached (``DETACH PARTITION ... CONCURRENTLY`` on
  PostgreSQL 14 and later, outside a transaction; a plain ``DETACH`` in a short transaction before) and dropped.
  The rows that must stay are counted again on the detached table, under an exclusive lock, just before the drop;
  when some appeared in the meantime the partition is attached again and kept.
* A partition with rows that must stay is kept (reported with the reason) and its other rows are deleted in batches.
* Partitions that straddle the cutoff, the DEFAULT partition, and every partition when the table is not
  range-partitioned on ``column`` (or ``partitions: never``): batches by row address (``ctid``), each rechecking
  the predicate, since partitions rarely have a single-column key.
* A ``DETACH ... CONCURRENTLY`` interrupted half-way leaves the partition "detach pending"; this run or the next
  finishes it with ``DETACH PARTITION ... FINALIZE`` (reported in ``partitions_finalized``).
"""

import time

from ansible_collections.watchkeeper.ops.plugins.module_utils.retention import database_sql as q

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql
except ImportError:
    pass

CHILDREN_SQL = """
SELECT c.oid, n.nspname, c.relname, c.relkind, pg_get_expr(c.relpartbound, c.oid), {pending}
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.inhparent = %s ORDER BY n.nspname, c.relname
"""
LEAVES_SQL = """
SELECT n.nspname, c.relname FROM pg_partition_tree(%s) t JOIN pg_class c ON c.oid = t.relid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE t.isleaf AND c.relkind = 'r' ORDER BY 1, 2
"""
KEY_SQL = """
SELECT p.partstrat = 'r' AND p.partnatts = 1 AND p.partattrs[0] = a.attnum
FROM pg_partitioned_table p JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attname = %s
WHERE p.partrelid = %s
"""


class Child(object):
    def __init__(self, row):
        self.oid, self.schema, self.relname, self.relkind, self.bound_text, self.pending = row
        self.name = q.qualified(self.schema, self.relname)
        self.ident = q.table_ident(self.schema, self.relname)
        self.kind = None


def _children(p, table):
    pending = "i.inhdetachpending" if p.server_version >= 140000 else "false"
    query = sql.SQL(CHILDREN_SQL).format(pending=sql.SQL(pending))
    return [Child(r) for r in p.transaction(table, "list partitions", lambda c: c.execute(query, (table.oid,)).fetchall(),
                                            read_only=True)]


def _leaves(p, table, oid):
    rows = p.transaction(table, "list partitions", lambda c: c.execute(LEAVES_SQL, (oid,)).fetchall(), read_only=True)
    return [(q.table_ident(s, n), q.qualified(s, n)) for s, n in rows]


def _range_on_column(p, table):
    row = p.transaction(table, "check", lambda c: c.execute(KEY_SQL, (table.column, table.oid)).fetchone(),
                        read_only=True)
    return bool(row and row[0])


def _classify(p, table, child):
    """``old`` (upper bound <= cutoff), ``young`` (lower bound >= cutoff), ``straddle`` or ``default``."""
    try:
        bound = q.parse_bound(child.bound_text or "")
    except ValueError:
        return "straddle"
    if bound["default"]:
        return "default"

    def value(text):
        if text is None:
            return sql.SQL("NULL")
        return sql.SQL("CAST(") + sql.SQL(text) + sql.SQL(" AS ") + sql.SQL(table.coltype) + sql.SQL(")")
    query = sql.SQL("SELECT {u} <= {c}, {l} >= {c}").format(
        u=value(bound["upper"]), l=value(bound["lower"]), c=sql.Literal(table.cutoff))
    old, young = p.transaction(table, "compare bounds of %s" % child.name, lambda c: c.execute(query).fetchone(),
                               read_only=True)
    return "old" if old else "young" if young else "straddle"


def _must_stay(p, table, ident, label, lock=False):
    """Reasons why an old partition must stay (rows held or not matching ``condition``); [] when none."""
    condition, hold = table.spec.get("condition"), table.spec.get("hold_condition")
    if not condition and not hold:
        return []
    held = q.held(hold) if hold else sql.SQL("false")
    query = sql.SQL("SELECT count(*) FILTER (WHERE {h}), count(*) FILTER (WHERE NOT {h} AND {s}) FROM {t}").format(
        h=held, s=q.survivors(table.column, table.cutoff, condition, hold), t=ident)

    def count(conn):
        if lock:
            conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(ident))
        return conn.execute(query).fetchone()
    if lock:
        held_rows, other_rows = count(p.conn)
    else:
        held_rows, other_rows = p.transaction(table, "count rows to keep in %s" % label, count, read_only=True)
    reasons = []
    if held_rows:
        reasons.append("%d held rows (hold_condition)" % held_rows)
    if other_rows:
        reasons.append("%d rows do not match condition" % other_rows)
    return reasons


def _batches(p, table, child):
    if child.relkind == "p":
        for ident, label in _leaves(p, table, child.oid):
            p.purge_by_address(table, ident, label)
    else:
        p.purge_by_address(table, child.ident, child.name)


def _detach(p, table, child, plain):
    """Detach ``child``: CONCURRENTLY (outside a transaction) or FINALIZE of a pending detach on PostgreSQL >= 14,
    retried after lock and statement timeouts; a plain DETACH in a short transaction (with ``lock_timeout``) before 14
    and when the table has a DEFAULT partition (PostgreSQL cannot detach concurrently then)."""
    detach = sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(table.ident, child.ident)
    if (p.server_version < 140000 or plain) and not child.pending:
        p.transaction(table, "detach %s" % child.name, lambda c: c.execute(detach))
        return
    attempt = 0
    while True:
        statement = detach + sql.SQL(" FINALIZE" if child.pending else " CONCURRENTLY")
        try:
            p.set_timeouts(table, local=False)
            try:
                p.conn.execute(statement)
            finally:
                if not p.conn.broken:
                    p.conn.execute("RESET lock_timeout")
                    p.conn.execute("RESET statement_timeout")
            if child.pending:
                table.out.setdefault("partitions_finalized", []).append(child.name)
            return
        except (pg_errors.LockNotAvailable, pg_errors.QueryCanceled) as exc:
            attempt += 1
            table.out["lock_timeouts"] += 1
            child.pending = child.pending or _pending(p, table, child)
            if attempt > p.lock_retries():
                raise p.failed("detach %s" % child.name, "%s, %d times in a row%s" % (
                    p.error_text(exc), attempt, "; the partition is left 'detach pending' and the next run finishes it "
                    "with DETACH PARTITION ... FINALIZE" if child.pending else ""))
            p.check_time()
            time.sleep(min(5.0, max(p.pause_s, 0.25 * 2 ** (attempt - 1))))
        except psycopg.Error as exc:
            raise p.failed("detach %s" % child.name, p.error_text(exc))


def _pending(p, table, child):
    row = p.transaction(table, "check", lambda c: c.execute(
        "SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = %s AND inhparent = %s", (child.oid, table.oid)
    ).fetchone(), read_only=True)
    return bool(row and row[0])


def _detach_and_drop(p, table, child, plain):
    _detach(p, table, child, plain)

    def drop(conn):
        reasons = _must_stay(p, table, child.ident, child.name, lock=True)
        if reasons:
            return reasons, 0
        rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(child.ident)).fetchone()[0]
        conn.execute(sql.SQL("DROP TABLE {}").format(child.ident))
        return [], rows
    reasons, rows = p.transaction(table, "drop %s" % child.name, drop)
    if reasons:
        attach = sql.SQL("ALTER TABLE {} ATTACH PARTITION {} ").format(table.ident, child.ident) + \
            sql.SQL(child.bound_text)
        p.transaction(table, "attach %s again" % child.name, lambda c: c.execute(attach))
        table.out["partitions_kept"].append({"name": child.name, "reason": "; ".join(reasons) +
                                             " (found after the detach: attached again)"})
        _batches(p, table, child)
        return
    table.add_deleted(rows)
    table.out["partitions_dropped"].append(child.name)


def _prepare(p, table, auto):
    if auto and not _range_on_column(p, table):
        table.out["mode"] = "batches"
        table.out["note"] = "not range-partitioned on %s alone: every partition is purged by batches" % table.column
        return False
    return auto


def plan(p, table, auto):
    """Check mode: which partitions would be dropped, kept (why) or finished (pending detaches)."""
    if not _prepare(p, table, auto):
        return
    for child in _children(p, table):
        kind = _classify(p, table, child)
        if child.pending:
            table.out.setdefault("partitions_to_finalize", []).append(child.name)
        if kind != "old":
            continue
        reasons = _must_stay(p, table, child.ident, child.name)
        if reasons:
            table.out["partitions_kept"].append({"name": child.name, "reason": "; ".join(reasons)})
        else:
            table.out["partitions_to_drop"].append(child.name)


def purge(p, table, auto):
    if not _prepare(p, table, auto):
        for ident, label in _leaves(p, table, table.oid):
            p.purge_by_address(table, ident, label)
        return
    children = _children(p, table)
    plain = any((c.bound_text or "").strip().upper() == "DEFAULT" for c in children)
    if plain or p.server_version < 140000:
        table.out["detach"] = "plain DETACH in a short transaction (%s)" % (
            "the table has a DEFAULT partition" if plain else "PostgreSQL < 14")
    for child in sorted(children, key=lambda c: not c.pending):
        p.check_time()
        kind = _classify(p, table, child)
        if kind == "old":
            reasons = _must_stay(p, table, child.ident, child.name)
            if child.pending or not reasons:
                _detach_and_drop(p, table, child, plain)
                continue
            table.out["partitions_kept"].append({"name": child.name, "reason": "; ".join(reasons)})
        elif child.pending:
            table.out["partitions_kept"].append({"name": child.name, "reason": "detach pending, not started by this "
                                                 "purge (its bound is not past the cutoff): left alone"})
            continue
        if kind != "young":
            _batches(p, table, child)
