# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A database with the problems pg_insights finds (shared by the module's and the performance runbook's tests)."""

import uuid

# Thresholds small enough for the crafted database's sizes.
SMALL = {"unused_index_min_bytes": 0, "dead_tuples_min": 10000, "bloat_min_bytes": 100000, "seq_scan_table_bytes": 1000000,
         "seq_scan_min": 3, "seq_tup_read_min": 100000}


def craft(pg, prefix):
    """Create the database; returns its name. An unused index (big_v_unused), duplicate indexes (dup_a, dup_b), a
    table read by sequential scans (big), dead tuples and bloat after a mass update (churn, autovacuum off), and a
    one-row table for lock tests (lockt); statistics flushed by ending each psql session."""
    name = "%s_%s" % (prefix, uuid.uuid4().hex[:8])
    pg.psql("CREATE DATABASE %s" % name)
    for sql in (
            "CREATE TABLE big (id int PRIMARY KEY, k int, v text)",
            "INSERT INTO big SELECT g, g % 1000, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 60000) g",
            "CREATE INDEX big_v_unused ON big (v)",
            "CREATE INDEX dup_a ON big (k)",
            "CREATE INDEX dup_b ON big (k)",
            "CREATE TABLE churn (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false)",
            "INSERT INTO churn SELECT g, md5(g::text) FROM generate_series(1, 40000) g",
            "ANALYZE big; ANALYZE churn",
            "UPDATE churn SET v = v || 'x'",
            "CREATE TABLE lockt (id int PRIMARY KEY, v int)",
            "INSERT INTO lockt VALUES (1, 0)"):
        pg.psql(sql, dbname=name)
    pg.psql("SET enable_seqscan = off; SET enable_bitmapscan = off; SELECT count(*) FROM big WHERE k = 5", dbname=name)
    for scan in range(4):
        pg.psql("SELECT count(*), %d FROM big WHERE v LIKE '%%zz%%'" % scan, dbname=name)
    return name


def drop(pg, name):
    pg.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name, check=False)
