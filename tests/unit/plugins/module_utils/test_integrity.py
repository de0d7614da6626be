"""Integrity sweep over a LocalStorage with hand-written manifests and objects."""

import datetime
import hashlib
import json
import threading
import time

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils import integrity
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ManifestError, StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import rotation
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.local import LocalStorage

JOB = "app-db"
UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def bid(day, hour=1, n=1):
    return "202611%02dT%02d0000Z-%08x" % (day, hour, n)


def write_manifest(storage, backup_id, objects, packs=None):
    doc = {"schema": mf.SCHEMA, "schema_version": 1, "backup_id": backup_id, "job": JOB, "status": "complete",
           "created_at": mf.backup_time(backup_id).strftime("%Y-%m-%dT%H:%M:%SZ"), "completed_at": "2026-11-27T01:00:05Z",
           "source": {"kind": "files"}, "sizes": {}, "compression": {}, "encryption": {"mode": "none"}, "objects": objects}
    if packs is not None:
        doc["files"] = {"mode": "incremental", "packs": packs}
    storage.put_bytes(mf.manifest_key(JOB, backup_id), mf.dumps(doc))


def add_full(storage, backup_id, payload=None):
    """A backup with one main object and a file list; returns {role: key}."""
    payload = payload or (b"tar bytes of %s " % backup_id.encode()) * 500
    keys, objects = {}, []
    for role, ext, data in (("tar", ".tar.zst", payload), ("filelist", ".json.zst", b"list " + payload[:50])):
        key = mf.object_key(JOB, backup_id, role, ext)
        storage.put_bytes(key, data)
        objects.append({"role": role, "key": key, "stored_bytes": len(data), "sha256": sha(data)})
        keys[role] = key
    write_manifest(storage, backup_id, objects)
    return keys


def add_pack(storage, pack_id, data):
    key = mf.pack_key(JOB, pack_id, ".tar.zst")
    storage.put_bytes(key, data)
    return {"key": key, "stored_bytes": len(data), "sha256": sha(data), "new": True}


def add_incremental(storage, backup_id, packs):
    data = b"file list of " + backup_id.encode()
    key = mf.object_key(JOB, backup_id, "filelist", ".json.zst")
    storage.put_bytes(key, data)
    write_manifest(storage, backup_id, [{"role": "filelist", "key": key, "stored_bytes": len(data), "sha256": sha(data)}],
                   packs=packs)
    return key


def overwrite(storage, key, data):
    storage.put_bytes(key, data, overwrite=True)


def flip_byte(storage, key, offset=100):
    data = bytearray(storage.get_bytes(key))
    data[offset] ^= 0x01
    overwrite(storage, key, bytes(data))
    return sha(bytes(data))


@pytest.fixture
def storage(tmp_path):
    return LocalStorage({"name": "nas", "type": "local", "path": str(tmp_path)})


class Reads(object):
    """Counts iter_read calls per key (and the highest number of reads at once)."""

    def __init__(self, storage, monkeypatch, delay=0.0):
        self.keys = []
        self.active = 0
        self.most = 0
        self.lock = threading.Lock()
        original = storage.iter_read

        def iter_read(key, chunk_size=integrity.DEFAULT_CHUNK):
            with self.lock:
                self.keys.append(key)
                self.active += 1
                self.most = max(self.most, self.active)
            try:
                time.sleep(delay)
                yield from original(key, chunk_size=chunk_size)
            finally:
                with self.lock:
                    self.active -= 1
        monkeypatch.setattr(storage, "iter_read", iter_read)


def by_id(result):
    return dict((row["backup_id"], row) for row in result["backups"])


def test_good_backups_are_read_streamed_and_listed_as_restore_points(storage, monkeypatch):
    older, newer = add_full(storage, bid(25)), add_full(storage, bid(26))
    reads = Reads(storage, monkeypatch)
    whole = []
    original_get = storage.get_bytes
    monkeypatch.setattr(storage, "get_bytes", lambda key, **kw: whole.append(key) or original_get(key, **kw))
    result = integrity.sweep(storage, JOB, now=NOW, chunk_size=1000)
    assert [r["verdict"] for r in result["backups"]] == ["good", "good"]
    assert all(r["problems"] == [] for r in result["backups"])
    assert result["good_restore_points"] == [bid(26), bid(25)]
    assert (result["checked"], result["good"], result["bad"], result["skipped"]) == (2, 2, 0, 0)
    assert sorted(reads.keys) == sorted(list(older.values()) + list(newer.values()))
    assert result["bytes_read"] == sum(storage.stat(k).size for k in reads.keys)
    assert result["objects_read"] == 4 and result["duration_s"] >= 0
    assert all(k.endswith(mf.MANIFEST_SUFFIX) for k in whole), "an object was loaded whole: %s" % whole
    assert len(whole) == 2, "each manifest is read once"
    assert result["backups"][0]["created_at"] == "2026-11-26T01:00:00Z"
    assert result["location"] == storage.root and result["incomplete"] == []


def test_a_flipped_byte_names_the_backup_the_key_and_both_checksums(storage):
    add_full(storage, bid(25))
    keys = add_full(storage, bid(26))
    expected = sha(storage.get_bytes(keys["tar"]))
    found = flip_byte(storage, keys["tar"])
    result = integrity.sweep(storage, JOB, now=NOW)
    rows = by_id(result)
    assert rows[bid(25)]["verdict"] == "good"
    bad = rows[bid(26)]
    assert bad["verdict"] == "bad" and len(bad["problems"]) == 1
    problem = bad["problems"][0]
    assert keys["tar"] in problem and expected in problem and found in problem
    assert problem.index(found) < problem.index(expected), "found, then expected"
    assert storage.root in problem
    assert result["good_restore_points"] == [bid(25)]
    assert (result["good"], result["bad"]) == (1, 1)


def test_truncated_and_missing_objects_are_bad_without_reading_them(storage, monkeypatch):
    short = add_full(storage, bid(24))["tar"]
    full_size = storage.stat(short).size
    overwrite(storage, short, storage.get_bytes(short)[:-1])
    gone = add_full(storage, bid(25))["filelist"]
    storage.delete(gone)
    add_full(storage, bid(26))
    reads = Reads(storage, monkeypatch)
    result = integrity.sweep(storage, JOB, now=NOW)
    rows = by_id(result)
    assert rows[bid(24)]["verdict"] == "bad"
    assert rows[bid(24)]["problems"] == ["object %s has %d bytes, the manifest records %d (%s)"
                                         % (short, full_size - 1, full_size, storage.location(short))]
    assert rows[bid(25)]["verdict"] == "bad"
    assert len(rows[bid(25)]["problems"]) == 1 and "object %s is missing" % gone in rows[bid(25)]["problems"][0]
    assert short not in reads.keys and gone not in reads.keys
    assert result["good_restore_points"] == [bid(26)]


def test_malformed_manifests_are_bad(storage):
    add_full(storage, bid(23))
    add_full(storage, bid(24))
    overwrite(storage, mf.manifest_key(JOB, bid(24)), b"{not json")
    add_full(storage, bid(25))
    doc = json.loads(storage.get_bytes(mf.manifest_key(JOB, bid(25))))
    doc["schema_version"] = 99
    del doc["encryption"]
    overwrite(storage, mf.manifest_key(JOB, bid(25)), json.dumps(doc).encode())
    add_full(storage, bid(26))
    doc = json.loads(storage.get_bytes(mf.manifest_key(JOB, bid(26))))
    doc["backup_id"] = bid(22)
    overwrite(storage, mf.manifest_key(JOB, bid(26)), json.dumps(doc).encode())
    rows = by_id(integrity.sweep(storage, JOB, now=NOW))
    assert rows[bid(23)]["verdict"] == "good"
    assert "not valid JSON" in rows[bid(24)]["problems"][0]
    assert "missing field encryption" in rows[bid(25)]["problems"][0]
    assert rows[bid(26)]["verdict"] == "bad" and "manifest names %s/%s" % (JOB, bid(22)) in rows[bid(26)]["problems"][0]
    assert [rows[b]["verdict"] for b in (bid(24), bid(25))] == ["bad", "bad"]


def test_a_corrupt_shared_pack_makes_every_backup_using_it_bad_and_is_read_once(storage, monkeypatch):
    shared = add_pack(storage, "aa" + "0" * 62, b"shared chunks " * 300)
    own = add_pack(storage, "bb" + "1" * 62, b"other chunks " * 300)
    add_incremental(storage, bid(24), [shared])
    add_incremental(storage, bid(25), [shared, own])
    add_incremental(storage, bid(26), [own])
    found = flip_byte(storage, shared["key"], offset=7)
    reads = Reads(storage, monkeypatch)
    result = integrity.sweep(storage, JOB, now=NOW)
    rows = by_id(result)
    assert [rows[b]["verdict"] for b in (bid(24), bid(25), bid(26))] == ["bad", "bad", "good"]
    for backup_id in (bid(24), bid(25)):
        (problem,) = rows[backup_id]["problems"]
        assert problem.startswith("shared pack %s" % shared["key"]) and shared["sha256"] in problem and found in problem
    assert reads.keys.count(shared["key"]) == 1 and reads.keys.count(own["key"]) == 1
    assert len(reads.keys) == 5  # three file lists and two packs
    assert result["good_restore_points"] == [bid(26)]


def test_missing_pack_and_pack_without_checksum(storage):
    pack = add_pack(storage, "cc" + "2" * 62, b"pack")
    storage.delete(pack["key"])
    add_incremental(storage, bid(25), [pack])
    add_incremental(storage, bid(26), [{"key": "x/packs/dd/none.tar.zst", "stored_bytes": 3, "sha256": None}])
    rows = by_id(integrity.sweep(storage, JOB, now=NOW))
    assert "shared pack %s is missing" % pack["key"] in rows[bid(25)]["problems"][0]
    assert rows[bid(26)]["verdict"] == "bad"
    assert "files.packs[0] needs a key and a SHA-256 hex digest" in rows[bid(26)]["problems"][0]


def test_a_malformed_pack_list_makes_only_that_backup_bad(storage):
    add_full(storage, bid(25))
    add_incremental(storage, bid(26), ["junk"])
    rows = by_id(integrity.sweep(storage, JOB, now=NOW))
    assert rows[bid(25)]["verdict"] == "good"
    assert rows[bid(26)]["verdict"] == "bad" and "files.packs[0]" in rows[bid(26)]["problems"][0]


def test_subset_reads_only_the_slot_and_reports_the_rest_skipped(storage, monkeypatch):
    for day in range(20, 27):
        add_full(storage, bid(day))
    cycle, period = 3, 86400
    reads = Reads(storage, monkeypatch)
    result = integrity.sweep(storage, JOB, now=NOW, cycle=cycle, period_s=period)
    slot = rotation.run_slot(NOW, cycle, period)
    expected = [b for b in (bid(d) for d in range(26, 19, -1))
                if rotation.backup_slot(mf.backup_time(b), cycle, period) == slot]
    assert 1 < len(expected) < 7
    assert [r["backup_id"] for r in result["backups"] if r["verdict"] == "good"] == expected
    assert result["skipped"] == 7 - len(expected) and result["checked"] == len(expected) and result["bad"] == 0
    assert set(k.split("/")[-1].split(".")[0] for k in reads.keys) == set(expected)
    # Over a cycle of three consecutive days every backup is read exactly once.
    seen = []
    for day in range(3):
        res = integrity.sweep(storage, JOB, now=NOW + datetime.timedelta(days=day), cycle=cycle, period_s=period)
        seen += [r["backup_id"] for r in res["backups"] if r["verdict"] != "skipped"]
    assert sorted(seen) == sorted(bid(d) for d in range(20, 27))


def test_skipped_backups_are_not_judged_but_show_what_the_run_found(storage):
    shared = add_pack(storage, "ee" + "3" * 62, b"shared " * 100)
    add_incremental(storage, bid(25), [shared])
    add_incremental(storage, bid(26), [shared])
    gone = add_full(storage, bid(24))["tar"]
    storage.delete(gone)
    flip_byte(storage, shared["key"], offset=3)
    now = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # cycle of 2: days 24 and 26 read, 25 skipped
    result = integrity.sweep(storage, JOB, now=now, cycle=2, period_s=86400)
    rows = by_id(result)
    assert rows[bid(26)]["verdict"] == "bad"
    assert rows[bid(25)]["verdict"] == "skipped" and shared["key"] in rows[bid(25)]["problems"][0]
    assert "found checking backup %s" % bid(26) in rows[bid(25)]["problems"][0]
    assert rows[bid(24)]["verdict"] == "bad", "day 24 is in the same slot as day 26"
    assert (result["good"], result["bad"], result["skipped"]) == (0, 2, 1)
    result = integrity.sweep(storage, JOB, now=now + datetime.timedelta(days=1), cycle=2, period_s=86400)
    rows = by_id(result)
    assert rows[bid(25)]["verdict"] == "bad" and rows[bid(26)]["verdict"] == "skipped"
    assert rows[bid(24)]["verdict"] == "skipped" and "object %s is missing" % gone in rows[bid(24)]["problems"][0]


def test_backup_ids_checks_exactly_those(storage, monkeypatch):
    for day in (24, 25, 26):
        add_full(storage, bid(day))
    reads = Reads(storage, monkeypatch)
    result = integrity.sweep(storage, JOB, now=NOW, backup_ids=[bid(25), bid(20, n=9)])
    rows = by_id(result)
    assert [r["backup_id"] for r in result["backups"]] == [bid(26), bid(25), bid(24), bid(20, n=9)]
    assert rows[bid(25)]["verdict"] == "good"
    assert rows[bid(24)]["verdict"] == rows[bid(26)]["verdict"] == "skipped"
    assert rows[bid(20, n=9)]["verdict"] == "bad" and "no manifest" in rows[bid(20, n=9)]["problems"][0]
    assert all(bid(25) in k for k in reads.keys) and len(reads.keys) == 2
    with pytest.raises(ManifestError) as err:
        integrity.sweep(storage, JOB, now=NOW, backup_ids=["latest"])
    assert "latest" in err.value.msg and err.value.destination == "nas"


def test_reads_run_in_parallel_up_to_the_limit(storage, monkeypatch):
    for day in range(21, 27):
        add_full(storage, bid(day))
    reads = Reads(storage, monkeypatch, delay=0.05)
    result = integrity.sweep(storage, JOB, now=NOW, parallel=3)
    assert result["good"] == 6 and len(reads.keys) == 12
    assert reads.most == 3
    reads = Reads(storage, monkeypatch, delay=0.01)
    integrity.sweep(storage, JOB, now=NOW, parallel=1)
    assert reads.most == 1


def test_read_errors_are_the_backups_problem_and_incomplete_runs_are_listed(storage, monkeypatch):
    keys = add_full(storage, bid(26))
    add_full(storage, bid(25))
    orphan = mf.object_key(JOB, bid(27), "tar", ".tar.zst")
    storage.put_bytes(orphan, b"no manifest")
    original = storage.iter_read

    def failing(key, chunk_size=integrity.DEFAULT_CHUNK):
        if key == keys["tar"]:
            raise StorageError("connection reset", step="read", destination="nas")
        return original(key, chunk_size=chunk_size)
    monkeypatch.setattr(storage, "iter_read", failing)
    result = integrity.sweep(storage, JOB, now=NOW)
    rows = by_id(result)
    assert rows[bid(26)]["verdict"] == "bad" and "could not be read: connection reset" in rows[bid(26)]["problems"][0]
    assert rows[bid(25)]["verdict"] == "good" and result["incomplete"] == [bid(27)]
    assert bid(27) not in rows


def test_an_unreachable_destination_raises_a_storage_error(tmp_path):
    storage = LocalStorage({"name": "nas", "type": "local", "path": str(tmp_path / "not-mounted")})
    with pytest.raises(StorageError) as err:
        integrity.sweep(storage, JOB, now=NOW)
    assert err.value.destination == "nas" and "does not exist" in err.value.msg


def test_an_empty_job_is_nothing_to_check(storage):
    result = integrity.sweep(storage, JOB, now=NOW)
    assert result["backups"] == [] and result["checked"] == 0 and result["good_restore_points"] == []
