# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``playbooks/security_audit.yml`` on localhost (report on the controller, fail_on_findings) and the failure paths of
``watchkeeper.ops.security_audit_report``."""

import json
import os
import sys

from helpers import assert_failed, assert_ok, collections_path, run_module, run_playbook

PLAYBOOK = os.path.join(collections_path(), "ansible_collections", "watchkeeper", "ops", "playbooks", "security_audit.yml")
FINDING = {"id": "WK-SSH-001", "status": "fail", "subject": None, "evidence": "permitrootlogin yes"}


def test_the_runbook_writes_the_report_and_fails_on_findings_when_asked(tmp_path):
    report_dir = str(tmp_path / "controller")
    job = {"name": "neglected", "destinations": [{"name": "nas", "type": "local", "path": str(tmp_path / "nas")}],
           "encryption": {"mode": "symmetric", "passphrase_file": str(tmp_path / "pass")}}
    os.makedirs(str(tmp_path / "nas"))
    extra = {"security_audit_report_dir": report_dir, "security_audit_become": False, "security_audit_areas": ["backup"],
             "security_audit_ops_state": str(tmp_path / "state"), "backup_jobs": [job],
             "security_audit_fail_on_findings": True, "ansible_python_interpreter": sys.executable}
    code, data, _out, _err = run_playbook(PLAYBOOK, extra_vars=extra, env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    assert code == 2
    names = dict((t["task"]["name"].split(" : ")[-1], t["hosts"]["localhost"]) for t in data["plays"][0]["tasks"])
    assert names["Fail the host on failing findings"]["msg"] == (
        "localhost: failing rules WK-BAK-001, WK-BAK-002, WK-BAK-003, WK-BAK-004, WK-BAK-005")
    assert names["Audit the host"]["changed"] is False
    with open(os.path.join(report_dir, "reports", "security_audit", "latest.json")) as handle:
        latest = json.load(handle)
    assert latest["hosts"]["localhost"]["failed"] == ["WK-BAK-001", "WK-BAK-002", "WK-BAK-003", "WK-BAK-004", "WK-BAK-005"]
    assert data["global_custom_stats"]["watchkeeper_security_audit"]["localhost"]["failed"] == latest["hosts"]["localhost"]["failed"]
    assert not os.path.exists(str(tmp_path / "state"))  # the audit wrote nothing on the audited host


def test_report_failures_are_clear(tmp_path):
    results = {"h1": {"findings": [FINDING], "audited_at": "2026-01-01T00:00:00Z"}}
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    res = assert_failed(run_module("watchkeeper.ops.security_audit_report", {"ops_state": str(blocked), "results": results}))
    assert res["msg"].startswith("cannot write the audit report under %s" % blocked)
    res = assert_failed(run_module("watchkeeper.ops.security_audit_report", {"ops_state": str(tmp_path), "results": {}}))
    assert res["msg"] == "results is empty: no host was audited"
    res = assert_failed(run_module("watchkeeper.ops.security_audit_report",
                                   {"ops_state": str(tmp_path), "results": results, "stamp": "../x"}))
    assert "only letters" in res["msg"]


def test_check_mode_and_unreachable_hosts(tmp_path):
    results = {"h1": {"findings": [FINDING]}, "h2": {"unreachable": True, "msg": "ssh: connect timed out"},
               "h3": {"failed": True, "msg": "boom"}}
    res = assert_ok(run_module("watchkeeper.ops.security_audit_report", {"ops_state": str(tmp_path), "results": results},
                               check_mode=True))
    assert res["path"] is None and os.listdir(str(tmp_path)) == []
    assert res["summary"]["hosts"]["h2"]["error"] == "unreachable: ssh: connect timed out"
    assert res["summary"]["hosts"]["h3"]["error"] == "audit failed: boom"
    assert res["summary"]["hosts_failing"] == ["h1", "h2", "h3"]
