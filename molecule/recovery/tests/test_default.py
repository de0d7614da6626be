"""What the roles backup_verify and dr_drill left on the molecule host: their reports, every job proven, no scratch."""

import json
import os

import pytest


@pytest.fixture(scope="module")
def wk(host):
    return host.ansible.get_variables()


def test_one_drill_report_with_every_job_met(host, wk):
    base = os.path.join(wk["dr_drill_ops_state"], "reports", "dr_drill")
    latest = json.loads(host.file(os.path.join(base, "latest.json")).content_string)
    reports = host.run("find %s -name report.json", base).stdout.split()
    # converge wrote one report; the check-mode run wrote nothing
    assert len(reports) == 1
    assert latest["operator"] == "molecule" and latest["objectives_met"] is True
    jobs = dict((job["job"], job) for job in latest["jobs"])
    assert sorted(jobs) == ["molecule-db", "molecule-files"]
    assert jobs["molecule-db"]["kind"] == "postgres" and jobs["molecule-files"]["kind"] == "files"
    assert all(job["verdict"] == "met" and job["checks_failed"] == 0 for job in jobs.values())
    for name in ("report.html", "runbooks/molecule-db.md", "runbooks/molecule-files.md"):
        assert host.file(os.path.join(os.path.dirname(reports[0]), name)).is_file


def test_one_verification_report_with_every_job_passed(host, wk):
    base = os.path.join(wk["dr_drill_ops_state"], "reports", "verify")
    reports = host.run("find %s -name '*.json'", base).stdout.split()
    assert len(reports) == 1
    report = json.loads(host.file(reports[0]).content_string)
    assert report["status"] == "ok", json.dumps(report)[:2000]
    jobs = dict((job["job"], job) for job in report["jobs"])
    assert sorted(jobs) == ["molecule-db", "molecule-files"]
    assert all(job["status"] == "passed" and job["restore_verify"]["status"] == "passed" for job in jobs.values())


def test_no_scratch_left(host, wk):
    assert host.run("find %s -mindepth 1", wk["dr_drill_scratch_dir"]).stdout.strip() == ""
    pg = json.loads(host.file(os.path.join(wk["wk_test_root"], "pg", "cluster.json")).content_string)
    out = host.run("PGPASSFILE=%s %s/psql -X -A -t -h 127.0.0.1 -p %s -U postgres -c "
                   "\"SELECT count(*) FROM pg_database WHERE datname LIKE 'wk\\_scratch\\_%%'\"",
                   os.path.join(wk["wk_test_root"], "pg", "pgpass"), pg["bindir"], str(pg["port"]))
    assert out.rc == 0 and out.stdout.strip() == "0"
