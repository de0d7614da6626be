# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the restore tests: module arguments, and what a PostgreSQL server holds."""

from helpers import assert_ok, backup_args, pg_source, public_key_encryption, run_module


def server(pg):
    return {"login_host": pg.host, "login_port": pg.port, "login_user": "postgres", "login_password": pg.password}


def key_decryption(gpg_keys):
    return {"private_keys": [gpg_keys["private_key"]]}


def verify_args(job, destinations, ops_state, pg=None, gpg_keys=None, **extra):
    args = {"job": job, "destinations": destinations, "ops_state": str(ops_state), "timeout": 900}
    if pg is not None:
        args["server"] = server(pg)
    if gpg_keys is not None:
        args["decryption"] = key_decryption(gpg_keys)
    args.update(extra)
    return args


def restore_verify(args, **kwargs):
    return run_module("watchkeeper.ops.restore_verify", args, **kwargs)


def restore(args, **kwargs):
    return run_module("watchkeeper.ops.restore", args, **kwargs)


def pg_backup(pg, dbname, job, destinations, gpg_keys, ops_state, env=None, extra=None, **source_extra):
    args = backup_args(job, pg_source(pg, dbname, **source_extra), destinations, public_key_encryption(gpg_keys), ops_state,
                       **(extra or {}))
    return assert_ok(run_module("watchkeeper.ops.backup", args, env=env))


def databases(pg):
    return set(pg.psql("SELECT datname FROM pg_database").split())


def scratch_databases(pg):
    return set(d for d in databases(pg) if d.startswith("wk_scratch_"))


def source_checksum(pg, dbname):
    """One md5 over every row of every user table, in a stable order, plus the catalog's table list."""
    tables = pg.psql("SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
                     "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
                     "AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1", dbname=dbname).split()
    parts = []
    for table in tables:
        parts.append(table + ":" + pg.psql("SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                                           "FROM %s t" % table, dbname=dbname))
    return "\n".join(parts)
