# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PostgreSQL server a restore goes to: scratch databases, ``pg_restore -j``, data checks.

* Scratch databases are named ``wk_scratch_<job>_<random>`` by this code, never by the user, and
  carry a JSON comment saying which run (host, pid and its start time) owns them. Every run first
  drops the scratch databases of runs that are gone (same host, process dead; other hosts: older
  than ``scratch_max_age``), so a run killed mid-check leaves nothing behind for long.
* ``pg_restore`` runs twice from the decoded dump file: pre-data and data with ``-j <jobs>``, then
  post-data (indexes, constraints, triggers) with ``-j <jobs>``, so the two phases are timed apart.
  Scratch restores skip owners, privileges, subscriptions and publications: a verification must never
  start replicating from production.
* The fingerprint is recomputed with the manifest's own queries on parallel connections.
"""

import concurrent.futures
import json
import os
import re
import socket
import subprocess
import tempfile
import time
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import PipelineError, SourceError
from ansible_collections.watchkeeper.ops.plugins.module_utils.lock import _proc_start
from ansible_collections.watchkeeper.ops.plugins.module_utils.pipeline import describe_status, redact
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import assertions as policy_assertions
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
        """Restore a custom-format dump; returns ``{"restore_data_s", "indexes_constraints_s"}``."""
        base = [self.restore_path, "--no-password", "--exit-on-error", "--dbname=%s" % dbname, "-j", str(max(1, jobs))]
        if scratch or no_owner:
            base.append("--no-owner")
        if scratch:
            base += ["--no-privileges", "--no-subscriptions", "--no-publications"]
        phases = {}
        deadline = time.monotonic() + timeout if timeout else None
        for phase, sections in (("restore_data_s", ["pre-data", "data"]), ("indexes_constraints_s", ["post-data"])):
            argv = base + ["--section=%s" % s for s in sections] + [dump_path]
            started = time.monotonic()
            self._run(argv, scratch, phase, None if deadline is None else max(1, deadline - time.monotonic()))
            phases[phase] = round(time.monotonic() - started, 3)
        return phases

    def _run(self, argv, scratch, phase, timeout):
        with tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                      env=self._env(scratch), timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                raise PipelineError("pg_restore did not finish within the timeout and was stopped", step="restore")
            except OSError as exc:
                raise PipelineError("cannot run %s: %s" % (argv[0], exc.strerror), step="restore")
            if proc.returncode != 0:
                err.seek(0)
                text = redact(err.read()[-4000:].decode("utf-8", "replace").strip(), [self.password])
                raise PipelineError("%s (%s): %s" % (describe_status("pg_restore", proc.returncode),
                                                     phase.replace("_s", "").replace("_", " "), text),
                                    step="restore", hint="pg_restore %s on %s" % (" ".join(argv[1:-1]), self.where()))

    # -- checks ------------------------------------------------------------------------------
    def fingerprint(self, dbname, expected, parallel=2):
        """Recompute ``{"schema.table": {"rows", "checksum"?}}`` the way the backup took it."""
        with self.connect(dbname) as conn:
            tables = conn.execute(TABLES_SQL).fetchall()
            sizes = dict(((s, t), n) for s, t, n in conn.execute(
                "SELECT n.nspname, c.relname, pg_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'").fetchall())
        tables.sort(key=lambda t: -sizes.get(tuple(t), 0))

        def measure(item):
            schema, table = item
            name = "%s.%s" % (schema, table)
            ident = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            with self.connect(dbname) as conn:
                if (expected.get(name) or {}).get("checksum") is not None:
                    rows, digest = conn.execute(sql.SQL(CHECKSUM_SQL).format(table=ident)).fetchone()
                    return name, {"rows": rows, "checksum": digest}
                return name, {"rows": conn.execute(sql.SQL("SELECT count(*) FROM ONLY {}").format(ident)).fetchone()[0]}

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            return dict(pool.map(measure, tables))

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
