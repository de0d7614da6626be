# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Application-data retention for PostgreSQL (``retention_purge`` with ``target: database``).

Per table, rows older than ``older_than`` (cutoff = now - older_than, computed once per run) that match
``condition`` and not ``hold_condition`` are removed without long locks or long transactions:

* plain tables: batches of ``batch_size`` rows, each its own short transaction with ``SET LOCAL lock_timeout`` and
  ``statement_timeout``: the next keys matching the predicate after the last key (keyset on the single-column
  primary key), then ``DELETE ... WHERE pk BETWEEN lo AND hi AND predicate`` (checked again). A lock timeout is
  retried after a pause and counted; any other error fails that table only, naming the step and PostgreSQL's message.
* range-partitioned tables (``partitions.py``): old partitions are detached and dropped; the others by batches.

``max_runtime`` bounds the run (checked between batches); the backlog left (an exact count of the predicate) is
reported per table and in total, so a purge that falls behind is visible instead of silent.
"""

import datetime
import time

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import SourceError
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy.freshness import parse_duration
from ansible_collections.watchkeeper.ops.plugins.module_utils.retention import database_sql as q
from ansible_collections.watchkeeper.ops.plugins.module_utils.retention import partitions
from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.postgres import (
    HAS_PSYCOPG, _connect_hint, _first_line, conn_params)

try:
    import psycopg
    from psycopg import errors as pg_errors
except ImportError:
    pass

APP = "watchkeeper-retention"
LOCK_RETRIES = 5
RELATION_SQL = """
SELECT c.oid, c.relkind, format_type(a.atttypid, a.atttypmod)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')
"""
PK_SQL = """
SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = %s AND i.indisprimary ORDER BY a.attnum
"""


class Stop(Exception):
    """max_runtime is over."""


class TableFailed(Exception):
    def __init__(self, step, msg):
        super(TableFailed, self).__init__(msg)
        self.step = step
        self.msg = msg


class Table(object):
    """One entry of ``tables``: its options, the cutoff, and the result row being filled."""

    def __init__(self, spec, now, check_mode):
        self.spec = spec
        self.check_mode = check_mode
        self.name = spec.get("table")
        self.out = {"table": self.name, "cutoff": None, "mode": "batches",
                    "rows_to_delete" if check_mode else "rows_deleted": 0, "rows_held": 0, "batches": 0,
                    "lock_timeouts": 0, "duration_s": 0.0, "backlog_rows": None, "status": "ok", "error": None,
                    "partitions_to_drop" if check_mode else "partitions_dropped": [], "partitions_kept": []}
        self.deleted = 0
        self.oid = self.relkind = self.coltype = None
        self.schema, self.relname = q.split_table(self.name)
        self.ident = q.table_ident(self.schema, self.relname)
        self.column = spec["column"]
        self.cutoff = now - datetime.timedelta(seconds=parse_duration(spec["older_than"]))
        self.out["cutoff"] = clock.isoformat(self.cutoff)
        self.batch_size = int(spec.get("batch_size") or 0)
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.lock_timeout_ms = q.timeout_ms(spec.get("lock_timeout") or "100ms")
        self.statement_timeout_ms = q.timeout_ms(spec.get("statement_timeout") or "30s")
        self.pred = q.predicate(self.column, self.cutoff, spec.get("condition"), spec.get("hold_condition"))

    def add_deleted(self, rows):
        self.deleted += rows
        self.out["rows_deleted"] = self.deleted


class Purge(object):
    def __init__(self, params, check_mode, now, log=None):
        self.params = params
        self.check_mode = check_mode
        self.now = now
        self.log = log or (lambda _msg: None)
        self.conn = None
        self.password = None
        self.kwargs = {}
        self.server_version = 0
        self.started = time.monotonic()
        self.deadline = None
        self.pause_s = 0.0
        self.stopped = False

    # -- connection --------------------------------------------------------------------------
    def where(self):
        return "database %s on %s:%s" % (self.kwargs.get("dbname"), self.kwargs.get("host", "local socket"),
                                         self.kwargs.get("port", "5432"))

    def connect(self):
        self.kwargs = conn_params(dict(self.params.get("server") or {}), APP)
        self.password = self.kwargs.pop("password", None)
        kwargs = dict(self.kwargs)
        if self.password:
            kwargs["password"] = self.password
        try:
            self.conn = psycopg.connect(autocommit=True, **kwargs)
        except psycopg.OperationalError as exc:
            raise SourceError("cannot connect to PostgreSQL %s: %s" % (self.where(), _first_line(exc, self.password)),
                              step="connect", hint=_connect_hint(str(exc)))
        # timestamp-without-time-zone columns are compared with the cutoff as UTC
        self.conn.execute("SET TimeZone = 'UTC'")
        self.server_version = self.conn.info.server_version

    def error_text(self, exc):
        return _first_line(exc, self.password)

    # -- time --------------------------------------------------------------------------------
    def check_time(self):
        if self.stopped or time.monotonic() >= self.deadline:
            self.stopped = True
            raise Stop()

    def pause(self):
        if self.pause_s > 0:
            if time.monotonic() + self.pause_s >= self.deadline:
                self.stopped = True
                raise Stop()
            time.sleep(self.pause_s)

    # -- one short transaction, retried after lock timeouts ---------------------------------
    def transaction(self, table, step, work, read_only=False):
        attempt = 0
        while True:
            try:
                with self.conn.transaction():
                    if read_only:
                        self.conn.execute("SET TRANSACTION READ ONLY")
                    self.set_timeouts(table, local=True)
                    return work(self.conn)
            except pg_errors.LockNotAvailable as exc:
                table.out["lock_timeouts"] += 1
                attempt += 1
                self.log("%s: lock timeout in %s (attempt %d)" % (table.name, step, attempt))
                if attempt > LOCK_RETRIES:
                    raise TableFailed(step, "lock_timeout (%d ms) reached %d times in a row, giving up: %s" % (
                        table.lock_timeout_ms, attempt, self.error_text(exc)))
                self.check_time()
                time.sleep(min(5.0, max(self.pause_s, 0.25 * 2 ** (attempt - 1))))
            except pg_errors.QueryCanceled as exc:
                raise TableFailed(step, "%s (statement_timeout %d ms: lower batch_size or raise statement_timeout)" % (
                    self.error_text(exc), table.statement_timeout_ms))
            except psycopg.Error as exc:
                raise TableFailed(step, self.error_text(exc))

    @staticmethod
    def lock_retries():
        return LOCK_RETRIES

    @staticmethod
    def failed(step, msg):
        return TableFailed(step, msg)

    def set_timeouts(self, table, local):
        self.conn.execute("SELECT set_config('lock_timeout', %s, %s), set_config('statement_timeout', %s, %s)",
                          (str(table.lock_timeout_ms), local, str(table.statement_timeout_ms), local))

    # -- tables --------------------------------------------------------------------------------
    def resolve(self, table):
        def look(conn):
            return conn.execute(RELATION_SQL, (table.column, table.schema, table.relname)).fetchone()
        row = self.transaction(table, "check", look, read_only=True)
        if row is None:
            raise TableFailed("check", "table %s does not exist in %s" % (table.name, self.where()))
        table.oid, table.relkind, table.coltype = row
        if table.coltype is None:
            raise TableFailed("check", "table %s has no column %s" % (table.name, table.column))

    def primary_key(self, table):
        keys = [r[0] for r in self.transaction(table, "check", lambda c: c.execute(PK_SQL, (table.oid,)).fetchall())]
        if len(keys) != 1:
            raise TableFailed("check", "table %s needs a single-column primary key for batched deletes (it has %s)" % (
                table.name, "none" if not keys else "(%s)" % ", ".join(keys)))
        return keys[0]

    def purge_plain(self, table):
        pk = self.primary_key(table)
        last = None
        while True:
            self.check_time()

            def batch(conn, last=last):
                low, high, count = conn.execute(q.keyset_select(table.ident, pk, table.pred, last, table.batch_size)
                                                ).fetchone()
                if not count:
                    return None
                return high, conn.execute(q.keyset_delete(table.ident, pk, low, high, table.pred)).rowcount
            done = self.transaction(table, "delete batch" + ("" if last is None else " after key %s" % (last,)), batch)
            if done is None:
                return
            last, rows = done
            table.add_deleted(rows)
            table.out["batches"] += 1
            self.pause()

    def purge_by_address(self, table, ident, label):
        """Batches by row address (a leaf partition): until a batch deletes nothing."""
        statement = q.ctid_delete(ident, table.pred, table.batch_size)
        while True:
            self.check_time()
            rows = self.transaction(table, "delete batch in %s" % label, lambda c: c.execute(statement).rowcount)
            if not rows:
                return
            table.add_deleted(rows)
            table.out["batches"] += 1
            self.pause()

    def counts(self, table):
        """``(rows still to delete, rows held)`` past the horizon: exact counts."""
        query = q.counts_query(table.ident, table.column, table.cutoff, table.spec.get("condition"),
                               table.spec.get("hold_condition"))
        return self.transaction(table, "count", lambda c: c.execute(query).fetchone(), read_only=True)

    def run_table(self, table):
        self.resolve(table)
        auto = table.relkind == "p" and table.spec.get("partitions", "auto") == "auto"
        table.out["mode"] = "partitions" if auto else "batches"
        if self.check_mode:
            if table.relkind == "p":
                partitions.plan(self, table, auto)
            else:
                self.primary_key(table)
            to_delete, held = self.counts(table)
            table.out.update(rows_to_delete=to_delete, rows_held=held)
            return
        if table.relkind == "p":
            partitions.purge(self, table, auto)
        else:
            self.purge_plain(table)


def _summary(tables, started, stopped, check_mode):
    duration = round(time.monotonic() - started, 3)
    key = "rows_to_delete" if check_mode else "rows_deleted"
    rows = sum(t.get(key) or 0 for t in tables)
    out = {"tables": tables, key: rows, "backlog_rows": sum(t.get("backlog_rows") or 0 for t in tables),
           "stopped_by_max_runtime": stopped, "duration_s": duration, "check_mode": check_mode}
    if not check_mode:
        out["rows_per_s"] = round(rows / duration, 1) if duration > 0 else None
    return out


def run(params, check_mode, now, log=None):
    """Purge (or, in check mode, count) every table of ``params["tables"]``; returns ``(result, failures)``."""
    purge = Purge(params, check_mode, now, log)
    failures, rows = [], []
    if not HAS_PSYCOPG:
        failures.append("the Python library psycopg (3.x) is required: pip install 'psycopg[binary]', or apt install "
                        "python3-psycopg")
    elif not params.get("server") or not params.get("tables"):
        failures.append("target database needs server (with database) and tables")
    else:
        try:
            purge.deadline = purge.started + parse_duration(params.get("max_runtime") or "30m")
            purge.pause_s = parse_duration(params.get("pause") or "0s")
        except ValueError as exc:
            failures.append("invalid option: %s" % exc)
    if failures:
        return {"changed": False, "database": _summary([], purge.started, False, check_mode)}, failures
    try:
        purge.connect()
    except SourceError as exc:
        summary = _summary([], purge.started, False, check_mode)
        summary["error"] = exc.describe()
        return {"changed": False, "database": summary}, [exc.describe()]
    changed = False
    try:
        for spec in params["tables"]:
            row = _one_table(purge, spec, failures)
            rows.append(row)
            changed = changed or bool(row.get("rows_deleted") or row.get("partitions_dropped"))
    finally:
        purge.conn.close()
    summary = _summary(rows, purge.started, purge.stopped, check_mode)
    summary.update(name=purge.kwargs.get("dbname"), server="%s:%s" % (purge.kwargs.get("host", "local socket"),
                                                                      purge.kwargs.get("port", "5432")))
    return {"changed": changed and not check_mode, "database": summary}, failures


def _one_table(purge, spec, failures):
    started = time.monotonic()
    try:
        table = Table(spec, purge.now, purge.check_mode)
    except (ValueError, KeyError) as exc:
        msg = "table %s: step check: %s" % (spec.get("table"), exc)
        failures.append(msg)
        return {"table": spec.get("table"), "status": "failed", "error": msg, "rows_deleted": 0, "backlog_rows": None}
    purge.log("%s: cutoff %s" % (table.name, table.out["cutoff"]))
    try:
        if purge.conn.broken:
            purge.connect()
        purge.check_time()
        purge.run_table(table)
    except Stop:
        table.out["status"] = "stopped"
    except TableFailed as exc:
        msg = "table %s: step %s: %s" % (table.name, exc.step, exc.msg)
        table.out.update(status="failed", error=msg)
        failures.append(msg)
    except SourceError as exc:
        table.out.update(status="failed", error=exc.describe())
        failures.append("table %s: %s" % (table.name, exc.describe()))
    if not purge.check_mode and not purge.conn.broken:
        try:
            backlog, held = purge.counts(table)
            table.out.update(backlog_rows=backlog, rows_held=held)
        except (TableFailed, Stop):
            pass
    elif purge.check_mode:
        table.out["backlog_rows"] = 0 if table.out["status"] == "ok" else None
    table.out["duration_s"] = round(time.monotonic() - started, 3)
    return table.out
