# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""restore_verify on real PostgreSQL backups (acceptance 1 to 4 of the recovery issue).

1. A backup taken while pgbench writes restores with every table's rows and checksums equal to the
   fingerprint taken with the dump.
2. The source database is never touched (a checksum of all its rows before and after).
3. An altered fingerprint, or restored data that differ from it, fail naming the table; the scratch
   database is gone afterwards, also after the process was killed mid-check (the next run removes it).
4. A flipped byte in one destination's copy: restore_verify falls back to the next one and passes.
"""

import json
import os
import signal
import subprocess
import uuid

from helpers import (
    Background, assert_failed, assert_ok, backup_args, fill_database, find_procs, has_env, local_dest, new_job,
    pg_source, pg_tool, run_module, s3_dest, wait_for)
from restore_helpers import pg_backup, restore_verify, scratch_databases, source_checksum, verify_args

CHECKSUMS = ["public.pgbench_accounts", "public.pgbench_history", "public.docs"]


def _manifest_path(dest, result):
    return os.path.join(dest["path"], result["destinations"][0]["manifest_key"])


def _edit_manifest(path, edit):
    with open(path) as handle:
        manifest = json.load(handle)
    edit(manifest)
    with open(path, "w") as handle:
        json.dump(manifest, handle)
    return manifest


def test_backup_under_pgbench_load_restores_to_its_fingerprint(pg, pg_db, gpg_keys, tmp_path):
    fill_database(pg, pg_db, scale=4, json_rows=3000)
    job = new_job("load")
    dest = local_dest(tmp_path / "nas")
    env = pg.env()
    history_before = int(pg.psql("SELECT count(*) FROM pgbench_history", dbname=pg_db))
    workload = subprocess.Popen([pg_tool(pg, "pgbench"), "-n", "-c", "2", "-T", "120", pg_db], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: int(pg.psql("SELECT count(*) FROM pgbench_history", dbname=pg_db)) > history_before + 50,
                 what="pgbench writing")
        during_start = int(pg.psql("SELECT count(*) FROM pgbench_history", dbname=pg_db))
        backup = pg_backup(pg, pg_db, job, [dest], gpg_keys, tmp_path / "state", checksum_tables=CHECKSUMS,
                           extra={"compression": {"level": 9, "threads": 1}})
        during_end = int(pg.psql("SELECT count(*) FROM pgbench_history", dbname=pg_db))
    finally:
        workload.send_signal(signal.SIGINT)
        try:
            workload.wait(15)
        except subprocess.TimeoutExpired:  # a client stuck in a lock wait under heavy load
            workload.kill()
            workload.wait(15)
    assert during_end > during_start, "pgbench did not write while the backup ran"
    fingerprint = backup["manifest"]["fingerprint"]["tables"]
    assert during_start <= fingerprint["public.pgbench_history"]["rows"] <= during_end

    res = assert_ok(restore_verify(verify_args(job, [dest], tmp_path / "state", pg=pg, gpg_keys=gpg_keys)))
    assert res["passed"] and res["status"] == "verified"
    rows = dict((c["table"], c) for c in res["checks"] if c["kind"] == "fingerprint")
    sums = dict((c["table"], c) for c in res["checks"] if c["kind"] == "checksum")
    content = dict((c["table"], c) for c in res["checks"] if c["kind"] == "content")
    # Every table by content; the checksum_tables are also counted and checksummed in SQL.
    assert set(content) == set(fingerprint)
    assert all(c["passed"] and c["found"] == fingerprint[t]["sha256"] for t, c in content.items())
    assert set(rows) == set(CHECKSUMS)
    assert all(c["passed"] and c["found"] == fingerprint[t]["rows"] for t, c in rows.items())
    assert set(sums) == set(CHECKSUMS)
    assert all(c["found"] == fingerprint[t]["checksum"] for t, c in sums.items())
    # The measured RTO adds up and the RPO is the backup's age.
    rto = res["rto"]
    assert rto["restore_data_s"] > 0 and rto["indexes_constraints_s"] > 0 and rto["checks_s"] > 0
    assert abs(rto["restore_s"] - (rto["download_decrypt_s"] + rto["restore_data_s"] + rto["indexes_constraints_s"])) < 0.01
    assert rto["total_s"] >= rto["restore_s"] + rto["checks_s"] - 0.01
    assert 0 <= res["rpo"]["achieved_s"] < 600
    assert res["scratch"]["removed"] and res["scratch"]["name"].startswith("wk_scratch_")
    assert not scratch_databases(pg)


def test_source_is_never_touched(pg, pg_db, gpg_keys, tmp_path):
    fill_database(pg, pg_db, scale=1, json_rows=1000)
    job = new_job("untouched")
    dest = local_dest(tmp_path / "nas")
    pg_backup(pg, pg_db, job, [dest], gpg_keys, tmp_path / "state", checksum_tables=["public.docs"])
    before = source_checksum(pg, pg_db)
    res = assert_ok(restore_verify(verify_args(job, [dest], tmp_path / "state", pg=pg, gpg_keys=gpg_keys, checks={
        "assertions": [{"name": "accounts exist", "sql": "select count(*) from pgbench_accounts", "op": "ge", "value": 1},
                       {"name": "no negative ids", "sql": "select count(*) from docs where id < 0", "value": 0}]})))
    assert res["scratch"]["name"] != pg_db
    assert source_checksum(pg, pg_db) == before
    assert [c["passed"] for c in res["checks"] if c["kind"] == "assertion"] == [True, True]


def test_altered_fingerprint_names_the_table_and_scratch_is_dropped(pg, pg_db, gpg_keys, tmp_path):
    fill_database(pg, pg_db, scale=1, json_rows=500)
    job = new_job("altered")
    dest = local_dest(tmp_path / "nas")
    backup = pg_backup(pg, pg_db, job, [dest], gpg_keys, tmp_path / "state", checksum_tables=["public.docs"])
    rows = backup["manifest"]["fingerprint"]["tables"]["public.pgbench_tellers"]["rows"]

    def alter(manifest):
        manifest["fingerprint"]["tables"]["public.pgbench_tellers"]["rows"] = rows + 1
        manifest["fingerprint"]["tables"]["public.docs"]["checksum"] = "12345"
    _edit_manifest(_manifest_path(dest, backup), alter)
    # Row counts and checksums alone (a table whose content digest is compared is not counted again).
    res = assert_failed(restore_verify(verify_args(job, [dest], tmp_path / "state", pg=pg, gpg_keys=gpg_keys,
                                                   checks={"content": "none"})))
    assert res["step"] == "checks" and res["passed"] is False
    assert "public.pgbench_tellers" in res["msg"] and "public.docs" in res["msg"]
    failed = dict((c["table"], c) for c in res["checks"] if not c["passed"])
    assert failed["public.pgbench_tellers"]["expected"] == rows + 1 and failed["public.pgbench_tellers"]["found"] == rows
    assert failed["public.docs"]["kind"] == "checksum" and failed["public.docs"]["expected"] == "12345"
    assert len(failed) == 2
    assert res["scratch"]["removed"] is True
    assert not scratch_databases(pg)


def test_restored_data_that_differ_from_the_fingerprint_fail(pg, pg_db, tmp_path):
    """Swap the stored dump for a dump of other data (checksums made to match): only the data checks can tell."""
    fill_database(pg, pg_db, scale=1, json_rows=200)
    job = new_job("otherdata")
    dest = local_dest(tmp_path / "nas")
    args = backup_args(job, pg_source(pg, pg_db), [dest], {"mode": "none"}, tmp_path / "state")
    backup = assert_ok(run_module("watchkeeper.ops.backup", args))
    pg.psql("DELETE FROM pgbench_branches WHERE bid = 1", dbname=pg_db)
    dump_obj = [o for o in backup["manifest"]["objects"] if o["role"] == "dump"][0]
    path = os.path.join(dest["path"], dump_obj["key"])
    subprocess.run("%s -Fc -Z0 -d %s | zstd -q -c > %s" % (pg_tool(pg, "pg_dump"), pg_db, path), shell=True, check=True,
                   env=pg.env())
    digest = subprocess.run(["sha256sum", path], capture_output=True, text=True, check=True).stdout.split()[0]

    def match(manifest):
        for obj in manifest["objects"]:
            if obj["role"] == "dump":
                obj["sha256"], obj["stored_bytes"] = digest, os.path.getsize(path)
        manifest["sha256"] = digest
    _edit_manifest(_manifest_path(dest, backup), match)
    res = assert_failed(restore_verify(verify_args(job, [dest], tmp_path / "state", pg=pg)))
    assert "public.pgbench_branches: expected 1 rows, found 0" in res["msg"]
    assert not scratch_databases(pg)


def test_killed_mid_check_leaves_a_scratch_database_the_next_run_removes(pg, pg_db, gpg_keys, tmp_path):
    fill_database(pg, pg_db, scale=1, json_rows=200)
    job = new_job("killed")
    dest = local_dest(tmp_path / "nas")
    pg_backup(pg, pg_db, job, [dest], gpg_keys, tmp_path / "state")
    slow = {"assertions": [{"name": "slow", "sql": "select count(*) from (select pg_sleep(120)) s", "value": 1}]}
    args = verify_args(job, [dest], tmp_path / "state", pg=pg, gpg_keys=gpg_keys, checks=slow, scratch_dir=str(tmp_path / "scratch"))
    marker = uuid.uuid4().hex
    run = Background(restore_verify, args, env={"WK_TEST_RUN": marker})
    run.start()
    sleeping = ("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%%pg_sleep(120)%%' "
                "AND datname LIKE 'wk_scratch_%%'")
    wait_for(lambda: not run.is_alive() or pg.psql(sleeping) == "1", timeout=120, what="the check running")
    assert run.is_alive(), dict((k, v) for k, v in run.result().items() if k in ("msg", "checks", "rto"))
    victims = [pid for pid in find_procs(lambda argv: any(b"AnsiballZ_restore_verify" in a for a in argv))
               if has_env(pid, "WK_TEST_RUN", marker)]  # this test's module only (other workers run their own)
    assert victims
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    killed = run.result()
    assert killed.failed
    left = scratch_databases(pg)
    assert len(left) == 1
    assert os.listdir(str(tmp_path / "scratch")), "the killed run's scratch directory should still be there"

    res = assert_ok(restore_verify(verify_args(job, [dest], tmp_path / "state", pg=pg, gpg_keys=gpg_keys,
                                               scratch_dir=str(tmp_path / "scratch"))))
    cleaned = " ".join(res["cleaned_up"])
    assert list(left)[0] in cleaned
    assert "left by a killed run" in cleaned
    assert not scratch_databases(pg)
    assert os.listdir(str(tmp_path / "scratch")) == []


def test_flipped_byte_falls_back_to_the_next_destination(pg, pg_db, gpg_keys, tmp_path, moto, s3_bucket):
    fill_database(pg, pg_db, scale=1, json_rows=300)
    job = new_job("fallback")
    dests = [local_dest(tmp_path / "nas", name="nas"), s3_dest(moto, s3_bucket[0], name="offsite")]
    backup = pg_backup(pg, pg_db, job, dests, gpg_keys, tmp_path / "state")
    dump_key = [o["key"] for o in backup["manifest"]["objects"] if o["role"] == "dump"][0]
    path = os.path.join(dests[0]["path"], dump_key)
    with open(path, "r+b") as handle:
        handle.seek(os.path.getsize(path) // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0x01]))
    res = assert_ok(restore_verify(verify_args(job, dests, tmp_path / "state", pg=pg, gpg_keys=gpg_keys)))
    assert [a["status"] for a in res["attempts"]] == ["failed", "ok"]
    assert "SHA-256" in res["attempts"][0]["error"] and "nas" in res["attempts"][0]["error"]
    assert res["destination"]["name"] == "offsite" and res["backup_id"] == backup["backup_id"]

    # Only the damaged copy: the task fails naming the checksum and the destination, nothing left behind.
    res = assert_failed(restore_verify(verify_args(job, dests[:1], tmp_path / "state", pg=pg, gpg_keys=gpg_keys)))
    assert "SHA-256" in res["msg"] and "nas" in res["msg"]
    assert not scratch_databases(pg)


def test_check_mode_reads_checksums_and_restores_nothing(pg, pg_db, gpg_keys, tmp_path):
    fill_database(pg, pg_db, scale=1, json_rows=100)
    job = new_job("check")
    dest = local_dest(tmp_path / "nas")
    pg_backup(pg, pg_db, job, [dest], gpg_keys, tmp_path / "state", include_globals=True)
    before = set(pg.psql("SELECT datname FROM pg_database").split())
    res = assert_ok(restore_verify(verify_args(job, [dest], tmp_path / "state", pg=pg, gpg_keys=gpg_keys), check_mode=True))
    assert res["status"] == "available" and not res["changed"]
    assert {c["kind"] for c in res["checks"]} == {"integrity"}
    names = sorted(c["name"] for c in res["checks"])
    assert len(names) == 2 and ".globals.sql." in names[0] and names[1].endswith(".pgdump.zst.gpg")
    assert set(pg.psql("SELECT datname FROM pg_database").split()) == before
    assert res["rto"]["restore_data_s"] == 0


def test_failures_are_clear_and_leave_nothing(pg, pg_db, gpg_keys, tmp_path):
    fill_database(pg, pg_db, scale=1, json_rows=100)
    job = new_job("fail")
    dest = local_dest(tmp_path / "nas")
    pg_backup(pg, pg_db, job, [dest], gpg_keys, tmp_path / "state")
    state = tmp_path / "state"
    # No key at all / a key of someone else: refused before anything is downloaded.
    res = assert_failed(restore_verify(verify_args(job, [dest], state, pg=pg)))
    assert res["step"] == "decryption" and gpg_keys["fingerprint"] in res["msg"]
    other = tmp_path / "other-home"
    other.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(other), "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(gpg + ["--quick-gen-key", "Other <o@example.invalid>", "default", "default", "never"], check=True,
                   capture_output=True)
    other_key = tmp_path / "other.asc"
    other_key.write_bytes(subprocess.run(gpg + ["--armor", "--export-secret-keys"], check=True, capture_output=True).stdout)
    subprocess.run(["gpgconf", "--homedir", str(other), "--kill", "all"], check=False, capture_output=True)
    res = assert_failed(restore_verify(verify_args(job, [dest], state, pg=pg, decryption={"private_keys": [str(other_key)]})))
    assert "encrypted for %s" % gpg_keys["fingerprint"] in res["msg"]
    # Database server down: found before anything is downloaded, and not blamed on the destination.
    down = dict(verify_args(job, [dest], state, pg=pg, gpg_keys=gpg_keys))
    down["server"] = dict(down["server"], login_port=1)
    res = assert_failed(restore_verify(down))
    assert res["step"] == "connect" and "cannot connect" in res["msg"]
    assert res["rto"]["download_decrypt_s"] == 0 and len(res["attempts"]) == 1
    assert pg.password not in res["stdout"]
    # A job without backups.
    res = assert_failed(restore_verify(verify_args(new_job("none"), [dest], state, pg=pg, gpg_keys=gpg_keys)))
    assert "no valid backup" in res["msg"]
    assert not scratch_databases(pg)
