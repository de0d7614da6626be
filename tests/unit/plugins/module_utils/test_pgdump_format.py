# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The custom-format reader on real dumps of the local pg_dump: digests equal an independent frame-by-frame walk,
any read boundaries give the same digests, truncated, compressed and unknown-version streams are refused."""

import hashlib
import os
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils import pgdump_format as fmt

SCHEMA = r"""
CREATE SCHEMA "Odd Schema ü";
CREATE TABLE "Odd Schema ü"."Täble With Spaces" (id int, t text);
INSERT INTO "Odd Schema ü"."Täble With Spaces" SELECT g, repeat('x', g % 50) || E'\t\\ \n' FROM generate_series(1, 3000) g;
CREATE TABLE public.empty (id int);
CREATE TABLE public.bin (id int, b bytea, j jsonb);
INSERT INTO public.bin VALUES (1, '\x00015c0a09ff'::bytea, '{"a": "\\u0001 \\\\ \n"}'),
                              (5, '\x05000000005c2e0a0a0a'::bytea, '{"k": [1, 2.5, null]}');
SELECT lo_from_bytea(0, '\x00010203'::bytea), lo_from_bytea(0, convert_to(repeat('large object ', 5000), 'UTF8'));
"""


def _dump(pg, dbname, *extra):
    proc = subprocess.run([os.path.join(pg.bindir, "pg_dump"), "-Fc", "-Z0"] + list(extra) + [dbname],
                          env=pg.env(), capture_output=True, check=True)
    return proc.stdout


@pytest.fixture
def dump(pg, pg_db):
    pg.psql(SCHEMA, dbname=pg_db)
    return _dump(pg, pg_db)


def _walk(data, start, int_size=4):
    """Reference: every block walked chunk by chunk (slow, independent of the terminator search)."""
    def read_int(pos):
        raw = data[pos:pos + 1 + int_size]
        value = int.from_bytes(raw[1:], "little")
        return (-value if raw[0] else value), pos + 1 + int_size
    blocks, pos = [], start
    while pos < len(data):
        kind = data[pos]
        dump_id, pos = read_int(pos + 1)
        begin, chunks = pos, 0
        if kind == fmt.BLK_DATA:
            while True:
                length, pos = read_int(pos)
                if length == 0:
                    break
                pos += length
                chunks += 1
        else:
            while True:
                oid, pos = read_int(pos)
                if oid == 0:
                    break
                chunks += 1
                while True:
                    length, pos = read_int(pos)
                    if length == 0:
                        break
                    pos += length
        blocks.append((kind, dump_id, data[begin:pos], chunks))
    return blocks


def _digest(data, sizes=None):
    parser = fmt.DumpDigest()
    pos = 0
    for size in sizes or [len(data)]:
        parser.feed(data[pos:pos + size])
        pos += size
    parser.feed(data[pos:])
    return parser.finish()


def _data_start(data):
    for end in range(1, len(data)):
        parser = fmt.DumpDigest()
        parser.feed(data[:end])
        if parser._state != "head" and parser._state != "toc":  # pylint: disable=protected-access
            return end
    raise AssertionError("no TOC end")


def test_digests_equal_a_frame_by_frame_walk(pg, pg_db, dump):
    parsed = _digest(dump)
    assert parsed.archive["version"].startswith("1.")
    blocks = _walk(dump, _data_start(dump))
    tables = [b for b in blocks if b[0] == fmt.BLK_DATA]
    assert len(tables) == 3
    for _kind, dump_id, body, chunks in tables:
        entry = parsed.entries[dump_id]
        name = "%s.%s" % (entry["namespace"], entry["tag"])
        assert parsed.tables[name] == {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        rows = int(pg.psql('SELECT count(*) FROM "%s"."%s"' % (entry["namespace"], entry["tag"]), dbname=pg_db))
        assert chunks == rows + 1  # one chunk per row and the terminator
    assert set(parsed.tables) == {"Odd Schema ü.Täble With Spaces", "public.empty", "public.bin"}
    blob_bodies = [b for b in blocks if b[0] == fmt.BLK_BLOBS]
    assert parsed.large_objects["count"] == sum(b[3] for b in blob_bodies) == 2
    assert parsed.large_objects["sha256"] == hashlib.sha256(b"".join(b[2] for b in blob_bodies)).hexdigest()


def test_same_data_same_digests_and_a_changed_row_changes_only_its_table(pg, pg_db, dump):
    before = _digest(dump).tables
    again = _digest(_dump(pg, pg_db)).tables
    assert again == before
    pg.psql("UPDATE public.bin SET j = '{\"k\": 2}' WHERE id = 5", dbname=pg_db)
    after = _digest(_dump(pg, pg_db)).tables
    assert after["public.bin"] != before["public.bin"]
    assert {k: v for k, v in after.items() if k != "public.bin"} == {k: v for k, v in before.items() if k != "public.bin"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=0, max_value=70000), max_size=40))
def test_any_read_boundaries_give_the_same_digests(dump, sizes):
    whole = _digest(dump)
    split = _digest(dump, sizes)
    assert split.summary() == whole.summary()


def test_one_byte_reads(dump):
    parser = fmt.DumpDigest()
    for index in range(len(dump)):
        parser.feed(dump[index:index + 1])
    assert parser.finish().summary() == _digest(dump).summary()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.floats(min_value=0.0, max_value=0.9999))
def test_a_truncated_stream_is_refused(dump, fraction):
    cut = int(len(dump) * fraction)
    parser = fmt.DumpDigest()
    parser.feed(dump[:cut])
    with pytest.raises(fmt.TruncatedDump):
        parser.finish()


def test_unknown_version_compressed_and_foreign_streams_are_unsupported(pg, pg_db, dump):
    newer = dump[:6] + bytes([99]) + dump[7:]
    with pytest.raises(fmt.UnsupportedDump, match="archive version 1.99"):
        fmt.DumpDigest().feed(newer)
    pg.psql("CREATE TABLE t (x text); INSERT INTO t SELECT 'row' FROM generate_series(1, 100)", dbname=pg_db)
    with pytest.raises(fmt.UnsupportedDump, match="compressed"):
        fmt.DumpDigest().feed(_dump(pg, pg_db, "-Z5"))
    with pytest.raises(fmt.DumpFormatError, match="PGDMP"):
        fmt.DumpDigest().feed(b"-- PostgreSQL database dump\n")
