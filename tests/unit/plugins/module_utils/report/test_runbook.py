"""Runbook steps per kind, destination and encryption: literal, quoted, valid bash, documented variables."""

import json
import os
import re
import shlex
import subprocess

import pytest
import yaml

from ansible_collections.watchkeeper.ops.plugins.module_utils.report import runbook

import samples

KINDS = [("postgres", {}), ("postgres", {"globals_": True}), ("sqlite", {}), ("files", {"files_mode": "full"}),
         ("files", {"files_mode": "incremental"})]
MATRIX = [(k, kw, d, e) for k, kw in KINDS for d in ("local", "s3", "gcs") for e in ("public_key", "symmetric", "none")]


def book(kind="postgres", dest="local", encryption="public_key", **kwargs):
    return runbook.build(*samples.summaries(kind, dest, encryption=encryption, **kwargs))


def lines(steps):
    return [line for step in steps for line in step["commands"]]


@pytest.mark.parametrize("kind,kwargs,dest,encryption", MATRIX)
def test_every_combination_is_valid_bash_using_only_documented_variables(kind, kwargs, dest, encryption):
    rb = book(kind, dest, encryption, **kwargs)
    proc = subprocess.run(["bash", "-n"], input=runbook.script(rb["by_hand"]), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    listed = set(n for e in rb["env"] for n in re.findall(r"[A-Z][A-Z_]+", e["name"]))
    used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", "\n".join(lines(rb["by_hand"]))))
    assert used <= listed, used - listed
    assert rb["by_hand"][0]["commands"][:2] == ['mkdir -p "$WORK_DIR"', 'cd "$WORK_DIR"']
    assert all(step["commands"][0] == 'cd "$WORK_DIR"' for step in rb["by_hand"][1:])
    for step in rb["by_hand"] + rb["collection"]:
        assert set(step) == {"title", "commands", "note", "lang"} and step["title"] and step["commands"]
    assert ("gpg" in rb["tools"]) == (encryption != "none")
    text = "\n".join(lines(rb["by_hand"]))
    if encryption == "none":
        assert "gpg" not in text and "GNUPGHOME" not in listed and "PASSPHRASE_FILE" not in listed
    if encryption == "public_key" and kind != "files" or (kind, kwargs.get("files_mode")) == ("files", "full"):
        assert ("gpg --batch --decrypt " in text) == (encryption == "public_key")
        assert ('gpg --batch --pinentry-mode loopback --passphrase-file "$PASSPHRASE_FILE" --decrypt ' in text) == (
            encryption == "symmetric")


@pytest.mark.parametrize("dest,expected", [
    ("local", "cp /mnt/nas/backups/{key} {key}"),
    ("s3", "aws s3 cp s3://acme-backups/prod/{key} {key} --endpoint-url https://minio.example:9000 --region eu-central-1"),
    ("gcs", "gcloud storage cp gs://acme-eu/{key} {key}"),
])
def test_downloads_keep_keys_as_paths(dest, expected):
    rb = book("postgres", dest)
    fetch = rb["by_hand"][0]["commands"]
    keys = [o["key"] for o in rb["objects"]] + [rb["manifest_key"]]
    assert fetch[:3] == ['mkdir -p "$WORK_DIR"', 'cd "$WORK_DIR"', "mkdir -p app-db/2026/11/27"]
    assert fetch[3:] == [expected.format(key=k) for k in keys]


def test_checksums_are_the_manifests_literal_sha256_for_every_object_and_pack():
    backup, dest = samples.summaries("files", "s3", files_mode="incremental")
    rb = runbook.build(backup, dest)
    check = rb["by_hand"][1]["commands"][1:]
    assert len(check) == len(backup["objects"]) == 3 and {o["role"] for o in backup["objects"]} == {"filelist", "pack"}
    for line, obj in zip(check, backup["objects"]):
        assert shlex.split(line) == ["echo", "%s  %s" % (obj["sha256"], obj["key"]), "|", "sha256sum", "--strict", "-c", "-"]


def test_postgres_restores_into_a_new_database_then_compares_rows():
    rb = book("postgres", globals_=True)
    titles = [s["title"] for s in rb["by_hand"]]
    assert titles[2:] == ["Decrypt and decompress", "Roles and tablespaces (only on a new server)",
                          "Create the target database and restore into it",
                          "Compare the row count of every table with the manifest's fingerprint"]
    bid = rb["backup_id"]
    assert rb["by_hand"][4]["commands"][1:] == [
        'createdb "$TARGET_DB"', 'pg_restore -j "$(nproc)" --no-owner --exit-on-error -d "$TARGET_DB" %s.pgdump' % bid]
    assert "zstd -d -q -c > %s.globals.sql" % bid in rb["by_hand"][2]["commands"][2]
    assert [e["name"] for e in rb["env"]] == ["WORK_DIR", "GNUPGHOME", "TARGET_DB", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD"]
    assert samples.FPR in rb["env"][1]["description"]


def test_sqlite_copies_refusing_an_existing_target_and_checks_integrity():
    rb = book("sqlite", encryption="symmetric")
    copy_step = rb["by_hand"][3]["commands"]
    assert 'cp %s.sqlite3 "$TARGET_DB"' % rb["backup_id"] in copy_step[1] and '[ -e "$TARGET_DB" ]' in copy_step[1]
    assert copy_step[2].endswith('[ "$check" = ok ]') and "PRAGMA integrity_check" in copy_step[2]
    assert [e["name"] for e in rb["env"]] == ["WORK_DIR", "PASSPHRASE_FILE", "TARGET_DB"]


def test_files_full_untars_then_checks_the_file_list():
    rb = book("files", files_mode="full", encryption="none")
    text = "\n".join(lines(rb["by_hand"]))
    assert "zstd -d -q -c app-db/2026/11/27/%s.tar.zst | tar -x -C \"$TARGET_DIR\" -f -" % rb["backup_id"] in text
    assert "sha256sum --quiet --strict -c %s.SHA256SUMS" % rb["backup_id"] in text


@pytest.mark.parametrize("encryption,prefix", [("public_key", "env -u PASSPHRASE_FILE bash"), ("symmetric", "bash"),
                                               ("none", "env -u PASSPHRASE_FILE bash")])
def test_files_incremental_runs_the_documented_script_with_exact_arguments(encryption, prefix):
    rb = book("files", files_mode="incremental", encryption=encryption)
    step = rb["by_hand"][-1]
    assert step["commands"] == ['cd "$WORK_DIR"', '%s "$RESTORE_FILES_SCRIPT" %s "$WORK_DIR" "$TARGET_DIR"' % (prefix, rb["manifest_key"])]
    assert "docs/restore-files-by-hand.sh" in step["title"]
    assert "RESTORE_FILES_SCRIPT" in [e["name"] for e in rb["env"]]


def test_odd_paths_are_quoted_and_control_characters_refused():
    backup, dest = samples.summaries("postgres", "local")
    dest = dict(dest, path="/mnt/NAS share/it's here", location="/mnt/NAS share/it's here")
    line = runbook.build(backup, dest)["by_hand"][0]["commands"][3]
    assert shlex.split(line) == ["cp", "/mnt/NAS share/it's here/" + backup["objects"][0]["key"], backup["objects"][0]["key"]]
    with pytest.raises(ValueError, match="control characters"):
        runbook.build(backup, dict(dest, path="/mnt/x\n rm -rf /"))


@pytest.mark.parametrize("change,message", [
    (lambda b, d: b["objects"][0].update(sha256="not-a-sha"), "no SHA-256"),
    (lambda b, d: b.update(kind="mysql"), "unknown backup kind"),
    (lambda b, d: d.update(type="ftp"), "unknown destination type"),
    (lambda b, d: b.update(manifest_key=None), "no manifest_key"),
    (lambda b, d: b.update(objects=[o for o in b["objects"] if o["role"] != "dump"] or [dict(b["objects"][0], role="globals")]),
     "no dump object"),
    (lambda b, d: d.pop("bucket"), "no bucket"),
])
def test_incomplete_summaries_are_refused(change, message):
    backup, dest = samples.summaries("postgres", "s3")
    change(backup, dest)
    with pytest.raises(ValueError, match=message):
        runbook.build(backup, dest)


def test_collection_steps_name_the_restore_module_and_the_playbook():
    rb = book("postgres", "s3")
    play, task = rb["collection"]
    assert play["commands"][0].startswith("ansible-playbook watchkeeper.ops.database_recovery -e recovery_job=app-db ")
    assert task["lang"] == "yaml" and "  watchkeeper.ops.restore:" in task["commands"]
    assert "very-secret" not in repr(rb) and "AKIA-SECRET-ID" not in repr(rb)
    files = book("files", "local", "symmetric")
    assert len(files["collection"]) == 1 and "passphrase_file" in "\n".join(files["collection"][0]["commands"])
    assert len(book("sqlite", "local")["collection"]) == 1  # the recovery playbook restores databases only


def test_the_playbook_command_sets_only_variables_the_playbook_declares():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))
    with open(os.path.join(root, "playbooks", "database_recovery.yml")) as handle:
        text = handle.read()
    yaml.safe_load(text)  # the runbook parses
    # The runbook reads its inputs by name (inventory or -e), through internal __recovery_* variables.
    declared = set(re.findall(r"(?<![\w])(recovery_[a-z_]+)", text))
    argv = shlex.split(book("postgres", "s3")["collection"][0]["commands"][0].replace("$TARGET_DB", "app"))
    given = set()
    for index, arg in enumerate(argv):
        if arg == "-e":
            value = argv[index + 1]
            given |= set(json.loads(value)) if value.startswith("{") else {value.split("=", 1)[0]}
    assert {"recovery_job", "recovery_target", "recovery_confirm", "recovery_destinations", "recovery_decryption"} <= given
    assert given <= declared, given - declared


def test_markdown_holds_every_command_verbatim():
    rb = book("sqlite", "s3")
    text = runbook.to_markdown(rb, "20261127T030000Z-0a1b2c3d", "2026-11-27T03:00:00Z")
    for line in lines(rb["by_hand"]) + lines(rb["collection"]):
        assert "\n%s\n" % line in text
    assert text.startswith("# Restore runbook: app-db\n")
    assert "export WORK_DIR=/var/tmp/restore-app-db" in text and "## B. By hand, with standard tools only" in text
