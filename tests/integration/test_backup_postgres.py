# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AC2: one task sends a real PostgreSQL database to local, S3 and GCS; every copy restores by hand.

Each copy is downloaded with the store's own client, hashed, decrypted with ``gpg -d``,
decompressed with ``zstd -d`` and restored with ``pg_restore`` into a new database, whose row
counts and table checksums (recomputed with the SQL the manifest documents) must equal the
manifest's fingerprint.
"""

import os
import subprocess
import threading
import uuid

import pytest

from helpers import (
    Store, assert_ok, backup_args, decode, drop_db, fill_database, gcs_dest, info, local_dest, new_job, pg_restore_into,
    pg_source, pg_tool, public_key_encryption, run_module, s3_dest, sha256_file, verify_fingerprint)

CHECKSUM_TABLES = ["public.docs", "pgbench_accounts", "public.pgbench_branches"]


@pytest.fixture
def three_stores(tmp_path, moto, s3_bucket, gcs, gcs_bucket):
    dests = [local_dest(tmp_path / "nas", name="nas"), s3_dest(moto, s3_bucket[0]),
             gcs_dest(gcs.info["endpoint"], gcs_bucket[0])]
    stores = {"nas": Store.local(tmp_path / "nas"), "s3": Store.s3(s3_bucket), "gcs": Store.gcs(gcs_bucket)}
    return dests, stores


def _objects_by_role(manifest):
    return {o["role"]: o for o in manifest["objects"]}


def test_postgres_backup_to_three_destinations_restores_everywhere(pg, pg_db, gpg_keys, three_stores, tmp_path, scratch):
    fill_database(pg, pg_db, scale=2, json_rows=5000)
    role = "wk_app_%s" % uuid.uuid4().hex[:8]
    pg.psql("CREATE ROLE %s LOGIN CONNECTION LIMIT 7 PASSWORD 'role-pw-%s'" % (role, uuid.uuid4().hex))
    dests, stores = three_stores
    job = new_job("pgdb")
    source = pg_source(pg, pg_db, include_globals=True, checksum_tables=CHECKSUM_TABLES)
    try:
        result = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
            job, source, dests, public_key_encryption(gpg_keys), tmp_path / "state", tmp_dir=scratch)))
        manifest = result["manifest"]
        objects = _objects_by_role(manifest)
        assert set(objects) == {"dump", "globals"}
        assert result["status"] == "ok" and result["changed"]
        assert result["sha256"] == manifest["sha256"] == objects["dump"]["sha256"]
        fingerprint = manifest["fingerprint"]
        assert fingerprint["tables"]["public.pgbench_accounts"]["rows"] == 200000
        assert fingerprint["tables"]["public.docs"]["rows"] == 5000
        assert all("checksum" in fingerprint["tables"][t] for t in
                   ("public.docs", "public.pgbench_accounts", "public.pgbench_branches"))

        by_name = {d["name"]: d for d in result["destinations"]}
        assert [d["name"] for d in result["destinations"]] == ["nas", "s3", "gcs"]
        for name, store in stores.items():
            entry = by_name[name]
            assert entry["status"] == "ok", entry
            assert entry["key"] == objects["dump"]["key"]
            # The manifest in *this* destination is the one the task reported, and the only one.
            assert store.manifests() == [entry["manifest_key"]]
            assert store.manifest(entry["manifest_key"]) == manifest
            listing = store.listing()
            for obj in manifest["objects"]:
                assert listing[obj["key"]] == obj["stored_bytes"], (name, obj["key"])

            # Download by hand, check the SHA-256, decode and restore.
            here = tmp_path / ("restore-" + name)
            here.mkdir()
            for role_name, obj in objects.items():
                path = store.download(obj["key"], str(here / os.path.basename(obj["key"])))
                assert sha256_file(path) == obj["sha256"], (name, role_name)
            dump_enc = str(here / os.path.basename(objects["dump"]["key"]))
            dump = str(here / "db.pgdump")
            decode(dump_enc, dump, gpg_home=gpg_keys["private_home"])
            assert os.path.getsize(dump) == objects["dump"]["raw_bytes"]
            restored = "r_%s_%s" % (name, uuid.uuid4().hex[:8])
            try:
                pg_restore_into(pg, dump, restored)
                assert verify_fingerprint(pg, restored, fingerprint) == 3
                # The JSON rows came back byte for byte (not only the same count).
                content = "SELECT md5(string_agg(body::text || coalesce(note, '<null>'), '|' ORDER BY id)) FROM docs"
                assert pg.psql(content, dbname=restored) == pg.psql(content, dbname=pg_db)
            finally:
                drop_db(pg, restored)

            # The globals object restores with psql: drop the role, replay, the role is back.
            globals_sql = str(here / "globals.sql")
            decode(str(here / os.path.basename(objects["globals"]["key"])), globals_sql, gpg_home=gpg_keys["private_home"])
            assert os.path.getsize(globals_sql) == objects["globals"]["raw_bytes"]
            with open(globals_sql) as handle:
                assert "CREATE ROLE %s" % role in handle.read()
            pg.psql("DROP ROLE %s" % role)
            proc = subprocess.run([pg_tool(pg, "psql"), "-X", "-q", "-d", "postgres", "-f", globals_sql], env=pg.env(),
                                  capture_output=True, text=True, check=False)
            assert proc.returncode == 0, proc.stderr
            errors = [line for line in proc.stderr.splitlines() if "ERROR" in line]
            assert all("already exists" in line for line in errors), errors  # only the roles that were never dropped
            assert pg.psql("SELECT rolcanlogin, rolconnlimit FROM pg_roles WHERE rolname = '%s'" % role) == "t|7"
        # backup_info reads each destination on its own and finds the one valid backup.
        for name, dest in zip(("nas", "s3", "gcs"), dests):
            listed = info(job, dest)
            assert (listed["count"], listed["valid_count"], listed["stale"]) == (1, 1, False), (name, listed.get("msg"))
            assert listed["latest"]["backup_id"] == result["backup_id"] and listed["incomplete"] == []
    finally:
        pg.psql("DROP ROLE IF EXISTS %s" % role, check=False)


def test_fingerprint_matches_dump_while_the_database_is_written(pg, pg_db, gpg_keys, tmp_path, scratch):
    """The row counts are taken in the dump's snapshot: a restore equals them even though pgbench
    kept writing during the whole backup."""
    fill_database(pg, pg_db, scale=2, json_rows=2000)
    stop = threading.Event()
    writes = []

    def writer():
        while not stop.is_set():
            proc = subprocess.run([pg_tool(pg, "pgbench"), "-n", "-c", "2", "-T", "1", pg_db], env=pg.env(),
                                  capture_output=True, text=True, check=False)
            writes.append(proc.returncode)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        before = int(pg.psql("SELECT count(*) FROM pgbench_history", dbname=pg_db))
        result = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
            new_job("busy"), pg_source(pg, pg_db, checksum_tables=["pgbench_history", "pgbench_accounts"]),
            [local_dest(tmp_path / "nas")], public_key_encryption(gpg_keys), tmp_path / "state",
            compression={"level": 6, "threads": 1}, tmp_dir=scratch)))
    finally:
        stop.set()
        thread.join(30)
    after = int(pg.psql("SELECT count(*) FROM pgbench_history", dbname=pg_db))
    assert writes and writes[0] == 0
    assert after > before, "pgbench did not write during the backup"
    fingerprint = result["manifest"]["fingerprint"]
    assert before <= fingerprint["tables"]["public.pgbench_history"]["rows"] <= after
    dump_obj = result["manifest"]["objects"][0]
    store = Store.local(tmp_path / "nas")
    enc = store.download(dump_obj["key"], str(tmp_path / "dump.enc"))
    assert sha256_file(enc) == dump_obj["sha256"]
    decode(enc, str(tmp_path / "dump"), gpg_home=gpg_keys["private_home"])
    restored = "r_busy_%s" % uuid.uuid4().hex[:8]
    try:
        pg_restore_into(pg, str(tmp_path / "dump"), restored)
        assert verify_fingerprint(pg, restored, fingerprint) == 2
    finally:
        drop_db(pg, restored)


def test_exclude_table_data_keeps_the_definition(pg, pg_db, gpg_keys, tmp_path, scratch):
    fill_database(pg, pg_db, scale=1, json_rows=300)
    result = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        new_job("excl"), pg_source(pg, pg_db, exclude_table_data=["public.docs"]), [local_dest(tmp_path / "nas")],
        public_key_encryption(gpg_keys), tmp_path / "state", tmp_dir=scratch)))
    fingerprint = result["manifest"]["fingerprint"]
    assert fingerprint["tables"]["public.docs"] == {"rows": 0, "data_excluded": True}
    dump_obj = result["manifest"]["objects"][0]
    decode(os.path.join(str(tmp_path / "nas"), dump_obj["key"]), str(tmp_path / "dump"), gpg_home=gpg_keys["private_home"])
    restored = "r_excl_%s" % uuid.uuid4().hex[:8]
    try:
        pg_restore_into(pg, str(tmp_path / "dump"), restored)
        verify_fingerprint(pg, restored, fingerprint)
        assert pg.psql("SELECT count(*) FROM public.pgbench_accounts", dbname=restored) == "100000"
    finally:
        drop_db(pg, restored)
