# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``restore`` module (acceptance 2 of the recovery issue, second half).

* Into an existing, non-empty database without ``force``: the task fails and nothing changes (checksum).
* With ``force``: a safety backup of the target exists first (its manifest is in the destination and
  restores to the replaced data), then the target holds the backup's data.
* Into a new database, an SQLite file and a directory; check_mode says what the real run would do.
"""

import json
import os
import sqlite3

from helpers import assert_failed, assert_ok, backup_args, fill_database, local_dest, new_job, run_module
from restore_helpers import (
    databases, key_decryption, pg_backup, restore, restore_verify, scratch_databases, server, source_checksum, verify_args)


def _restore_args(job, dests, state, pg, gpg_keys, target, **extra):
    args = {"job": job, "destinations": dests, "ops_state": str(state), "server": server(pg),
            "decryption": key_decryption(gpg_keys), "target": target, "timeout": 900}
    args.update(extra)
    return args


def test_restore_refuses_a_non_empty_database_and_force_takes_a_safety_backup_first(pg, pg_db, gpg_keys, tmp_path):
    fill_database(pg, pg_db, scale=1, json_rows=300)
    job = new_job("recover")
    dest = local_dest(tmp_path / "nas")
    state = tmp_path / "state"
    backup = pg_backup(pg, pg_db, job, [dest], gpg_keys, state, checksum_tables=["public.docs"])
    backed_up = source_checksum(pg, pg_db)

    # The "incident": data changes after the backup.
    pg.psql("DELETE FROM docs WHERE id % 2 = 0; UPDATE pgbench_branches SET bbalance = 42", dbname=pg_db)
    damaged = source_checksum(pg, pg_db)
    assert damaged != backed_up

    # check_mode: says it would refuse; changes nothing.
    res = assert_ok(restore(_restore_args(job, [dest], state, pg, gpg_keys, {"database": pg_db}), check_mode=True))
    assert res["target"]["non_empty"] and "set force: true" in res["target"]["would_refuse"]

    # Without force: refused, nothing changed, nothing downloaded.
    before_dbs = databases(pg)
    res = assert_failed(restore(_restore_args(job, [dest], state, pg, gpg_keys, {"database": pg_db})))
    assert res["step"] == "preflight" and "not empty" in res["msg"] and "force" in res["msg"]
    assert source_checksum(pg, pg_db) == damaged
    assert databases(pg) == before_dbs
    assert res["rto"]["download_decrypt_s"] == 0

    # With force: a safety backup of the damaged database first, then the backup's data replaces it.
    res = assert_ok(restore(_restore_args(job, [dest], state, pg, gpg_keys, {"database": pg_db}, force=True)))
    assert res["changed"] and res["status"] == "restored" and res["backup_id"] == backup["backup_id"]
    safety = res["safety_backup"]
    assert safety["job"] == job + "-safety"
    manifest_key = safety["destinations"][0]["manifest_key"]
    assert os.path.exists(os.path.join(dest["path"], manifest_key))
    assert source_checksum(pg, pg_db) == backed_up
    assert databases(pg) == before_dbs and not scratch_databases(pg)
    assert res["target"]["replaced"]["kept"] is False

    # The safety backup holds the data that was replaced: verifying it restores the damaged state.
    check = assert_ok(restore_verify(verify_args(job + "-safety", [dest], state, pg=pg, gpg_keys=gpg_keys)))
    assert check["backup_id"] == safety["backup_id"]
    # (public.docs: the 150 rows of the damaged state, proven row by row by its content digest)
    restored_docs = [c for c in check["checks"] if c.get("table") == "public.docs" and c["kind"] == "content"][0]
    assert restored_docs["passed"]
    with open(os.path.join(dest["path"], manifest_key)) as handle:
        safety_manifest = json.load(handle)
    assert safety_manifest["fingerprint"]["tables"]["public.docs"]["rows"] == 150
    assert restored_docs["found"] == safety_manifest["fingerprint"]["tables"]["public.docs"]["sha256"]


def test_restore_into_a_new_database_keeps_nothing_else(pg, pg_db, gpg_keys, tmp_path):
    fill_database(pg, pg_db, scale=1, json_rows=100)
    job = new_job("newdb")
    dest = local_dest(tmp_path / "nas")
    pg_backup(pg, pg_db, job, [dest], gpg_keys, tmp_path / "state")
    target = "restored_%s" % job.split("-")[1]
    try:
        res = assert_ok(restore(_restore_args(job, [dest], tmp_path / "state", pg, gpg_keys, {"database": target})))
        assert res["target"]["existed"] is False and "safety_backup" not in res
        assert source_checksum(pg, target) == source_checksum(pg, pg_db)
        assert not scratch_databases(pg)
    finally:
        pg.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % target, check=False)


def test_restore_sqlite_file_and_directory(gpg_keys, tmp_path):
    app = str(tmp_path / "app.sqlite3")
    conn = sqlite3.connect(app)
    conn.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('a'), ('b'), ('c');")
    conn.commit()
    conn.close()
    tree = tmp_path / "uploads"
    (tree / "x").mkdir(parents=True)
    (tree / "x" / "one.txt").write_text("one\n")
    dest = local_dest(tmp_path / "nas")
    enc = {"mode": "public_key", "public_keys": [gpg_keys["public_key"]]}
    state = tmp_path / "state"
    for job, source in (("sq", {"type": "sqlite", "path": app}), ("tr", {"type": "files", "paths": [str(tree)]})):
        assert_ok(run_module("watchkeeper.ops.backup", backup_args(job, source, [dest], enc, state)))
    base = {"destinations": [dest], "ops_state": str(state), "decryption": key_decryption(gpg_keys)}

    # SQLite: the live file changed since; refused without force, replaced atomically with it.
    conn = sqlite3.connect(app)
    conn.execute("DELETE FROM t")
    conn.commit()
    conn.close()
    res = assert_failed(restore(dict(base, job="sq", target={"path": app})))
    assert "not empty" in res["msg"]
    res = assert_ok(restore(dict(base, job="sq", target={"path": app}, force=True)))
    assert res["safety_backup"]["job"] == "sq-safety"
    assert sqlite3.connect(app).execute("SELECT count(*) FROM t").fetchone()[0] == 3
    assert [n for n in os.listdir(str(tmp_path)) if ".wk-" in n] == []

    # Files: into a new directory (stored paths are absolute paths without the leading /).
    target = tmp_path / "restored"
    res = assert_ok(restore(dict(base, job="tr", target={"path": str(target)})))
    restored = target / str(tree).lstrip("/") / "x" / "one.txt"
    assert restored.read_text() == "one\n"
    # Again into the now non-empty directory: refused without force.
    res = assert_failed(restore(dict(base, job="tr", target={"path": str(target)})))
    assert "not empty" in res["msg"]
