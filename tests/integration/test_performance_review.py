# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/performance_review.yml on a crafted database (issue 12, acceptance 6): the review lists an unused
index, a duplicate index, a table read by sequential scans and bloat after a mass update, writes its report (JSON
and HTML) and schedules the recommended tasks in a maintenance window; maintenance_start.yml runs them and
maintenance_end.yml completes the window; a new review no longer lists the findings those tasks fixed."""

import glob
import json
import os
import sys
import time
import pytest

import pg_insights_helpers as pih
from helpers import collections_path, run_playbook

PLAYBOOKS = os.path.join(collections_path(), "ansible_collections", "watchkeeper", "ops", "playbooks")
FIXED = ("unused_index", "duplicate_index", "dead_tuples", "index_bloat")


@pytest.fixture
def crafted(pg):
    name = pih.craft(pg, "perf")
    yield name
    pih.drop(pg, name)


def play(inventory, name, extra):
    code, data, out, err = run_playbook(os.path.join(PLAYBOOKS, name), inventory=inventory,
                                        env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"}, args=("-e", json.dumps(extra)))
    assert code == 0 and data is not None, "%s failed (rc %s)\n%s\n%s" % (name, code, out[-4000:], err[-3000:])
    return data


def test_review_schedules_the_tasks_and_the_window_fixes_them(pg, crafted, tmp_path):
    ops = str(tmp_path / "ops")
    database = {"login_host": pg.host, "login_port": pg.port, "login_user": "postgres", "login_password": pg.password,
                "database": crafted}
    inventory = str(tmp_path / "inventory.json")
    with open(inventory, "w", encoding="utf-8") as handle:
        json.dump({"all": {"children": {"db": {"hosts": {"localhost": {}}}, "maintenance_hosts": {"hosts": {"localhost": {}}}},
                           "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                                    "watchkeeper_ops_state": ops, "maintenance_ops_state": ops,
                                    "maintenance_status_enabled": False, "maintenance_database": database,
                                    "performance_database": database, "performance_thresholds": pih.SMALL}}}, handle)
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 120))
    data = play(inventory, "performance_review.yml", {"performance_window": {"start": start, "duration": "30m"}})
    summary = data["global_custom_stats"]["watchkeeper_performance"]["localhost"]
    assert summary["window"] and summary["recommendations"] >= 4, summary

    reports = sorted(glob.glob(os.path.join(ops, "reports", "performance", "*-localhost.*")))
    assert [os.path.splitext(p)[1] for p in reports] == [".html", ".json"], reports
    with open(reports[1], encoding="utf-8") as handle:
        report = json.load(handle)
    kinds = set(f["kind"] for f in report["findings"])
    assert {"unused_index", "duplicate_index", "seq_scans", "table_bloat"} <= kinds, kinds
    assert report["window"]["id"] == summary["window"] and report["scheduled"], report
    types = sorted(set(task["type"] for task in report["scheduled"]))
    assert types == ["reindex", "sql", "vacuum_analyze"], report["scheduled"]
    with open(reports[0], encoding="utf-8") as handle:
        html = handle.read()
    assert "big_v_unused" in html and "DROP INDEX CONCURRENTLY" in html and summary["window"] in html

    play(inventory, "maintenance_start.yml", {"maintenance_window_id": summary["window"], "maintenance_pre_backup": False})
    play(inventory, "maintenance_end.yml", {"maintenance_window_id": summary["window"]})

    data = play(inventory, "performance_review.yml", {})
    again = sorted(glob.glob(os.path.join(ops, "reports", "performance", "*-localhost.json")))[-1]
    with open(again, encoding="utf-8") as handle:
        after = json.load(handle)
    left = [f for f in after["findings"] if f["kind"] in FIXED or f["recommendation"]]
    assert left == [] and after["recommendations"] == [], left
    # The table's bloat is now free space inside it (VACUUM does not give it back): advice only, no task.
    assert all(f["recommendation"] is None for f in after["findings"] if f["kind"] == "table_bloat")
    assert "seq_scans" in set(f["kind"] for f in after["findings"])  # advice only: not a maintenance task
    assert data["global_custom_stats"]["watchkeeper_performance"]["localhost"]["window"] is None
