# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""File list versions (issue 11): a snapshot written by the code before file list version 2 still restores.

``fixtures/filelist-v1/`` is a real incremental snapshot (unencrypted, job ``files-v1``) written by the backup
module of commit d98655e, the last one with file list version 1 (``mtime_ns`` and ``chunks`` in every entry),
from this tree under ``/tmp/fup-v1/tree/srv``: ``app/a.txt`` ("hello v1\\n", mtime 2026-01-02T03:04:05.123456789Z),
``app/empty``, ``app/link`` -> ``a.txt``, ``app/sub/b c.txt`` ("tab\\there\\n"), ``app/sub/rand.bin`` (3000 random
bytes). The new code restores and verifies it; a new snapshot of a tree is written as version 2 and restores too.
"""

import hashlib
import json
import os
import shutil
import subprocess

from helpers import assert_ok, backup_args, local_dest, new_job, run_module

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "filelist-v1")
RAND_SHA = "2b1d50c38ff4bcaba3d22049da7237f1a8ebae266f87bd8749cc8f3876bac759"
A_MTIME_NS = 1767323045123456789


def test_a_version_1_snapshot_restores_and_verifies(tmp_path):
    nas = tmp_path / "nas"
    shutil.copytree(FIXTURE, str(nas))
    dest = local_dest(nas, name="nas")
    (manifest_path,) = [os.path.join(b, n) for b, _d, names in os.walk(str(nas)) for n in names if n.endswith(".manifest.json")]
    with open(manifest_path) as handle:
        manifest = json.load(handle)
    assert "filelist_version" not in manifest["files"]  # written before version 2
    (filelist_obj,) = [o for o in manifest["objects"] if o["role"] == "filelist"]
    listed = json.loads(subprocess.run(["zstd", "-d", "-c", os.path.join(str(nas), filelist_obj["key"])],
                                       check=True, capture_output=True).stdout)
    assert listed["schema_version"] == 1 and all("mtime_ns" in e for e in listed["files"])

    verified = assert_ok(run_module("watchkeeper.ops.restore_verify", {
        "job": "files-v1", "destinations": [dest], "ops_state": str(tmp_path / "state"), "timeout": 300}))
    assert verified["passed"] is True and verified["backup_id"] == manifest["backup_id"]

    target = tmp_path / "restored"
    assert_ok(run_module("watchkeeper.ops.restore", {
        "job": "files-v1", "destinations": [dest], "ops_state": str(tmp_path / "state"), "timeout": 300,
        "target": {"path": str(target)}}))
    app = target / "tmp" / "fup-v1" / "tree" / "srv" / "app"
    assert (app / "a.txt").read_text() == "hello v1\n" and os.lstat(str(app / "a.txt")).st_mtime_ns == A_MTIME_NS
    assert (app / "sub" / "b c.txt").read_text() == "tab\there\n" and (app / "empty").read_bytes() == b""
    assert os.readlink(str(app / "link")) == "a.txt"
    assert hashlib.sha256((app / "sub" / "rand.bin").read_bytes()).hexdigest() == RAND_SHA


def test_a_new_snapshot_is_version_2_and_restores(tmp_path, scratch):
    tree = tmp_path / "tree"
    (tree / "d").mkdir(parents=True)
    (tree / "d" / "small.txt").write_text("small\n")
    (tree / "d" / "big.bin").write_bytes(os.urandom(9 * 1024 * 1024))  # two chunks: chunks kept in the list
    os.utime(str(tree / "d" / "small.txt"), ns=(A_MTIME_NS, A_MTIME_NS))
    dest = local_dest(tmp_path / "nas", name="nas")
    job = new_job("v2")
    made = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        job, {"type": "files", "mode": "incremental", "paths": [str(tree)]}, [dest], {"mode": "none"},
        tmp_path / "state", tmp_dir=scratch)))
    assert made["manifest"]["files"]["filelist_version"] == 2
    (filelist_obj,) = [o for o in made["manifest"]["objects"] if o["role"] == "filelist"]
    listed = json.loads(subprocess.run(["zstd", "-d", "-c", os.path.join(dest["path"], filelist_obj["key"])],
                                       check=True, capture_output=True).stdout)
    by_name = dict((e["path"].rsplit("/", 1)[-1], e) for e in listed["files"])
    assert listed["schema_version"] == 2 and not any("mtime_ns" in e for e in listed["files"])
    assert "chunks" not in by_name["small.txt"] and len(by_name["big.bin"]["chunks"]) == 2
    target = tmp_path / "restored"
    assert_ok(run_module("watchkeeper.ops.restore", {
        "job": job, "destinations": [dest], "ops_state": str(tmp_path / "state"), "timeout": 300,
        "target": {"path": str(target)}}))
    here = target / str(tree).lstrip("/") / "d"
    assert (here / "small.txt").read_text() == "small\n" and os.lstat(str(here / "small.txt")).st_mtime_ns == A_MTIME_NS
    assert (here / "big.bin").read_bytes() == (tree / "d" / "big.bin").read_bytes()
