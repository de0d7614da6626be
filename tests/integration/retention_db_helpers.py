# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data and module calls of the database retention tests. Everything is checked with the test's own SQL
(psql), never with the collection's code."""

from helpers import run_module

NOW = "2026-06-01T00:00:00Z"
CUTOFF = "2026-03-03 00:00:00+00"  # NOW - 90d
PRED = "created_at < '%s' AND NOT COALESCE(held, false)" % CUTOFF


def make_events(pg, dbname, rows, table="events", held_every=97):
    """``table``: id bigserial PK, created_at spread over 2025-12-01 .. 2026-06-01 (so about 50 % are past the
    90-day horizon), ``held`` for every ``held_every``-th row, a ~40-byte payload; indexed on created_at."""
    pg.psql("""
        CREATE TABLE {t} (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, held boolean NOT NULL DEFAULT false,
                          kind text NOT NULL DEFAULT 'app', payload text);
        INSERT INTO {t} (created_at, held, kind, payload)
        SELECT timestamptz '2025-12-01 00:00:00+00' + (g::float8 / {n}) * interval '182 days', g % {h} = 0,
               CASE WHEN g % 10 = 0 THEN 'audit' ELSE 'app' END, md5(g::text) || ' payload'
        FROM generate_series(1, {n}) g;
        CREATE INDEX ON {t} (created_at);
        ANALYZE {t};
    """.format(t=table, n=int(rows), h=int(held_every)), dbname=dbname)


def make_partitioned(pg, dbname, table="metrics", default=True):
    """Monthly range partitions 2026-01 .. 2026-06 plus, for the rows of 2025-12, DEFAULT (``default``) or
    ``<table>_old`` (MINVALUE .. 2026-01-01); PK (id, created_at). One held row in the January partition; the cutoff
    2026-03-03 straddles the March partition."""
    months = "\n".join("CREATE TABLE {t}_2026_%02d PARTITION OF {t} FOR VALUES FROM ('2026-%02d-01') TO ('2026-%02d-01');"
                       % (m, m, m + 1) for m in range(1, 7))
    first = ("CREATE TABLE {t}_default PARTITION OF {t} DEFAULT;" if default else
             "CREATE TABLE {t}_old PARTITION OF {t} FOR VALUES FROM (MINVALUE) TO ('2026-01-01');")
    script = """
        CREATE TABLE {t} (id bigint NOT NULL, created_at timestamptz NOT NULL, held boolean NOT NULL DEFAULT false,
                          PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);
        """ + months + first + """
        INSERT INTO {t} SELECT g, timestamptz '2025-12-01 00:00:00+00' + g * interval '1 hour', false
        FROM generate_series(1, 4368) g;
        UPDATE {t} SET held = true WHERE id = 1000;
        CREATE INDEX ON {t} (created_at);
    """
    pg.psql(script.format(t=table), dbname=dbname)


def server(pg, dbname, **extra):
    spec = {"login_host": pg.host, "login_port": pg.port, "login_user": "postgres", "login_password": pg.password,
            "database": dbname}
    spec.update(extra)
    return spec


def table_spec(table="events", **extra):
    spec = {"table": table, "column": "created_at", "older_than": "90d", "hold_condition": "held"}
    spec.update(extra)
    return spec


def purge(pg, dbname, tables, ops_state, check_mode=False, server_spec=None, **extra):
    args = {"target": "database", "server": server_spec or server(pg, dbname), "tables": tables,
            "ops_state": str(ops_state)}
    args.update(extra)
    return run_module("watchkeeper.ops.retention_purge", args, check_mode=check_mode, env={"WATCHKEEPER_NOW": NOW})


def ids(pg, dbname, query):
    out = pg.psql(query, dbname=dbname)
    return set(int(v) for v in out.split()) if out else set()


def count(pg, dbname, query):
    return int(pg.psql(query, dbname=dbname))


def checksum(pg, dbname, table):
    """md5 over every row of ``table`` in key order (partitions included)."""
    return pg.psql("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %s t"
                   % table, dbname=dbname)


def partitions(pg, dbname, parent):
    out = pg.psql("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                  "WHERE i.inhparent = '%s'::regclass ORDER BY 1" % parent, dbname=dbname)
    return out.split()


def table_row(result, name):
    rows = [t for t in result["database"]["tables"] if t["table"] == name]
    assert len(rows) == 1, result.get("database")
    return rows[0]
