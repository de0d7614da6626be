# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AC7: file trees and SQLite.

* incremental: a 20 000-file tree, then 1 % of it changed: the second backup uploads only the
  changed data (counted in the destination), and its snapshot restores by hand with
  ``docs/restore-files-by-hand.sh`` (bash, gpg, zstd, tar, jq, coreutils: the README procedure) into the current tree;
* full: ``gpg -d | zstd -d | tar -x`` gives the tree back (contents, modes, mtimes, links);
* SQLite: a backup taken while rows are written restores into a file that passes
  ``PRAGMA integrity_check`` with the row counts of the manifest's fingerprint.
"""

import os
import random
import sqlite3
import subprocess
import threading
import time

import pytest

from helpers import (
    Store, assert_ok, backup_args, decode, gpg_env, local_dest, new_job, public_key_encryption, run_module, s3_dest, sh,
    tree_state)

HERE = os.path.dirname(os.path.abspath(__file__))
RESTORE_SCRIPT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "docs", "restore-files-by-hand.sh")
MIB = 1024 * 1024


def mtimes(root):
    """path -> mtime_ns of every file and directory (not symlinks) under ``root``."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                out[os.path.relpath(path, root)] = os.lstat(path).st_mtime_ns
    return out


def make_tree(root, rng, files=20000):
    """Nested dirs of small files of varied sizes, two 20 MiB files, odd names, modes and links."""
    paths = []
    for i in range(files):
        sub = os.path.join(root, "d%02d" % (i % 20), "s%02d" % (i // 20 % 25))
        os.makedirs(sub, exist_ok=True)
        path = os.path.join(sub, "f%05d.dat" % i)
        with open(path, "wb") as handle:
            handle.write(rng.randbytes(rng.choice((0, 1, 100, 700, 2048, 4000, 9000))) + b"%d" % i)
        paths.append(path)
    for name in ("big-1.bin", "big-2.bin"):
        with open(os.path.join(root, name), "wb") as handle:
            handle.write(rng.randbytes(20 * MIB))
    odd = os.path.join(root, "odd names", "spaced and ünïcode")
    os.makedirs(odd)
    with open(os.path.join(odd, "file with spaces.txt"), "w") as handle:
        handle.write("hello\n")
    os.chmod(os.path.join(odd, "file with spaces.txt"), 0o600)
    os.chmod(paths[0], 0o755)
    os.makedirs(os.path.join(root, "empty-dir"))
    os.symlink("d00/s00/f00000.dat", os.path.join(root, "link-to-first"))
    return paths


def test_incremental_uploads_only_changes_and_restores_by_hand(gpg_keys, tmp_path, moto, s3_bucket, scratch):
    rng = random.Random(20261127)
    tree = str(tmp_path / "tree")
    paths = make_tree(tree, rng)
    store = Store.s3(s3_bucket)
    dests = [local_dest(tmp_path / "nas"), s3_dest(moto, s3_bucket[0])]
    args = backup_args(new_job("incr"), {"type": "files", "mode": "incremental", "paths": [tree]}, dests,
                       public_key_encryption(gpg_keys), tmp_path / "state", tmp_dir=scratch)
    first = assert_ok(run_module("watchkeeper.ops.backup", args))
    files1 = first["manifest"]["files"]
    assert files1["new_files"] == files1["count"] == 20003
    assert files1["new_packs"] >= 2
    listing1 = store.listing()
    local1 = Store.local(tmp_path / "nas").listing()

    # Change 1 %: rewrite 150 files, add 50, delete 5 (every new content is unique and non-empty).
    changed = rng.sample(paths[1:], 155)
    changed_bytes = 0
    for path in changed[:150]:
        data = rng.randbytes(rng.choice((10, 500, 3000, 6000)))
        with open(path, "wb") as handle:
            handle.write(data)
        changed_bytes += len(data)
    for path in changed[150:]:
        os.unlink(path)
    for i in range(50):
        data = rng.randbytes(rng.choice((10, 500, 3000, 6000))) + b"new%d" % i
        with open(os.path.join(tree, "d%02d" % (i % 20), "new-%03d.dat" % i), "wb") as handle:
            handle.write(data)
        changed_bytes += len(data)

    second = assert_ok(run_module("watchkeeper.ops.backup", args))
    files2 = second["manifest"]["files"]
    assert (files2["changed_files"], files2["new_files"]) == (150, 50)
    assert files2["unchanged_files"] == 20003 - 155
    assert files2["new_chunks"] == 200
    assert files2["new_bytes"] == changed_bytes
    assert files2["read_bytes"] == changed_bytes, "unchanged files must not even be read"
    assert files2["new_packs"] == 1
    assert files2["parent"] == first["backup_id"]

    for before, after in ((listing1, store.listing()), (local1, Store.local(tmp_path / "nas").listing())):
        assert set(before) <= set(after) and all(after[k] == v for k, v in before.items())
        added = {k: v for k, v in after.items() if k not in before}
        packs = {k: v for k, v in added.items() if "/packs/" in k}
        index = [k for k in added if "/_index/" in k]  # backup_info's per-backup index entry (catalog_index.py)
        assert index == ["%s/_index/%s.json" % (args["job"], second["backup_id"])], added
        others = sorted(k for k in added if k not in packs and k not in index)
        assert len(packs) == 1, added
        assert len(others) == 2 and others[0].endswith(".filelist.json.zst.gpg") and others[1].endswith(".manifest.json")
        # tar framing costs ~0.7 KiB per small chunk; everything else is the changed data itself
        assert sum(packs.values()) <= 1.2 * changed_bytes + 200 * 1024, (sum(packs.values()), changed_bytes)
        assert sum(added.values()) <= 0.05 * sum(before.values()), "the second backup re-uploaded old data"

    # Restore the SECOND snapshot by hand from S3: download its packs and file list, run the script.
    manifest = second["manifest"]
    assert len(manifest["files"]["packs"]) >= 3
    objects = tmp_path / "download"
    for key in [p["key"] for p in manifest["files"]["packs"]] + [o["key"] for o in manifest["objects"]]:
        os.makedirs(os.path.dirname(str(objects / key)), exist_ok=True)
        store.download(key, str(objects / key))
    manifest_path = str(tmp_path / "manifest.json")
    with open(manifest_path, "wb") as handle:
        handle.write(store.read(next(d["manifest_key"] for d in second["destinations"] if d["name"] == "s3")))
    target = tmp_path / "restored"
    started = time.monotonic()
    out = sh("'%s' '%s' '%s' '%s'" % (RESTORE_SCRIPT, manifest_path, objects, target), env=gpg_env(gpg_keys["private_home"]),
             timeout=1200)
    print("by-hand restore of %d files took %.1fs" % (files2["count"], time.monotonic() - started))
    assert "restored 20048 files" in out.stdout
    rebuilt = str(target / tree.lstrip("/"))
    assert tree_state(rebuilt) == tree_state(tree)
    assert mtimes(rebuilt) == mtimes(tree)


def test_full_mode_restores_with_tar(gpg_keys, tmp_path, scratch):
    rng = random.Random(7)
    tree = str(tmp_path / "tree")
    make_tree(tree, rng, files=300)
    os.chmod(os.path.join(tree, "d01"), 0o750)
    result = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        new_job("full"), {"type": "files", "paths": [tree], "exclude": ["*.tmp"]}, [local_dest(tmp_path / "nas")],
        public_key_encryption(gpg_keys), tmp_path / "state", tmp_dir=scratch)))
    files = result["manifest"]["files"]
    assert files["count"] == 303 and files["changed_during_backup"] == 0
    tar_obj = next(o for o in result["manifest"]["objects"] if o["role"] == "tar")
    enc = os.path.join(str(tmp_path / "nas"), tar_obj["key"])
    restored = tmp_path / "restored"
    restored.mkdir()
    sh("gpg --batch --quiet -d '%s' | zstd -d -q -c | tar -x -C '%s' -f -" % (enc, restored),
       env=gpg_env(gpg_keys["private_home"]))
    rebuilt = str(restored / tree.lstrip("/"))
    assert tree_state(rebuilt) == tree_state(tree)
    got, want = mtimes(rebuilt), mtimes(tree)
    assert got.keys() == want.keys()
    assert all(abs(got[k] - want[k]) < 1000 for k in want), "mtimes differ by more than 1 µs"


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_sqlite_backup_while_writing_restores_consistently(journal, gpg_keys, tmp_path, scratch):
    path = str(tmp_path / "app.sqlite3")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=%s" % journal)
    conn.executescript("CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);"
                       "CREATE TABLE audit (id INTEGER PRIMARY KEY, event_id INTEGER NOT NULL, at REAL NOT NULL);")
    conn.executemany("INSERT INTO events (payload) VALUES (?)", (("x" * 200 + str(i),) for i in range(150000)))
    conn.commit()
    conn.close()
    stop = threading.Event()
    commits = []

    def writer():
        db = sqlite3.connect(path, timeout=60)
        while not stop.is_set():
            with db:  # one transaction: an event and its audit row, always together
                cur = db.execute("INSERT INTO events (payload) VALUES (?)", ("live %f" % time.time(),))
                db.execute("INSERT INTO audit (event_id, at) VALUES (?, ?)", (cur.lastrowid, time.time()))
            commits.append(time.monotonic())
        db.close()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        wait = time.monotonic()
        while len(commits) < 20 and time.monotonic() - wait < 30:
            time.sleep(0.05)
        started = time.monotonic()
        result = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
            new_job("sqlite"), {"type": "sqlite", "path": path}, [local_dest(tmp_path / "nas")],
            public_key_encryption(gpg_keys), tmp_path / "state", tmp_dir=scratch)))
        ended = time.monotonic()
    finally:
        stop.set()
        thread.join(60)
    assert sum(1 for t in commits if started <= t <= ended) > 10, "the writer did not write during the backup"
    fingerprint = result["manifest"]["fingerprint"]
    db_obj = result["manifest"]["objects"][0]
    restored = str(tmp_path / "restored.sqlite3")
    decode(os.path.join(str(tmp_path / "nas"), db_obj["key"]), restored, gpg_home=gpg_keys["private_home"])
    assert os.path.getsize(restored) == db_obj["raw_bytes"]

    def cli(sql):
        return subprocess.run(["sqlite3", restored, sql], capture_output=True, text=True, check=True).stdout.strip()

    assert cli("PRAGMA integrity_check;") == "ok"
    counts = {name: int(cli("SELECT count(*) FROM %s;" % name)) for name in ("events", "audit")}
    assert counts == {name: t["rows"] for name, t in fingerprint["tables"].items()}
    assert counts["events"] == 150000 + counts["audit"], "the copy split a transaction"
    assert 150000 + 20 <= counts["events"] <= 150000 + len(commits)
