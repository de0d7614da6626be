# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PostgreSQL server a restore goes to: scratch databases, ``pg_restore -j``, data checks.

* Scratch databases are named ``wk_scratch_<job>_<random>`` by this code, never by the user, and
  carry a JSON comment saying which run (host, pid and its start time) owns them. Every run first
  drops the scratch databases of runs that are gone (same host, process dead; other hosts: older
  than ``scratch_max_age``), so a run killed mid-check leaves nothing behind for long.
* ``pg_restore -j <jobs>`` runs once from the decoded dump file, timed by phase from its verbose log
  (``pg_restore.py``). Scratch restores skip owners, privileges, subscriptions and publications: a
  verification must never start replicating from production.
* The fingerprint is recomputed with the manifest's own queries on parallel connections, large tables
  cut into page ranges so the connections finish together; content digests of every table come from
  ``pg_dump --data-only`` of the restored database (``content_digests``, ``pgdump_verify``).
"""

import concurrent.futures
import json
import os
import re
import socket
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock, pgdump_verify
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import SourceError
from ansible_collections.watchkeeper.ops.plugins.module_utils.lock import _proc_start
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import assertions as policy_assertions
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore import pg_restore as pg_restore_run
from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.postgres import (
    CHECKSUM_SQL, HAS_PSYCOPG, TABLES_SQL, _connect_hint, _first_line, conn_params, find_tool, libpq_env, write_passfile)

try:
    import psycopg
    from psycopg import sql
except ImportError:
    pass

SCRATCH_PREFIX = "wk_scratch_"
MARKER = "watchkeeper.ops scratch"
APP = "watchkeeper-restore"
USER_OBJECTS_SQL = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
"""


def scratch_name(job):
    """``wk_scratch_<job>_<8 hex>``: lower case, at most 63 bytes, safe as an unquoted identifier."""
    slug = re.sub(r"[^a-z0-9]+", "_", job.lower()).strip("_")[:40] or "job"
    return "%s%s_%s" % (SCRATCH_PREFIX, slug, uuid.uuid4().hex[:8])


def _owner_alive(owner, hostname, max_age_s):
    if owner.get("host") == hostname and owner.get("pid"):
        return _proc_start(int(owner["pid"])) == owner.get("pid_start")
    try:
        age = (clock.now() - clock.parse_time(owner.get("created_at"))).total_seconds()
    except (TypeError, ValueError):
        return False
    return age < max_age_s


def chunk_plan(tables, parallel, split=True):
    """``[(schema, table, low_page, high_page)]``, biggest first: tables larger than an even share of the work are
    cut into page ranges (``low`` None: from the start; ``high`` None: to the end), so ``parallel`` workers finish
    together. ``tables``: ``[(schema, table, pages)]``."""
    total = sum(pages for _s, _t, pages in tables)
    target = max(2048, total // (parallel * 4)) if parallel > 1 and split else None
    tasks = []
    for schema, table, pages in sorted(tables, key=lambda t: -t[2]):
        if target is None or pages <= target:
            tasks.append((schema, table, None, None))
            continue
        parts = -(-pages // target)
        bounds = [pages * i // parts for i in range(parts + 1)]
        for index in range(parts):
            low = bounds[index] if index else 0
            high = bounds[index + 1] if index < parts - 1 else None
            tasks.append((schema, table, low, high))
    return tasks


class PgServer(object):
    """A server reached through ``spec`` (login options of the module's ``server``)."""

    def __init__(self, spec, tmp_dir=None):
        if not HAS_PSYCOPG:
            raise SourceError("the Python library psycopg (3.x) is required for PostgreSQL restores", step="connect",
                              hint="pip install 'psycopg[binary]', or apt install python3-psycopg")
        spec = dict(spec or {})
        spec["database"] = spec.get("maintenance_db") or "postgres"
        self.spec = spec
        self.params = conn_params(spec, APP)
        self.password = self.params.pop("password", None)
        self.tmp_dir = tmp_dir
        self.passfile = None
        self.server_version_num = None
        self.restore_path = None
        self.dump_path = None
        self.dump_version = None
        self.hostname = socket.gethostname()

    def where(self):
        return "%s:%s" % (self.params.get("host", "local socket"), self.params.get("port", "5432"))

    def connect(self, dbname=None):
        kwargs = dict(self.params)
        if dbname:
            kwargs["dbname"] = dbname
        if self.password:
            kwargs["password"] = self.password
        try:
            return psycopg.connect(autocommit=True, **kwargs)
        except psycopg.OperationalError as exc:
            raise SourceError("cannot connect to PostgreSQL %s (database %s): %s" % (
                self.where(), kwargs["dbname"], _first_line(exc, self.password)), step="connect",
                hint=_connect_hint(str(exc)))

    def check(self, dump_client_version=None):
        """Server version, and the ``pg_restore`` that can read the dump and talk to the server."""
        with self.connect() as conn:
            self.server_version_num = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()[0]
        needed = self.server_version_num // 10000
        if dump_client_version:
            try:
                needed = max(needed, int(str(dump_client_version).split(".", maxsplit=1)[0]))
            except ValueError:
                pass
        self.restore_path, version = find_tool("pg_restore", needed, self.spec.get("pg_bin_dir"))
        return {"server": self.where(), "server_version_num": self.server_version_num, "pg_restore": version}

    # -- databases ---------------------------------------------------------------------------
    def exists(self, name):
        with self.connect() as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None

    def user_objects(self, name):
        """Number of user tables, views and sequences in database ``name``."""
        with self.connect(name) as conn:
            return conn.execute(USER_OBJECTS_SQL).fetchone()[0]

    def create(self, name, scratch=True):
        owner = {"marker": MARKER, "host": self.hostname, "pid": os.getpid(), "pid_start": _proc_start(os.getpid()),
                 "created_at": clock.isoformat(clock.now())}
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
            if scratch:
                conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name),
                                                                            sql.Literal(json.dumps(owner))))

    def drop(self, name):
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def rename(self, old, new):
        with self.connect() as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(old), sql.Identifier(new)))

    def close_connections(self, name):
        """Refuse new connections to ``name`` and end the current ones (before a swap)."""
        with self.connect() as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                         "pg_backend_pid()", (name,))

    def allow_connections(self, name, owner=None):
        with self.connect() as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(name)))
            conn.execute(sql.SQL("COMMENT ON DATABASE {} IS NULL").format(sql.Identifier(name)))
            if owner:
                conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(owner)))

    def sweep_scratch(self, max_age_s=86400):
        """Drop the scratch databases of runs that are gone; returns their names."""
        removed = []
        with self.connect() as conn:
            rows = conn.execute("SELECT d.datname, shobj_description(d.oid, 'pg_database') FROM pg_database d "
                                "WHERE d.datname LIKE %s", (SCRATCH_PREFIX.replace("_", "\\_") + "%",)).fetchall()
        for name, comment in rows:
            try:
                owner = json.loads(comment or "")
            except ValueError:
                continue
            if not isinstance(owner, dict) or owner.get("marker") != MARKER:
                continue
            if not _owner_alive(owner, self.hostname, max_age_s):
                self.drop(name)
                removed.append("database %s on %s (left by pid %s on %s at %s)" % (
                    name, self.where(), owner.get("pid"), owner.get("host"), owner.get("created_at")))
        return removed

    # -- pg_restore --------------------------------------------------------------------------
    def _env(self, scratch):
        if self.password and self.passfile is None:
            self.passfile = write_passfile(self.password, self.tmp_dir)
        env = libpq_env(self.params, self.passfile, APP)
        if scratch:
            env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c synchronous_commit=off").strip()
        return env

    def pg_restore(self, dump_path, dbname, jobs, scratch=True, no_owner=False, timeout=None):
        """Restore a custom-format dump in one ``pg_restore -j`` run; returns ``{"restore_data_s",
        "indexes_constraints_s"}`` (see ``pg_restore.py``)."""
        argv = [self.restore_path, "--no-password", "--exit-on-error", "--dbname=%s" % dbname, "-j", str(max(1, jobs))]
        if scratch or no_owner:
            argv.append("--no-owner")
        if scratch:
            argv += ["--no-privileges", "--no-subscriptions", "--no-publications"]
        argv.append(dump_path)
        return pg_restore_run.run(argv, self._env(scratch), timeout, [self.password], self.where())

    # -- checks ------------------------------------------------------------------------------
    def fingerprint(self, dbname, expected, parallel=2, skip=(), only=None):
        """Recompute ``{"schema.table": {"rows", "checksum"?}}`` with the backup's own queries.

        Large tables are cut into ranges of pages (a TID range scan each, PostgreSQL 14 and later) so that every
        connection has work until the end; counts and checksums are sums, so the parts add up exactly.
        Tables in ``skip`` are listed but not counted (``{"rows": None, "uncounted": True}``: their content digest
        covers every row); ``only``: count just these tables."""
        with self.connect(dbname) as conn:
            tables = conn.execute(TABLES_SQL).fetchall()
            pages = dict(((s, t), n) for s, t, n in conn.execute(
                "SELECT n.nspname, c.relname, pg_relation_size(c.oid) / current_setting('block_size')::int "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'").fetchall())
        listed = dict(("%s.%s" % (s, t), {"rows": None, "uncounted": True}) for s, t in tables)
        tables = [(s, t) for s, t in tables if "%s.%s" % (s, t) not in skip and (only is None or "%s.%s" % (s, t) in only)]
        split = (self.server_version_num or 0) >= 140000
        tasks = chunk_plan([(s, t, pages.get((s, t), 0)) for s, t in tables], max(1, parallel), split)

        def measure(task):
            schema, table, low, high = task
            name = "%s.%s" % (schema, table)
            ident = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            where = sql.SQL("")
            if low is not None:
                where = sql.SQL(" WHERE t.ctid >= {}::tid").format(sql.Literal("(%d,0)" % low))
                if high is not None:
                    where += sql.SQL(" AND t.ctid < {}::tid").format(sql.Literal("(%d,0)" % high))
            with self.connect(dbname) as conn:
                if (expected.get(name) or {}).get("checksum") is not None:
                    rows, digest = conn.execute(sql.SQL(CHECKSUM_SQL).format(table=ident) + where).fetchone()
                    return name, rows, int(digest)
                query = sql.SQL("SELECT count(*) FROM ONLY {} AS t").format(ident) + where
                return name, conn.execute(query).fetchone()[0], None

        found = {} if only is not None else dict((n, e) for n, e in listed.items() if n in skip)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            for name, rows, digest in pool.map(measure, tasks):
                entry = found.setdefault(name, {"rows": 0})
                entry["rows"] += rows
                if digest is not None:
                    entry["checksum"] = entry.get("checksum", 0) + digest
        for entry in found.values():
            if "checksum" in entry:
                entry["checksum"] = str(entry["checksum"])
        return found

    def content_digests(self, dbname, sizes, content, parallel=2, timeout=None):
        """Digests of the tables ``sizes`` names (and the large objects when the backup had some) in ``dbname``,
        from ``pg_dump --data-only`` in ``parallel`` processes with the backup's recorded session settings.
        The ``pg_dump`` is the backup's major when installed (same ``COPY`` text), else the newest that can
        dump the server."""
        if self.dump_path is None:
            needed = max((self.server_version_num or 0) // 10000, int(content.get("pg_dump_major") or 0))
            self.dump_path, self.dump_version = find_tool("pg_dump", needed, self.spec.get("pg_bin_dir"))
        return pgdump_verify.digest_database(self.dump_path, self._env(False), dbname, sizes, content,
                                             max(1, parallel), timeout)

    def assertions(self, dbname, specs, backup_time, timeout_s=300):
        checks = []
        with self.connect(dbname) as conn:
            conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal("%ds" % timeout_s)))
            for spec in specs:
                try:
                    with conn.transaction():
                        conn.execute("SET TRANSACTION READ ONLY")
                        row = conn.execute(spec["sql"]).fetchone()
                    checks.append(policy_assertions.evaluate(spec, row[0] if row else None, backup_time))
                except psycopg.Error as exc:
                    checks.append(policy_assertions.query_failed(spec, _first_line(exc)))
        return checks

    def close(self):
        if self.passfile and os.path.exists(self.passfile):
            os.unlink(self.passfile)
        self.passfile = None
