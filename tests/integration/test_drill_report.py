# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drill reports and their runbooks.

AC7: the by-hand steps a runbook generates from a real backup's manifest, executed exactly as
written (``bash -euo pipefail``, one shell per step, only the documented environment variables
set), restore the data: PostgreSQL row counts and checksums equal the manifest's fingerprint, the
SQLite copy (symmetric, fetched from S3 with the aws CLI) passes its integrity check, file trees
come back identical.

AC8: the report the module writes renders in Chromium (screenshot taken) and shows the
objectives, every job, the timings and the checks.
"""

import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import uuid

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.report import runbook
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.summary import backup_summary, destination_summary
from helpers import (
    S3_ACCESS, S3_SECRET, Store, report_page, assert_failed, assert_ok, backup_args, drop_db, fill_database, local_dest, new_job, pg_source,
    public_key_encryption, run_module, s3_dest, tree_state, verify_fingerprint)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def summaries(result, spec):
    """What restore_verify would return about this backup and destination (summary.py, as it does)."""
    location = spec.get("path") or "s3://%s%s" % (spec["bucket"], "/" + spec["prefix"] if spec.get("prefix") else "")
    return backup_summary(result["manifest"]), destination_summary(spec, location)


@pytest.fixture
def restore_gnupghome(gpg_keys):
    """A fresh GNUPGHOME on the 'restore host' with the private key imported, as the runbook asks."""
    home = tempfile.mkdtemp(prefix="wk-gh-")
    os.chmod(home, 0o700)
    secret = subprocess.run(["gpg", "--homedir", gpg_keys["private_home"], "--batch", "--pinentry-mode", "loopback",
                             "--passphrase", "", "--armor", "--export-secret-keys", gpg_keys["fingerprint"]],
                            capture_output=True, check=True).stdout
    subprocess.run(["gpg", "--homedir", home, "--batch", "--import"], input=secret, capture_output=True, check=True)
    yield home
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True, check=False)
    shutil.rmtree(home, ignore_errors=True)


def run_by_hand(book, env):
    """Every by-hand step verbatim, one ``bash -euo pipefail`` per step; only ``env`` (+ PATH, HOME) is set."""
    home = tempfile.mkdtemp(prefix="wk-operator-")  # the operator's HOME: gpg without GNUPGHOME starts its agent there
    base = {"PATH": os.environ["PATH"], "HOME": home, "LANG": "C.UTF-8"}
    base.update(env)
    outputs = []
    try:
        for index, step in enumerate(book["by_hand"], 1):
            proc = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(step["commands"])], env=base,
                                  capture_output=True, text=True, timeout=600, check=False)
            assert proc.returncode == 0, "step %d (%s) failed (%d)\n%s\nstdout: %s\nstderr: %s" % (
                index, step["title"], proc.returncode, "\n".join(step["commands"]), proc.stdout[-3000:],
                proc.stderr[-3000:])
            outputs.append(proc.stdout)
    finally:
        subprocess.run(["gpgconf", "--homedir", os.path.join(home, ".gnupg"), "--kill", "all"], capture_output=True,
                       check=False)
        shutil.rmtree(home, ignore_errors=True)
    return outputs


def test_ac7_by_hand_steps_restore_postgres(pg, pg_db, gpg_keys, restore_gnupghome, tmp_path, scratch):
    fill_database(pg, pg_db, scale=1, json_rows=800)
    spec = local_dest(tmp_path / "nas", name="nas")
    result = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        new_job("drill-pg"), pg_source(pg, pg_db, checksum_tables=["public.docs"]), [spec], public_key_encryption(gpg_keys),
        tmp_path / "state", tmp_dir=scratch)))
    book = runbook.build(*summaries(result, spec))
    assert [e["name"] for e in book["env"]] == ["WORK_DIR", "GNUPGHOME", "TARGET_DB", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD"]
    target = "r_drill_%s" % uuid.uuid4().hex[:8]
    env = {"WORK_DIR": str(tmp_path / "work"), "GNUPGHOME": restore_gnupghome, "TARGET_DB": target, "PGHOST": pg.host,
           "PGPORT": str(pg.port), "PGUSER": pg.user, "PGPASSWORD": pg.password}
    env["PATH"] = pg.bindir + os.pathsep + os.environ["PATH"]
    try:
        outputs = run_by_hand(book, env)
        fingerprint = result["manifest"]["fingerprint"]
        assert verify_fingerprint(pg, target, fingerprint) == 1  # every table's rows, and the recorded checksum
        assert "row counts of %d tables match the manifest" % len(fingerprint["tables"]) in outputs[-1]
    finally:
        drop_db(pg, target)


def test_ac7_by_hand_steps_restore_sqlite_symmetric_from_s3(gpg_keys, moto, s3_bucket, tmp_path, scratch):
    path = str(tmp_path / "app.sqlite3")
    with sqlite3.connect(path) as conn:
        conn.executescript("CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);"
                           "CREATE TABLE \"odd name\" (x);")
        conn.executemany("INSERT INTO events (payload) VALUES (?)", (("event %d" % i,) for i in range(3000)))
        conn.executemany("INSERT INTO \"odd name\" VALUES (?)", ((i,) for i in range(7)))
    conn.close()
    spec = s3_dest(moto, s3_bucket[0], prefix="backups/prod")
    result = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        new_job("drill-sqlite"), {"type": "sqlite", "path": path}, [spec],
        {"mode": "symmetric", "passphrase_file": gpg_keys["passphrase_file"]}, tmp_path / "state", tmp_dir=scratch)))
    book = runbook.build(*summaries(result, spec))
    assert "aws s3 cp s3://%s/backups/prod/" % s3_bucket[0] in book["by_hand"][0]["commands"][3]
    target = str(tmp_path / "restored.sqlite3")
    outputs = run_by_hand(book, {"WORK_DIR": str(tmp_path / "work"), "PASSPHRASE_FILE": gpg_keys["passphrase_file"],
                                 "TARGET_DB": target, "AWS_ACCESS_KEY_ID": S3_ACCESS, "AWS_SECRET_ACCESS_KEY": S3_SECRET})
    assert "integrity_check: ok" in outputs[3] and "row counts of 2 tables match the manifest" in outputs[4]
    with sqlite3.connect(target) as conn:
        counts = {t: conn.execute('SELECT count(*) FROM "%s"' % t).fetchone()[0] for t in ("events", "odd name")}
    conn.close()
    assert counts == {t: v["rows"] for t, v in result["manifest"]["fingerprint"]["tables"].items()} == {"events": 3000, "odd name": 7}
    again = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(book["by_hand"][3]["commands"])],
                           env={"PATH": os.environ["PATH"], "WORK_DIR": str(tmp_path / "work"), "TARGET_DB": target},
                           capture_output=True, text=True, check=False)
    assert again.returncode != 0 and "exists; choose a new TARGET_DB" in again.stderr


@pytest.mark.parametrize("mode,encryption", [("full", "public_key"), ("incremental", "symmetric")])
def test_ac7_by_hand_steps_restore_file_trees(mode, encryption, gpg_keys, restore_gnupghome, tmp_path, scratch):
    tree = tmp_path / "uploads"
    (tree / "a" / "b").mkdir(parents=True)
    for i in range(40):
        (tree / "a" / ("f%02d.txt" % i)).write_text("file %d\n" % i * (i + 1))
    (tree / "a" / "b" / "with space.bin").write_bytes(os.urandom(70000))
    os.symlink("a/f01.txt", str(tree / "link"))
    spec = local_dest(tmp_path / "nas", name="nas")
    enc = public_key_encryption(gpg_keys) if encryption == "public_key" else {
        "mode": "symmetric", "passphrase_file": gpg_keys["passphrase_file"]}
    result = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        new_job("drill-files"), {"type": "files", "mode": mode, "paths": [str(tree)]}, [spec], enc, tmp_path / "state",
        tmp_dir=scratch)))
    book = runbook.build(*summaries(result, spec))
    env = {"WORK_DIR": str(tmp_path / "work"), "TARGET_DIR": str(tmp_path / "restored")}
    if encryption == "public_key":
        env["GNUPGHOME"] = restore_gnupghome
    else:
        env.update(PASSPHRASE_FILE=gpg_keys["passphrase_file"],
                   RESTORE_FILES_SCRIPT=os.path.join(ROOT, "docs", "restore-files-by-hand.sh"))
    run_by_hand(book, env)
    assert tree_state(str(tmp_path / "restored" / str(tree).lstrip("/"))) == tree_state(str(tree))


# --------------------------------------------------------------------------- AC8: the report


def verify_result(backup_result, spec, rto_total, rpo_s, verify_started_at):
    """A restore_verify result shaped exactly like its RETURN, around a real backup."""
    backup, destination = summaries(backup_result, spec)
    tables = backup_result["manifest"].get("fingerprint", {}).get("tables", {})
    checks = [{"name": "rows %s" % t, "kind": "fingerprint", "table": t, "passed": True, "expected": v["rows"],
               "found": v["rows"], "detail": None} for t, v in sorted(tables.items())]
    checks.append({"name": "integrity", "kind": "integrity", "passed": True, "expected": "ok", "found": "ok", "detail": None})
    return {"changed": False, "failed": False, "passed": True, "status": "verified", "job": backup["job"], "kind": backup["kind"],
            "backup_id": backup["backup_id"], "created_at": backup["created_at"], "backup": backup, "destination": destination,
            "attempts": [{"destination": spec["name"], "status": "ok", "backup_id": backup["backup_id"], "error": None}],
            "scratch": {"kind": "file", "name": "/var/tmp/.wk-scratch", "removed": True},
            "rto": {"select_s": 0.1, "download_decrypt_s": rto_total * 0.3, "restore_data_s": rto_total * 0.5,
                    "indexes_constraints_s": rto_total * 0.1, "checks_s": rto_total * 0.1 - 0.1, "cleanup_s": 0.4,
                    "restore_s": rto_total * 0.9, "total_s": rto_total},
            "rpo": {"achieved_s": rpo_s, "backup_created_at": backup["created_at"], "verify_started_at": verify_started_at},
            "checks": checks, "mismatches": []}


@pytest.fixture
def drill_results(pg, pg_db, gpg_keys, tmp_path, scratch):
    """Around three real backups: one job passed, one missed the RTO, one restore failed on a check."""
    pg.psql("CREATE TABLE public.users (id int PRIMARY KEY, name text); "
            "INSERT INTO public.users SELECT g, 'user ' || g FROM generate_series(1, 1200) g", dbname=pg_db)
    db = str(tmp_path / "app.sqlite3")
    with sqlite3.connect(db) as conn:
        conn.executescript("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('a'), ('b');")
    conn.close()
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "logo.png").write_bytes(b"\x89PNG not really")
    spec = local_dest(tmp_path / "nas", name="nas")
    enc = public_key_encryption(gpg_keys)
    backups = [assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        job, source, [spec], enc, tmp_path / "state", tmp_dir=scratch))) for job, source in (
        ("app-sqlite", {"type": "sqlite", "path": db}), ("uploads", {"type": "files", "paths": [str(tmp_path / "uploads")]}),
        ("app-db", pg_source(pg, pg_db)))]
    started = backups[2]["manifest"]["completed_at"]
    failed = verify_result(backups[2], spec, 61.0, 90.0, started)
    failed["checks"][0].update(passed=False, found=1187, detail="public.users: 1200 rows expected, 1187 found")
    failed.update(failed=True, passed=False, msg="step checks: 1 check failed: rows public.users <expected 1200, found 1187>",
                  mismatches=["rows public.users: expected 1200, found 1187"])
    return [verify_result(backups[0], spec, 42.5, 300.0, started), verify_result(backups[1], spec, 9000.0, 120.0, started),
            failed]


def check_report_json(doc, jobs):
    assert doc["schema"] == "watchkeeper.ops/drill-report" and doc["schema_version"] == 1
    for field in ("drill_id", "title", "operator", "host", "collection_version", "started_at", "finished_at", "duration_s",
                  "next_drill_due", "objectives", "objectives_met", "verdict", "summary", "missed", "destinations", "jobs", "files"):
        assert field in doc, field
    for name in ("rpo", "rto"):
        assert set(doc["objectives"][name]) >= {"target", "target_s", "worst_s", "worst_job", "met", "jobs_met", "jobs_missed"}
    assert [j["job"] for j in doc["jobs"]] == jobs
    for job in doc["jobs"]:
        for field in ("id", "kind", "status", "passed", "error", "verdict", "backup_id", "backup_created_at", "backup",
                      "destination", "attempts", "fallbacks", "scratch", "rto", "rpo", "checks", "checks_passed",
                      "checks_failed", "mismatches", "runbook", "runbook_error", "runbook_file"):
            assert field in job, (job["job"], field)


def png_size(path):
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_ac8_report_renders_in_chromium(drill_results, tmp_path):
    result = assert_ok(run_module("watchkeeper.ops.drill_report", {
        "results": drill_results, "ops_state": str(tmp_path / "ops"), "operator": "drill-operator", "title": "Q4 DR drill",
        "objectives": {"rpo": "4h", "rto": "2h"}}))
    assert result.changed and result["written"] and not result["objectives_met"]
    assert [(m["job"], m["objective"]) for m in result["missed"]] == [("uploads", "rto"), ("app-db", "restore")]
    assert [j["verdict"] for j in result["jobs"]] == ["met", "missed", "missed"]
    report = result["report"]
    base = tmp_path / "ops" / "reports" / "dr_drill"
    assert report["json"] == str(base / result["drill_id"] / "report.json") and report["latest"] == str(base / "latest.json")
    assert sorted(report["runbooks"]) == ["app-db", "app-sqlite", "uploads"]
    with open(report["json"]) as handle:
        doc = json.load(handle)
    check_report_json(doc, ["app-sqlite", "uploads", "app-db"])
    assert (base / "latest.json").read_bytes() == open(report["json"], "rb").read()
    assert doc["operator"] == "drill-operator" and doc["drill_id"] == result["drill_id"]

    shot = tmp_path / "report.png"
    with report_page(report["html"], shot) as page:
        assert page.title() == "Q4 DR drill - %s" % result["drill_id"]
        header = page.locator("#summary")
        assert header.is_visible() and "MISSED" in header.inner_text().upper() and "drill-operator" in header.inner_text()
        rpo, rto = page.locator("#objective-rpo"), page.locator("#objective-rto")
        assert rpo.is_visible() and rto.is_visible()
        assert "target 4h 00m" in rpo.inner_text() and rpo.get_attribute("data-verdict") == "met"
        assert "worst achieved: 5m 00s (app-sqlite)" in rpo.inner_text()
        assert "target 2h 00m" in rto.inner_text() and "1 job(s) not recovered" in rto.inner_text()
        assert "worst achieved: 2h 30m (uploads)" in rto.inner_text() and "MISSED" in rto.inner_text().upper()
        rows = {name: page.locator('#jobs tr[data-job="%s"]' % name) for name in ("app-sqlite", "uploads", "app-db")}
        assert all(row.is_visible() for row in rows.values())
        assert rows["app-sqlite"].locator("td").last.inner_text().strip().lower() == "met"
        assert rows["uploads"].locator("td").last.inner_text().strip().lower() == "missed"
        assert rows["app-db"].locator("td").last.inner_text().strip().lower() == "missed"
        assert "2h 30m" in rows["uploads"].locator("td.rto").inner_text()  # the timings, phases included
        assert "restore data: 1h 15m" in rows["uploads"].locator("td.rto").inner_text()
        assert "42.5 s" in rows["app-sqlite"].locator("td.rto").inner_text()
        assert "1 check failed: rows public.users <expected 1200, found 1187>" in rows["app-db"].inner_text()
        assert "1 passed, 0 failed" in rows["uploads"].locator("td.checks").inner_text()
        assert "1 passed, 1 failed" in rows["app-db"].locator("td.checks").inner_text()
        failed_check = page.locator('#checks tr[data-check="rows public.users"]')
        assert failed_check.is_visible() and "failed" in failed_check.inner_text().lower()
        background = failed_check.locator("td").first.evaluate("el => getComputedStyle(el).backgroundColor")
        assert background == "rgb(253, 240, 239)"  # failures highlighted
        assert page.locator('#checks tr[data-check="integrity"]').count() == 3
        runbooks = page.locator("#runbooks")
        assert runbooks.is_visible() and "gpg --batch --decrypt" in runbooks.inner_text()
        assert "sqlite3 \"$TARGET_DB\" 'PRAGMA integrity_check'" in runbooks.inner_text()
    width, height = png_size(shot)
    assert width >= 1280 and height > 1500 and os.path.getsize(shot) > 50000, (width, height, os.path.getsize(shot))


def test_report_in_an_s3_prefix(drill_results, moto, s3_bucket, tmp_path):
    dest = s3_dest(moto, s3_bucket[0], name="ops-state", prefix="ops/prod")
    first = assert_ok(run_module("watchkeeper.ops.drill_report", {"results": drill_results, "report_destination": dest}))
    second = assert_ok(run_module("watchkeeper.ops.drill_report", {"results": drill_results[:1], "report_destination": dest}))
    store = Store.s3(s3_bucket)
    keys = sorted(store.listing())
    base = "ops/prod/reports/dr_drill/"
    for drill in (first, second):
        assert drill["report"]["json"] == "s3://%s/%s%s/report.json" % (s3_bucket[0], base, drill["drill_id"])
        assert base + drill["drill_id"] + "/report.html" in keys
    assert base + first["drill_id"] + "/runbooks/app-db.md" in keys and second["objectives_met"]
    latest = json.loads(store.read(base + "latest.json").decode())
    assert latest["drill_id"] == second["drill_id"] and latest["objectives_met"]
    check_report_json(json.loads(store.read(base + first["drill_id"] + "/report.json").decode()), ["app-sqlite", "uploads", "app-db"])
    assert not (tmp_path / "var").exists()
    assert S3_SECRET not in json.dumps(dict(first)) and S3_SECRET not in store.read(base + "latest.json").decode()


def test_check_mode_writes_nothing(drill_results, tmp_path):
    ops = tmp_path / "ops"
    result = assert_ok(run_module("watchkeeper.ops.drill_report", {"results": drill_results, "ops_state": str(ops)},
                                  check_mode=True))
    assert result.changed and not result["written"] and not ops.exists()
    assert result["report"]["html"] == str(ops / "reports" / "dr_drill" / result["drill_id"] / "report.html")


def test_bad_input_and_unwritable_state_fail_clearly(drill_results, tmp_path):
    empty = assert_failed(run_module("watchkeeper.ops.drill_report", {"results": [], "ops_state": str(tmp_path)}))
    assert "bad input: results must be a non-empty list" in empty["msg"]
    bad = assert_failed(run_module("watchkeeper.ops.drill_report", {"results": drill_results, "objectives": {"rto": "soon"},
                                                                    "ops_state": str(tmp_path)}))
    assert "objectives.rto" in bad["msg"] and bad["step"] == "input"
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    unwritable = assert_failed(run_module("watchkeeper.ops.drill_report", {"results": drill_results, "ops_state": str(blocker)}))
    assert "cannot write the drill report" in unwritable["msg"] and unwritable["step"] == "write report"
    assert unwritable["objectives_met"] is False and len(unwritable["jobs"]) == 3  # the verdict is still returned


def test_real_restore_verify_results_feed_the_report(gpg_keys, tmp_path, scratch):
    """The contract with restore_verify: its registered results, verified and failed, as they come."""
    db = str(tmp_path / "app.sqlite3")
    with sqlite3.connect(db) as conn:
        conn.executescript("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('a'), ('b');")
    conn.close()
    spec = local_dest(tmp_path / "nas", name="nas")
    backup = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        "app-sqlite", {"type": "sqlite", "path": db}, [spec], public_key_encryption(gpg_keys), tmp_path / "state",
        tmp_dir=scratch)))
    common = {"destinations": [spec], "decryption": {"private_keys": [gpg_keys["private_key"]]},
              "ops_state": str(tmp_path / "state")}
    verified = run_module("watchkeeper.ops.restore_verify", dict(common, job="app-sqlite"))
    assert verified.get("passed") is True, {k: v for k, v in verified.items() if k not in ("stdout", "stderr")}
    missing = run_module("watchkeeper.ops.restore_verify", dict(common, job="no-such-job"))
    assert missing.failed
    results = [{k: v for k, v in r.items() if k not in ("stdout", "stderr")} for r in (verified, missing)]
    drill = assert_ok(run_module("watchkeeper.ops.drill_report", {"results": results, "ops_state": str(tmp_path / "ops")}))
    assert [(j["job"], j["status"], j["rto"], j["rpo"]) for j in drill["jobs"]] == [
        ("app-sqlite", "passed", "met", "met"), ("no-such-job", "failed", "missed", "missed")]
    assert drill["jobs"][0]["backup_id"] == backup["backup_id"] and drill["jobs"][0]["rto_s"] > 0
    assert [(m["job"], m["objective"]) for m in drill["missed"]] == [("no-such-job", "restore"), ("no-such-job", "rpo")]
    with open(drill["report"]["json"]) as handle:
        job = json.load(handle)["jobs"][0]
    assert job["checks"] and all(c["passed"] for c in job["checks"]) and job["rto"]["phases"]
    assert job["runbook"]["backup_id"] == backup["backup_id"] and set(drill["report"]["runbooks"]) == {"app-sqlite"}
