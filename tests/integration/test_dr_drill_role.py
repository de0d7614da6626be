# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Acceptance 6 of the recovery issue: a drill over a PostgreSQL database, an SQLite file and a file tree
writes HTML and JSON reports with per-job RTO, achieved RPO and objectives met or missed; a missed
objective fails the play and sends one email (and one webhook post)."""

import datetime
import json
import os
import sqlite3
import sys

import pytest

from helpers import assert_ok, backup_args, fill_database, local_dest, new_job, pg_source, run_module, run_playbook
from notify_helpers import WebhookReceiver, mails, new_mails, smtp_settings
from restore_helpers import key_decryption, scratch_databases, server

UTC = datetime.timezone.utc


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def _play(path, role_vars):
    play = [{"hosts": "localhost", "gather_facts": False,
             "vars": dict({"ansible_python_interpreter": sys.executable}, **role_vars),
             "roles": [{"role": "watchkeeper.ops.dr_drill"}]}]
    path.write_text(json.dumps(play))
    return str(path)


def _stats(data):
    """The role's set_stats summary (the json callback shows it with ANSIBLE_SHOW_CUSTOM_STATS)."""
    return ((data or {}).get("global_custom_stats") or {}).get("watchkeeper_dr_drill") or {}


STATS_ENV = {"ANSIBLE_SHOW_CUSTOM_STATS": "1"}


def test_drill_over_three_kinds_reports_and_a_missed_objective_fails_with_one_email(pg, pg_db, gpg_keys, smtp, webhook, tmp_path):
    fill_database(pg, pg_db, scale=1, json_rows=300)
    app = str(tmp_path / "app.sqlite3")
    conn = sqlite3.connect(app)
    conn.executescript("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('a'), ('b');")
    conn.commit()
    conn.close()
    uploads = tmp_path / "uploads"
    (uploads / "2026").mkdir(parents=True)
    for i in range(20):
        (uploads / "2026" / ("f%d.bin" % i)).write_bytes(os.urandom(1000 + i))
    dest = local_dest(tmp_path / "nas")
    state = tmp_path / "state"
    enc = {"mode": "public_key", "public_keys": [gpg_keys["public_key"]]}
    jobs = {new_job("db"): pg_source(pg, pg_db, checksum_tables=["public.docs"]),
            new_job("sq"): {"type": "sqlite", "path": app},
            new_job("up"): {"type": "files", "paths": [str(uploads)], "mode": "incremental"}}
    for job, source in jobs.items():
        assert_ok(run_module("watchkeeper.ops.backup", backup_args(job, source, [dest], enc, state)))
    role_vars = {
        "dr_drill_jobs": [{"name": job, "source": source} for job, source in jobs.items()],
        "dr_drill_destinations": [dest], "dr_drill_decryption": key_decryption(gpg_keys), "dr_drill_server": server(pg),
        "dr_drill_checks": {"assertions": []}, "dr_drill_ops_state": str(state),
        "dr_drill_notify_on": "failure", "dr_drill_operator": "drill-test",
        "dr_drill_notify_email": smtp_settings(smtp, ["oncall@example.invalid"]),
        "dr_drill_notify_webhooks": [{"url": webhook.url}],
    }
    db_job = list(jobs)[0]
    role_vars["dr_drill_jobs"][0]["checks"] = {"assertions": [
        {"name": "accounts", "sql": "select count(*) from pgbench_accounts", "op": "ge", "value": 1}]}
    before = mails(smtp)

    # 1. Objectives met: reports written, nothing sent (notify on failure), the play passes.
    code, data, stdout, _err = run_playbook(_play(tmp_path / "drill.yml", role_vars), env=STATS_ENV)
    assert code == 0, stdout[-4000:]
    stats = _stats(data)
    assert stats.get("status") == "ok", json.dumps({k: v for k, v in data.items() if k != "plays"})[:3000]
    assert stats["missed"] == []
    report = json.loads(open(stats["report"]["json"]).read())
    assert report["operator"] == "drill-test" and report["objectives_met"] is True
    by_job = dict((j["job"], j) for j in report["jobs"])
    assert set(by_job) == set(jobs)
    assert {j["kind"] for j in report["jobs"]} == {"postgres", "sqlite", "files"}
    for job in by_job.values():
        assert job["verdict"] == "met" and job["rto"]["total_s"] > 0 and job["rpo"]["achieved_s"] >= 0
        assert job["checks_failed"] == 0 and job["checks_passed"] > 0
    assert os.path.getsize(stats["report"]["html"]) > 2000
    assert sorted(stats["report"]["runbooks"]) == sorted(jobs)
    assert set(mails(smtp)) == set(before) and webhook.posts == []
    assert not scratch_databases(pg)

    # 2. Five hours later (frozen clock): the newest backups are older than the 4 h RPO. The drill still restores every
    #    job, writes its report, sends exactly one email and one webhook post, then fails the play.
    later = datetime.datetime.now(UTC) + datetime.timedelta(hours=5)
    code, data, stdout, _err = run_playbook(_play(tmp_path / "drill.yml", role_vars),
                                            env=dict(STATS_ENV, WATCHKEEPER_NOW=later.strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert code != 0
    assert "missed its objectives" in stdout and "rpo" in stdout, (stdout[-3000:], _err[-3000:])
    stats = _stats(data)
    assert stats["status"] == "missed" and {m["objective"] for m in stats["missed"]} == {"rpo"}
    assert sorted(m["job"] for m in stats["missed"]) == sorted(jobs)
    report = json.loads(open(stats["report"]["json"]).read())
    assert report["objectives"]["rpo"]["met"] is False and report["objectives"]["rto"]["met"] is True
    new = new_mails(smtp, before)
    assert len(new) == 1
    assert new[0]["To"] == "oncall@example.invalid" and "MISSED" in new[0]["Subject"]
    assert any(part.get_filename() == "report.html" for part in new[0].iter_attachments())
    assert len(webhook.posts) == 1
    assert webhook.posts[0]["json"]["objectives_met"] is False and webhook.posts[0]["json"]["event"] == "watchkeeper.dr_drill"
    assert db_job in stdout
    assert not scratch_databases(pg)
