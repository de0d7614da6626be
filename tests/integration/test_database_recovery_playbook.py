# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emergency runbook playbooks/database_recovery.yml, run as an operator (or AWX) would run it."""

import json
import os
import sys

from helpers import fill_database, local_dest, new_job, run_module, run_playbook
from notify_helpers import WebhookReceiver
from restore_helpers import key_decryption, pg_backup, scratch_databases, server, source_checksum

PLAYBOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "playbooks",
                        "database_recovery.yml")
STATS_ENV = {"ANSIBLE_SHOW_CUSTOM_STATS": "1"}


def test_recovery_needs_confirmation_then_restores_with_a_safety_backup(pg, pg_db, gpg_keys, tmp_path):
    fill_database(pg, pg_db, scale=1, json_rows=200)
    job = new_job("recovery")
    dest = local_dest(tmp_path / "nas")
    state = tmp_path / "state"
    backup = pg_backup(pg, pg_db, job, [dest], gpg_keys, state)
    good = source_checksum(pg, pg_db)
    pg.psql("TRUNCATE pgbench_history; DELETE FROM docs WHERE id > 10", dbname=pg_db)
    damaged = source_checksum(pg, pg_db)
    hook = WebhookReceiver()
    extra = {"recovery_host": "localhost", "ansible_python_interpreter": sys.executable, "recovery_job": job,
             "recovery_target": pg_db, "recovery_destinations": [dest], "recovery_server": server(pg),
             "recovery_decryption": key_decryption(gpg_keys), "recovery_ops_state": str(state),
             "recovery_notify_webhooks": [{"url": hook.url}]}
    try:
        # Without the confirmation: refused before anything runs.
        code, _data, stdout, _err = run_playbook(PLAYBOOK, extra_vars=dict(extra, recovery_confirm="yes"), env=STATS_ENV)
        assert code != 0 and "repeat the target's name in recovery_confirm" in stdout
        assert source_checksum(pg, pg_db) == damaged and hook.posts == []

        # Confirmed but without force: the pre-check sees a non-empty target and stops; nothing changed.
        code, data, stdout, _err = run_playbook(PLAYBOOK, extra_vars=dict(extra, recovery_confirm=pg_db), env=STATS_ENV)
        assert code != 0 and "not empty" in stdout
        assert data["global_custom_stats"]["watchkeeper_recovery"]["status"] == "failed"
        assert source_checksum(pg, pg_db) == damaged
        assert len(hook.posts) == 1 and hook.posts[0]["json"]["status"] == "failed"

        # Confirmed with force: safety backup, restore, swap; the runbook reports it.
        code, data, stdout, _err = run_playbook(PLAYBOOK, extra_vars=dict(extra, recovery_confirm=pg_db, recovery_force=True),
                                                env=STATS_ENV)
        assert code == 0, stdout[-4000:]
        summary = data["global_custom_stats"]["watchkeeper_recovery"]
        assert summary["status"] == "restored" and summary["backup_id"] == backup["backup_id"]
        assert summary["safety_backup"]["job"] == job + "-safety" and summary["rto"]["total_s"] > 0
        assert source_checksum(pg, pg_db) == good
        assert len(hook.posts) == 2 and hook.posts[1]["json"]["event"] == "watchkeeper.database_recovery"
        assert not scratch_databases(pg)
    finally:
        hook.close()


APPROVE = os.path.join(os.path.dirname(PLAYBOOK), "approve.yml")


def test_recovery_with_require_approval_does_nothing_until_another_person_approved(pg, pg_db, gpg_keys, tmp_path):
    """Acceptance 5 of the incidents issue: the runbook waits for a second person, bound to its parameters, once;
    its steps land on the incident's timeline."""
    fill_database(pg, pg_db, scale=1, json_rows=50)
    job = new_job("approved")
    dest = local_dest(tmp_path / "nas")
    state, ops = tmp_path / "state", tmp_path / "ops"
    pg_backup(pg, pg_db, job, [dest], gpg_keys, state)
    good = source_checksum(pg, pg_db)
    pg.psql("DELETE FROM docs WHERE id > 10", dbname=pg_db)
    damaged = source_checksum(pg, pg_db)
    opened = run_module("watchkeeper.ops.incident", {"id": "inc-db-lost", "state": "open", "title": "Docs lost",
                                                     "severity": "SEV1", "ops_state": str(ops)})
    assert opened["changed"], opened
    extra = {"recovery_host": "localhost", "ansible_python_interpreter": sys.executable, "recovery_job": job,
             "recovery_target": pg_db, "recovery_confirm": pg_db, "recovery_force": True, "recovery_destinations": [dest],
             "recovery_server": server(pg), "recovery_decryption": key_decryption(gpg_keys),
             "recovery_ops_state": str(state), "require_approval": True, "incident_id": "inc-db-lost",
             "emergency_ops_state": str(ops), "emergency_identity": "alice"}

    def requests():
        folder = ops / "approvals" / "requests"
        return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []

    def approve(who, request_id, digest):
        return run_playbook(APPROVE, extra_vars={
            "approval_request_id": request_id, "approval_decision": "approve", "approval_parameters_sha256": digest,
            "approval_identity": who, "emergency_ops_state": str(ops), "ansible_python_interpreter": sys.executable})

    code, _data, stdout, _err = run_playbook(PLAYBOOK, extra_vars=extra, env=STATS_ENV)
    assert code != 0 and "needs a second person's approval" in stdout and "pending" in stdout
    assert source_checksum(pg, pg_db) == damaged
    (request,) = requests()
    assert request["requester"]["identity"] == "alice" and request["parameters"]["target"] == pg_db
    assert request["parameters"]["force"] is True and request["reason"] == "incident inc-db-lost"

    code, _data, stdout, _err = approve("alice", request["id"], request["parameters_sha256"])
    assert code != 0 and "self-approval refused" in stdout
    code, _data, stdout, _err = approve("bob", request["id"], "0" * 64)
    assert code != 0 and "parameters changed" in stdout
    # Other parameters (another backup choice) are not covered by this approval: a new request, nothing done.
    code, _data, stdout, _err = run_playbook(PLAYBOOK, extra_vars=dict(extra, recovery_verified_only=False,
                                                                       recovery_at_or_before="2099-01-01T00:00:00Z"))
    assert code != 0 and "needs a second person's approval" in stdout and source_checksum(pg, pg_db) == damaged
    assert len(requests()) == 2
    code, _data, stdout, _err = approve("bob", request["id"], request["parameters_sha256"])
    assert code == 0, stdout[-3000:]

    code, data, stdout, _err = run_playbook(PLAYBOOK, extra_vars=extra, env=STATS_ENV)
    assert code == 0, stdout[-4000:]
    assert data["global_custom_stats"]["watchkeeper_recovery"]["status"] == "restored"
    assert source_checksum(pg, pg_db) == good
    # Used once: the same run again needs a new approval and does nothing.
    pg.psql("DELETE FROM docs WHERE id > 20", dbname=pg_db)
    again = source_checksum(pg, pg_db)
    code, _data, stdout, _err = run_playbook(PLAYBOOK, extra_vars=extra)
    assert code != 0 and "needs a second person's approval" in stdout and source_checksum(pg, pg_db) == again

    incident = run_module("watchkeeper.ops.incident_info", {"id": "inc-db-lost", "ops_state": str(ops)})
    texts = [(e["source"], e["author"], e["text"]) for e in incident["incident"]["timeline"]]
    runbook = [t for s, a, t in texts if s == "runbook" and a == "database_recovery.yml"]
    assert runbook[:2] == ["Recovery of %s from job %s started" % (pg_db, job), "Recovery of %s done from backup %s"
                           % (pg_db, data["global_custom_stats"]["watchkeeper_recovery"]["backup_id"])], texts
