"""What the audits scenario left: an audit that changed nothing and found the seeded weakness, and a compliance
report of November 2026 that fails the backup controls on the one failed run of the month."""

import glob
import json
import os

import pytest

OPS_STATE = "/var/lib/watchkeeper"
REPORTS = os.path.join(OPS_STATE, "reports", "compliance", "2026-11")


@pytest.fixture(scope="module")
def wk(host):
    return host.ansible.get_variables()


def test_the_audit_changed_no_file(host, wk):
    check = host.run("sha256sum -c %s/before.sha256", wk["wk_test_root"])
    assert check.rc == 0, check.stdout + check.stderr


def test_the_seeded_weakness_is_reported_on_the_controller():
    base = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "security", "reports", "security_audit")
    hosts = glob.glob(os.path.join(base, "*", "hosts", "*.json"))
    assert len(hosts) == 1, hosts  # converge wrote one audit; the check-mode run wrote nothing
    with open(hosts[0]) as handle:
        report = json.load(handle)
    failed = dict((f["id"], f) for f in report["findings"] if f["status"] == "fail")
    assert "WK-SSH-001" in failed, sorted(failed)
    assert "permitrootlogin yes" in str(failed["WK-SSH-001"]["evidence"]).lower()


def test_one_compliance_report_failing_the_backup_controls(host):
    reports = host.run("find %s -maxdepth 1 -name '*.json' ! -name latest.json", REPORTS).stdout.split()
    assert len(reports) == 1, reports  # converge wrote one; the check-mode run wrote nothing
    doc = json.loads(host.file(reports[0]).content_string)
    status = dict((c["id"], c["status"]) for c in doc["controls"])
    assert status["SOC2-A1.2"] == "fail" and status["ISO27001-A.8.13"] == "fail", status
    # backups never restored (no verification, no drill) fail the recovery controls; nothing else has evidence here
    assert sorted(c for c, s in status.items() if s == "fail") == [
        "ISO27001-A.5.30", "ISO27001-A.8.13", "SOC2-A1.2", "SOC2-A1.3", "SOC2-CC7.4"], status
    backup = [c for c in doc["checks"] if c["id"] == "backup_success"][0]
    runs = [e for e in backup["evidence"] if "/history/backup/molecule-files/" in e["path"]]
    assert len(runs) == 4, backup["evidence"]  # the complete population: three good runs and the failed one
    for entry in runs:
        assert host.run("sha256sum %s", entry["path"]).stdout.split()[0] == entry["sha256"]
    assert host.file(reports[0][:-len(".json")] + ".html").exists
