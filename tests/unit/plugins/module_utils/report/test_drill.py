"""The drill report document: objectives met and missed, failed and partial results, durations."""

import datetime
import re

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.report import drill

import samples

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def build(results, objectives=None, started=None, **kwargs):
    return drill.build_report(results, objectives or {}, "alice", started, NOW, "0a1b2c3d", "DR drill", host="runner1",
                              collection_version="1.0.0", **kwargs)


@pytest.mark.parametrize("text,seconds", [
    ("4h", 14400), ("90m", 5400), ("7200s", 7200), ("1d", 86400), ("1d 2h", 93600), ("7200", 7200), (3600, 3600), ("1.5h", 5400),
])
def test_parse_duration(text, seconds):
    assert drill.parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "0", "0h", "soon", "-1h", "4 hours", True])
def test_parse_duration_rejects(bad):
    with pytest.raises(ValueError):
        drill.parse_duration(bad)


def test_fmt_duration():
    assert drill.fmt_duration(None) == "n/a"
    assert drill.fmt_duration(42.26) == "42.3 s"
    assert drill.fmt_duration(3900) == "1h 05m"
    assert drill.fmt_duration(7200) == "2h 00m"


def test_objectives_default_to_4h_and_2h_and_bad_ones_are_named():
    assert drill.objectives_targets({}) == {"rpo": {"target": "4h", "target_s": 14400.0}, "rto": {"target": "2h", "target_s": 7200.0}}
    assert drill.objectives_targets({"rpo": "1d", "rto": None})["rpo"]["target_s"] == 86400
    with pytest.raises(ValueError, match="objectives.rto"):
        drill.objectives_targets({"rto": "quickly"})


def test_every_job_within_the_objectives():
    doc = build([samples.result("app-db"), samples.result("app-sqlite", kind="sqlite", dest="s3", rto_total=30.5, rpo=600)])
    assert doc["schema"] == "watchkeeper.ops/drill-report" and doc["schema_version"] == 1
    assert re.match(r"^20261127T023000Z-0a1b2c3d$", doc["drill_id"])  # started: the earliest verify_started_at
    assert (doc["objectives_met"], doc["verdict"], doc["missed"]) == (True, "met", [])
    assert doc["objectives"]["rto"]["worst_s"] == 1800 and doc["objectives"]["rto"]["worst_job"] == "app-db"
    assert doc["objectives"]["rpo"]["worst_s"] == 3600 and doc["objectives"]["rpo"]["met"]
    assert doc["summary"] == {"jobs": 2, "passed": 2, "failed": 0, "met": 2, "checks": 4, "checks_failed": 0}
    job = doc["jobs"][0]
    assert (job["status"], job["verdict"], job["rto"]["verdict"], job["rpo"]["verdict"]) == ("passed", "met", "met", "met")
    assert job["rto"]["phases"]["restore_data_s"] == 900 and "restore_s" not in job["rto"]["phases"]
    assert list(job["rto"]["phases"])[:2] == ["select_s", "download_decrypt_s"]
    assert job["fallbacks"] == [{"destination": "broken", "status": "failed", "error": "step download: unreachable"}]
    assert job["runbook"]["by_hand"] and job["runbook_error"] is None
    assert doc["operator"] == "alice" and doc["finished_at"] == "2026-11-27T03:00:00Z" and doc["duration_s"] == 1800
    assert doc["next_drill_due"] == "2027-02-27T03:00:00Z"


def test_a_slow_restore_misses_the_rto_and_an_old_backup_the_rpo():
    doc = build([samples.result("fast"), samples.result("slow", rto_total=9000.0), samples.result("old", rpo=20000.0)])
    assert not doc["objectives_met"] and doc["verdict"] == "missed"
    assert [(m["job"], m["objective"], m["achieved_s"]) for m in doc["missed"]] == [("slow", "rto", 9000.0), ("old", "rpo", 20000.0)]
    assert doc["missed"][0]["target_s"] == 7200 and "2h 30m exceeds the target 2h 00m" in doc["missed"][0]["detail"]
    verdicts = {j["job"]: (j["verdict"], j["rto"]["verdict"], j["rpo"]["verdict"]) for j in doc["jobs"]}
    assert verdicts == {"fast": ("met", "met", "met"), "slow": ("missed", "missed", "met"), "old": ("missed", "met", "missed")}
    assert (doc["objectives"]["rto"]["met"], doc["objectives"]["rto"]["worst_job"], doc["objectives"]["rto"]["jobs_missed"]) == (
        False, "slow", 1)
    assert doc["objectives"]["rpo"]["worst_s"] == 20000


def test_exactly_on_target_is_met_and_custom_objectives_apply():
    doc = build([samples.result(rto_total=5400.0, rpo=7200.0)], {"rpo": "2h", "rto": "90m"})
    assert doc["objectives_met"] and doc["objectives"]["rto"]["target"] == "90m"
    assert not build([samples.result(rto_total=5400.5)], {"rto": "90m"})["objectives_met"]


def test_a_failed_restore_misses_the_rto_once_with_its_error():
    doc = build([samples.result("app-db"), samples.failed_result("uploads")])
    job = doc["jobs"][1]
    assert (job["status"], job["passed"], job["verdict"], job["rto"]["verdict"]) == ("failed", False, "missed", "missed")
    assert job["error"] == "step download, destination nas: no valid backup of job uploads"
    missed = [m for m in doc["missed"] if m["job"] == "uploads"]
    assert [m["objective"] for m in missed] == ["restore", "rpo"]
    assert missed[0]["detail"] == job["error"] and missed[0]["target_s"] == 7200 and missed[0]["achieved_s"] == 0.4
    assert missed[1]["detail"] == "RPO not measured (rpo.achieved_s missing)" and missed[1]["achieved_s"] is None
    rto = doc["objectives"]["rto"]
    assert (rto["met"], rto["not_recovered"], rto["worst_job"]) == (False, 1, "app-db")  # a failure is no recovery time
    assert job["runbook"] is None and "no backup" in job["runbook_error"]
    assert doc["summary"]["failed"] == 1 and not doc["objectives_met"]


def test_a_failed_result_keeps_its_backup_facts_and_gets_a_runbook():
    result = samples.result("app-db")
    result.update(failed=True, passed=False, msg="step restore_data: pg_restore exited 1")
    job = build([result])["jobs"][0]
    assert job["error"] == "step restore_data: pg_restore exited 1"
    assert job["rpo"]["verdict"] == "met" and job["rto"]["verdict"] == "missed"
    assert job["runbook"]["backup_id"] == result["backup_id"]


def test_failed_checks_fail_the_job_even_if_passed_says_true():
    bad = samples.result("app-db", passed=False)
    doc = build([bad])
    assert doc["jobs"][0]["error"].startswith("checks failed: checksum public.users")
    assert doc["jobs"][0]["checks_failed"] == 1 and doc["summary"]["checks_failed"] == 1
    liar = samples.result("app-db", passed=False)
    liar["passed"] = True
    assert build([liar])["jobs"][0]["status"] == "failed"
    silent = samples.result("app-db")
    del silent["passed"]
    assert build([silent])["jobs"][0]["error"] == "restore_verify did not report passed: true"


def test_missing_fields_are_not_measured_never_met():
    result = samples.result("app-db")
    del result["rto"], result["attempts"], result["scratch"], result["checks"]
    result["rpo"] = {"backup_created_at": "2026-11-27T01:30:00Z", "verify_started_at": "2026-11-27T02:00:00Z"}
    doc = build([result])
    job = doc["jobs"][0]
    assert job["rpo"]["achieved_s"] == 1800 and job["rpo"]["verdict"] == "met"  # computed from the two times
    assert job["rto"]["verdict"] == "missed" and job["rto"]["total_s"] is None
    assert doc["missed"] == [{"job": "app-db", "objective": "rto", "target_s": 7200.0, "achieved_s": None,
                              "detail": "RTO not measured (rto.total_s missing)"}]
    assert job["checks"] == [] and job["attempts"] == [] and job["scratch"] is None


def test_garbage_fields_are_ignored_not_fatal():
    result = samples.result("app-db")
    result.update(rto="fast", rpo=[1], checks="none", attempts=[None, "x"], destination="nas", backup=None)
    job = build([result])["jobs"][0]
    assert job["rto"]["total_s"] is None and job["rpo"]["achieved_s"] is None
    assert job["runbook"] is None and job["destination"] is None


def test_job_names_of_failed_results_come_from_invocation_or_item():
    no_name = {"failed": True, "msg": "missing required arguments: job"}
    from_args = dict(no_name, invocation={"module_args": {"job": "app-db"}})
    from_item = dict(no_name, item={"job": "uploads", "destination": "nas"})
    skipped = {"skipped": True, "skip_reason": "Conditional result was False", "item": "reports"}
    doc = build([no_name, from_args, from_item, skipped])
    assert [j["job"] for j in doc["jobs"]] == ["unnamed-1", "app-db", "uploads", "reports"]
    assert doc["jobs"][3]["error"] == "restore_verify was skipped: Conditional result was False"


def test_a_job_drilled_twice_keeps_its_name_with_distinct_ids():
    doc = build([samples.result("app-db"), samples.result("app-db", dest="s3")])
    assert [(j["job"], j["id"]) for j in doc["jobs"]] == [("app-db", "app-db"), ("app-db", "app-db#2")]


def test_destination_health():
    failed = samples.failed_result("uploads")
    doc = build([samples.result("app-db"), samples.result("app-sqlite", kind="sqlite", dest="s3"), failed])
    health = {d["name"]: (d["status"], d["ok"], d["failed"]) for d in doc["destinations"]}
    assert health == {"broken": ("failed", 0, 2), "nas": ("warning", 1, 1), "offsite": ("healthy", 1, 0)}


def test_started_at_given_and_defaults():
    started = datetime.datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    doc = build([samples.result()], started=started)
    assert doc["started_at"] == "2026-11-27T01:00:00Z" and doc["drill_id"] == "20261127T010000Z-0a1b2c3d"
    assert build([samples.failed_result()])["started_at"] == "2026-11-27T03:00:00Z"  # nothing measured: now


@pytest.mark.parametrize("bad", [[], None, "results", [samples.result(), "not a result"]])
def test_bad_input_is_refused(bad):
    with pytest.raises(ValueError):
        build(bad)


def test_add_months_clamps_the_day():
    assert drill.add_months(datetime.datetime(2026, 11, 30, tzinfo=UTC), 3).date() == datetime.date(2027, 2, 28)
    assert drill.add_months(datetime.datetime(2026, 1, 31, tzinfo=UTC), 1).date() == datetime.date(2026, 2, 28)


def test_compact_jobs():
    doc = build([samples.result("app-db", rto_total=9000.0), samples.failed_result("uploads")])
    assert drill.compact_jobs(doc) == [
        {"id": "app-db", "job": "app-db", "kind": "postgres", "status": "passed", "verdict": "missed",
         "backup_id": "20261127T013000Z-3f9a1c2b", "destination": "nas", "rto_s": 9000.0, "rto": "missed", "rpo_s": 3600.0,
         "rpo": "met", "checks_passed": 2, "checks_failed": 0, "error": None},
        {"id": "uploads", "job": "uploads", "kind": None, "status": "failed", "verdict": "missed", "backup_id": None,
         "destination": None, "rto_s": 0.4, "rto": "missed", "rpo_s": None, "rpo": "missed", "checks_passed": 0,
         "checks_failed": 0, "error": "step download, destination nas: no valid backup of job uploads"}]


def test_no_secret_of_the_destination_reaches_the_report():
    doc = build([samples.result("app-db", dest="s3")])
    text = repr(doc)
    assert "very-secret" not in text and "AKIA-SECRET-ID" not in text
