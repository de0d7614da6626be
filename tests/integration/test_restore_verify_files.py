# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""restore_verify of SQLite files and file trees (full and incremental), and what makes them fail.

* SQLite: the scratch copy passes ``PRAGMA integrity_check`` and the manifest's row counts; user
  assertions run read-only.
* Files: every file of the file list is rebuilt and hashed; a file whose stored bytes were changed
  (checksums made to match, so only the content check can tell) is named by path.
* Wrong passphrase: a clear error, nothing left in the scratch directory.
"""

import json
import os
import sqlite3
import subprocess

import pytest

from helpers import assert_failed, assert_ok, backup_args, local_dest, new_job, run_module
from restore_helpers import restore_verify, verify_args


def _sqlite_app(path, rows=500):
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, created_at TEXT);"
                       "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, created_at TEXT);")
    conn.executemany("INSERT INTO users (name, created_at) VALUES (?, datetime('now'))", [("u%d" % i,) for i in range(rows)])
    conn.executemany("INSERT INTO orders (user_id, created_at) VALUES (?, datetime('now', '-10 minutes'))",
                     [(i % 50,) for i in range(rows * 2)])
    conn.commit()
    conn.close()


def _tree(root):
    os.makedirs(os.path.join(root, "a", "b"))
    for i in range(60):
        with open(os.path.join(root, "a", "f%02d.txt" % i), "w") as handle:
            handle.write("content %d\n" % i * (i + 1))
    with open(os.path.join(root, "a", "b", ".hidden"), "wb") as handle:
        handle.write(os.urandom(300000))
    os.symlink("../f01.txt", os.path.join(root, "a", "b", "link"))
    os.chmod(os.path.join(root, "a", "f03.txt"), 0o600)


def test_sqlite_backup_verifies_with_assertions(gpg_keys, tmp_path):
    app = str(tmp_path / "app.sqlite3")
    _sqlite_app(app)
    job = new_job("sqlite")
    dest = local_dest(tmp_path / "nas")
    enc = {"mode": "symmetric", "passphrase_file": gpg_keys["passphrase_file"]}
    source = {"type": "sqlite", "path": app}
    assert_ok(run_module("watchkeeper.ops.backup", backup_args(job, source, [dest], enc, tmp_path / "state")))
    args = verify_args(job, [dest], tmp_path / "state", decryption={"passphrase_file": gpg_keys["passphrase_file"]},
                       scratch_dir=str(tmp_path / "scratch"), checks={"assertions": [
                           {"name": "users", "sql": "select count(*) from users", "op": "eq", "value": 500},
                           {"name": "recent orders", "sql": "select max(created_at) from orders", "op": "within",
                            "value": "1h"}]})
    res = assert_ok(restore_verify(args))
    kinds = [c["kind"] for c in res["checks"]]
    assert kinds.count("integrity") == 1 and kinds.count("fingerprint") == 2 and kinds.count("assertion") == 2
    assert res["scratch"]["kind"] == "file" and res["scratch"]["removed"]
    assert os.listdir(str(tmp_path / "scratch")) == []
    # The passed run is recorded for retention (the newest proven backup is never purged).
    record_dir = tmp_path / "state" / "verified" / job
    assert res["verified_record"] == str(record_dir / ("%s.json" % res["backup_id"]))
    record = json.loads((record_dir / ("%s.json" % res["backup_id"])).read_text())
    assert record["backup_id"] == res["backup_id"] and record["mode"] == "verify" and record["checks"] == 5
    os.unlink(res["verified_record"])

    # An expectation the data does not meet is named with what was found, and nothing is recorded.
    args["checks"]["assertions"][0]["value"] = 501
    res = assert_failed(restore_verify(args))
    assert "users: expected = 501, found 500" in res["msg"]
    assert os.listdir(str(record_dir)) == [] and "verified_record" not in res

    # The wrong passphrase: decryption fails, clearly, and nothing is left behind.
    wrong = tmp_path / "wrong.pass"
    wrong.write_text("not the passphrase\n")
    args["decryption"] = {"passphrase_file": str(wrong)}
    res = assert_failed(restore_verify(args))
    assert res["step"] == "decrypt" and "wrong passphrase" in res["msg"]
    assert os.listdir(str(tmp_path / "scratch")) == []


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_file_backup_verifies_and_a_changed_file_is_named(mode, tmp_path):
    root = str(tmp_path / "uploads")
    _tree(root)
    job = new_job("files-%s" % mode)
    dest = local_dest(tmp_path / "nas")
    source = {"type": "files", "paths": [root], "mode": mode}
    backup = assert_ok(run_module("watchkeeper.ops.backup", backup_args(job, source, [dest], {"mode": "none"},
                                                                        tmp_path / "state")))
    res = assert_ok(restore_verify(verify_args(job, [dest], tmp_path / "state", scratch_dir=str(tmp_path / "scratch"))))
    summary = res["checks"][0]
    assert summary["kind"] == "files" and summary["passed"] and "0 differences" in summary["found"]
    assert res["scratch"]["kind"] == "directory" and res["scratch"]["removed"]

    # Change one file's content inside the stored object; re-encode it and fix the manifest's checksums, so that the
    # stored bytes are "intact" and only the per-file hashes can tell.
    manifest_path = os.path.join(dest["path"], backup["destinations"][0]["manifest_key"])
    with open(manifest_path) as handle:
        manifest = json.load(handle)
    if mode == "full":
        obj = [o for o in manifest["objects"] if o["role"] == "tar"][0]
    else:
        obj = manifest["files"]["packs"][0]
    stored = os.path.join(dest["path"], obj["key"])
    plain = subprocess.run(["zstd", "-d", "-q", "-c", stored], capture_output=True, check=True).stdout
    needle = b"content 7\n"
    assert needle in plain
    plain = plain.replace(needle, b"CONTENT 7\n", 1)
    encoded = subprocess.run(["zstd", "-q", "-c"], input=plain, capture_output=True, check=True).stdout
    with open(stored, "wb") as handle:
        handle.write(encoded)
    digest = subprocess.run(["sha256sum", stored], capture_output=True, text=True, check=True).stdout.split()[0]
    obj["sha256"], obj["stored_bytes"] = digest, len(encoded)
    for other in manifest["objects"]:
        if other["key"] == obj["key"]:
            other["sha256"], other["stored_bytes"] = digest, len(encoded)
    with open(manifest_path, "w") as handle:
        json.dump(manifest, handle)
    res = assert_failed(restore_verify(verify_args(job, [dest], tmp_path / "state", scratch_dir=str(tmp_path / "scratch"))))
    if mode == "full":
        assert "a/f07.txt: SHA-256" in res["msg"].replace(root.lstrip("/") + "/", "")
        assert any(c.get("path", "").endswith("a/f07.txt") for c in res["checks"] if not c["passed"])
    else:
        # A pack member whose content no longer matches its SHA-256 name is refused while unpacking.
        assert "chunk" in res["msg"] and "SHA-256" in res["msg"]
    assert os.listdir(str(tmp_path / "scratch")) == []


@pytest.fixture
def tiny_scratch(tmp_path):
    """A 1 MiB tmpfs for scratch space (root only; skipped elsewhere)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                                           capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield str(mnt)
    subprocess.run(["umount", str(mnt)], capture_output=True, check=False)


def test_full_scratch_disk_fails_clearly_without_blaming_the_destinations(tmp_path, tiny_scratch, moto, s3_bucket):
    app = str(tmp_path / "big.sqlite3")
    conn = sqlite3.connect(app)
    conn.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)")
    conn.executemany("INSERT INTO blobs (data) VALUES (?)", [(os.urandom(100000),) for _row in range(30)])
    conn.commit()
    conn.close()
    job = new_job("full")
    dests = [{"name": "offsite", "type": "s3", "bucket": s3_bucket[0], "endpoint_url": "http://127.0.0.1:1",
              "access_key": "x", "secret_key": "y", "region": "us-east-1", "retries": 0, "timeout": 5},
             local_dest(tmp_path / "nas")]
    source = {"type": "sqlite", "path": app}
    assert_ok(run_module("watchkeeper.ops.backup", backup_args(job, source, dests[1:], {"mode": "none"}, tmp_path / "state")))
    # An unreachable destination first: recorded, and the next one is used.
    res = assert_ok(restore_verify(verify_args(job, dests, tmp_path / "state", scratch_dir=str(tmp_path / "scratch"))))
    assert [a["status"] for a in res["attempts"]] == ["failed", "ok"] and "offsite" in res["attempts"][0]["error"]
    # A scratch directory without room: a clear failure naming the cause, not a fallback, nothing left behind.
    res = assert_failed(restore_verify(verify_args(job, dests[1:], tmp_path / "state", scratch_dir=tiny_scratch)))
    assert "No space left on device" in res["msg"] and "free space in scratch_dir" in res["msg"]
    assert res["step"] == "decompress" and len(res["attempts"]) == 1
    assert os.listdir(tiny_scratch) == []
