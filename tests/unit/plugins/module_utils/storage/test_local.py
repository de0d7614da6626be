# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""local-only behaviour: a full disk, a missing mount point, read-back verification."""

import os
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ChecksumMismatch, StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.local import PARTIAL_MARK
from storage_testing import sha

MIB = 1024 * 1024


def all_files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _s, files in os.walk(root) for f in files)


@pytest.fixture
def tiny_fs(tmp_path):
    """A 1 MiB tmpfs, when we may mount one; else None."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0:
        yield None
        return
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, check=False)
    if res.returncode != 0:
        yield None
        return
    try:
        yield str(mnt)
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True, check=False)


def test_full_disk_is_reported_and_leaves_no_partial_file(tiny_fs):
    if tiny_fs is None:
        pytest.skip("cannot mount a tmpfs here (see the RLIMIT_FSIZE variant)")
    st = open_storage({"type": "local", "name": "nas", "path": tiny_fs})
    writer = st.open_writer("db/dump.bin")
    with pytest.raises(StorageError) as info:
        for attempt in range(4):  # pylint: disable=unused-variable
            writer.write(os.urandom(512 * 1024))
        writer.commit(2 * MIB, "0" * 64)
    text = str(info.value)
    assert "full" in text and "No space left on device" in text and "nas" in text
    assert info.value.destination == "nas" and info.value.step == "upload"
    writer.abort()  # what the pipeline does after any failure
    assert all_files(tiny_fs) == []
    assert os.statvfs(tiny_fs).f_bfree * os.statvfs(tiny_fs).f_frsize >= MIB - 64 * 1024  # space given back
    assert st.stat("db/dump.bin") is None


def test_file_size_limit_in_subprocess_is_reported(tmp_path):
    """Without a tmpfs: RLIMIT_FSIZE makes write() fail (EFBIG) in a child process."""
    root = tmp_path / "dest"
    root.mkdir()
    script = textwrap.dedent("""
        import os, resource, signal, sys
        sys.path[:0] = %r
        from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError
        from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))
        st = open_storage({"type": "local", "name": "nas", "path": %r})
        w = st.open_writer("x.bin")
        try:
            w.write(b"a" * (512 * 1024))
        except StorageError as exc:
            w.abort()
            sys.stdout.write("ERR " + str(exc))
    """) % (sys.path, str(root))
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ERR ") and "File too large" in res.stdout and "nas" in res.stdout
    assert all_files(str(root)) == []


def test_missing_root_fails_clearly_and_creates_nothing(tmp_path):
    root = tmp_path / "mnt" / "nas"
    st = open_storage({"type": "local", "name": "nas", "path": str(root)})
    for action in (lambda: st.open_writer("a/b"), lambda: st.put_bytes("a/b", b"x"), lambda: list(st.list())):
        with pytest.raises(StorageError) as info:
            action()
        assert "directory %s does not exist" % root in str(info.value)
        assert "mount" in str(info.value)
    assert st.probe()["reachable"] is False
    assert not root.exists() and not (tmp_path / "mnt").exists()


def test_missing_path_option():
    with pytest.raises(StorageError, match="needs 'path'"):
        open_storage({"type": "local", "name": "nas"})


def test_readback_catches_corruption_before_publish(tmp_path):
    st = open_storage({"type": "local", "name": "nas", "path": str(tmp_path)})
    writer = st.open_writer("dump")
    writer.write(b"good bytes")
    with open(writer.partial, "r+b") as handle:  # bit rot between write and commit
        handle.write(b"G")
    with pytest.raises(ChecksumMismatch):
        writer.commit(10, sha(b"good bytes"))
    assert all_files(str(tmp_path)) == []


def test_readback_can_be_disabled(tmp_path):
    st = open_storage({"type": "local", "name": "nas", "path": str(tmp_path), "verify_readback": False})
    writer = st.open_writer("dump")
    writer.write(b"abc")
    assert writer.commit(3, "not checked") == {"key": "dump", "size": 3, "size_confirmed": True}


def test_partial_files_are_hidden_and_cleaned(tmp_path):
    st = open_storage({"type": "local", "name": "nas", "path": str(tmp_path)})
    writer = st.open_writer("d/x")
    writer.write(b"in progress")
    assert PARTIAL_MARK in writer.partial and os.path.exists(writer.partial)
    assert list(st.list()) == [] and st.stat("d/x") is None
    assert st.cleanup_incomplete("d/", older_than_s=3600) == []
    assert len(st.cleanup_incomplete("d/", 0)) == 1
    assert not os.path.exists(writer.partial)


def test_keys_cannot_escape_the_root(tmp_path):
    st = open_storage({"type": "local", "name": "nas", "path": str(tmp_path / "root")})
    (tmp_path / "root").mkdir()
    for key in ("../escape", "a/../../b", ""):
        with pytest.raises(StorageError, match="invalid object key"):
            st.put_bytes(key, b"x")
    assert all_files(str(tmp_path)) == []
