"""The catalog read from a (local) destination: validity, incomplete runs, the manifest cache."""

import hashlib

from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.catalog import read_catalog
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.local import LocalStorage

JOB = "app-db"


def add_backup(storage, backup_id, payload=b"dump bytes", write_manifest=True):
    key = mf.object_key(JOB, backup_id, "dump", ".pgdump.zst")
    storage.put_bytes(key, payload)
    doc = {"schema": mf.SCHEMA, "schema_version": 1, "backup_id": backup_id, "job": JOB, "status": "complete",
           "created_at": "2026-11-27T01:00:00Z", "completed_at": "2026-11-27T01:00:05Z", "source": {"kind": "postgres"},
           "sizes": {"stored_bytes": len(payload)}, "compression": {}, "encryption": {"mode": "none"},
           "objects": [{"role": "dump", "key": key, "stored_bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}]}
    if write_manifest:
        storage.put_bytes(mf.manifest_key(JOB, backup_id), mf.dumps(doc))
    return key


def test_valid_missing_resized_corrupt_and_incomplete(tmp_path):
    storage = LocalStorage({"name": "l", "path": str(tmp_path)})
    add_backup(storage, "20261127T010000Z-00000001")
    gone = add_backup(storage, "20261127T020000Z-00000002")
    storage.delete(gone)
    resized = add_backup(storage, "20261127T030000Z-00000003")
    storage.put_bytes(resized, b"truncated", overwrite=True)
    add_backup(storage, "20261127T040000Z-00000004")
    storage.put_bytes(mf.manifest_key(JOB, "20261127T040000Z-00000004"), b"{broken", overwrite=True)
    add_backup(storage, "20261127T050000Z-00000005", write_manifest=False)
    backups, incomplete = read_catalog(storage, JOB)
    by_id = {b["backup_id"]: b for b in backups}
    assert [b["backup_id"] for b in backups] == sorted(by_id, reverse=True)
    assert by_id["20261127T010000Z-00000001"]["valid"] is True
    assert "is missing" in by_id["20261127T020000Z-00000002"]["problems"][0]
    assert "manifest says" in by_id["20261127T030000Z-00000003"]["problems"][0]
    assert "not valid JSON" in by_id["20261127T040000Z-00000004"]["problems"][0]
    assert "20261127T050000Z-00000005" not in by_id and incomplete == ["20261127T050000Z-00000005"]


def test_cache_reads_each_manifest_once_and_notices_changes(tmp_path, monkeypatch):
    storage = LocalStorage({"name": "l", "path": str(tmp_path / "dest")})
    (tmp_path / "dest").mkdir()
    for hour in range(5):
        add_backup(storage, "20261127T0%d0000Z-0000000%d" % (hour, hour))
    reads = []
    original = storage.get_bytes
    monkeypatch.setattr(storage, "get_bytes", lambda key, **kw: reads.append(key) or original(key, **kw))
    cache_dir = str(tmp_path / "cache")
    first, incomplete = read_catalog(storage, JOB, cache_dir=cache_dir)
    assert len(reads) == 5 and all(b["valid"] for b in first) and incomplete == []
    second, incomplete = read_catalog(storage, JOB, cache_dir=cache_dir)
    assert len(reads) == 5 and second == first
    # Object presence is always checked against the listing, cache or not.
    storage.delete(mf.object_key(JOB, "20261127T000000Z-00000000", "dump", ".pgdump.zst"))
    third, incomplete = read_catalog(storage, JOB, cache_dir=cache_dir)
    assert len(reads) == 5 and [b["valid"] for b in third].count(False) == 1
    # A new backup is read; nothing else is.
    add_backup(storage, "20261127T090000Z-00000009")
    read_catalog(storage, JOB, cache_dir=cache_dir)
    assert len(reads) == 6
