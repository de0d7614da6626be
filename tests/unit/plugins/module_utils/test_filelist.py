"""The snapshot file list, version 2 (``filelist.py``): what it leaves out comes back, any path survives, and
lists of both versions rebuild the same tree."""

import hashlib
import json
import os

from hypothesis import given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils import filelist
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore import files as rfiles

SHA = st.binary(min_size=1, max_size=8).map(lambda b: hashlib.sha256(b).hexdigest())
# Any text a path can be: newlines, tabs, quotes, backslashes, non-ASCII, and the surrogate escapes that
# os.fsdecode gives for bytes that are not UTF-8 (b"\xff" -> "\udcff").
PATH = st.lists(st.one_of(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"),
                          st.sampled_from(["\n", "\t", "\\", '"', "\udcff", "\udc80"])), min_size=1, max_size=12).map("".join)
NS = st.integers(min_value=0, max_value=4 * 10 ** 18)


@st.composite
def record(draw):
    kind = draw(st.sampled_from(["file", "dir", "symlink"]))
    ns = draw(NS)
    rec = {"path": draw(PATH), "type": kind, "mode": "%04o" % draw(st.integers(0, 0o7777)),
           "mtime": filelist.iso_ns(ns), "uid": draw(st.integers(0, 2 ** 31)), "gid": draw(st.integers(0, 2 ** 31))}
    if kind == "file":
        sha = draw(SHA)
        chunks = draw(st.one_of(st.just([sha]), st.lists(SHA, min_size=0, max_size=3)))
        rec.update(size=draw(st.integers(0, 2 ** 40)), sha256=sha)
        stored = filelist.compact_chunks(sha, chunks)
        if stored is not None:
            rec["chunks"] = stored
        full = dict(rec, chunks=chunks, mtime_ns=ns)
    else:
        if kind == "symlink":
            rec["target"] = draw(PATH)
        full = dict(rec, mtime_ns=ns)
    return rec, full


@settings(max_examples=120, deadline=None)
@given(st.lists(record(), max_size=20))
def test_encode_then_expand_gives_back_every_record(pairs):
    records = [r for r, _full in pairs]
    data = filelist.encode({"mode": "incremental", "roots": ["/srv"], "packs": {}}, records)
    doc = filelist.expand(json.loads(data))
    assert doc["schema"] == filelist.FILELIST_SCHEMA and doc["schema_version"] == 2
    assert doc["files"] == [full for _r, full in pairs]
    # non-UTF-8 names come back as the same bytes
    for got, (_r, full) in zip(doc["files"], pairs):
        assert os.fsencode(got["path"]) == os.fsencode(full["path"])


@given(NS)
def test_mtime_text_is_exact(ns):
    assert filelist.parse_iso_ns(filelist.iso_ns(ns)) == ns


def test_version_2_is_smaller_and_a_newer_version_is_refused():
    sha = hashlib.sha256(b"x").hexdigest()
    rec = {"path": "srv/a", "type": "file", "mode": "0644", "mtime": filelist.iso_ns(10 ** 18), "uid": 0, "gid": 0,
           "size": 1, "sha256": sha}
    v1 = json.dumps({"schema": filelist.FILELIST_SCHEMA, "schema_version": 1, "mode": "incremental",
                     "files": [dict(rec, mtime_ns=10 ** 18, chunks=[sha])]}, separators=(",", ":"))
    v2 = filelist.encode({"mode": "incremental"}, [rec])
    assert len(v2) < 0.75 * len(v1)
    try:
        filelist.expand({"schema": filelist.FILELIST_SCHEMA, "schema_version": 3, "files": []})
    except ValueError as exc:
        assert "version 3" in str(exc)
    else:
        raise AssertionError("a newer file list version must be refused")


def _blobs(tmp_path, contents):
    blob_dir = tmp_path / "blobs"
    blob_dir.mkdir()
    for data in contents:
        (blob_dir / hashlib.sha256(data).hexdigest()).write_bytes(data)
    return str(blob_dir)


def _restore(tmp_path, doc, name):
    tree = rfiles.Tree(str(tmp_path / name))
    rfiles.rebuild_from_chunks(doc, str(tmp_path / "blobs"), tree)
    tree.finish()
    return tree


def test_version_1_and_version_2_lists_rebuild_the_same_tree(tmp_path):
    small, big1, big2 = b"small file\n", b"A" * 1000, b"B" * 500
    _blobs(tmp_path, [small, big1, big2])
    sha_small, sha_big = hashlib.sha256(small).hexdigest(), hashlib.sha256(big1 + big2).hexdigest()
    c1, c2 = hashlib.sha256(big1).hexdigest(), hashlib.sha256(big2).hexdigest()
    ns = 1764800000123456789
    # what the version-1 code wrote (the shape of every snapshot before file list version 2)
    v1 = {"schema": filelist.FILELIST_SCHEMA, "schema_version": 1, "mode": "incremental", "roots": ["/srv"], "files": [
        {"path": "srv", "type": "dir", "mode": "0755", "mtime": filelist.iso_ns(ns), "mtime_ns": ns, "uid": 0, "gid": 0},
        {"path": "srv/small", "type": "file", "mode": "0640", "mtime": filelist.iso_ns(ns), "mtime_ns": ns, "uid": 0,
         "gid": 0, "size": len(small), "sha256": sha_small, "chunks": [sha_small]},
        {"path": "srv/big", "type": "file", "mode": "0644", "mtime": filelist.iso_ns(ns + 1), "mtime_ns": ns + 1,
         "uid": 0, "gid": 0, "size": 1500, "sha256": sha_big, "chunks": [c1, c2]},
        {"path": "srv/link", "type": "symlink", "mode": "0777", "mtime": filelist.iso_ns(ns), "mtime_ns": ns, "uid": 0,
         "gid": 0, "target": "small"}]}
    v2 = json.loads(filelist.encode({"mode": "incremental", "roots": ["/srv"]}, [
        dict((k, v) for k, v in r.items() if k != "mtime_ns" and not (k == "chunks" and v == [r.get("sha256")]))
        for r in v1["files"]]))
    assert "chunks" not in v2["files"][1] and v2["files"][2]["chunks"] == [c1, c2]
    for name, doc in (("from-v1", v1), ("from-v2", v2)):
        tree = _restore(tmp_path, doc, name)
        root = tmp_path / name / "srv"
        assert (root / "small").read_bytes() == small and (root / "big").read_bytes() == big1 + big2
        assert os.lstat(str(root / "big")).st_mtime_ns == ns + 1 and os.lstat(str(root)).st_mtime_ns == ns
        assert os.readlink(str(root / "link")) == "small"
        assert rfiles.compare(doc, tree.entries)[0]["passed"] is True
