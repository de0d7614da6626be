# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup estate rules (WK-BAK-001..005) on what the collection really records: a public-key encrypted backup made
by ``watchkeeper.ops.backup``, its verification record written by ``restore_verify``, and a drill report in
``<ops_state>/reports/dr_drill/latest.json`` (seeded in the documented schema). A job that encrypts with a
passphrase, has no backup, no verification and no retention fails exactly its four per-job rules."""

import datetime
import json
import os
import sqlite3
import time

import pytest

from helpers import assert_ok, backup_args, local_dest, new_job, public_key_encryption, run_module
from restore_helpers import key_decryption, restore_verify, verify_args


def write_drill(ops_state, finished_at, verdict="met"):
    path = os.path.join(str(ops_state), "reports", "dr_drill")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "latest.json"), "w") as handle:
        json.dump({"schema": "watchkeeper.ops/drill-report", "drill_id": "20260101T000000Z-abcd1234",
                   "finished_at": finished_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "verdict": verdict}, handle)


def audit(jobs, ops_state, **extra):
    args = {"areas": ["backup"], "backup_jobs": jobs, "ops_state": str(ops_state)}
    args.update(extra)
    return assert_ok(run_module("watchkeeper.ops.security_audit", args))


def statuses(result):
    return dict(("%s|%s" % (f["id"], f["subject"] or ""), f["status"]) for f in result["findings"])


@pytest.fixture(scope="module")
def estate(gpg_keys, tmp_path_factory):
    root = tmp_path_factory.mktemp("estate")
    app = str(root / "app.sqlite3")
    with sqlite3.connect(app) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.executemany("INSERT INTO t (v) VALUES (?)", [("row %d" % i,) for i in range(200)])
    job = new_job("audited")
    dest = local_dest(root / "nas")
    state = root / "state"
    assert_ok(run_module("watchkeeper.ops.backup", backup_args(job, {"type": "sqlite", "path": app}, [dest],
                                                               public_key_encryption(gpg_keys), state)))
    assert_ok(restore_verify(verify_args(job, [dest], state, decryption=key_decryption(gpg_keys),
                                         scratch_dir=str(root / "scratch"))))
    good = {"name": job, "destinations": [dest], "encryption": public_key_encryption(gpg_keys), "max_age": "1h",
            "retention": {"keep_daily": 7}}
    bad = {"name": new_job("neglected"), "destinations": [local_dest(root / "empty")],
           "encryption": {"mode": "symmetric", "passphrase_file": gpg_keys["passphrase_file"]}}
    return {"good": good, "bad": bad, "state": state}


def test_a_cared_for_job_passes_every_estate_rule(estate):
    write_drill(estate["state"], datetime.datetime.now(datetime.timezone.utc))
    result = audit([estate["good"]], estate["state"])
    assert result["failed_rules"] == [] and result["counts"]["error"] == 0, result["findings"]
    found = dict((f["id"], f) for f in result["findings"])
    assert "newest backup" in found["WK-BAK-002"]["evidence"] and "max_age 1h" in found["WK-BAK-002"]["evidence"]
    assert "last passed restore verification" in found["WK-BAK-003"]["evidence"]
    assert found["WK-BAK-004"]["evidence"].endswith("verdict met")


def test_a_neglected_job_fails_its_four_rules_and_nothing_else(estate):
    write_drill(estate["state"], datetime.datetime.now(datetime.timezone.utc))
    result = audit([estate["good"], estate["bad"]], estate["state"])
    bad = estate["bad"]["name"]
    failed = sorted(k for k, v in statuses(result).items() if v == "fail")
    assert failed == sorted("%s|%s" % (i, bad) for i in ("WK-BAK-001", "WK-BAK-002", "WK-BAK-003", "WK-BAK-005"))
    evidence = dict((f["id"], f["evidence"]) for f in result["findings"] if f["subject"] == bad)
    assert evidence["WK-BAK-001"] == "job %s: encryption mode symmetric" % bad
    assert evidence["WK-BAK-002"] == "job %s: no valid backup in any destination" % bad


def test_an_overdue_or_missed_drill_and_a_stale_backup_fail(estate):
    write_drill(estate["state"], datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=100))
    time.sleep(2)
    result = audit([dict(estate["good"], max_age="1s")], estate["state"])
    assert result["failed_rules"] == ["WK-BAK-002", "WK-BAK-004"]
    write_drill(estate["state"], datetime.datetime.now(datetime.timezone.utc), verdict="missed")
    assert audit([estate["good"]], estate["state"])["failed_rules"] == ["WK-BAK-004"]
    os.unlink(os.path.join(str(estate["state"]), "reports", "dr_drill", "latest.json"))
    result = audit([estate["good"]], estate["state"], verify_max_age="1s")
    assert result["failed_rules"] == ["WK-BAK-003", "WK-BAK-004"]


def test_no_job_is_not_applicable_and_a_bad_skip_is_refused(estate):
    result = audit([], estate["state"])
    assert set(f["status"] for f in result["findings"]) == {"not_applicable"}
    refused = run_module("watchkeeper.ops.security_audit", {"areas": ["backup"], "skip": {"WK-NOPE-001": "x"}})
    assert refused.failed and "unknown rule id(s) WK-NOPE-001" in refused["msg"]
    refused = run_module("watchkeeper.ops.security_audit", {"rules": ["WK-SSH-999"]})
    assert refused.failed and "unknown rule id(s) WK-SSH-999" in refused["msg"]
