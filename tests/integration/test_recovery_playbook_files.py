# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emergency runbook playbooks/database_recovery.yml for SQLite files and file trees, with its inputs in the
inventory (group_vars of backup_runners) as an operator keeps them, and the runbook's host rule.

* SQLite: the newest *verified* backup (not the newest one) replaces the live file atomically, the old file kept aside;
  the wrong passphrase (given with -e, which still outranks the inventory) fails and leaves the file untouched.
* Files: a corrupted backup named by id fails its pre-check and leaves the target tree untouched; a named good
  backup then restores the tree under the target directory, the old content kept aside.
* The play runs on exactly one host: a pattern matching two hosts or none is refused before anything runs.
"""

import hashlib
import json
import os
import sqlite3
import sys

import yaml

from helpers import assert_ok, backup_args, local_dest, new_job, public_key_encryption, run_module, run_playbook
from notify_helpers import WebhookReceiver
from restore_helpers import key_decryption, restore_verify, verify_args

PLAYBOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "playbooks",
                        "database_recovery.yml")
STATS_ENV = {"ANSIBLE_SHOW_CUSTOM_STATS": "1"}


def _inventory(root, group_vars, hosts=("localhost",)):
    """An inventory directory: the group backup_runners (local connection) and its group_vars."""
    os.makedirs(os.path.join(root, "group_vars"))
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    with open(os.path.join(root, "hosts.yml"), "w") as handle:
        yaml.safe_dump({"all": {"children": {"backup_runners": {"hosts": {h: dict(local) for h in hosts}}}}}, handle)
    with open(os.path.join(root, "group_vars", "backup_runners.yml"), "w") as handle:
        yaml.safe_dump(group_vars, handle)
    return str(root)


def _digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _tree_digest(root):
    out = {}
    for base, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(base, name)
            out[os.path.relpath(path, root)] = _digest(path)
    return out


def _rows(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM t").fetchone()[0]
    finally:
        conn.close()


def _summary(data):
    return data["global_custom_stats"]["watchkeeper_recovery"]


def test_sqlite_newest_verified_backup_replaces_the_file_and_a_wrong_passphrase_changes_nothing(gpg_keys, tmp_path):
    app = str(tmp_path / "app.sqlite3")
    conn = sqlite3.connect(app)
    conn.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);" + "INSERT INTO t (v) VALUES ('a');" * 30)
    conn.commit()
    conn.close()
    job = new_job("sqlite-rec")
    dest = local_dest(tmp_path / "nas")
    state = tmp_path / "state"
    enc = {"mode": "symmetric", "passphrase_file": gpg_keys["passphrase_file"]}
    decryption = {"passphrase_file": gpg_keys["passphrase_file"]}
    source = {"type": "sqlite", "path": app}
    verified = assert_ok(run_module("watchkeeper.ops.backup", backup_args(job, source, [dest], enc, state)))
    assert_ok(restore_verify(verify_args(job, [dest], state, decryption=decryption, backup_id=verified["backup_id"])))
    # A newer backup that nobody verified (rows deleted before it), then the "incident" on the live file.
    conn = sqlite3.connect(app)
    conn.execute("DELETE FROM t WHERE id > 20")
    conn.commit()
    conn.close()
    newer = assert_ok(run_module("watchkeeper.ops.backup", backup_args(job, source, [dest], enc, state)))
    assert newer["backup_id"] > verified["backup_id"]
    conn = sqlite3.connect(app)
    conn.execute("DELETE FROM t")
    conn.commit()
    conn.close()
    damaged = _digest(app)

    hook = WebhookReceiver()
    inventory = _inventory(tmp_path / "inventory", {
        "recovery_job": job, "recovery_target": app, "recovery_destinations": [dest], "recovery_decryption": decryption,
        "recovery_ops_state": str(state), "recovery_verified_only": True, "recovery_force": True,
        "recovery_notify_webhooks": [{"url": hook.url}]})
    try:
        # -e outranks the inventory: the wrong passphrase fails the run, and the live file is untouched.
        wrong = tmp_path / "wrong.pass"
        wrong.write_text("not the passphrase\n")
        code, data, stdout, _err = run_playbook(PLAYBOOK, inventory=inventory, env=STATS_ENV, extra_vars={
            "recovery_confirm": app, "recovery_decryption": {"passphrase_file": str(wrong)}})
        assert code != 0, stdout[-3000:]
        summary = _summary(data)
        assert summary["status"] == "failed" and "passphrase" in summary["error"], summary
        assert _digest(app) == damaged
        assert [n for n in os.listdir(str(tmp_path)) if ".wk-" in n] == []
        assert len(hook.posts) == 1 and hook.posts[0]["json"]["status"] == "failed"

        # Everything else from group_vars: the verified backup (not the newer one) replaces the file atomically,
        # the damaged file is kept aside, and the summary has the RTO and RPO.
        code, data, stdout, _err = run_playbook(PLAYBOOK, inventory=inventory, env=STATS_ENV,
                                                extra_vars={"recovery_confirm": app})
        assert code == 0, stdout[-4000:]
        summary = _summary(data)
        assert summary["status"] == "restored" and summary["kind"] == "sqlite", summary
        assert summary["backup_id"] == verified["backup_id"]
        assert summary["rto"]["total_s"] > 0 and summary["rpo"] and summary["safety_backup"]["job"] == job + "-safety"
        assert _rows(app) == 30
        kept = summary["replaced"]
        assert kept["kept"] and os.path.dirname(kept["name"]) == str(tmp_path) and _digest(kept["name"]) == damaged
        assert len(hook.posts) == 2 and hook.posts[1]["json"]["kind"] == "sqlite"
    finally:
        hook.close()


def test_files_corrupted_backup_changes_nothing_then_a_named_backup_restores_the_tree(gpg_keys, tmp_path):
    tree = tmp_path / "uploads"
    (tree / "x").mkdir(parents=True)
    for i in range(20):
        (tree / "x" / ("f%02d.txt" % i)).write_text("file %d\n" % i * (i + 1))
    job = new_job("files-rec")
    dest = local_dest(tmp_path / "nas")
    state = tmp_path / "state"
    source = {"type": "files", "paths": [str(tree)]}
    enc = public_key_encryption(gpg_keys)
    good = assert_ok(run_module("watchkeeper.ops.backup", backup_args(job, source, [dest], enc, state)))
    original = _tree_digest(str(tree))
    (tree / "x" / "f03.txt").write_text("changed\n")
    bad = assert_ok(run_module("watchkeeper.ops.backup", backup_args(job, source, [dest], enc, state)))
    # Flip one byte of the newer backup's stored tar.
    with open(os.path.join(dest["path"], bad["destinations"][0]["manifest_key"])) as handle:
        manifest = json.load(handle)
    stored = os.path.join(dest["path"], [o for o in manifest["objects"] if o["role"] == "tar"][0]["key"])
    with open(stored, "r+b") as handle:
        handle.seek(os.path.getsize(stored) // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0xFF]))

    # The target directory holds an earlier restore: replacing it needs force.
    target = tmp_path / "restored"
    (target / "old").mkdir(parents=True)
    (target / "old" / "note.txt").write_text("earlier restore\n")
    before = _tree_digest(str(target))
    inventory = _inventory(tmp_path / "inventory", {
        "recovery_job": job, "recovery_target": str(target), "recovery_destinations": [dest],
        "recovery_decryption": key_decryption(gpg_keys), "recovery_ops_state": str(state)})
    # Survey answers are strings: "false" must read as false.
    extra = {"recovery_confirm": str(target), "recovery_force": "true", "recovery_verified_only": "false"}

    code, data, stdout, _err = run_playbook(PLAYBOOK, inventory=inventory, env=STATS_ENV,
                                            extra_vars=dict(extra, recovery_backup_id=bad["backup_id"]))
    assert code != 0, stdout[-3000:]
    summary = _summary(data)
    assert summary["status"] == "failed" and "SHA-256" in summary["error"], summary
    assert _tree_digest(str(target)) == before
    assert [n for n in os.listdir(str(tmp_path)) if ".wk-" in n] == []

    code, data, stdout, _err = run_playbook(PLAYBOOK, inventory=inventory, env=STATS_ENV,
                                            extra_vars=dict(extra, recovery_backup_id=good["backup_id"]))
    assert code == 0, stdout[-4000:]
    summary = _summary(data)
    assert summary["status"] == "restored" and summary["kind"] == "files" and summary["backup_id"] == good["backup_id"]
    assert summary["rto"]["total_s"] > 0 and summary["rpo"]
    assert _tree_digest(str(target / str(tree).lstrip("/"))) == original
    assert not (target / "old").exists() and summary["replaced"]["kept"]
    assert _tree_digest(summary["replaced"]["name"]) == before


def test_the_recovery_runs_on_exactly_one_host(tmp_path):
    inventory = _inventory(tmp_path / "inventory", {"recovery_job": "app-db", "recovery_target": "app",
                                                    "recovery_destinations": [{"type": "local", "path": "/nonexistent"}]},
                           hosts=("localhost", "runner-2", "runner-3"))
    for extra, matched in (({}, "matches 3 (localhost, runner-2, runner-3)"),
                           ({"recovery_host": "nosuchhost"}, "matches 0 (none)")):
        code, _data, stdout, _err = run_playbook(PLAYBOOK, inventory=inventory, extra_vars=dict(extra, recovery_confirm="app"))
        assert code != 0 and "exactly one host" in stdout and matched in stdout, stdout[-3000:]
        assert "Pre-check" not in stdout
    # --limit narrows the pattern: one host passes the rule (and fails later, at the missing destination); a limit
    # that keeps two hosts is refused (by the play itself when the limit leaves out localhost, where the check runs).
    code, _data, stdout, _err = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={"recovery_confirm": "app"},
                                             args=("--limit", "localhost"))
    assert code != 0 and "runs on exactly one host, but" not in stdout and "Pre-check" in stdout, stdout[-3000:]
    code, _data, stdout, _err = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={"recovery_confirm": "app"},
                                             args=("--limit", "runner-2,runner-3"))
    assert code != 0 and "but this play has 2 (runner-2, runner-3)" in stdout, stdout[-3000:]
    assert "Pre-check" not in stdout
