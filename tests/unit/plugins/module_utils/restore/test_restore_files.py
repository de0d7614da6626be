"""Rebuilding file trees: safe paths, tar extraction with hashes, comparison with the file list."""

import hashlib
import io
import os
import tarfile

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import PipelineError
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore import files


def _tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif kind == "sym":
                info.type = tarfile.SYMTYPE
                info.linkname = data
                tar.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o640
                tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def test_extract_hashes_every_file_and_compare_names_differences(tmp_path):
    tree = files.Tree(str(tmp_path / "t"))
    files.extract_tar(_tar([("srv", "dir", None), ("srv/a.txt", "file", b"hello"), ("srv/.b", "file", b"x" * 3000000),
                            ("srv/l", "sym", "a.txt")]), tree)
    tree.finish()
    assert (tmp_path / "t" / "srv" / ".b").stat().st_size == 3000000
    assert oct((tmp_path / "t" / "srv" / "a.txt").stat().st_mode & 0o777) == "0o640"
    listed = {"files": [
        {"path": "srv", "type": "dir"},
        {"path": "srv/a.txt", "type": "file", "size": 5, "sha256": hashlib.sha256(b"hello").hexdigest()},
        {"path": "srv/.b", "type": "file", "size": 3000000, "sha256": hashlib.sha256(b"y" * 3000000).hexdigest()},
        {"path": "srv/l", "type": "symlink", "target": "a.txt"},
        {"path": "srv/gone", "type": "file", "size": 1, "sha256": "0" * 64},
    ]}
    checks = files.compare(listed, tree.entries)
    assert checks[0]["passed"] is False and "2 differences" in checks[0]["found"]
    named = dict((c["path"], c) for c in checks[1:])
    assert set(named) == {"srv/.b", "srv/gone"}
    assert named["srv/gone"]["detail"] == "file srv/gone is missing from the restore"
    listed["files"][2]["sha256"] = hashlib.sha256(b"x" * 3000000).hexdigest()
    listed["files"].pop()
    assert files.compare(listed, tree.entries)[0]["passed"] is True
    files.remove_tree(str(tmp_path / "t"))
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize("name", ["/etc/passwd", "../escape", "a/../../escape", ""])
def test_unsafe_names_are_refused(tmp_path, name):
    tree = files.Tree(str(tmp_path / "t"))
    with pytest.raises(PipelineError):
        files.extract_tar(_tar([(name or "./", "file", b"x")]), tree)
    assert not (tmp_path / "escape").exists()


def test_no_write_through_a_symlink(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    tree = files.Tree(str(tmp_path / "t"))
    with pytest.raises(PipelineError, match="symlink"):
        files.extract_tar(_tar([("d", "sym", str(outside)), ("d/evil", "file", b"x")]), tree)
    assert os.listdir(str(outside)) == []


def test_chunks_are_checked_against_their_names(tmp_path):
    good = b"chunk data"
    name = hashlib.sha256(good).hexdigest()
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    assert files.unpack_chunks(_tar([(name, "file", good)]), str(blobs)) == 1
    with pytest.raises(PipelineError, match="has SHA-256"):
        files.unpack_chunks(_tar([(name, "file", b"other")]), str(blobs))
    tree = files.Tree(str(tmp_path / "t"))
    listed = {"files": [{"path": "f", "type": "file", "mode": "0600", "sha256": name, "chunks": [name, name]},
                        {"path": "g", "type": "file", "mode": "0600", "sha256": "1" * 64, "chunks": ["1" * 64]}]}
    files.rebuild_from_chunks(listed, str(blobs), tree)
    assert (tmp_path / "t" / "f").read_bytes() == good * 2
    checks = files.compare(listed, tree.entries)
    assert [c["path"] for c in checks[1:]] == ["f", "g"]
