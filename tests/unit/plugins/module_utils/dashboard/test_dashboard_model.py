# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dashboard document: RPO verdicts, destination health and reasons, host traffic lights, maintenance history,
drill due dates, the overall status (by hand, and the ordering rules under hypothesis)."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.dashboard import actions, dr, maintenance, model

from dash_fixtures import NOW, backup, drill, job, listing, window  # pylint: disable=import-error

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def link(key, **values):
    return actions.action(key, **values)


def build(jobs=(), listings=None, sweeps=None, windows=(), incidents=(), drills=(), health=None, config=None):
    jobs = list(jobs) or [job()]
    return model.build(dict({"title": "T"}, **(config or {})), jobs, listings or {}, sweeps or {}, list(windows),
                       list(incidents), list(drills), health or {}, NOW)


# ---------------------------------------------------------------- jobs and destinations

def test_a_fresh_job_is_within_its_rpo_and_ok():
    row = model.backup_row(job(rpo="4h"), [listing("nas", backup(1)), listing("s3", backup(2))], None, NOW)
    assert (row["status"], row["within_rpo"], row["rpo_status"]) == ("ok", True, "within RPO")
    assert row["backup_id"] == "b-1" and row["size_bytes"] == 1024 and row["kind"] == "postgres"
    assert [d["status"] for d in row["destinations"]] == ["healthy", "healthy"] and row["reasons"] == []


def test_a_job_older_than_its_rpo_is_critical_and_says_why():
    row = model.backup_row(job(rpo="4h"), [listing("nas", backup(5))], None, NOW)
    assert (row["status"], row["rpo_status"]) == ("critical", "older than RPO")
    assert "older than its RPO of 4h" in row["reasons"][0]
    assert row["destinations"][0]["status"] == "warning"
    assert "older than the RPO" in row["destinations"][0]["reasons"][0]


def test_the_newest_valid_backup_counts_an_invalid_newer_one_does_not():
    row = model.backup_row(job(rpo="4h"), [listing("nas", backup(1, valid=False), backup(6))], None, NOW)
    assert row["backup_id"] == "b-6" and not row["within_rpo"]


def test_a_newest_listing_counts_index_entries_and_does_not_claim_a_valid_count():
    newest = dict(listing("nas", backup(1, valid=False), backup(2)), listing="newest", count=1000, orphans=["b-0"])
    row = model.backup_row(job(rpo="4h"), [newest, listing("s3", backup(3))], None, NOW)
    nas, s3 = row["destinations"]
    assert (nas["count"], nas["checked"], nas["valid"], nas["listing"]) == (1000, 2, None, "newest")
    assert (s3["count"], s3["valid"], s3["listing"]) == (1, 1, "full")
    assert row["backup_id"] == "b-2" and nas["status"] == "warning"
    assert nas["reasons"] == ["1 index entry without a manifest (the manifest went missing): b-0"]
    broken = dict(listing("nas", backup(1, valid=False), backup(2, valid=False)), listing="newest", count=60)
    row = model.backup_row(job(rpo="4h"), [broken], None, NOW)
    assert row["destinations"][0]["reasons"] == ["none of the 2 newest of its 60 backups is valid"]
    assert row["status"] == "critical"


def test_an_unreachable_destination_fails_but_a_fresh_copy_elsewhere_keeps_the_job_at_warning():
    row = model.backup_row(job(), [listing("nas", backup(1)), listing("s3", reachable=False, reason="timed out")], None, NOW)
    assert row["status"] == "warning" and row["within_rpo"]
    s3 = row["destinations"][1]
    assert s3["status"] == "failed" and "unreachable at the last check" in s3["reasons"][0] and "timed out" in s3["reasons"][0]


def test_a_damaged_backup_found_by_the_last_sweep_fails_that_destination():
    sweep = {"destinations": {"nas": {"status": "damaged", "checked_at": "2026-12-05T03:00:00Z", "bad_count": 1,
                                      "bad": [{"backup_id": "b-30", "problems": ["sha256 mismatch"]}]}}}
    row = model.backup_row(job(), [listing("nas", backup(1)), listing("s3", backup(1))], sweep, NOW)
    nas, s3 = row["destinations"]
    assert nas["status"] == "failed" and "found 1 damaged backup: b-30" in nas["reasons"][0]
    assert s3["status"] == "healthy" and row["status"] == "warning"


def test_a_sweep_that_could_not_check_is_a_warning():
    sweep = {"destinations": {"nas": {"status": "failed", "checked_at": "t", "reason": "permission denied"}}}
    row = model.backup_row(job(), [listing("nas", backup(1))], sweep, NOW)
    assert row["destinations"][0]["status"] == "warning" and "permission denied" in row["destinations"][0]["reasons"][0]


def test_a_job_without_any_backup_is_critical():
    row = model.backup_row(job(), [listing("nas")], None, NOW)
    assert row["status"] == "critical" and row["age"] == "never" and "no valid backup" in row["reasons"][0]


def test_job_config_takes_a_backup_role_job_and_refuses_bad_input():
    cfg = model.job_config({"name": "files", "max_age": "26h", "source": {"type": "files"}, "destinations": [{"type": "local"}]})
    assert (cfg["rpo_s"], cfg["rto_s"], cfg["kind"]) == (26 * 3600, 7200, "files")
    with pytest.raises(ValueError, match="needs a name"):
        model.job_config({"rpo": "1h"})
    with pytest.raises(ValueError, match="job x"):
        model.job_config({"name": "x", "rpo": "soon"})
    with pytest.raises(ValueError, match="each with a type"):
        model.job_config({"name": "x", "destinations": [{"path": "/x"}]})


# ---------------------------------------------------------------- hosts

def snap(minutes_ago, cpu=10.0, memory=20.0, disk=30.0):
    return {"time": (NOW - datetime.timedelta(minutes=minutes_ago)).timestamp(), "cpu": cpu, "memory": memory, "disk": disk,
            "disk_mount": "/data"}


def test_a_host_at_96_percent_disk_is_critical_with_its_mount_and_trend():
    row = model.host_row("db1", [snap(10, disk=90.0), snap(5, disk=96.0)], NOW, model.DEFAULT_THRESHOLDS, 900)
    assert row["disk"]["value"] == 96.0 and row["disk"]["level"] == "critical" and row["disk"]["mount"] == "/data"
    assert row["disk"]["trend"] == [90.0, 96.0] and row["status"] == "critical" and not row["stale"]
    assert "disk 96.0 % on /data (critical from 95 %)" in row["reasons"][0]


def test_a_host_without_a_recent_reading_is_stale():
    row = model.host_row("db1", [snap(60)], NOW, model.DEFAULT_THRESHOLDS, 900)
    assert row["stale"] and row["status"] == "warning" and "no health reading since" in row["reasons"][0]


@given(st.floats(0, 100), st.floats(0, 100), st.floats(0, 100))
def test_levels_are_monotonic_in_the_value(a, b, c):
    warning, critical = sorted((b, c))
    thresholds = {"warning": warning, "critical": critical}
    rank = {"ok": 0, "warning": 1, "critical": 2}
    low, high = sorted((a, (a + critical) / 2.0))
    assert rank[model.level_of(low, thresholds)] <= rank[model.level_of(high, thresholds)]
    assert model.level_of(critical, thresholds) == "critical"


@given(st.lists(st.sampled_from(["ok", "warning", "critical", "unknown"])))
def test_worst_is_the_highest_known_level(levels):
    known = [lv for lv in levels if lv != "unknown"]
    expected = "critical" if "critical" in known else "warning" if "warning" in known else "ok"
    assert model.worst(levels) == expected


# ---------------------------------------------------------------- maintenance

def test_scheduled_overran_and_failed_windows_and_the_kpi():
    tomorrow = window("mw-tomorrow", NOW + DAY)
    late = window("mw-late", NOW - 3 * DAY, duration="1h", status="completed", finish=NOW - 3 * DAY + 90 * datetime.timedelta(minutes=1))
    fine = window("mw-fine", NOW - 5 * DAY, status="completed", finish=NOW - 5 * DAY + 30 * datetime.timedelta(minutes=1))
    broken = window("mw-broken", NOW - 7 * DAY, status="completed", finish=NOW - 7 * DAY + HOUR / 2,
                    tasks=[{"name": "reindex", "status": "failed"}])
    view = maintenance.build([tomorrow, late, fine, broken], NOW, link)
    assert [w["id"] for w in view["scheduled"]] == ["mw-tomorrow"]
    assert view["scheduled"][0]["starts_in_s"] == 86400
    assert [a["key"] for a in view["scheduled"][0]["actions"]] == list(actions.WINDOW)
    outcomes = dict((h["id"], h["outcome_label"]) for h in view["history"])
    assert outcomes == {"mw-late": "overran", "mw-fine": "on time", "mw-broken": "failed"}
    assert view["history"][0]["id"] == "mw-late" and view["history"][0]["overran_s"] == 1800
    assert view["kpi"]["within_window_pct"] == pytest.approx(66.67) and view["kpi"]["meets_target"] is False
    assert view["last"]["id"] == "mw-late" and view["next"]["id"] == "mw-tomorrow"


def test_a_window_running_past_its_end_is_a_warning():
    running = window("mw-running", NOW - 2 * HOUR, duration="1h", status="in_progress")
    view = maintenance.build([running], NOW, link)
    assert view["active"][0]["overrun_s"] == 3600 and view["levels"] == ["warning"]
    assert "runs 1h 00m past its end" in view["reasons"][0] or "past its end" in view["reasons"][0]


# ---------------------------------------------------------------- disaster recovery

def test_a_drill_100_days_ago_is_overdue_and_its_figures_are_shown():
    last, nxt, levels, reasons = dr.tests([drill(100)], NOW)
    assert last["age_days"] == 100 and last["result"] == "passed"
    assert nxt["state"] == "overdue" and levels == ["warning"] and "100 days ago" in reasons[0]


def test_a_recent_drill_schedules_the_next_one_and_an_interval_can_be_set():
    _last, nxt, levels, _r = dr.tests([drill(30)], NOW)
    assert nxt["state"] == "scheduled" and levels == []
    _last, nxt, _levels, _r = dr.tests([drill(30)], NOW, interval_s=20 * 86400)
    assert nxt["state"] == "overdue" and nxt["overdue_s"] == 10 * 86400


def test_no_drill_at_all_is_overdue_and_a_missed_drill_is_a_warning():
    assert dr.tests([], NOW)[1]["state"] == "overdue"
    _last, _next, levels, reasons = dr.tests([drill(10, verdict="missed")], NOW)
    assert levels == ["warning"] and "missed its objectives" in reasons[0]


def test_objectives_come_from_the_newest_drill_of_each_job():
    jobs = [job("app-db", rpo="1h", rto="10m"), job("uploads")]
    backups = [model.backup_row(j, [listing("nas", backup(0.5))], None, NOW) for j in jobs]
    rows = dr.objectives(jobs, backups, [drill(5, jobs=(("app-db", 7200.0, 120.0, True),)), drill(50)])
    app, uploads = rows
    assert (app["rpo_verdict"], app["rto_verdict"], app["rpo_achieved_s"], app["rto_achieved_s"]) == ("missed", "met", 7200.0, 120.0)
    assert uploads["rpo_verdict"] == "not tested" and uploads["drill_id"] is None


def test_procedures_group_jobs_by_kind_and_link_the_runbooks():
    jobs = [job("app-db", kind="postgres"), job("uploads", kind="files")]
    backups = [model.backup_row(j, [listing("nas", backup(1))], None, NOW) for j in jobs]
    procs = dict((p["kind"], p) for p in dr.procedures(backups, link, {"app-db"}))
    assert procs["database"]["jobs"] == ["app-db"] and procs["files"]["jobs"] == ["uploads"]
    assert procs["full_system"]["jobs"] == ["app-db", "uploads"]
    assert procs["database"]["documentation"] == [{"job": "app-db", "href": "runbooks/app-db.md"}]
    assert procs["files"]["documentation"] == []
    assert '"dr_drill_run_jobs":["app-db","uploads"]' in procs["full_system"]["test"]["command"]


# ---------------------------------------------------------------- overall

def test_the_overall_status_is_the_worst_part_with_every_reason():
    doc = build(listings={"app-db": [listing("nas", backup(1))]}, drills=[drill(10)])
    assert doc["status"] == {"level": "ok", "label": "Operational", "reasons": []}
    doc = build(listings={"app-db": [listing("nas", backup(1))]}, drills=[drill(10)],
                incidents=[{"id": "inc-1", "severity": "SEV1", "status": "open", "title": "Checkout down"},
                           {"id": "inc-0", "severity": "SEV1", "status": "resolved", "title": "old"}])
    assert doc["status"]["level"] == "critical" and doc["status"]["reasons"] == ["incident inc-1 (SEV1, open): Checkout down"]
    assert [i["id"] for i in doc["incidents"]] == ["inc-1"]


def test_the_document_carries_no_destination_credentials():
    secret = {"name": "s3", "type": "s3", "secret_key": "SUPERSECRET", "credentials_file": "/etc/secret.ini"}
    jobs = [model.job_config({"name": "app-db", "destinations": [secret]})]
    doc = build(jobs=jobs, listings={"app-db": [listing("s3", backup(1))]})
    text = repr(doc)
    assert "SUPERSECRET" not in text and "/etc/secret.ini" not in text


def test_firing_alerts_count_critical_first_and_an_unreadable_alertmanager_is_a_warning():
    alerts = [{"name": "DiskFilling", "severity": "warning", "instance": "web2", "since": "t", "summary": ""},
              {"name": "BackupStale", "severity": "critical", "instance": "db1", "since": "t", "summary": "no backup"}]
    doc = build(listings={"app-db": [listing("nas", backup(1))]}, drills=[drill(10)])
    assert doc["status"]["level"] == "ok"
    doc = model.build({"title": "T"}, [job()], {"app-db": [listing("nas", backup(1))]}, {}, [], [], [drill(10)], {}, NOW,
                      alerts=alerts)
    assert [a["name"] for a in doc["alerts"]] == ["BackupStale", "DiskFilling"] and doc["status"]["level"] == "critical"
    assert doc["status"]["reasons"][0] == "alert BackupStale firing on db1 since t (critical): no backup"
    doc = model.build({"title": "T"}, [job()], {"app-db": [listing("nas", backup(1))]}, {}, [], [], [drill(10)], {}, NOW,
                      alerts_error="Alertmanager http://x cannot be read: refused")
    assert doc["status"] == {"level": "warning", "label": "Degraded", "reasons": ["Alertmanager http://x cannot be read: refused"]}
