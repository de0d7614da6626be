"""What the retention role left in the molecule instance: the newest backup, one old report, its own report
(in the role's default ops_state)."""

import json
import os

import pytest

OPS_STATE = "/var/lib/watchkeeper"


@pytest.fixture(scope="module")
def wk(host):
    return host.ansible.get_variables()


def test_only_the_newest_backup_is_left(host, wk):
    root = wk["retention_backup_jobs"][0]["destinations"][0]["path"]
    manifests = host.run("find %s -name '*.manifest.json'", root).stdout.split()
    assert [os.path.basename(m)[:16] for m in manifests] == ["20261126T023000Z"]


def test_old_reports_purged_newest_kept(host):
    verify = os.path.join(OPS_STATE, "reports", "verify")
    assert host.run("ls %s", verify).stdout.split() == ["20240104T000000Z-localhost.json"]


def test_one_retention_report_that_says_why(host):
    base = os.path.join(OPS_STATE, "reports", "retention")
    reports = host.run("find %s -name '*.json'", base).stdout.split()
    assert len(reports) == 1  # converge wrote one; the check-mode run wrote nothing
    report = json.loads(host.file(reports[0]).content_string)
    assert report["status"] == "ok" and report["summary"]["backups_removed"] == 2
    local = report["jobs"][0]["destinations"]["local"]
    kept = [b for b in local["backups"] if b["verdict"] == "keep"]
    assert len(kept) == 1 and "keep_last: 1 of 1" in kept[0]["reasons"]
