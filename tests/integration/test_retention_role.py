# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AC-031.4: the role ``watchkeeper.ops.retention`` (``playbooks/retention.yml``) through real ansible-playbook.

One host with a file job (three real backups, one day apart), an application table in a real PostgreSQL database
(old rows, young rows, rows of an account under legal hold) and old run reports in ``ops_state``:

* ``--check``: the Markdown table says what would go; nothing is deleted (storage, rows and files compared);
* a real run removes exactly that, the report and the table say why, ``set_stats`` says ok, nobody is notified;
* an unreachable second destination: the reachable one is still purged, the play fails naming the unreachable one,
  exactly one webhook POST, and ``set_stats`` says failed.
"""

import datetime
import json
import os
import sys

import pytest

from helpers import (
    assert_ok, backup_args, closed_port, local_dest, new_job, run_module, run_playbook, s3_dest, tree_state)
from notify_helpers import WebhookReceiver
from restore_helpers import server

T0 = datetime.datetime(2026, 11, 27, 5, 30, tzinfo=datetime.timezone.utc)
PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "playbooks", "retention.yml")


class _Endpoint(object):  # what s3_dest reads from the moto fixture
    def __init__(self, url):
        self.info = {"endpoint": url}


def iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def estate(pg, pg_db, tmp_path):
    tree = tmp_path / "uploads"
    tree.mkdir()
    (tree / "a.txt").write_text("retention\n")
    dest = local_dest(tmp_path / "nas", name="nas")
    state = tmp_path / "state"
    job = new_job("ret")
    ids = []
    for days in (2, 1, 0):
        (tree / "day.txt").write_text("day %d\n" % days)
        args = backup_args(job, {"type": "files", "paths": [str(tree)]}, [dest], {"mode": "none"}, state)
        ids.append(assert_ok(run_module("watchkeeper.ops.backup", args, env={
            "WATCHKEEPER_NOW": iso(T0 - datetime.timedelta(days=days, hours=3))}))["backup_id"])
    pg.psql("CREATE TABLE public.holds (account_id int PRIMARY KEY);"
            "INSERT INTO public.holds VALUES (7);"
            "CREATE TABLE public.events (id bigserial PRIMARY KEY, account_id int NOT NULL, created_at timestamptz NOT NULL);"
            "CREATE INDEX ON public.events (created_at);"
            # 400 rows 100..139 days old (40 of account 7), 200 rows 1..20 days old
            "INSERT INTO public.events (account_id, created_at) SELECT g %% 10, timestamptz '%s' - (100 + g %% 40) * interval '1 day'"
            " FROM generate_series(1, 400) g;"
            "INSERT INTO public.events (account_id, created_at) SELECT g %% 10, timestamptz '%s' - (1 + g %% 20) * interval '1 day'"
            " FROM generate_series(1, 200) g;" % (iso(T0), iso(T0)), dbname=pg_db)
    old = (T0 - datetime.timedelta(days=500)).timestamp()
    for name in ("20250701T000000Z-localhost.json", "20250702T000000Z-localhost.json", "20250703T000000Z-localhost.json",
                 "20250704T000000Z-localhost.json"):
        path = state / "reports" / "verify" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
        os.utime(str(path), (old, old))
    return {"job": job, "ids": ids, "dest": dest, "state": state, "pg": pg, "db": pg_db, "tmp_path": tmp_path}


def play(estate, **extra):
    variables = {
        "ansible_python_interpreter": sys.executable,
        "retention_backup_jobs": [{"name": estate["job"], "destinations": [estate["dest"]],
                                   "source": {"type": "files", "paths": ["/ignored"]}}],
        "retention_policy": {"keep_last": 1, "min_keep": 1},
        "retention_databases": [{"name": "app", "server": dict(server(estate["pg"]), database=estate["db"]), "tables": [
            {"table": "public.events", "column": "created_at", "older_than": "90d",
             "hold_condition": "account_id IN (SELECT account_id FROM public.holds)", "batch_size": 50}]}],
        "retention_state": {"keep_within": "365d", "min_keep": 1},
        "retention_ops_state": str(estate["state"]),
        "retention_lock_timeout": 30,
    }
    variables.update(extra)
    path = str(estate["tmp_path"] / "inventory.json")
    with open(path, "w") as handle:
        json.dump({"all": {"hosts": {"localhost": {"ansible_connection": "local"}}, "vars": variables}}, handle)
    return path


def run(inventory, check=False):
    code, data, stdout, stderr = run_playbook(PLAYBOOK, inventory=inventory, check=check, args=(
        "-e", "retention_target=localhost"), env={"ANSIBLE_SHOW_CUSTOM_STATS": "1", "WATCHKEEPER_NOW": iso(T0)})
    assert data is not None, "no JSON (rc %s)\n%s\n%s" % (code, stdout[-3000:], stderr[-3000:])
    return code, data, stdout


def task(data, name):
    for entry in data["plays"][0]["tasks"]:
        if entry["task"]["name"].endswith(name):
            return entry["hosts"]["localhost"]
    raise AssertionError("no task %r" % name)


def counts(estate):
    rows = estate["pg"].psql("SELECT count(*) FILTER (WHERE created_at < timestamptz '%s' - interval '90 days'), "
                             "count(*) FILTER (WHERE account_id = 7), count(*) FROM public.events" % iso(T0),
                             dbname=estate["db"]).strip()
    return tuple(int(x) for x in rows.split("|"))


def test_check_mode_then_purge_reports_what_went_and_why(estate, webhook):
    inventory = play(estate, retention_notify_webhooks=[{"url": webhook.url}])
    nas_before = tree_state(estate["dest"]["path"])
    rows_before = counts(estate)
    assert rows_before == (400, 60, 600)

    code, data, stdout = run(inventory, check=True)
    assert code == 0, stdout[-6000:]
    table = task(data, "Show what was kept, removed and why")["msg"]
    assert table[0] == "Retention on localhost: OK (check mode: nothing was deleted)"
    assert table[2] == "| what | where | kept | would remove | freed | kept because | status |"
    row = [line for line in table if line.startswith("| backups of %s | nas |" % estate["job"])]
    assert len(row) == 1 and row[0].split(" | ")[2:4] == ["1", "2"], table
    assert "keep_last 1" in row[0] and "safety 1" in row[0]
    assert [line for line in table if line.startswith("| table public.events | app | - | 360 rows |")], table
    assert [line for line in table if line.startswith("| reports and audit | ops_state | 1 | 3 |")], table
    assert tree_state(estate["dest"]["path"]) == nas_before and counts(estate) == rows_before
    assert len(os.listdir(str(estate["state"] / "reports" / "verify"))) == 4
    assert not os.path.exists(str(estate["state"] / "reports" / "retention"))

    code, data, stdout = run(inventory)
    assert code == 0, stdout[-6000:]
    listed = assert_ok(run_module("watchkeeper.ops.backup_info", {"job": estate["job"], "destination": estate["dest"]}))
    assert [b["backup_id"] for b in listed["backups"]] == [estate["ids"][-1]]
    assert counts(estate) == (40, 60, 240)  # held rows stay, young rows stay
    (report_name,) = os.listdir(str(estate["state"] / "reports" / "retention"))
    with open(str(estate["state"] / "reports" / "retention" / report_name)) as handle:
        doc = json.load(handle)
    assert (doc["schema"], doc["status"], doc["failures"]) == ("watchkeeper.ops/retention-report", "ok", [])
    assert doc["summary"]["backups_removed"] == 2 and doc["summary"]["rows_deleted"] == 360
    assert doc["summary"]["reports_removed"] == 3
    nas = doc["jobs"][0]["destinations"]["nas"]
    verdicts = dict((b["backup_id"], b) for b in nas["backups"])
    assert verdicts[estate["ids"][0]]["verdict"] == "removed"
    assert verdicts[estate["ids"][0]]["reasons"][0].startswith("no rule keeps it (keep_last: 1")
    assert verdicts[estate["ids"][2]]["reasons"][:2] == [
        "safety: newest complete backup (no backup has passed restore verification yet)", "keep_last: 1 of 1"]
    stats = data["global_custom_stats"]["watchkeeper_retention"]
    assert stats["status"] == "ok" and stats["hosts"][0]["summary"]["rows_deleted"] == 360
    assert webhook.posts == []  # notify on failure only


def test_an_unreachable_destination_fails_the_play_after_the_others_are_purged(estate, webhook):
    broken = s3_dest(_Endpoint("http://127.0.0.1:%d" % closed_port()), "nowhere", name="offsite", timeout=2, retries=0)
    jobs = [{"name": estate["job"], "destinations": [estate["dest"], broken]}]
    inventory = play(estate, retention_backup_jobs=jobs, retention_databases=[],
                     retention_notify_webhooks=[{"url": webhook.url}])
    code, data, stdout = run(inventory)
    assert code != 0
    listed = assert_ok(run_module("watchkeeper.ops.backup_info", {"job": estate["job"], "destination": estate["dest"]}))
    assert [b["backup_id"] for b in listed["backups"]] == [estate["ids"][-1]]
    table = task(data, "Show what was kept, removed and why")["msg"]
    assert table[0] == "Retention on localhost: FAILED"
    assert [line for line in table if line.startswith("| backups of %s | offsite | 0 | 0 |" % estate["job"])
            and line.endswith("| FAILED |")], table
    failed = task(data, "Fail when a destination, a table or the report directory failed")
    assert "job %s: destination offsite:" % estate["job"] in failed["msg"]
    assert len(webhook.posts) == 1
    payload = webhook.posts[0]["json"]
    assert payload["status"] == "failed" and payload["summary"]["backups_removed"] == 2
    assert data["global_custom_stats"]["watchkeeper_retention"]["status"] == "failed"
