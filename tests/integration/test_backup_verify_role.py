# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AC-031.11: the role ``watchkeeper.ops.backup_verify`` through real ansible-playbook.

* Two jobs (a PostgreSQL database and an SQLite file) with good backups in a local destination: the play
  passes, the JSON report names both jobs passed with their sweep counts and restored backups, nothing is
  sent (notify on failure), ``set_stats`` says ok.
* A flipped byte in one stored object of an older backup: every job still runs (the restore of the newest
  backup passes), the play fails naming the job and the bad backup, exactly one email reaches the SMTP
  server (aiosmtpd on loopback) naming the bad backup, a loopback webhook receives one POST, and
  ``set_stats`` says failed.

Damage is done and read back out of band (plain file writes, the Maildir, an http.server thread).
"""

import json
import os
import sqlite3
import sys

import pytest

from helpers import assert_ok, backup_args, local_dest, new_job, public_key_encryption, run_module, run_playbook
from notify_helpers import WebhookReceiver, mails, smtp_settings
from restore_helpers import key_decryption, pg_backup, scratch_databases, server

FAIL_TASK = "Fail when a backup is bad, a destination could not be checked, a restore failed or the report was not written"


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def sqlite_app(path, rows=300):
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);")
    conn.executemany("INSERT INTO events (payload) VALUES (?)", [("event %d" % i,) for i in range(rows)])
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def estate(pg, pg_db, gpg_keys, tmp_path, scratch):
    """A PostgreSQL job and an SQLite job (two backups) in one local destination, both encrypted to the test key."""
    pg.psql("CREATE TABLE public.users (id int PRIMARY KEY, name text NOT NULL); "
            "INSERT INTO public.users SELECT g, 'user ' || g FROM generate_series(1, 1200) g", dbname=pg_db)
    dest = local_dest(tmp_path / "nas", name="nas")
    state = tmp_path / "state"
    pg_job, sqlite_job = new_job("verify-pg"), new_job("verify-sqlite")
    pg_result = pg_backup(pg, pg_db, pg_job, [dest], gpg_keys, state, extra={"tmp_dir": scratch})
    app = sqlite_app(str(tmp_path / "app.sqlite3"))
    args = backup_args(sqlite_job, {"type": "sqlite", "path": app}, [dest], public_key_encryption(gpg_keys), state,
                       tmp_dir=scratch)
    sqlite_results = [assert_ok(run_module("watchkeeper.ops.backup", args)) for _run in range(2)]
    jobs = [
        {"name": pg_job, "destinations": [dest], "server": server(pg),
         "checks": {"assertions": [{"name": "every user", "sql": "select count(*) from users", "op": "eq", "value": 1200}]}},
        # As the backup role knows it: its source and encryption are ignored here.
        {"name": sqlite_job, "source": {"type": "sqlite", "path": app}, "encryption": public_key_encryption(gpg_keys),
         "checks": {"assertions": [{"name": "events", "sql": "select count(*) from events", "op": "ge", "value": 300}]}},
    ]
    return {"dest": dest, "state": state, "jobs": jobs, "pg": pg_result, "sqlite": sqlite_results, "gpg_keys": gpg_keys,
            "tmp_path": tmp_path}


def verify_play(estate, **role_vars):
    """A playbook applying the role on localhost; returns its path."""
    variables = {
        "ansible_python_interpreter": sys.executable,
        "backup_verify_jobs": estate["jobs"],
        "backup_verify_destinations": [estate["dest"]],
        "backup_verify_decryption": key_decryption(estate["gpg_keys"]),
        "backup_verify_ops_state": str(estate["state"]),
        "backup_verify_scratch_dir": str(estate["tmp_path"] / "verify-scratch"),
        "backup_verify_timeout": 900,
    }
    variables.update(role_vars)
    os.makedirs(variables["backup_verify_scratch_dir"], exist_ok=True)
    path = str(estate["tmp_path"] / "verify.yml")
    with open(path, "w") as handle:
        json.dump([{"name": "Verify the backups", "hosts": "localhost", "gather_facts": False, "vars": variables,
                    "roles": [{"role": "watchkeeper.ops.backup_verify"}]}], handle, indent=1)
    return path


def run_verify(path):
    code, data, stdout, stderr = run_playbook(path, env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    assert data is not None, "no JSON from ansible-playbook (rc %s)\nstdout: %s\nstderr: %s" % (
        code, stdout[-3000:], stderr[-3000:])
    return code, data, stdout


def task(data, name):
    """The localhost result of the first task whose name ends with ``name``."""
    for play in data["plays"]:
        for entry in play["tasks"]:
            if entry["task"]["name"].endswith(name):
                return entry["hosts"]["localhost"]
    raise AssertionError("no task %r ran" % name)


def ran(data, name):
    return any(entry["task"]["name"].endswith(name) and not entry["hosts"]["localhost"].get("skipped")
               for play in data["plays"] for entry in play["tasks"])


def reports(state):
    path = os.path.join(str(state), "reports", "verify")
    return sorted(os.path.join(path, name) for name in os.listdir(path)) if os.path.isdir(path) else []


def test_good_backups_pass_report_and_notify_nobody(estate, pg, smtp, webhook):
    before = mails(smtp)
    code, data, stdout = run_verify(verify_play(
        estate, backup_verify_notify_email=smtp_settings(smtp), backup_verify_notify_webhooks=[{"url": webhook.url}]))
    assert code == 0, stdout[-6000:]
    assert data["stats"]["localhost"]["failures"] == 0

    (path,) = reports(estate["state"])
    assert os.path.basename(path).endswith("Z-localhost.json") and len(os.path.basename(path)) == len("20261127T030000Z-localhost.json")
    assert oct(os.stat(path).st_mode & 0o777) == "0o640"
    with open(path) as handle:
        doc = json.load(handle)
    assert (doc["schema"], doc["schema_version"], doc["host"], doc["status"]) == ("watchkeeper.ops/verify-report", 1, "localhost", "ok")
    assert doc["started_at"] <= doc["finished_at"] and doc["failures"] == []
    assert doc["summary"] == {"jobs": 2, "jobs_failed": 0, "bad_backups": 0, "restores_failed": 0}
    pg_job, sqlite_job = (job["name"] for job in estate["jobs"])
    assert [(job["job"], job["status"]) for job in doc["jobs"]] == [(pg_job, "passed"), (sqlite_job, "passed")]
    jobs = dict((job["job"], job) for job in doc["jobs"])
    for name, count, newest in ((pg_job, 1, estate["pg"]["backup_id"]), (sqlite_job, 2, estate["sqlite"][1]["backup_id"])):
        sweep, restore = jobs[name]["sweep"], jobs[name]["restore_verify"]
        nas = sweep["destinations"]["nas"]
        assert (nas["status"], nas["checked"], nas["good"], nas["bad"], nas["skipped"]) == ("ok", count, count, 0, 0)
        assert sweep["passed"] and sweep["bad_backups"] == [] and sweep["good_restore_points"] == count
        assert sweep["subset"]["cycle"] == 1
        assert (restore["status"], restore["backup_id"], restore["destination"]) == ("passed", newest, "nas")
        assert restore["rto_total_s"] > 0 and restore["rpo_achieved_s"] >= 0 and restore["scratch_removed"]
        assert restore["checks_passed"] >= 2 and restore["checks_failed"] == 0 and restore["failed_checks"] == []
    assert (jobs[pg_job]["restore_verify"]["kind"], jobs[sqlite_job]["restore_verify"]["kind"]) == ("postgres", "sqlite")
    assert not scratch_databases(pg) and os.listdir(str(estate["tmp_path"] / "verify-scratch")) == []

    lines = task(data, "Show the verification's outcome")["msg"]
    assert lines[0] == "Backup verification on localhost: OK, 0 of 2 jobs failed (subset all)"
    assert any(line.startswith("%s: PASSED - sweep: nas 2 good, 0 bad, 0 skipped" % sqlite_job) for line in lines)
    assert lines[-1] == "Report: " + path

    assert not ran(data, "Notify") and set(mails(smtp)) == set(before) and webhook.posts == []
    stats = data["global_custom_stats"]["watchkeeper_verify"]
    assert (stats["status"], stats["report"], stats["errors"]) == ("ok", path, [])
    assert [(job["host"], job["job"], job["status"]) for job in stats["jobs"]] == [
        ("localhost", pg_job, "passed"), ("localhost", sqlite_job, "passed")]
    assert pg.password not in stdout  # no_log: the server's password is in the jobs


def test_a_flipped_byte_fails_the_play_after_reporting_and_notifying(estate, smtp, webhook):
    older = estate["sqlite"][0]
    bad_id = older["backup_id"]
    sqlite_job = estate["jobs"][1]["name"]
    stored = os.path.join(estate["dest"]["path"], older["manifest"]["objects"][0]["key"])
    with open(stored, "r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0x01]))
    before = mails(smtp)

    code, data, stdout = run_verify(verify_play(
        estate, backup_verify_notify_email=smtp_settings(smtp), backup_verify_notify_webhooks=[{"url": webhook.url}]))
    assert code != 0, stdout[-6000:]
    failed = task(data, FAIL_TASK)
    assert failed.get("failed"), failed
    assert "job %s: backup %s in destination nas is bad" % (sqlite_job, bad_id) in failed["msg"]
    assert "SHA-256 of the stored bytes" in failed["msg"]
    assert estate["jobs"][0]["name"] not in failed["msg"]  # the PostgreSQL job passed

    (path,) = reports(estate["state"])
    with open(path) as handle:
        doc = json.load(handle)
    assert doc["status"] == "failed" and doc["summary"]["bad_backups"] == 1 and doc["summary"]["jobs_failed"] == 1
    jobs = dict((job["job"], job) for job in doc["jobs"])
    assert jobs[estate["jobs"][0]["name"]]["status"] == "passed"
    job = jobs[sqlite_job]
    assert job["status"] == "failed"
    nas = job["sweep"]["destinations"]["nas"]
    assert (nas["checked"], nas["good"], nas["bad"], nas["skipped"], nas["good_restore_points"]) == (2, 1, 1, 0, 1)
    ((bad),) = job["sweep"]["bad_backups"]
    assert (bad["destination"], bad["backup_id"]) == ("nas", bad_id) and older["manifest"]["objects"][0]["key"] in bad["problems"][0]
    # Every job ran: the newest backup of the damaged job still restores.
    assert (job["restore_verify"]["status"], job["restore_verify"]["backup_id"]) == ("passed", estate["sqlite"][1]["backup_id"])
    assert doc["failures"] == [line for line in doc["failures"] if bad_id in line] and len(doc["failures"]) == 1

    new = [msg for name, msg in mails(smtp).items() if name not in before]
    assert len(new) == 1, [m["Subject"] for m in new]
    (mail,) = new
    assert mail["Subject"].startswith("[FAILED] Backup verification on localhost: 2 jobs, 1 bad backups")
    assert mail["To"] == "ops@example.invalid"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert bad_id in body and sqlite_job in body and path in body
    attached = [part.get_filename() for part in mail.iter_attachments()]
    assert attached == [os.path.basename(path)]

    assert len(webhook.posts) == 1
    post = webhook.posts[0]
    assert post["path"] == "/hook"
    assert (post["json"]["event"], post["json"]["status"], post["json"]["report"]) == ("watchkeeper.backup_verify", "failed", path)
    assert any(bad_id in line for line in post["json"]["failures"])

    stats = data["global_custom_stats"]["watchkeeper_verify"]
    assert stats["status"] == "failed" and stats["report"] == path
    assert [(e["host"], bad_id in e["msg"]) for e in stats["errors"]] == [("localhost", True)]
    assert [(j["job"], j["status"]) for j in stats["jobs"]][1] == (sqlite_job, "failed")
