# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A read-only session for the insights: one connection, ``statement_timeout`` and ``lock_timeout``
set for the session, ``default_transaction_read_only`` on, every section in its own
``READ ONLY`` transaction so a section that hits a timeout is reported as skipped and the others
still run. The queries only read statistics views and catalogs; the strongest lock any of them
takes is AccessShare (``pg_relation_size``, ``pg_get_expr``), which ``lock_timeout`` bounds."""

import time

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import SourceError
from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.postgres import (
    HAS_PSYCOPG, _connect_hint, _first_line, conn_params)

try:
    import psycopg
    from psycopg import errors as pg_errors
except ImportError:
    pass

APP = "watchkeeper-pg-insights"


class InsightSession(object):
    """``connection``: login_host, login_port, login_user, login_password, passfile, ssl_mode, ca_cert,
    connect_timeout, database (the maintenance role's ``maintenance_database`` shape)."""

    def __init__(self, connection, database=None, statement_timeout_ms=5000, lock_timeout_ms=1000):
        if not HAS_PSYCOPG:
            raise SourceError("the Python library psycopg (3.x) is required for pg_insights", step="check",
                              hint="pip install 'psycopg[binary]', or apt install python3-psycopg")
        spec = dict(connection or {})
        if database:
            spec["database"] = database
        spec.setdefault("database", "postgres")
        self.params = conn_params(spec, APP)
        self.password = self.params.pop("password", None)
        self.statement_timeout_ms = int(statement_timeout_ms)
        self.lock_timeout_ms = int(lock_timeout_ms)
        self.conn = None

    def where(self):
        return "%s:%s" % (self.params.get("host", "local socket"), self.params.get("port", "5432"))

    def host(self):
        return self.params.get("host", "local socket")

    def port(self):
        return int(self.params.get("port", 5432))

    def open(self):
        kwargs = dict(self.params)
        if self.password:
            kwargs["password"] = self.password
        try:
            self.conn = psycopg.connect(autocommit=True, **kwargs)
        except psycopg.Error as exc:
            raise SourceError("cannot connect to PostgreSQL %s (database %s): %s" % (
                self.where(), self.params["dbname"], _first_line(exc, self.password)), step="connect",
                hint=_connect_hint(str(exc)))
        self.conn.execute("SELECT set_config('statement_timeout', %s, false), set_config('lock_timeout', %s, false), "
                          "set_config('default_transaction_read_only', 'on', false)",
                          ("%dms" % self.statement_timeout_ms, "%dms" % self.lock_timeout_ms))
        return self

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def run(self, name, func, *args):
        """``func(cursor, *args)`` in a READ ONLY transaction -> its facts with ``status`` ``ok``;
        ``skipped`` (lock or statement timeout) or ``error`` with a ``reason`` otherwise."""
        started = time.time()
        with self.conn.cursor() as cur:
            cur.execute("BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED READ ONLY")
            try:
                facts = func(cur, *args)
                cur.execute("COMMIT")
                facts["status"] = "ok"
            except pg_errors.LockNotAvailable as exc:
                facts = {"status": "skipped", "reason": "lock_timeout (%d ms) reached: %s" % (self.lock_timeout_ms, _first_line(exc))}
            except pg_errors.QueryCanceled as exc:
                facts = {"status": "skipped",
                         "reason": "statement_timeout (%d ms) reached: %s" % (self.statement_timeout_ms, _first_line(exc))}
            except psycopg.Error as exc:
                facts = {"status": "error", "reason": _first_line(exc, self.password)}
            finally:
                if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    cur.execute("ROLLBACK")
        facts["duration_s"] = round(time.time() - started, 3)
        facts["section"] = name
        return facts
