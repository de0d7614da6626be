# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 14, acceptance 6: the compliance report over a seeded ``ops_state`` for November 2026.

The state is written by the collection's own writers wherever they run without a service: the backup run history
(run_history), restore verification records (verified), drill reports (report.drill + report.store), maintenance
windows (maintenance.store + policy.maintenance), a real audit trail (audit.spool, sealed with an HMAC key and
shipped with audit.ship) and the security audit (security.report). Only the retention reports, which the
retention role writes with Jinja2, are JSON fixtures shaped exactly like the role's ``__retention_report_doc``.

The bad month has one failed backup run, one overdue drill and one table with rows older than its policy: the report
fails exactly the controls those touch. The clean month passes every control. Every evidence file listed hashes to
the SHA-256 the report gives, and the HTML renders in Chromium (screenshot).
"""

import datetime
import hashlib
import json
import os
import struct
import sys

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils import run_history, verified
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import ship
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.sign import HmacSigner, create_key_file, read_key_file
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.spool import Spool
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.store import WindowStore, open_ops_state
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as mpolicy
from ansible_collections.watchkeeper.ops.plugins.module_utils.report import drill, store as drill_store
from ansible_collections.watchkeeper.ops.plugins.module_utils.security import report as security_report
from helpers import HERE, assert_failed, assert_ok, report_page, run_module, run_playbook

UTC = datetime.timezone.utc
PLAYBOOK = os.path.join(os.path.dirname(os.path.dirname(HERE)), "playbooks", "compliance_report.yml")
NOW = "2026-12-01T06:00:00Z"
PLAY_ENV = {"WATCHKEEPER_NOW": NOW, "ANSIBLE_SHOW_CUSTOM_STATS": "1"}
JOBS = ("app-db", "uploads")
ALL_CONTROLS = {"SOC2-CC6.1", "SOC2-CC6.6", "SOC2-CC7.1", "SOC2-CC7.2", "SOC2-CC7.4", "SOC2-CC8.1", "SOC2-A1.2", "SOC2-A1.3",
                "ISO27001-A.5.30", "ISO27001-A.8.8", "ISO27001-A.8.13", "ISO27001-A.8.15", "ISO27001-A.8.16", "ISO27001-A.8.32"}


def at(day, hour=1, month=11, year=2026):
    return datetime.datetime(year, month, day, hour, 30, tzinfo=UTC)


def backup_run(ops, job, when, status="ok"):
    backup_id = "%s-%s" % (when.strftime("%Y%m%dT%H%M%SZ"), hashlib.sha256(job.encode()).hexdigest()[:8])
    dests = [{"name": "nas", "type": "local", "location": "/mnt/nas", "status": "ok" if status == "ok" else "failed",
              "error": None if status == "ok" else "step connect: cannot connect to PostgreSQL", "step": None}]
    result = {"job": job, "backup_id": backup_id, "status": status, "destinations": dests, "sizes": {"stored_bytes": 1000}}
    error = None if status == "ok" else RuntimeError("step connect: cannot connect to PostgreSQL")
    doc = run_history.build_record(job, backup_id, when, when + datetime.timedelta(minutes=3), 180.0, result, error)
    return run_history.write_record(str(ops), doc)


def drill_report(ops, when, jobs_met, jobs_missed=()):
    results = [{"job": j, "passed": True, "rto": {"total_s": 600.0}, "rpo": {"achieved_s": 1800.0},
                "checks": [{"name": "integrity", "passed": True}]} for j in jobs_met]
    results += [{"job": j, "passed": True, "rto": {"total_s": 9000.0}, "rpo": {"achieved_s": 1800.0},
                 "checks": [{"name": "integrity", "passed": True}]} for j in jobs_missed]
    doc = drill.build_report(results, {"rpo": "4h", "rto": "2h"}, "dr-operator", when - datetime.timedelta(hours=1), when,
                             hashlib.sha256(when.isoformat().encode()).hexdigest()[:8], "Quarterly drill", host="ctl1")
    files = drill_store.render_files(doc)
    drill_store.write_directory(str(ops), doc["drill_id"], files, files[-1][1])
    return doc


def retention_report(ops, when, backlog=0, check_mode=False, host="db1"):
    """Shaped like roles/retention/vars/main.yml __retention_report_doc (to_nice_json of it)."""
    table = {"table": "public.events", "status": "ok", "error": None, "rows_deleted": 5000, "backlog_rows": backlog,
             "rows_held": 0, "cutoff": "2026-08-01T00:00:00Z", "lock_timeouts": 0, "duration_s": 4.2}
    doc = {"schema": "watchkeeper.ops/retention-report", "schema_version": 1, "host": host,
           "started_at": (when - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "finished_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "duration_s": 300.0, "status": "ok", "check_mode": check_mode,
           "summary": {"backups_kept": 14, "backups_removed": 2, "bytes_freed": 2048, "rows_deleted": 5000,
                       "backlog_rows": backlog, "stopped_by_max_runtime": bool(backlog), "reports_removed": 0},
           "failures": [], "jobs": [{"job": "app-db", "status": "ok", "error": None, "destinations": {
               "nas": {"status": "ok", "error": None, "location": "/mnt/nas", "policy": {"keep_daily": 7}, "kept": 14,
                       "removed": 2, "bytes_freed": 2048, "packs_removed": 0, "incomplete_removed": 0,
                       "kept_by": {"keep_daily": 7}, "backups": []}}}],
           "databases": [{"name": "app", "status": "ok", "error": None, "rows_deleted": 5000, "backlog_rows": backlog,
                          "stopped_by_max_runtime": bool(backlog), "duration_s": 4.2, "tables": [table]}],
           "ops_state": None}
    path = ops / "reports" / "retention" / ("%s-%s.json" % (when.strftime("%Y%m%dT%H%M%SZ"), host))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def maintenance_windows(ops):
    store = WindowStore(open_ops_state(str(ops)))
    for day, title in ((8, "kernel upgrade"), (22, "database index rebuild")):
        start = at(day, 2)
        doc = store.create(mpolicy.new_window({"title": title, "start": mpolicy.iso(start), "duration": "1h"},
                                              start - datetime.timedelta(days=3)))
        store.update(doc["id"], lambda d, s=start: mpolicy.transition(d, "in_progress", s))
        store.update(doc["id"], lambda d, s=start: mpolicy.transition(d, "completed", s + datetime.timedelta(minutes=40)))


def audit_trail(ops, spool_dir, key_file):
    """A real trail: one run every few days from October 25th on, each sealed and shipped to ops/audit-trail."""
    spool = Spool(str(spool_dir), hostname="ctl1")
    spool.open()
    signer = HmacSigner(read_key_file(str(key_file)))
    day = at(25, 4, month=10)
    while day < at(1, 0, month=12):
        spool.append({"event": "play_start", "run": day.isoformat(), "playbook": "playbooks/backup.yml"}, when=day)
        spool.append({"event": "run_end", "run": day.isoformat()}, when=day + datetime.timedelta(minutes=5))
        spool.seal(signer, "run_end", when=day + datetime.timedelta(minutes=6))
        day += datetime.timedelta(days=4)
    ship.ship(spool, ship.storage_for(directory=str(ops / "audit-trail")), prefix="audit")
    spool.close()


def finding(rule_id, severity, status, subject=None):
    return {"id": rule_id, "area": "ssh", "severity": severity, "title": "rule %s" % rule_id, "status": status,
            "evidence": "seen", "subject": subject, "remediation": None if status == "pass" else "fix it"}


def security_audit(ops, when):
    hosts = {"web1": {"findings": [finding("WK-SSH-001", "high", "pass"), finding("WK-SSH-004", "medium", "fail")],
                      "audited_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "error": None},
             "db1": {"findings": [finding("WK-ACC-001", "critical", "pass")], "audited_at": None, "error": None}}
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    summary = security_report.build_summary(stamp, hosts, None, generated_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    security_report.write(str(ops), stamp, hosts, summary)


def seed(tmp_path, bad):
    ops = tmp_path / ("bad" if bad else "clean")
    ops.mkdir()
    for job in JOBS:
        for day in (3, 10, 17, 24):
            backup_run(ops, job, at(day))
        backup_run(ops, job, at(28, month=10), status="failed")  # October: outside the period
        backup_run(ops, job, at(1, 2, month=12), status="failed")  # December: outside the period
    if bad:
        backup_run(ops, "app-db", at(14), status="failed")
    for job, day in (("app-db", 20), ("uploads", 25)):
        verified.write(str(ops), job, "20261110T013000Z-1a2b3c4d", {
            "verified_at": at(day, 9).strftime("%Y-%m-%dT%H:%M:%SZ"), "mode": "data", "destination": "nas", "checks": 5})
    if bad:
        drill_report(ops, at(1, 10, month=8), ["app-db"])  # more than 92 days before December 1st
        drill_report(ops, at(15, 10, month=10), ["uploads"])
    else:
        drill_report(ops, at(15, 10, month=10), ["app-db", "uploads"])
    retention_report(ops, at(10, 3))
    retention_report(ops, at(20, 3), backlog=1200 if bad else 0)
    retention_report(ops, at(21, 3), backlog=77, check_mode=True)  # check mode deletes nothing: not judged
    retention_report(ops, at(28, 3, month=10), backlog=99)  # October: outside the period
    maintenance_windows(ops)
    key = create_key_file(str(tmp_path / ("%s.key" % ops.name)))
    audit_trail(ops, tmp_path / ("spool-%s" % ops.name), key)
    security_audit(ops, at(23, 5))
    return ops, key


def args(ops, key, **extra):
    out = {"ops_state": str(ops), "period": {"month": "2026-11"},
           "audit_trail": {"path": str(ops / "audit-trail"), "hmac_key_files": [key]}}
    out.update(extra)
    return out


def run(ops, key, check_mode=False, **extra):
    return run_module("watchkeeper.ops.compliance_report", args(ops, key, **extra), env={"WATCHKEEPER_NOW": NOW},
                      check_mode=check_mode)


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def load(path):
    with open(path) as handle:
        return json.load(handle)


def assert_evidence_hashes(doc):
    listed = 0
    for control in doc["controls"]:
        for item in control["evidence"]:
            assert sha256(item["path"]) == item["sha256"], item
            assert os.path.getsize(item["path"]) == item["bytes"]
            listed += 1
    return listed


def png_size(path):
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_bad_month_fails_exactly_the_touched_controls_and_renders(tmp_path):
    ops, key = seed(tmp_path, bad=True)
    result = assert_ok(run(ops, key))
    assert result.changed and result["written"] and result["passed"] is False
    failed = {"SOC2-A1.2", "ISO27001-A.8.13", "SOC2-CC7.4", "SOC2-A1.3", "ISO27001-A.5.30"}
    assert set(result["failed_controls"]) == failed
    statuses = dict((c["id"], c["status"]) for c in result["controls"])
    assert set(statuses) == ALL_CONTROLS
    assert all(statuses[c] == "pass" for c in ALL_CONTROLS - failed), statuses
    checks = dict((c["id"], c) for c in result["checks"])
    assert {c for c, v in checks.items() if v["status"] == "fail"} == {"backup_success", "dr_drill", "retention"}
    # the populations, counted: 4 runs per job in November plus the failed one, the October/December runs left out
    assert checks["backup_success"]["numbers"]["runs"] == 9 and checks["backup_success"]["numbers"]["failed"] == 1
    assert checks["backup_success"]["kpi"]["achieved"] == round(100.0 * 8 / 9, 2)
    assert any("app-db" in p and "failed" in p for p in checks["backup_success"]["problems"])
    assert checks["dr_drill"]["numbers"]["jobs_met"] == 1
    assert [p for p in checks["dr_drill"]["problems"] if p.startswith("job app-db: overdue: last drill")]
    assert checks["retention"]["numbers"] == {"reports": 3, "judged": 2, "check_mode": 1, "clean": 1, "backlog_rows": 1200}
    assert "public.events: 1200 rows older than its retention policy" in " ".join(checks["retention"]["problems"])
    assert checks["maintenance"]["status"] == "pass" and checks["maintenance"]["kpi"]["achieved"] == 100.0
    assert checks["audit_trail"]["status"] == "pass", checks["audit_trail"]
    assert checks["security_audit"]["status"] == "pass"  # a medium finding does not fail it

    report = result["report"]
    assert report["json"].startswith(str(ops / "reports" / "compliance" / "2026-11"))
    doc = load(report["json"])
    assert doc["schema"] == "watchkeeper.ops/compliance-report" and doc["schema_version"] == 1
    assert doc["period"] == {"kind": "month", "label": "2026-11", "start": "2026-11-01T00:00:00Z", "end": "2026-12-01T00:00:00Z"}
    assert load(report["latest"]) == doc and doc["jobs"] == list(JOBS)
    assert doc["files"]["html"]["sha256"] == sha256(report["html"])
    assert assert_evidence_hashes(doc) > 20
    by_check = dict((c["id"], c) for c in doc["checks"])
    runs = [e["path"] for e in by_check["backup_success"]["evidence"]]
    assert len(runs) == 9 and all("/history/backup/" in p and "202611" in os.path.basename(p) for p in runs)
    assert by_check["backup_success"]["query"].startswith("every file %s/history/backup/" % ops)
    trail = [e["path"] for e in by_check["audit_trail"]["evidence"]]
    assert any(p.endswith(".jsonl") for p in trail) and any(p.endswith(".json.sig") for p in trail)
    a12 = [c for c in doc["controls"] if c["id"] == "SOC2-A1.2"][0]
    assert a12["failed_checks"] == ["backup_success", "retention"]
    assert {e["check"] for e in a12["evidence"]} == {"backup_success", "retention"}

    shot = tmp_path / "compliance.png"
    with report_page(report["html"], shot) as page:
        assert page.title() == "Compliance report - 2026-11"
        header = page.locator("#summary")
        assert header.get_attribute("data-passed") == "false" and "5 failed" in header.inner_text()
        rows = page.locator("#controls tr[data-control]")
        assert rows.count() == 14
        shown = dict((rows.nth(i).get_attribute("data-control"), rows.nth(i).get_attribute("data-status"))
                     for i in range(rows.count()))
        assert shown == statuses
        a13 = page.locator('#controls tr[data-control="SOC2-A1.3"]')
        assert a13.is_visible() and "FAIL" in a13.inner_text().upper()
        background = a13.locator("td").first.evaluate("el => getComputedStyle(el).backgroundColor")
        assert background == "rgb(253, 240, 239)"  # failures highlighted
        evidence = page.locator("#evidence-backup_success tbody tr")
        assert evidence.count() == 9
        assert by_check["backup_success"]["evidence"][0]["sha256"] in page.locator("#evidence-backup_success").inner_text()
        assert "1200 rows older than its retention policy" in page.locator("#check-retention").inner_text()
    width, height = png_size(shot)
    assert width >= 1280 and height > 2000 and os.path.getsize(shot) > 50000, (width, height, os.path.getsize(shot))


def test_clean_month_passes_every_control(tmp_path):
    ops, key = seed(tmp_path, bad=False)
    result = assert_ok(run(ops, key))
    assert result["passed"] is True and result["failed_controls"] == [], result["checks"]
    assert {c["id"]: c["status"] for c in result["controls"]} == dict((c, "pass") for c in ALL_CONTROLS)
    assert result["summary"]["not_applicable"] == 0
    assert assert_evidence_hashes(load(result["report"]["json"])) > 20


def test_a_tampered_audit_trail_fails_the_logging_controls(tmp_path):
    ops, key = seed(tmp_path, bad=False)
    segments = sorted(str(p) for p in (ops / "audit-trail" / "audit").glob("*/segments/*.jsonl"))
    with open(segments[3], "r+b") as handle:  # a November run: one byte of a record changed
        data = handle.read()
        handle.seek(data.index(b"run_end") + 1)
        handle.write(b"X")
    result = assert_ok(run(ops, key))
    assert set(result["failed_controls"]) == {"SOC2-CC7.2", "ISO27001-A.8.15", "ISO27001-A.8.16"}
    trail = [c for c in result["checks"] if c["id"] == "audit_trail"][0]
    assert "was modified" in trail["problems"][0] and os.path.basename(segments[3]) in trail["problems"][0]


def test_sources_missing_are_not_applicable_or_failed_never_passed(tmp_path):
    ops = tmp_path / "ops"
    ops.mkdir()
    backup_run(ops, "app-db", at(3))
    result = assert_ok(run_module("watchkeeper.ops.compliance_report", {"ops_state": str(ops), "period": {"month": "2026-11"}},
                                  env={"WATCHKEEPER_NOW": NOW}))
    statuses = {c["id"]: c["status"] for c in result["controls"]}
    assert {c for c, s in statuses.items() if s == "pass"} == {"SOC2-A1.2", "ISO27001-A.8.13"}
    # a job backed up but never restored (no verification, no drill) fails the recovery controls instead
    recovery = {"SOC2-CC7.4", "SOC2-A1.3", "ISO27001-A.5.30"}
    assert {c for c, s in statuses.items() if s == "fail"} == recovery
    assert all(s == "not_applicable" for c, s in statuses.items() if c not in {"SOC2-A1.2", "ISO27001-A.8.13"} | recovery)
    reasons = {c["id"]: c["reason"] for c in result["controls"]}
    assert "no audit trail configured" in reasons["SOC2-CC7.2"] and "no security audit" in reasons["SOC2-CC6.1"]
    assert "not applicable: retention" in reasons["SOC2-A1.2"]


def test_check_mode_writes_nothing(tmp_path):
    ops, key = seed(tmp_path, bad=True)
    before = sorted(os.path.join(d, f) for d, _s, fs in os.walk(str(ops)) for f in fs)
    result = assert_ok(run(ops, key, check_mode=True))
    assert result["written"] is False and len(result["failed_controls"]) == 5
    assert result["report"]["json"].startswith(str(ops / "reports" / "compliance" / "2026-11"))
    assert sorted(os.path.join(d, f) for d, _s, fs in os.walk(str(ops)) for f in fs) == before


@pytest.mark.parametrize("extra, message", [
    ({"period": {"month": "2026-13"}}, "period.month '2026-13' is not a month as YYYY-MM"),
    ({"period": {"month": "November 2026"}}, "is not a month as YYYY-MM"),
    ({"period": {"month": "2026-11", "start": "2026-11-01"}}, "either month or start and end"),
    ({"period": {"start": "2026-11-01"}}, "start and end go together"),
    ({"period": {"start": "2026-12-01", "end": "2026-11-01"}}, "is not after start"),
    ({"period": {"start": "yesterday", "end": "2026-11-01"}}, "period.start 'yesterday' is neither a date"),
    ({"kpis": {"backup_success_pct": 120}}, "kpis.backup_success_pct 120.0 is not a percentage"),
    ({"kpis": {"dr_drill_max_age_days": 0}}, "kpis.dr_drill_max_age_days 0 must be a whole number of days"),
    ({"jobs": ["../etc"]}, "job name '../etc'"),
    ({"ops_state": "/nonexistent/watchkeeper"}, "ops_state /nonexistent/watchkeeper is not a directory"),
])
def test_bad_input_fails_clearly(tmp_path, extra, message):
    ops = tmp_path / "ops"
    ops.mkdir()
    params = {"ops_state": str(ops)}
    params.update(extra)
    result = assert_failed(run_module("watchkeeper.ops.compliance_report", params, env={"WATCHKEEPER_NOW": NOW}))
    assert message in result["msg"] and result["msg"].startswith("bad input: "), result["msg"]
    assert not (ops / "reports").exists()


def test_unreadable_audit_key_and_unwritable_output_fail_clearly(tmp_path):
    ops = tmp_path / "ops"
    ops.mkdir()
    (ops / "audit-trail" / "audit").mkdir(parents=True)
    result = assert_failed(run_module("watchkeeper.ops.compliance_report", {
        "ops_state": str(ops), "audit_trail": {"path": str(ops / "audit-trail"), "hmac_key_files": [str(tmp_path / "none.key")]}},
        env={"WATCHKEEPER_NOW": NOW}))
    assert "cannot read the audit key file %s" % (tmp_path / "none.key") in result["msg"]
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory")
    result = assert_failed(run_module("watchkeeper.ops.compliance_report", {"ops_state": str(ops), "output_dir": str(blocker / "x")},
                                      env={"WATCHKEEPER_NOW": NOW}))
    assert result["msg"].startswith("cannot write the compliance report to %s" % (blocker / "x")) and result["written"] is False


def test_monthly_playbook_reports_the_previous_month_and_fails_when_asked(tmp_path):
    ops, key = seed(tmp_path, bad=True)
    extra = {"ansible_python_interpreter": sys.executable, "watchkeeper_ops_state": str(ops),
             "compliance_report_audit_trail": {"path": str(ops / "audit-trail"), "hmac_key_files": [key]}}
    code, data, stdout, stderr = run_playbook(PLAYBOOK, extra_vars=extra, env=PLAY_ENV)
    assert code == 0, (stdout[-3000:], stderr[-3000:])
    stats = data["global_custom_stats"]["watchkeeper_compliance_report"]
    assert stats["status"] == "fail" and stats["period"]["label"] == "2026-11"  # the month before December 1st
    assert sorted(stats["failed_controls"]) == sorted(["SOC2-A1.2", "ISO27001-A.8.13", "SOC2-CC7.4", "SOC2-A1.3",
                                                       "ISO27001-A.5.30"])
    assert os.path.isfile(stats["report"]["html"]) and load(stats["report"]["latest"])["report_id"] == stats["report_id"]
    shown = [t for t in data["plays"][0]["tasks"] if t["task"]["name"].endswith("Show the controls")][0]
    lines = shown["hosts"]["localhost"]["msg"]
    assert lines[0].startswith("2026-11 FAILED: 9 controls passed, 5 failed, 0 not applicable")
    assert "SOC2-A1.2 | fail | failed check(s): backup_success, retention" in lines
    extra["compliance_report_fail_on_failed_controls"] = True
    code, data, stdout, _stderr = run_playbook(PLAYBOOK, extra_vars=extra, env=PLAY_ENV)
    assert code != 0 and "5 control(s) failed: SOC2-CC7.4, SOC2-A1.2" in stdout
