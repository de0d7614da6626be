# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Content fingerprints of every table, from the dump stream (issue 11, acceptance 1 and 2).

a. A row changed, deleted or added in any table of a restored database (none of them in ``checksum_tables``)
   fails ``restore_verify`` naming each table (``existing_database``: the manifest against a database that
   ``restore`` restored earlier).
b. A dump whose data block was altered (same length, one byte of one row) and re-checksummed, so every object
   check passes, fails naming the table: by the restored database's digests (default) and by the dump's
   (``checks.content: dump``, before pg_restore).
c. Unusual schemas verify: names with spaces, capitals, quotes and non-ASCII, a partitioned table, a generated
   column, an unlogged table, a table without a primary key, a large object, jsonb and bytea with odd bytes,
   an enum, an extension type; and a source database whose ``TimeZone``/``bytea_output``/``lc_monetary`` differ
   from the server's (recorded by the backup, replayed by the verification).
d. A dump of an archive version the reader does not know: the backup succeeds with SQL counts and says why.
"""

import json
import os
import stat
import subprocess

import pytest

from helpers import assert_failed, assert_ok, backup_args, local_dest, new_job, pg_source, pg_tool, run_module
from restore_helpers import key_decryption, pg_backup, restore, restore_verify, scratch_databases, server, verify_args

ODD = '"Sales Ünïcode"."Orders Ωmega"'
QUOTED = 'public."Qu""ote Table"'


def _extension(pg, dbname):
    for name in ("citext", "hstore"):
        if pg.psql("SELECT count(*) FROM pg_available_extensions WHERE name = '%s'" % name, dbname=dbname) == "1":
            pg.psql("CREATE EXTENSION %s" % name, dbname=dbname)
            return name
    pytest.skip("neither citext nor hstore is installable here (postgresql-contrib missing)")


def unusual_schema(pg, dbname):
    ext = _extension(pg, dbname)
    ext_type, ext_value = ("citext", "'MiXeD Case'") if ext == "citext" else ("hstore", "'a=>1, \"b c\"=>\"x\\\\y\"'")
    pg.psql("""
        ALTER DATABASE %(db)s SET timezone = 'Pacific/Chatham';
        ALTER DATABASE %(db)s SET bytea_output = 'escape';
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy ☺');
        CREATE SCHEMA "Sales Ünïcode";
        CREATE TABLE %(odd)s (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "Amount" numeric(12, 2),
                              feeling mood, doubled numeric GENERATED ALWAYS AS ("Amount" * 2) STORED, ext %(ext_type)s);
        INSERT INTO %(odd)s ("Amount", feeling, ext)
            SELECT g * 1.25, (ARRAY['sad', 'ok', 'happy ☺']::mood[])[1 + g %% 3], %(ext_value)s FROM generate_series(1, 500) g;
        CREATE TABLE %(quoted)s (x int);
        INSERT INTO %(quoted)s SELECT generate_series(1, 10);
        CREATE TABLE public.measurements (city int, logdate date, peak float8) PARTITION BY RANGE (logdate);
        CREATE TABLE public.measurements_2025 PARTITION OF public.measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE public.measurements_2026 PARTITION OF public.measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        INSERT INTO public.measurements SELECT g %% 17, date '2025-01-01' + g, g / 3.0 FROM generate_series(0, 700) g;
        CREATE UNLOGGED TABLE public.cache (k text, v text);
        INSERT INTO public.cache SELECT 'k' || g, repeat('v', g) FROM generate_series(1, 200) g;
        CREATE TABLE public.nopk (a text, b float8, c timestamptz, d interval, e money);
        INSERT INTO public.nopk SELECT 'dup', 0.1 + g, timestamptz '2026-03-29 01:30:00+00' + g * interval '1 hour',
                                       g * interval '1 day 2 hours', g * 1.5 FROM generate_series(1, 50) g;
        INSERT INTO public.nopk SELECT * FROM public.nopk;
        CREATE TABLE public.odd_bytes (id int PRIMARY KEY, b bytea, j jsonb, t text);
        INSERT INTO public.odd_bytes VALUES
            (1, '\\x00015c0a09ff0d'::bytea, '{"k": "tab\\tnew\\nline \\\\ back", "ü": [1, 2.5e-10, null]}', E'tab\\there\\nnl \\\\ bs'),
            (2, '\\x05000000005c2e0a0a0a00000000'::bytea, '{"copy end": "\\\\.", "high": "\\u00ff\\u4e2d"}', E'\\\\.'),
            (3, NULL, NULL, NULL);
        SELECT lo_from_bytea(0, '\\x00ff5c0a2e'::bytea);
        SELECT lo_from_bytea(0, convert_to(repeat('large object ', 3000), 'UTF8'));
    """ % {"db": dbname, "odd": ODD, "quoted": QUOTED, "ext_type": ext_type, "ext_value": ext_value}, dbname=dbname)
    return ext


def _content_checks(res):
    return dict((c["table"], c) for c in res["checks"] if c["kind"] == "content")


def _manifest_path(dest, backup):
    return os.path.join(dest["path"], backup["destinations"][0]["manifest_key"])


def test_unusual_schemas_verify_every_table_by_content(pg, pg_db, gpg_keys, tmp_path):
    unusual_schema(pg, pg_db)
    job = new_job("unusual")
    dest = local_dest(tmp_path / "nas")
    backup = pg_backup(pg, pg_db, job, [dest], gpg_keys, tmp_path / "state")
    fingerprint = backup["manifest"]["fingerprint"]
    assert backup["manifest"]["schema_version"] == 2
    assert fingerprint["method"] == "copy-sha256-v2" and fingerprint["content"]["status"] == "ok"
    assert fingerprint["content"]["settings"]["TimeZone"] == "Pacific/Chatham"
    assert fingerprint["content"]["settings"]["bytea_output"] == "escape"
    assert fingerprint["content"]["large_objects"]["count"] == 2
    tables = fingerprint["tables"]
    for name in ("Sales Ünïcode.Orders Ωmega", 'public.Qu"ote Table', "public.measurements_2025",
                 "public.measurements_2026", "public.cache", "public.nopk", "public.odd_bytes"):
        assert len(tables[name]["sha256"]) == 64 and tables[name]["rows"] > 0, name
    assert "public.measurements" not in tables  # the partitioned parent holds no rows itself

    for content in ("database", "dump"):
        res = assert_ok(restore_verify(verify_args(job, [dest], tmp_path / "state", pg=pg, gpg_keys=gpg_keys,
                                                   checks={"content": content})))
        checks = _content_checks(res)
        assert set(checks) == set(tables) | {"large objects"}, content
        assert all(c["passed"] and c["found"] == (tables.get(t) or {}).get("sha256", c["found"]) for t, c in checks.items())
    assert not scratch_databases(pg)


def test_changed_deleted_added_rows_of_a_restored_database_fail_naming_each_table(pg, pg_db, gpg_keys, tmp_path):
    unusual_schema(pg, pg_db)
    job = new_job("changed")
    dest = local_dest(tmp_path / "nas")
    state = tmp_path / "state"
    backup = pg_backup(pg, pg_db, job, [dest], gpg_keys, state, checksum_tables=["public.cache"])
    target = "restored_%s" % job.split("-")[1]
    try:
        assert_ok(restore({"job": job, "destinations": [dest], "ops_state": str(state), "server": server(pg),
                           "decryption": key_decryption(gpg_keys), "target": {"database": target}, "timeout": 900}))
        args = verify_args(job, [dest], state, pg=pg, existing_database=target)
        res = assert_ok(restore_verify(args))
        assert res["status"] == "matches" and res["verified_record"] is None
        assert res["scratch"]["name"] == target and res["scratch"]["removed"] is False
        assert set(_content_checks(res)) == set(backup["manifest"]["fingerprint"]["tables"]) | {"large objects"}

        # One row changed (same count), one deleted, one added; none of these tables is in checksum_tables.
        pg.psql("""UPDATE %s SET "Amount" = "Amount" + 0.01 WHERE id = 250;
                   DELETE FROM public.nopk WHERE ctid = (SELECT min(ctid) FROM public.nopk);
                   INSERT INTO public.measurements VALUES (1, date '2026-06-01', 1.0);""" % ODD, dbname=target)
        res = assert_failed(restore_verify(args))
        assert res["step"] == "checks" and res["passed"] is False
        failed = dict((c["table"], c) for c in res["checks"] if not c["passed"] and c["kind"] == "content")
        assert set(failed) == {"Sales Ünïcode.Orders Ωmega", "public.nopk", "public.measurements_2026"}
        odd = backup["manifest"]["fingerprint"]["tables"]["Sales Ünïcode.Orders Ωmega"]
        assert ("table Sales Ünïcode.Orders Ωmega: content differs from the backup (sha256 %s expected, %s found)"
                % (odd["sha256"], failed["Sales Ünïcode.Orders Ωmega"]["found"])) in res["msg"]
        rows = [c["table"] for c in res["checks"] if not c["passed"] and c["kind"] == "fingerprint"]
        assert sorted(rows) == ["public.measurements_2026", "public.nopk"]  # the update kept the count
        # A large object changed: named too.
        pg.psql("SELECT lo_put((SELECT min(oid) FROM pg_largeobject_metadata), 1, '\\x00'::bytea)", dbname=target)
        res = assert_failed(restore_verify(verify_args(job, [dest], state, pg=pg, existing_database=target)))
        assert "large objects: content differs from the backup" in res["msg"]
    finally:
        pg.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % target, check=False)


def _alter_one_byte(path, old, new):
    """Decompress the stored dump, replace ``old`` by ``new`` (same length) once, compress it back."""
    plain = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
    assert plain.count(old) == 1 and len(old) == len(new)
    subprocess.run(["zstd", "-q", "-f", "-o", path], input=plain.replace(old, new), check=True)


def test_altered_and_rechecksummed_dump_fails_naming_the_table(pg, pg_db, tmp_path):
    pg.psql("""CREATE TABLE public.notes (id int, body text);
               INSERT INTO public.notes SELECT g, 'note ' || g || CASE WHEN g = 42 THEN ' needle-row' ELSE '' END
               FROM generate_series(1, 1000) g;
               CREATE TABLE public.other (id int); INSERT INTO public.other SELECT generate_series(1, 10);""", dbname=pg_db)
    job = new_job("tampered")
    dest = local_dest(tmp_path / "nas")
    state = tmp_path / "state"
    backup = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        job, pg_source(pg, pg_db, checksum_tables=["public.other"]), [dest], {"mode": "none"}, state)))
    dump_obj = [o for o in backup["manifest"]["objects"] if o["role"] == "dump"][0]
    path = os.path.join(dest["path"], dump_obj["key"])
    _alter_one_byte(path, b"42\tnote 42 needle-row\n", b"42\tnote 42 needle-rox\n")
    digest = subprocess.run(["sha256sum", path], capture_output=True, text=True, check=True).stdout.split()[0]
    with open(_manifest_path(dest, backup)) as handle:
        manifest = json.load(handle)
    for obj in manifest["objects"]:
        if obj["role"] == "dump":
            obj["sha256"], obj["stored_bytes"] = digest, os.path.getsize(path)
    manifest["sha256"] = digest
    with open(_manifest_path(dest, backup), "w") as handle:
        json.dump(manifest, handle)
    expected = manifest["fingerprint"]["tables"]["public.notes"]["sha256"]

    res = assert_failed(restore_verify(verify_args(job, [dest], state, pg=pg)))
    assert res["step"] == "checks"
    assert "table public.notes: content differs from the backup (sha256 %s expected" % expected in res["msg"]
    assert [c["table"] for c in res["checks"] if not c["passed"]] == ["public.notes"]  # same row count

    res = assert_failed(restore_verify(verify_args(job, [dest], state, pg=pg, checks={"content": "dump"})))
    assert "table public.notes: content differs from the backup (sha256 %s expected" % expected in res["msg"]
    assert res["rto"]["restore_data_s"] == 0  # caught before pg_restore
    assert res["attempts"][0]["status"] == "failed" and "public.notes" in res["attempts"][0]["error"]
    assert not scratch_databases(pg)


def test_a_dump_the_reader_does_not_know_falls_back_to_sql_counts(pg, pg_db, tmp_path):
    pg.psql("CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 100)", dbname=pg_db)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "pg_dump"
    # A pg_dump whose archives claim version 1.99 (the third byte after PGDMP is the minor version).
    wrapper.write_text("#!/bin/sh\ncase \" $* \" in *\" --version \"*) exec %s --version;; esac\n"
                       "%s \"$@\" | python3 -c 'import sys; d = sys.stdin.buffer.read(); "
                       "sys.stdout.buffer.write(d[:6] + bytes([99]) + d[7:])'\n"
                       % (pg_tool(pg, "pg_dump"), pg_tool(pg, "pg_dump")))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    job = new_job("oldfmt")
    backup = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        job, pg_source(pg, pg_db, pg_bin_dir=str(bindir)), [local_dest(tmp_path / "nas")], {"mode": "none"},
        tmp_path / "state")))
    fingerprint = backup["manifest"]["fingerprint"]
    assert fingerprint["method"] == "rows+md5sum-v1"
    assert fingerprint["content"]["status"] == "unavailable"
    assert "archive version 1.99" in fingerprint["content"]["reason"]
    assert fingerprint["tables"]["public.t"] == {"rows": 100}


def test_a_schema_1_manifest_without_digests_still_verifies(pg, pg_db, tmp_path):
    pg.psql("CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 100)", dbname=pg_db)
    job = new_job("legacy")
    dest = local_dest(tmp_path / "nas")
    backup = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        job, pg_source(pg, pg_db, checksum_tables=["public.t"]), [dest], {"mode": "none"}, tmp_path / "state")))
    with open(_manifest_path(dest, backup)) as handle:
        manifest = json.load(handle)
    # What collection 1.0 wrote: schema_version 1, rows and checksums only.
    manifest["schema_version"] = 1
    fingerprint = manifest["fingerprint"]
    fingerprint["method"] = "rows+md5sum-v1"
    del fingerprint["content"]
    for entry in fingerprint["tables"].values():
        entry.pop("sha256", None)
        entry.pop("bytes", None)
    with open(_manifest_path(dest, backup), "w") as handle:
        json.dump(manifest, handle)
    res = assert_ok(restore_verify(verify_args(job, [dest], tmp_path / "state", pg=pg)))
    kinds = sorted((c["kind"], c["table"]) for c in res["checks"])
    assert kinds == [("checksum", "public.t"), ("fingerprint", "public.t")]
