# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``playbooks/security_audit.yml`` over a fleet (issue 14, acceptance 4): a host seeded with one weakness per host
rule reports exactly those rule ids, a hardened host (``security_audit_helpers.harden``) none, and no configuration
file of either host changes during the audit. Two playbook launches: the audit, then a second audit after one fix
and one new weakness, whose summary names them as fixed and new."""

import glob
import json
import os
import shutil
import tempfile
import uuid

import pytest

import fleet_helpers as fh
import helpers
import security_audit_helpers as sh

WEAK, HARD = "weak1", "hard1"
EXPECTED_WEAK = {
    "WK-SSH-001", "WK-SSH-002", "WK-SSH-003", "WK-SSH-004", "WK-SSH-005", "WK-SSH-006",
    "WK-ACC-001", "WK-ACC-002", "WK-ACC-003", "WK-FILE-001", "WK-FILE-002", "WK-NET-001", "WK-PKG-001", "WK-PKG-002",
    "WK-NGX-001", "WK-NGX-002", "WK-NGX-003", "WK-NGX-004", "WK-RDS-001", "WK-RDS-002", "WK-RDS-003",
    "WK-PG-001", "WK-PG-002", "WK-PG-003", "WK-PG-004", "WK-PG-005",
    "WK-BAK-001", "WK-BAK-002", "WK-BAK-003", "WK-BAK-004", "WK-BAK-005",
}
# Everything a host is configured by, and the package database: equal before and after the audit.
CHECKSUMS = "find /etc /var/lib/dpkg/status -xdev -type f -print0 | sort -z | xargs -0 sha256sum"


@pytest.fixture(scope="module")
def work():
    path = tempfile.mkdtemp(prefix="wk-secaudit-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def fleet(fleet_factory):
    made = fleet_factory(["%s:audit" % WEAK, "%s:audit" % HARD])
    made.pg_password = uuid.uuid4().hex
    made.auditor_password = uuid.uuid4().hex
    for host in (WEAK, HARD):
        fh.start_postgres(made, host, "app", made.pg_password, 5)
        sh.postgres_auditor(made, host, fh.psql, made.auditor_password)
    sh.weaken(made, WEAK, fh.psql)
    sh.harden(made, HARD, fh.psql)
    return made


def checksums(fleet):
    return dict((h, fleet.exec(h, CHECKSUMS, timeout=300).stdout) for h in (WEAK, HARD))


def run_audit(fleet, work):
    weak_jobs = [{"name": "weak-files", "source": {"type": "files", "paths": ["/etc/hostname"]},
                  "destinations": [{"name": "local", "type": "local", "path": "/var/backups/wk-audit"}],
                  "encryption": {"mode": "passphrase", "passphrase_file": "/etc/watchkeeper/backup.pass"}}]
    vars_file = fh.write_vars(os.path.join(work, "vars.json"), {
        "security_audit_report_dir": os.path.join(work, "ops_state"),
        "wk_weak_jobs": weak_jobs,
        "backup_jobs": "{{ wk_weak_jobs if inventory_hostname == '%s' else [] }}" % WEAK,
        "security_audit_skip": "{{ {'WK-PKG-002': 'unattended-upgrades is not in the fleet image'} "
                               "if inventory_hostname == '%s' else {} }}" % HARD,
        "security_audit_postgres": {"login_host": "127.0.0.1", "login_user": sh.PG_AUDITOR,
                                    "login_password": fleet.auditor_password, "database": "app"},
    })
    playbook = os.path.join(helpers.collections_path(), "ansible_collections", "watchkeeper", "ops", "playbooks",
                            "security_audit.yml")
    code, data, out, err = helpers.run_playbook(playbook, inventory=fleet.inventory, args=("-e", "@%s" % vars_file),
                                                env={"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(work, "cp")})
    assert code == 0, fh.describe(code, data, out, err)
    assert fleet.auditor_password not in out + err
    return data, out + err


@pytest.fixture(scope="module")
def audited(fleet, work):
    before = checksums(fleet)
    data, output = run_audit(fleet, work)
    after = checksums(fleet)
    return {"before": before, "after": after, "data": data, "output": output,
            "latest": read_json(os.path.join(work, "ops_state", "reports", "security_audit", "latest.json"))}


def read_json(path):
    with open(path) as handle:
        return json.load(handle)


def host_file(work, latest, host):
    return read_json(os.path.join(work, "ops_state", "reports", "security_audit", latest["stamp"], latest["hosts"][host]["file"]))


def test_the_weak_host_reports_exactly_its_seeded_weaknesses(audited, work):
    entry = audited["latest"]["hosts"][WEAK]
    assert set(entry["failed"]) == EXPECTED_WEAK, sorted(set(entry["failed"]) ^ EXPECTED_WEAK)
    assert entry["counts"]["error"] == 0, [f for f in host_file(work, audited["latest"], WEAK)["findings"] if f["status"] == "error"]
    time_sync = [f for f in host_file(work, audited["latest"], WEAK)["findings"] if f["id"] == "WK-TIME-001"]
    assert time_sync[0]["status"] == "not_applicable" and "container" in time_sync[0]["evidence"]


def test_the_hardened_host_reports_none(audited, work):
    entry = audited["latest"]["hosts"][HARD]
    findings = host_file(work, audited["latest"], HARD)["findings"]
    assert entry["failed"] == [], [f for f in findings if f["status"] == "fail"]
    assert entry["counts"]["error"] == 0, [f for f in findings if f["status"] == "error"]
    passed = set(f["id"] for f in findings if f["status"] == "pass")
    # the hardened host was really looked at: SSH, accounts, files, sockets, nginx, Redis and PostgreSQL passed
    assert {"WK-SSH-001", "WK-SSH-005", "WK-ACC-002", "WK-FILE-001", "WK-FILE-002", "WK-NET-001", "WK-PKG-001",
            "WK-NGX-001", "WK-NGX-003", "WK-NGX-004", "WK-RDS-002", "WK-PG-001", "WK-PG-003", "WK-PG-005"} <= passed
    waived = [f for f in findings if f["id"] == "WK-PKG-002"][0]
    assert waived["status"] == "not_applicable" and waived["evidence"].startswith("waived: ")


def test_no_configuration_file_changes_during_the_audit(audited):
    for host in (WEAK, HARD):
        assert audited["before"][host] == audited["after"][host], host
        assert audited["before"][host].count("\n") > 200  # /etc and the dpkg status really were hashed


def test_evidence_is_the_line_seen_and_secrets_are_masked(audited, work, fleet):
    weak = dict((f["id"], f) for f in host_file(work, audited["latest"], WEAK)["findings"] if f["status"] == "fail")
    assert weak["WK-SSH-001"]["evidence"] == "permitrootlogin yes"
    assert "hmac-sha1" in weak["WK-SSH-005"]["evidence"] and weak["WK-SSH-005"]["remediation"]
    assert weak["WK-ACC-001"]["evidence"].startswith("toor:x:0:")
    assert "/etc/sudoers.d/wk-deploy: deploy ALL=(ALL) NOPASSWD: ALL" in weak["WK-ACC-003"]["evidence"]
    assert "/etc/wk-shared.conf 0666" in weak["WK-FILE-001"]["evidence"]
    assert "0.0.0.0:8765" in weak["WK-NET-001"]["evidence"]
    assert "less" in weak["WK-PKG-001"]["evidence"] and "Debian-Security" in weak["WK-PKG-001"]["evidence"]
    assert "host all all 0.0.0.0/0 md5" in weak["WK-PG-003"]["evidence"]
    assert "evil" in weak["WK-PG-004"]["evidence"]
    hard = dict((f["id"], f) for f in host_file(work, audited["latest"], HARD)["findings"])
    assert "requirepass ********" in hard["WK-RDS-002"]["evidence"]
    texts = [open(p).read() for p in glob.glob(os.path.join(work, "ops_state", "reports", "security_audit", "**", "*.json"),
                                               recursive=True)]
    for secret in ("wk-redis-secret-1234", fleet.auditor_password, "not-a-real-passphrase"):
        assert not any(secret in text for text in texts) and secret not in audited["output"]


def test_a_second_audit_names_the_fixed_and_the_new_findings(audited, fleet, work):
    fleet.exec(WEAK, "chmod 0644 /etc/wk-shared.conf")
    fleet.exec(HARD, "chmod 0644 /etc/watchkeeper/pgpass")
    run_audit(fleet, work)
    latest = read_json(os.path.join(work, "ops_state", "reports", "security_audit", "latest.json"))
    assert latest["previous"] == audited["latest"]["stamp"]
    assert latest["fixed"] == ["%s|WK-FILE-001|" % WEAK]
    assert latest["new"] == ["%s|WK-FILE-002|/etc/watchkeeper/pgpass" % HARD]
    assert set(latest["hosts"][WEAK]["failed"]) == EXPECTED_WEAK - {"WK-FILE-001"}
    assert len(os.listdir(os.path.join(work, "ops_state", "reports", "security_audit"))) == 3  # two audits + latest.json
