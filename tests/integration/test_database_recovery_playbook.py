# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emergency runbook playbooks/database_recovery.yml, run as an operator (or AWX) would run it."""

import os
import sys

from helpers import fill_database, local_dest, new_job, run_playbook
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
