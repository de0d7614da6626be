# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL source: ``pg_dump -Fc -Z0`` of one database, its fingerprint taken in the same
snapshot, and optionally ``pg_dumpall --globals-only``.

The snapshot is exported from a ``REPEATABLE READ, READ ONLY`` transaction that stays open for
the whole dump; ``pg_dump --snapshot`` dumps exactly that data while the same transaction counts
every table's rows and checksums the tables the user named. The dump stream itself is digested as
it passes (``pgdump_content``): every table's data block gets a SHA-256, so the manifest holds a
content fingerprint of every table without a second read of the database. A restore that
reproduces the fingerprint restored the same data.

Passwords never reach argv: libpq tools get a private ``PGPASSFILE`` (mode 0600, removed at
the end); connection parameters travel in ``PG*`` environment variables.
"""

import glob
import os
import re
import subprocess
import tempfile
import threading
import time

from ansible_collections.watchkeeper.ops.plugins.module_utils import pgdump_content
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import SourceError
from ansible_collections.watchkeeper.ops.plugins.module_utils.pipeline import ProcessProducer
from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.base import Artifact, Source

try:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
    HAS_PSYCOPG = True
except ImportError:
    HAS_PSYCOPG = False

FINGERPRINT_METHOD = "rows+md5sum-v1"
CHECKSUM_SQL = ("SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint), 0)::text "
                "FROM ONLY {table} AS t")
TABLES_SQL = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""
LIBPQ_ENV = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "dbname": "PGDATABASE", "sslmode": "PGSSLMODE",
             "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT",
             "passfile": "PGPASSFILE", "options": "PGOPTIONS", "target_session_attrs": "PGTARGETSESSIONATTRS"}


def _major(version_num):
    return int(version_num) // 10000


def tool_major(path):
    """Major version of a libpq tool (``pg_dump (PostgreSQL) 15.18 (Debian ...)`` -> 15)."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return None, None
    match = re.search(r"\)\s+(\d+)(\.\d+)?", out) or re.search(r"(\d+)(\.\d+)?", out)
    if not match:
        return None, None
    return int(match.group(1)), match.group(1) + (match.group(2) or "")


def find_tool(name, server_major, bin_dir=None):
    """The best ``pg_dump``/``pg_dumpall`` for a server: ``bin_dir`` if given; else Debian's
    ``/usr/lib/postgresql/<major>/bin`` for the server's major or the newest newer one; else PATH.
    Raises ``SourceError`` saying which package to install when the tool is older than the server."""
    candidates = []
    if bin_dir:
        candidates.append(os.path.join(bin_dir, name))
    else:
        found = []
        for path in glob.glob("/usr/lib/postgresql/*/bin/%s" % name):
            try:
                found.append((int(path.split("/")[4]), path))
            except ValueError:
                continue
        exact = [p for m, p in found if m == server_major]
        newer = sorted((m, p) for m, p in found if m > server_major)
        candidates += exact + [p for _m, p in newer] + [p for _m, p in sorted(found, reverse=True)]
        for directory in os.environ.get("PATH", "").split(os.pathsep):
            candidates.append(os.path.join(directory, name))
    best = None
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            major, version = tool_major(path)
            if major is None:
                continue
            if major >= server_major:
                return path, version
            best = best or (path, version, major)
    if best:
        raise SourceError("%s %s is older than the PostgreSQL %d server and cannot dump it" % (name, best[1], server_major),
                          step="check", hint="install postgresql-client-%d (on Debian: the PGDG apt repository "
                                             "apt.postgresql.org) or point source.pg_bin_dir at a %d.x bin directory"
                                             % (server_major, server_major))
    raise SourceError("%s not found" % name, step="check",
                      hint="install postgresql-client-%d or set source.pg_bin_dir" % server_major)


def quote_pattern(qualified):
    """An exact ``schema.table`` name as a pg_dump pattern (double-quoted, so no wildcards)."""
    if "." in qualified:
        schema, table = qualified.split(".", 1)
    else:
        schema, table = "public", qualified
    return '"%s"."%s"' % (schema.replace('"', '""'), table.replace('"', '""'))


def split_name(qualified):
    return tuple(qualified.split(".", 1)) if "." in qualified else ("public", qualified)


def conn_params(spec, application_name):
    """libpq connection parameters from the module options (``database`` or conninfo's dbname)."""
    params = {}
    if spec.get("conninfo"):
        try:
            params.update(conninfo_to_dict(spec["conninfo"]))
        except psycopg.ProgrammingError as exc:
            raise SourceError("invalid conninfo: %s" % str(exc).split("\n", maxsplit=1)[0], step="check")
    mapping = {"login_host": "host", "login_port": "port", "login_user": "user", "login_password": "password",
               "database": "dbname", "ssl_mode": "sslmode", "ca_cert": "sslrootcert", "passfile": "passfile",
               "connect_timeout": "connect_timeout"}
    for opt, key in mapping.items():
        if spec.get(opt) not in (None, ""):
            params[key] = str(spec[opt])
    if not params.get("dbname"):
        raise SourceError("a postgres source needs 'database' (or dbname in conninfo)", step="check")
    params.setdefault("connect_timeout", "10")
    params.setdefault("application_name", application_name)
    return params


def write_passfile(password, tmp_dir):
    """A private ``PGPASSFILE`` (mode 0600) for libpq tools; the caller removes it."""
    fd, path = tempfile.mkstemp(prefix="wk-pgpass-", dir=tmp_dir)
    with os.fdopen(fd, "w") as handle:
        handle.write("*:*:*:*:%s\n" % password.replace("\\", "\\\\").replace(":", "\\:"))
    return path


def libpq_env(params, passfile, application_name):
    """The environment for pg_dump/pg_restore: connection in ``PG*`` variables, never in argv."""
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("PG"):
            del env[key]
    for key, var in LIBPQ_ENV.items():
        if params.get(key):
            env[var] = str(params[key])
    if passfile:
        env["PGPASSFILE"] = passfile
    env["PGAPPNAME"] = application_name
    return env


class PostgresSource(Source):
    kind = "postgres"

    def __init__(self, spec, tmp_dir=None):
        super(PostgresSource, self).__init__(spec, tmp_dir)
        if not HAS_PSYCOPG:
            raise SourceError("the Python library psycopg (3.x) is required for PostgreSQL sources", step="check",
                              hint="pip install 'psycopg[binary]', or apt install python3-psycopg")
        self.params = self._conn_params(spec)
        self.password = self.params.pop("password", None)
        self.conn = None
        self.server_version_num = None
        self.facts = {}
        self.passfile = None
        self.snapshot = None
        self.fingerprint = None
        self._fp_thread = None
        self._fp_error = None
        self._stream_fp = None
        self._copy_settings = None

    # -- connection ------------------------------------------------------------------------
    @staticmethod
    def _conn_params(spec):
        return conn_params(spec, "watchkeeper-backup")

    def _connect(self):
        kwargs = dict(self.params)
        if self.password:
            kwargs["password"] = self.password
        try:
            # autocommit: the snapshot transaction is opened explicitly with BEGIN below.
            return psycopg.connect(autocommit=True, **kwargs)
        except psycopg.OperationalError as exc:
            raise SourceError("cannot connect to PostgreSQL %s: %s" % (self.where(), _first_line(exc, self.password)),
                              step="connect", hint=_connect_hint(str(exc)))

    def where(self):
        return "database %s on %s:%s" % (self.params.get("dbname"), self.params.get("host", "local socket"),
                                         self.params.get("port", "5432"))

    def check(self):
        self.conn = self._connect()
        with self.conn.cursor() as cur:
            cur.execute("SELECT current_setting('server_version_num')::int, current_setting('server_version'), "
                        "current_database(), pg_database_size(current_database()), inet_server_addr()::text")
            num, version, dbname, size, addr = cur.fetchone()
        self.conn.rollback()
        self.server_version_num = num
        major = _major(num)
        self.dump_path, dump_version = find_tool("pg_dump", major, self.spec.get("pg_bin_dir"))
        if self.spec.get("include_globals"):
            self.dumpall_path, _v = find_tool("pg_dumpall", major, self.spec.get("pg_bin_dir"))
        self.size = size
        self.facts = {"kind": "postgres", "host": self.params.get("host") or addr or "local socket",
                      "port": int(self.params.get("port", 5432)), "database": dbname, "server_version": version,
                      "server_version_num": num, "client_version": dump_version, "format": "custom",
                      "tool": "pg_dump", "globals": bool(self.spec.get("include_globals"))}
        self._check_tables(self.spec.get("checksum_tables") or [], "checksum_tables")
        self._check_tables(self.spec.get("exclude_table_data") or [], "exclude_table_data")
        return self.facts

    def _check_tables(self, names, option):
        with self.conn.cursor() as cur:
            for name in names:
                cur.execute("SELECT to_regclass(%s)", (quote_pattern(name),))
                if cur.fetchone()[0] is None:
                    self.conn.rollback()
                    raise SourceError("table %s named in %s does not exist in %s" % (name, option, self.where()),
                                      step="check")
        self.conn.rollback()

    def estimate_bytes(self):
        return self.size

    # -- streaming -------------------------------------------------------------------------
    def _env(self):
        if self.password and self.passfile is None:
            self.passfile = write_passfile(self.password, self.tmp_dir)
        return libpq_env(self.params, self.passfile, "watchkeeper-backup")

    def artifacts(self, ctx):
        secrets = [self.password] if self.password else []
        if self.spec.get("include_globals"):
            argv = [self.dumpall_path, "--globals-only", "--no-password"]
            if self.spec.get("globals_no_role_passwords"):
                argv.append("--no-role-passwords")
            yield Artifact("globals", ".sql", ProcessProducer("pg_dumpall", argv, env=self._env()), secrets=secrets)
        with self.conn.cursor() as cur:
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute("SELECT pg_export_snapshot()")
            self.snapshot = cur.fetchone()[0]
            if self.spec.get("fingerprint", True):
                self._copy_settings = pgdump_content.read_settings(cur)
        argv = [self.dump_path, "--format=custom", "--compress=0", "--no-password", "--snapshot=%s" % self.snapshot]
        for name in self.spec.get("exclude_table_data") or []:
            argv.append("--exclude-table-data=%s" % quote_pattern(name))
        argv += ["--dbname=%s" % self.params["dbname"]]
        tap = None
        if self.spec.get("fingerprint", True):
            self._stream_fp = pgdump_content.StreamFingerprint()
            tap = self._stream_fp.tap
            self._fp_thread = threading.Thread(target=self._take_fingerprint, name="fingerprint", daemon=True)
            self._fp_thread.start()
        yield Artifact("dump", ".pgdump", ProcessProducer("pg_dump", argv, env=self._env(), tap=tap), secrets=secrets)
        if self._fp_thread is not None:
            self._fp_thread.join()
        if self._fp_error is not None:
            raise self._fp_error
        if self._stream_fp is not None and self.fingerprint is not None:
            stream = self._stream_fp.finish()
            self.fingerprint = pgdump_content.merge(self.fingerprint, stream, self._copy_settings,
                                                    self.facts.get("client_version"), self._stream_fp.seconds,
                                                    self._stream_fp.error)

    def _take_fingerprint(self):
        started = time.monotonic()
        checksum = set(split_name(n) for n in self.spec.get("checksum_tables") or [])
        excluded = set(split_name(n) for n in self.spec.get("exclude_table_data") or [])
        tables = {}
        try:
            with self.conn.cursor() as cur:
                cur.execute(TABLES_SQL)
                for schema, table in cur.fetchall():
                    ident = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
                    entry = {}
                    if (schema, table) in excluded:
                        entry = {"rows": 0, "data_excluded": True}
                    elif (schema, table) in checksum:
                        cur.execute(sql.SQL(CHECKSUM_SQL).format(table=ident))
                        rows, digest = cur.fetchone()
                        entry = {"rows": rows, "checksum": digest}
                    else:
                        cur.execute(sql.SQL("SELECT count(*) FROM ONLY {}").format(ident))
                        entry = {"rows": cur.fetchone()[0]}
                    tables["%s.%s" % (schema, table)] = entry
            self.fingerprint = {"method": FINGERPRINT_METHOD, "snapshot": self.snapshot,
                                "checksum_sql": CHECKSUM_SQL.replace("{table}", "<schema>.<table>"),
                                "tables": tables, "table_count": len(tables),
                                "total_rows": sum(t["rows"] for t in tables.values()),
                                "duration_s": round(time.monotonic() - started, 3)}
        except psycopg.Error as exc:
            self._fp_error = SourceError("fingerprint query failed: %s" % _first_line(exc, self.password), step="fingerprint")

    def manifest_extra(self):
        return {"fingerprint": self.fingerprint} if self.fingerprint else {}

    def close(self):
        if self._fp_thread is not None and self._fp_thread.is_alive():
            try:
                self.conn.cancel()
            except Exception:  # pylint: disable=broad-except
                pass
            self._fp_thread.join(10)
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # pylint: disable=broad-except
                pass
            self.conn = None
        if self.passfile and os.path.exists(self.passfile):
            os.unlink(self.passfile)
            self.passfile = None


def _first_line(exc, password=None):
    text = str(exc).strip().split("\n", maxsplit=1)[0]
    if password:
        text = text.replace(password, "********")
    return text


def _connect_hint(text):
    if "password authentication failed" in text or "no password supplied" in text:
        return "check login_user and the password (login_password, passfile or conninfo)"
    if "does not exist" in text:
        return "check the database name"
    if "Connection refused" in text or "could not connect" in text or "timeout" in text:
        return "is PostgreSQL running and reachable from this host (login_host, login_port, pg_hba.conf)?"
    return None
