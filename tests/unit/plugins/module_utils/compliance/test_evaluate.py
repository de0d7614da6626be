"""The evaluation of every evidence check and of the controls, from facts shaped like the collectors' (pure)."""

import datetime

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import controls as ct
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import evaluate as ev
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import evaluate_ops as ops
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import period as pr

UTC = datetime.timezone.utc
PERIOD = pr.parse({"month": "2026-11"}, None)
END = PERIOD["end"]
KPIS = ev.kpi_values({})
JOBS = ["app-db", "uploads"]


def run(status, n=1, bid=None):
    return {"file": "/h/%s.json" % n, "backup_id": bid or "20261103T013000Z-0000000%d" % n, "status": status,
            "started": "2026-11-03T01:30:00Z", "step": "connect" if status != "ok" else None,
            "msg": "cannot connect" if status != "ok" else None}


def backup_facts(**jobs):
    return {"present": True, "source": "/ops/history/backup", "query": "q", "evidence": [{"path": "/h/1.json",
            "sha256": "a" * 64, "bytes": 1}], "jobs": jobs}


def clean_facts():
    ver = {"present": True, "source": "/ops/verified", "since": "2026-08-31T00:00:00Z", "evidence": [], "jobs": dict(
        (j, {"in_window": [{"file": "/v", "backup_id": "b", "verified_at": "2026-11-20T00:00:00Z"}],
             "newest": {"file": "/v", "backup_id": "b", "verified_at": "2026-11-20T00:00:00Z"}, "unreadable": []}) for j in JOBS)}
    drill = {"present": True, "source": "/ops/reports/dr_drill", "since": "2026-08-31T00:00:00Z", "evidence": [], "unreadable": [],
             "older": {}, "drills": [{"file": "/d", "drill_id": "d1", "finished_at": "2026-10-15T10:00:00Z", "verdict": "met",
                                      "jobs": dict((j, {"verdict": "met", "rto_s": 60, "rpo_s": 60, "rto": "met", "rpo": "met"})
                                                   for j in JOBS)}]}
    ret = {"present": True, "source": "/r", "evidence": [], "reports": [
        {"file": "/r/1", "host": "db1", "finished_at": "2026-11-10T03:00:00Z", "status": "ok", "check_mode": False,
         "backlog": [], "failures": []}]}
    maint = {"present": True, "source": "/m", "evidence": [], "windows": [],
             "kpi": {"within_window_pct": 100.0, "counts": {"completed": 2, "on_time": 2, "overran": 0, "cancelled": 0}}}
    trail = {"present": True, "source": "/a", "evidence": [], "error": None, "ok": True, "records": 40, "chains": 1, "breaks": 0,
             "first_break": None, "gaps": [], "missing_chains": [],
             "coverage": [{"chain": "c", "from": "2026-10-25T04:30:00Z", "to": "2026-11-30T04:35:00Z", "first_seq": 1,
                           "last_seq": 40}]}
    sec = {"present": True, "source": "/s", "evidence": [], "audits": [{"file": "/s/x", "stamp": "x",
           "generated_at": "2026-11-23T05:30:00Z", "hosts": ["web1"]}], "last": "x", "findings": [], "host_errors": [],
           "unreadable": []}
    return {ct.BACKUP_SUCCESS: backup_facts(**{"app-db": [run("ok")], "uploads": [run("ok", 2)]}),
            ct.RESTORE_VERIFICATION: ver, ct.DR_DRILL: drill, ct.RETENTION: ret, ct.MAINTENANCE: maint,
            ct.AUDIT_TRAIL: trail, ct.SECURITY_AUDIT: sec}


def judge(facts=None):
    checks, controls, summary = ev.judge(facts or clean_facts(), JOBS, KPIS, PERIOD)
    return checks, dict((c["id"], c) for c in controls), summary


def test_clean_facts_pass_every_control():
    checks, controls, summary = judge()
    assert all(c["status"] == "pass" for c in checks.values()), dict((k, c["reason"]) for k, c in checks.items())
    assert set(controls) == set(ct.CONTROL_IDS) and len(ct.CONTROL_IDS) == 14
    assert summary == {"controls": 14, "passed": 14, "failed": 0, "not_applicable": 0, "failed_controls": [], "evidence_files": 1}


@pytest.mark.parametrize("check, failed_controls", [
    (ct.BACKUP_SUCCESS, {"SOC2-A1.2", "ISO27001-A.8.13"}),
    (ct.RETENTION, {"SOC2-A1.2", "ISO27001-A.8.13"}),
    (ct.RESTORE_VERIFICATION, {"SOC2-CC7.4", "SOC2-A1.3", "ISO27001-A.5.30"}),
    (ct.DR_DRILL, {"SOC2-CC7.4", "SOC2-A1.3", "ISO27001-A.5.30"}),
    (ct.MAINTENANCE, {"SOC2-CC8.1", "ISO27001-A.8.32"}),
    (ct.AUDIT_TRAIL, {"SOC2-CC7.2", "ISO27001-A.8.15", "ISO27001-A.8.16"}),
    (ct.SECURITY_AUDIT, {"SOC2-CC6.1", "SOC2-CC6.6", "SOC2-CC7.1", "ISO27001-A.8.8"}),
])
def test_one_failing_check_fails_exactly_its_controls(check, failed_controls):
    facts = clean_facts()
    breakers = {
        ct.BACKUP_SUCCESS: lambda f: f["jobs"]["uploads"].append(run("failed", 3)),
        ct.RETENTION: lambda f: f["reports"][0]["backlog"].append({"database": "app", "table": "t", "backlog_rows": 5}),
        ct.RESTORE_VERIFICATION: lambda f: f["jobs"]["app-db"].update(in_window=[]),
        ct.DR_DRILL: lambda f: f["drills"][0]["jobs"]["uploads"].update(verdict="missed"),
        ct.MAINTENANCE: lambda f: f["kpi"]["counts"].update(on_time=1, overran=1),
        ct.AUDIT_TRAIL: lambda f: f.update(first_break={"chain": "c", "where": "segments/1.jsonl", "reason": "modified"}),
        ct.SECURITY_AUDIT: lambda f: f["findings"].append(
            {"host": "web1", "id": "WK-SSH-001", "severity": "high", "title": "root", "subject": None}),
    }
    breakers[check](facts[check])
    checks, controls, summary = judge(facts)
    assert [c for c in checks if checks[c]["status"] == "fail"] == [check]
    assert set(summary["failed_controls"]) == failed_controls == set(ct.controls_of(check))
    for control_id in failed_controls:
        assert check in controls[control_id]["failed_checks"] and controls[control_id]["reason"].startswith("failed check(s)")


def test_backup_success_per_job_and_unreadable_runs():
    facts = backup_facts(**{"app-db": [run("ok", i) for i in range(19)] + [run("failed", 19)], "uploads": [run("ok", 30)]})
    kpis = ev.kpi_values({"backup_success_pct": 95})
    check = ev.check_backup_success(facts, JOBS, kpis)
    assert check["status"] == "pass" and check["numbers"]["runs"] == 21 and check["kpi"]["achieved"] == round(2000 / 21.0, 2)
    assert [i["success_pct"] for i in check["items"]] == [95.0, 100.0]
    facts["jobs"]["uploads"].append(dict(run("unreadable", 31), backup_id=None, step=None, msg="not a readable record"))
    check = ev.check_backup_success(facts, JOBS, kpis)
    assert check["status"] == "fail" and check["problems"][-1] == "job uploads: run /h/31.json unreadable (not a readable record)"
    assert check["problems"][0] == "job app-db: run 20261103T013000Z-000000019 failed (step connect: cannot connect)"
    assert check["numbers"]["unreadable"] == 1 and check["items"][1]["meets_target"] is False


def test_a_job_without_runs_fails_and_missing_history_is_not_applicable():
    check = ev.check_backup_success(backup_facts(**{"app-db": [run("ok")]}), JOBS, KPIS)
    assert check["status"] == "fail" and "job uploads: no backup run recorded in the period" in check["problems"]
    assert ev.check_backup_success({"present": False, "source": "/x"}, JOBS, KPIS)["status"] == "not_applicable"
    assert ev.check_backup_success(backup_facts(), [], KPIS)["reason"] == "no backup job to cover"


def test_verification_overdue_and_never():
    facts = clean_facts()[ct.RESTORE_VERIFICATION]
    facts["jobs"]["app-db"] = {"in_window": [], "unreadable": [],
                               "newest": {"file": "/v", "backup_id": "b", "verified_at": "2026-08-01T00:00:00Z"}}
    facts["jobs"]["uploads"] = {"in_window": [], "newest": None, "unreadable": []}
    check = ev.check_restore_verification(facts, JOBS, KPIS, END)
    assert check["status"] == "fail" and check["kpi"]["achieved"] == 0.0
    assert check["problems"] == [
        "job app-db: overdue: last passed restore verification on 2026-08-01T00:00:00Z, 122.0 days before the period's end "
        "(at most 92)", "job uploads: never passed a restore verification"]
    assert check["items"][0]["age_days"] == 122.0


def test_unreadable_evidence_fails_verifications_and_drills():
    facts = clean_facts()
    facts[ct.RESTORE_VERIFICATION]["jobs"]["app-db"]["unreadable"] = ["/v/bad.json"]
    facts[ct.DR_DRILL]["unreadable"] = ["/d/x/report.json"]
    checks, _controls, _summary = judge(facts)
    assert checks[ct.RESTORE_VERIFICATION]["status"] == "fail" and "1 verification record(s) unreadable" in \
        checks[ct.RESTORE_VERIFICATION]["reason"]
    assert checks[ct.DR_DRILL]["status"] == "fail" and "unreadable drill report /d/x/report.json" in checks[ct.DR_DRILL]["problems"]


def test_drill_missed_overdue_and_never():
    facts = clean_facts()[ct.DR_DRILL]
    facts["drills"][0]["jobs"]["app-db"].update(verdict="missed", rto="missed")
    del facts["drills"][0]["jobs"]["uploads"]
    check = ev.check_dr_drill(facts, JOBS, KPIS, END)
    assert check["problems"] == ["job app-db: the drills in the window missed their objectives (last d1: RTO missed, RPO met)",
                                 "job uploads: never restored in a drill"]
    facts["older"] = {"uploads": {"drill_id": "d0", "finished_at": "2026-06-01T00:00:00Z",
                                  "jobs": {"uploads": {"verdict": "met"}}}}
    check = ev.check_dr_drill(facts, JOBS, KPIS, END)
    assert "job uploads: overdue: last drill d0 on 2026-06-01T00:00:00Z (met, 183.0 days" in check["problems"][1]
    assert ev.check_dr_drill(facts, JOBS, ev.kpi_values({"dr_drill_pct": 0}), END)["status"] == "pass"


def test_retention_backlog_failures_check_mode_and_absence():
    facts = clean_facts()[ct.RETENTION]
    facts["reports"].append({"file": "/r/2", "host": "db2", "finished_at": "2026-11-11T03:00:00Z", "status": "failed",
                             "check_mode": False, "backlog": [], "failures": ["database app: table t: lock timeout"]})
    facts["reports"].append({"file": "/r/3", "host": "db1", "finished_at": "2026-11-12T03:00:00Z", "status": "ok",
                             "check_mode": True, "backlog": [{"database": "a", "table": "t", "backlog_rows": 9}], "failures": []})
    facts["reports"].append({"file": "/r/4", "unreadable": "/r/4 is not valid JSON"})
    check = ops.check_retention(ev.new_check(ct.RETENTION, facts, 100.0), facts, KPIS)
    assert check["status"] == "fail" and check["numbers"] == {"reports": 4, "judged": 3, "check_mode": 1, "clean": 1,
                                                              "backlog_rows": 0}
    assert check["problems"] == ["db2 (2026-11-11T03:00:00Z): database app: table t: lock timeout", "/r/4: /r/4 is not valid JSON"]
    only_check_mode = {"present": True, "reports": [facts["reports"][2]]}
    check = ops.check_retention(ev.new_check(ct.RETENTION, only_check_mode, 100.0), only_check_mode, KPIS)
    assert check["status"] == "fail" and check["reason"] == "no retention run (outside check mode) in the period"
    absent = {"present": False, "source": "/r"}
    assert ops.check_retention(ev.new_check(ct.RETENTION, absent), absent, KPIS)["status"] == "not_applicable"


@given(st.integers(0, 60), st.integers(0, 60), st.sampled_from([90.0, 95.0, 100.0]))
@settings(max_examples=200)
def test_maintenance_kpi(on_time, overran, target):
    facts = {"present": True, "windows": [], "kpi": {"counts": {"completed": on_time + overran, "on_time": on_time,
                                                                "overran": overran, "cancelled": 3}}}
    check = ops.check_maintenance(ev.new_check(ct.MAINTENANCE, facts, target), facts,
                                  ev.kpi_values({"maintenance_within_window_pct": target}))
    if on_time + overran == 0:
        assert check["status"] == "not_applicable"
    else:
        assert (check["status"] == "pass") == (on_time * 100 >= target * (on_time + overran))


def trail(**extra):
    facts = clean_facts()[ct.AUDIT_TRAIL]
    facts.update(extra)
    return ops.check_audit_trail(ev.new_check(ct.AUDIT_TRAIL, facts), facts, PERIOD)


def test_audit_trail_rules():
    assert trail()["status"] == "pass" and trail()["numbers"]["covered_from"] == "2026-10-25T04:30:00Z"
    gap_before = {"chain": "c", "from_seq": 2, "to_seq": 3, "after": "2026-10-01T00:00:00Z", "before": "2026-10-02T00:00:00Z"}
    assert trail(gaps=[gap_before])["status"] == "pass"
    gap_in = dict(gap_before, after="2026-11-05T00:00:00Z", before="2026-11-06T00:00:00Z")
    assert trail(gaps=[gap_in])["problems"] == ["chain c: records 2..3 missing (after 2026-11-05T00:00:00Z, before "
                                                "2026-11-06T00:00:00Z)"]
    assert trail(gaps=[dict(gap_in, after=None, before=None)])["status"] == "fail"
    late = [{"chain": "c", "from": "2026-11-10T00:00:00Z", "to": "2026-11-30T00:00:00Z", "first_seq": 1, "last_seq": 9}]
    assert "start at 2026-11-10T00:00:00Z, after the period's start" in trail(coverage=late)["problems"][0]
    old = [{"chain": "c", "from": "2026-09-10T00:00:00Z", "to": "2026-10-30T00:00:00Z", "first_seq": 1, "last_seq": 9}]
    assert trail(coverage=old)["problems"] == ["no verified record in the period"]
    assert trail(error="cannot verify")["status"] == "fail"
    assert trail(present=False, reason="no audit trail configured (option audit_trail)")["status"] == "not_applicable"


def security(**extra):
    facts = clean_facts()[ct.SECURITY_AUDIT]
    facts.update(extra)
    return ops.check_security(ev.new_check(ct.SECURITY_AUDIT, facts), facts)


def test_security_rules():
    assert security()["status"] == "pass"
    high = {"host": "web1", "id": "WK-SSH-002", "severity": "high", "title": "passwords", "subject": "/etc/ssh/sshd_config"}
    assert security(findings=[high])["problems"] == ["web1: WK-SSH-002 (high) failed for /etc/ssh/sshd_config: passwords"]
    assert security(host_errors=[{"host": "db1", "error": "unreachable"}])["status"] == "fail"
    assert security(unreadable=["/s/x/hosts/db1.json"])["status"] == "fail"
    assert security(audits=[], last=None)["reason"] == "no security audit in the period"
    assert security(present=False)["status"] == "not_applicable"


def test_controls_with_some_evidence_pass_and_none_is_not_applicable():
    facts = clean_facts()
    facts[ct.RETENTION] = {"present": False, "source": "/r"}
    for check in (ct.AUDIT_TRAIL,):
        facts[check] = {"present": False, "reason": "no audit trail configured (option audit_trail)"}
    _checks, controls, summary = judge(facts)
    assert controls["SOC2-A1.2"]["status"] == "pass" and "not applicable: retention" in controls["SOC2-A1.2"]["reason"]
    assert controls["SOC2-CC7.2"]["status"] == "not_applicable" and "no audit trail configured" in controls["SOC2-CC7.2"]["reason"]
    assert summary["not_applicable"] == 3


def test_evidence_is_listed_once_per_control_with_its_check():
    facts = clean_facts()
    shared = {"path": "/same", "sha256": "b" * 64, "bytes": 2}
    facts[ct.RESTORE_VERIFICATION]["evidence"] = [shared]
    facts[ct.DR_DRILL]["evidence"] = [shared, {"path": "/d", "sha256": "c" * 64, "bytes": 3}]
    _checks, controls, summary = judge(facts)
    assert controls["SOC2-A1.3"]["evidence"] == [dict(shared, check=ct.RESTORE_VERIFICATION),
                                                 {"path": "/d", "sha256": "c" * 64, "bytes": 3, "check": ct.DR_DRILL}]
    assert summary["evidence_files"] == 3


@pytest.mark.parametrize("kpis, message", [
    ({"backup_success_pct": 101}, "is not a percentage"), ({"nope": 1}, "kpis.nope is not a KPI"),
    ({"dr_drill_max_age_days": 0}, "whole number of days"), ({"restore_verification_max_age_days": True}, "whole number"),
])
def test_bad_kpis(kpis, message):
    with pytest.raises(ValueError) as err:
        ev.kpi_values(kpis)
    assert message in str(err.value)


def test_unreadable_maintenance_windows_fail():
    facts = {"present": True, "error": "cannot read the maintenance windows in /m: bad JSON", "windows": [], "kpi": None}
    check = ops.check_maintenance(ev.new_check(ct.MAINTENANCE, facts, 95.0), facts, KPIS)
    assert check["status"] == "fail" and check["problems"] == [facts["error"]]


@pytest.mark.parametrize("check_fn, what", [(ev.check_restore_verification, "restore verification record"),
                                            (ev.check_dr_drill, "drill report")])
def test_backups_without_any_restore_proof_fail_and_no_jobs_is_not_applicable(check_fn, what):
    missing = {"present": False, "source": "/ops/x"}
    check = check_fn(missing, JOBS, KPIS, END)
    assert check["status"] == "fail" and check["reason"] == "2 backup job(s) and no %s in /ops/x" % what
    assert check_fn(missing, [], KPIS, END)["status"] == "not_applicable"
