"""The files sources: walking, exclusion, file-list records and the incremental index."""

import datetime
import json
import os

from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.filelist import iso_ns
from ansible_collections.watchkeeper.ops.plugins.module_utils.sources import files as fs
from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.files_incremental import (
    INDEX_SCHEMA, IncrementalFilesSource)

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


@given(st.integers(min_value=-(10 ** 18), max_value=4 * 10 ** 18))
def test_iso_ns_is_the_exact_utc_time(ns):
    secs, frac = divmod(ns, 10 ** 9)
    expected = (EPOCH + datetime.timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % frac
    assert iso_ns(ns) == expected


def test_excluded_matches_base_names_and_anchored_paths():
    assert fs._excluded("srv/app/cache/x.tmp", ["*.tmp"])  # pylint: disable=protected-access
    assert fs._excluded("srv/app/cache", ["srv/app/cache"])  # pylint: disable=protected-access
    assert fs._excluded("srv/app/cache", ["/srv/app/*"])  # pylint: disable=protected-access
    assert not fs._excluded("srv/app/cache.d/x", ["cache"])  # pylint: disable=protected-access
    assert not fs._excluded("srv/other/cache", ["srv/app/cache"])  # pylint: disable=protected-access


def make_tree(top):
    os.makedirs(os.path.join(top, "b", "skip"))
    os.makedirs(os.path.join(top, "a"))
    for rel, text in (("a/one.txt", "1"), ("b/two.txt", "22"), ("b/skip/x.txt", "x"), ("b/tmp.tmp", "t")):
        with open(os.path.join(top, rel), "w") as handle:
            handle.write(text)
    os.symlink("a/one.txt", os.path.join(top, "link"))


def test_walker_order_kinds_and_excludes(tmp_path):
    top = str(tmp_path / "tree")
    make_tree(top)
    walker = fs.Walker([top], ["*.tmp", "skip"])
    entries = [(e.abspath[len(top):], e.kind) for e in walker]
    assert entries == [("", "dir"), ("/a", "dir"), ("/a/one.txt", "file"), ("/b", "dir"), ("/b/two.txt", "file"),
                       ("/link", "symlink")]


def test_entry_record_carries_what_a_restore_needs(tmp_path):
    top = str(tmp_path / "tree")
    make_tree(top)
    os.chmod(os.path.join(top, "b", "two.txt"), 0o640)
    records = {e.abspath[len(top):]: fs.entry_record(e) for e in fs.Walker([top])}
    two = records["/b/two.txt"]
    assert (two["type"], two["size"], two["mode"]) == ("file", 2, "0640")
    assert two["mtime"] == iso_ns(os.lstat(os.path.join(top, "b", "two.txt")).st_mtime_ns)
    assert "mtime_ns" not in two  # file list version 2: mtime is exact
    assert records["/link"]["target"] == "a/one.txt"
    assert "size" not in records["/a"]


def incremental(top, state):
    source = IncrementalFilesSource({"type": "files", "paths": [top], "mode": "incremental"})
    source.load_index(state, "job")
    return source


def run_chunks(source):
    """What ``artifacts`` does before packing, without destinations: every old pack counts as present."""
    source.blobs = dict(source.old.get("blobs", {}))
    return list(source._chunks())  # pylint: disable=protected-access


def test_incremental_index_round_trip_skips_unchanged_files(tmp_path):
    top, state = str(tmp_path / "tree"), str(tmp_path / "state")
    make_tree(top)
    first = incremental(top, state)
    chunks = run_chunks(first)
    assert first.stats["new_files"] == 4 and first.stats["read_bytes"] == 5 and len(chunks) == 4
    for sha, _data in chunks:
        first.blobs[sha] = "p1"
    first.packs["p1"] = {"key": "job/packs/p1", "stored_bytes": 10, "sha256": "0" * 64}
    first.save_index("b1")
    with open(os.path.join(state, "index", "job.files.json")) as handle:
        doc = json.load(handle)
    assert doc["schema"] == INDEX_SCHEMA and doc["backup_id"] == "b1" and set(doc["packs"]) == {"p1"}
    assert oct(os.stat(os.path.join(state, "index", "job.files.json")).st_mode & 0o777) == "0o600"

    with open(os.path.join(top, "b", "two.txt"), "a") as handle:
        handle.write("more")
    second = incremental(top, state)
    assert second.parent == "b1"
    new = run_chunks(second)
    assert [data for _sha, data in new] == [b"22more"]
    assert (second.stats["unchanged_files"], second.stats["changed_files"], second.stats["read_bytes"]) == (3, 1, 6)


def test_a_damaged_index_costs_a_full_read_not_a_failure(tmp_path):
    top, state = str(tmp_path / "tree"), str(tmp_path / "state")
    make_tree(top)
    os.makedirs(os.path.join(state, "index"))
    with open(os.path.join(state, "index", "job.files.json"), "w") as handle:
        handle.write('{"schema": "watchkeeper.ops/files-index", "files": ')
    source = incremental(top, state)
    assert source.parent is None
    run_chunks(source)
    assert source.stats["new_files"] == 4 and source.stats["unchanged_files"] == 0


def test_a_chunk_whose_pack_is_missing_is_read_again(tmp_path):
    top, state = str(tmp_path / "tree"), str(tmp_path / "state")
    make_tree(top)
    first = incremental(top, state)
    for sha, _data in run_chunks(first):
        first.blobs[sha] = "p1"
    first.packs["p1"] = {"key": "job/packs/p1", "stored_bytes": 10, "sha256": "0" * 64}
    first.save_index("b1")
    second = incremental(top, state)
    second.blobs = {}  # pack p1 is not present in every destination
    assert len(list(second._chunks())) == 4  # pylint: disable=protected-access
    assert second.stats["unchanged_files"] == 0
