"""What the roles backup_verify and dr_drill left in the molecule instance: their reports, every job proven, no
scratch space (directory or database) left. Reports go to the roles' default ops_state."""

import json
import os

import pytest

OPS_STATE = "/var/lib/watchkeeper"


@pytest.fixture(scope="module")
def wk(host):
    return host.ansible.get_variables()


def test_one_drill_report_with_every_job_met(host):
    base = os.path.join(OPS_STATE, "reports", "dr_drill")
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


def test_one_verification_report_with_every_job_passed(host):
    base = os.path.join(OPS_STATE, "reports", "verify")
    reports = host.run("find %s -name '*.json'", base).stdout.split()
    assert len(reports) == 1
    report = json.loads(host.file(reports[0]).content_string)
    assert report["status"] == "ok", json.dumps(report)[:2000]
    jobs = dict((job["job"], job) for job in report["jobs"])
    assert sorted(jobs) == ["molecule-db", "molecule-files"]
    assert all(job["status"] == "passed" and job["restore_verify"]["status"] == "passed" for job in jobs.values())


def test_no_scratch_left(host, wk):
    assert host.run("find %s -mindepth 1", wk["dr_drill_scratch_dir"]).stdout.strip() == ""
    out = host.run("PGPASSFILE=%s psql -X -A -t -h 127.0.0.1 -p 5432 -U postgres -d postgres -c "
                   "\"SELECT count(*) FROM pg_database WHERE datname LIKE 'wk\\_scratch\\_%%'\"",
                   os.path.join(wk["wk_test_root"], "pgpass"))
    assert out.rc == 0 and out.stdout.strip() == "0", out.stderr
