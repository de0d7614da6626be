# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Index entries and the index listing (issue 11), on every backend (local, moto S3, GCS emulator).

* the full listing reports index entries without a manifest (orphans) and manifests without an index entry
  (unindexed), and never counts keys under ``<job>/_<name>/`` as backups or incomplete runs;
* the index listing lists only ``<job>/_index/`` once warm (no data key, no GET), falls back to a full listing
  while backups without an index entry exist, confirms the newest backups object by object, and reports an
  index entry whose manifest is gone as an orphan, never as a backup;
* retention lists each destination once per run (a counting wrapper around the real storage), removes
  index entries with their backups, and writes the missing index entries of kept backups (not in check mode).
"""

import datetime
import hashlib
import os

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils import catalog, clock
from ansible_collections.watchkeeper.ops.plugins.module_utils import catalog_index as cindex
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.retention import backups as retention_backups
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

JOB = "app-db"
T0 = datetime.datetime(2026, 11, 27, 1, 0, 0, tzinfo=datetime.timezone.utc)


def bid(hour):
    return "%s-%08x" % ((T0 + datetime.timedelta(hours=hour)).strftime("%Y%m%dT%H%M%SZ"), hour)


def add_backup(storage, backup_id, index=True, payload=b"dump bytes", extra=None):
    key = mf.object_key(JOB, backup_id, "dump", ".pgdump.zst")
    storage.put_bytes(key, payload)
    when = mf.backup_time(backup_id).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = {"schema": mf.SCHEMA, "schema_version": 1, "backup_id": backup_id, "job": JOB, "status": "complete",
           "created_at": when, "completed_at": when, "source": {"kind": "postgres"},
           "sizes": {"stored_bytes": len(payload)}, "compression": {}, "encryption": {"mode": "none"},
           "objects": [{"role": "dump", "key": key, "stored_bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}]}
    doc.update(extra or {})
    data = mf.dumps(doc)
    storage.put_bytes(mf.manifest_key(JOB, backup_id), data)
    if index:
        cindex.write(storage, doc, mf.manifest_key(JOB, backup_id), data)
    return key


class Counting(object):
    """The real storage, with its list / get_bytes / stat calls recorded."""

    def __init__(self, inner):
        self.inner = inner
        self.lists, self.gets, self.stats = [], [], []

    def list(self, prefix=""):
        self.lists.append(prefix)
        return self.inner.list(prefix)

    def get_bytes(self, key, **kwargs):
        self.gets.append(key)
        return self.inner.get_bytes(key, **kwargs)

    def stat(self, key):
        self.stats.append(key)
        return self.inner.stat(key)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture(params=["local", "s3", "gcs"])
def spec(request, tmp_path):
    if request.param == "local":
        (tmp_path / "nas").mkdir()
        return {"type": "local", "name": "nas", "path": str(tmp_path / "nas")}
    if request.param == "s3":
        bucket = request.getfixturevalue("s3_bucket")[0]
        return {"type": "s3", "name": "s3", "bucket": bucket, "prefix": "wk", "region": "us-east-1", "timeout": 10,
                "endpoint_url": request.getfixturevalue("moto").info["endpoint"], "access_key": "testing",
                "secret_key": "testing-secret"}
    bucket = request.getfixturevalue("gcs_bucket")[0]
    return {"type": "gcs", "name": "gcs", "bucket": bucket, "prefix": "wk", "anonymous": True, "project": "wk-test",
            "endpoint_url": request.getfixturevalue("gcs").info["endpoint"], "timeout": 10}


def test_full_listing_reports_orphans_and_unindexed_and_ignores_underscore_prefixes(spec):
    storage = open_storage(spec)
    add_backup(storage, bid(0), index=False)          # written before index entries existed
    add_backup(storage, bid(1))
    add_backup(storage, bid(2))
    gone = bid(3)
    add_backup(storage, gone)
    storage.delete(mf.manifest_key(JOB, gone))         # index entry and object left: an orphan and an incomplete run
    lonely = bid(4)                                    # an index entry and nothing else
    storage.put_bytes(cindex.index_key(JOB, lonely), b"{}")
    # Another feature's state under <job>/_<name>/, named like backups: never a backup nor a run.
    storage.put_bytes("%s/_locks/job.lock" % JOB, b"{}")
    storage.put_bytes("%s/_verified/%s.json" % (JOB, bid(5)), b"{}")
    storage.put_bytes("%s/_verified/%s.manifest.json" % (JOB, bid(6)), b"{}")
    found = catalog.read(storage, JOB)
    assert [b["backup_id"] for b in found.backups] == [bid(2), bid(1), bid(0)]
    assert all(b["valid"] and b["checked"] == "objects" for b in found.backups)
    assert [b["indexed"] for b in found.backups] == [True, True, False]
    assert found.unindexed == [bid(0)]
    assert [o["backup_id"] for o in found.orphans] == [lonely, gone]
    assert all("without a manifest" in o["problem"] for o in found.orphans)
    assert found.incomplete == [gone]
    assert catalog.read_catalog(storage, JOB) == (found.backups, found.incomplete)
    storage.close()


def test_index_listing_reads_only_index_keys_and_confirms_the_newest(spec, tmp_path):
    inner = open_storage(spec)
    for hour in range(5):
        add_backup(inner, bid(hour), index=hour > 0)
    storage = Counting(inner)
    cache_dir = str(tmp_path / "cache")

    def read():
        del storage.lists[:], storage.gets[:], storage.stats[:]
        return catalog.read(storage, JOB, cache_dir=cache_dir, mode="index")

    first = read()
    assert first.listing == "full" and "first listing" in first.reason and first.unindexed == [bid(0)]
    second = read()
    assert second.listing == "full" and "1 backups without an index entry" in second.reason
    assert len(second.backups) == 5, "a backup written before index entries existed must still be listed"
    inner.delete(mf.object_key(JOB, bid(0), "dump", ".pgdump.zst"))
    inner.delete(mf.manifest_key(JOB, bid(0)))        # purged: every backup left has an index entry
    assert read().listing == "full"
    warm = read()
    assert warm.listing == "index" and warm.reason is None
    assert storage.lists == [cindex.index_prefix(JOB)], storage.lists
    assert storage.gets == [], "a warm index listing reads nothing but the index listing and a few stats"
    assert [b["backup_id"] for b in warm.backups] == [bid(4), bid(3), bid(2), bid(1)]
    assert [b["checked"] for b in warm.backups] == ["objects", "index", "index", "index"]
    assert all(b["valid"] for b in warm.backups) and warm.orphans == []
    assert sorted(storage.stats) == sorted([mf.manifest_key(JOB, bid(4)), mf.object_key(JOB, bid(4), "dump", ".pgdump.zst")])

    # The newest backup lost its object: it is invalid, and the next one is confirmed.
    inner.delete(mf.object_key(JOB, bid(4), "dump", ".pgdump.zst"))
    damaged = read()
    assert [(b["backup_id"], b["valid"], b["checked"]) for b in damaged.backups[:3]] == [
        (bid(4), False, "objects"), (bid(3), True, "objects"), (bid(2), True, "index")]
    assert "is missing" in damaged.backups[0]["problems"][0]
    # Its manifest went too: the index entry is an orphan, never a backup.
    inner.delete(mf.manifest_key(JOB, bid(4)))
    orphaned = read()
    assert orphaned.listing == "index"
    assert [b["backup_id"] for b in orphaned.backups] == [bid(3), bid(2), bid(1)]
    assert [o["backup_id"] for o in orphaned.orphans] == [bid(4)] and "is missing" in orphaned.orphans[0]["problem"]
    # A new backup is read once (index entry and manifest), then cached.
    add_backup(inner, bid(7))
    fresh = read()
    assert fresh.backups[0]["backup_id"] == bid(7) and fresh.backups[0]["checked"] == "objects"
    assert sorted(storage.gets) == sorted([cindex.index_key(JOB, bid(7)), mf.manifest_key(JOB, bid(7))])
    inner.close()


def test_index_listing_without_cache_or_index_entries_lists_in_full(tmp_path):
    (tmp_path / "nas").mkdir()
    storage = open_storage({"type": "local", "name": "nas", "path": str(tmp_path / "nas")})
    add_backup(storage, bid(0))
    assert "no cache directory" in catalog.read(storage, JOB, mode="index").reason
    assert "validate is false" in catalog.read(storage, JOB, mode="index", validate=False).reason
    cache_dir = str(tmp_path / "cache")
    catalog.read(storage, "other-job", cache_dir=cache_dir, mode="index")
    empty = catalog.read(storage, "other-job", cache_dir=cache_dir, mode="index")
    assert empty.listing == "full" and "no index entry" in empty.reason and empty.backups == []


def test_index_key_rules():
    assert cindex.parse_index_key(JOB, cindex.index_key(JOB, bid(1))) == bid(1)
    assert cindex.parse_index_key(JOB, "%s/_index/notanid.json" % JOB) is None
    assert cindex.parse_index_key("other", cindex.index_key(JOB, bid(1))) is None
    assert cindex.outside_runs(JOB, "%s/_index/x.json" % JOB) and cindex.outside_runs(JOB, "%s/_locks/a/b" % JOB)
    assert cindex.outside_runs(JOB, "%s/packs/ab/cd.tar" % JOB) and cindex.outside_runs(JOB, "%s/holds/x.json" % JOB)
    assert not cindex.outside_runs(JOB, mf.manifest_key(JOB, bid(1)))
    assert not cindex.outside_runs(JOB, "%s/_stray_file.json" % JOB)
    doc = {"job": JOB, "backup_id": bid(1)}
    data = cindex.build(doc, mf.manifest_key(JOB, bid(1)), b"manifest bytes")
    parsed = cindex.loads(data, "k", JOB, bid(1))
    assert parsed["manifest_bytes"] == len(b"manifest bytes")
    with pytest.raises(Exception, match="names"):
        cindex.loads(data, "k", JOB, bid(2))


def test_retention_lists_each_destination_once_and_removes_index_entries(moto, s3_bucket, tmp_path, monkeypatch):
    specs = [{"type": "local", "name": "nas", "path": str(tmp_path / "nas")},
             {"type": "s3", "name": "s3", "bucket": s3_bucket[0], "region": "us-east-1", "access_key": "testing",
              "secret_key": "testing-secret", "endpoint_url": moto.info["endpoint"], "timeout": 10}]
    (tmp_path / "nas").mkdir()
    for spec in specs:
        storage = open_storage(spec)
        for hour in range(4):
            add_backup(storage, bid(hour), index=hour in (0, 2))
        storage.put_bytes(cindex.index_key(JOB, bid(9)), b"{}")   # an orphan index entry
        storage.close()
    opened = []

    def counting_open(spec):
        opened.append(Counting(open_storage(spec)))
        return opened[-1]

    monkeypatch.setattr(retention_backups, "open_storage", counting_open)
    params = {"job": JOB, "policy": {"keep_last": 1}, "destinations": specs, "ops_state": str(tmp_path / "state"),
              "incomplete_grace": "1h", "provider_holds": False}
    now = T0 + datetime.timedelta(days=2)
    before = dict((s["name"], sorted(i.key for i in open_storage(s).list(JOB + "/"))) for s in specs)
    plan, failures = retention_backups.run(params, True, now)
    assert failures == [] and plan["changed"] is True
    for spec in specs:
        assert sorted(i.key for i in open_storage(spec).list(JOB + "/")) == before[spec["name"]], "check mode wrote"
        assert plan["backups"][spec["name"]]["index_to_write"] == [bid(3)]
    del opened[:]
    result, failures = retention_backups.run(params, False, now)
    assert failures == []
    for storage in opened:
        assert storage.lists == [JOB + "/"], "%s listed %r" % (storage.name, storage.lists)
        out = result["backups"][storage.name]
        assert out["removed"] == 3 and out["unindexed"] == [bid(3), bid(1)]
        # The kept backup had no index entry: retention wrote it (a later index listing need not list in full).
        assert out["index_to_write"] == [bid(3)] and out["index_written"] == 1 and out["index_errors"] == []
        assert [o["backup_id"] for o in out["orphans"]] == [bid(9)] and out["incomplete_removed"] == 1
        left = sorted(i.key for i in storage.inner.list(JOB + "/"))
        assert left == sorted([mf.object_key(JOB, bid(3), "dump", ".pgdump.zst"), mf.manifest_key(JOB, bid(3)),
                               cindex.index_key(JOB, bid(3))]), left
        assert catalog.read(storage.inner, JOB).unindexed == []


def test_index_listing_lists_in_full_once_a_day_and_then_knows_older_orphans(tmp_path, monkeypatch):
    (tmp_path / "nas").mkdir()
    storage = open_storage({"type": "local", "name": "nas", "path": str(tmp_path / "nas")})
    for hour in range(3):
        add_backup(storage, bid(hour))
    cache_dir = str(tmp_path / "cache")
    monkeypatch.setenv("WATCHKEEPER_NOW", "2026-12-01T00:00:00Z")
    assert catalog.read(storage, JOB, cache_dir=cache_dir, mode="index").listing == "full"
    assert catalog.read(storage, JOB, cache_dir=cache_dir, mode="index").listing == "index"
    # An older backup deleted by hand, its index entry left: the index listing does not look at it ...
    storage.delete(mf.object_key(JOB, bid(0), "dump", ".pgdump.zst"))
    storage.delete(mf.manifest_key(JOB, bid(0)))
    same_day = catalog.read(storage, JOB, cache_dir=cache_dir, mode="index")
    assert [(b["backup_id"], b["checked"]) for b in same_day.backups][-1] == (bid(0), "index")
    # ... until the daily full listing, which reports the orphan; from then on the index listing does too.
    monkeypatch.setenv("WATCHKEEPER_NOW", "2026-12-02T00:00:01Z")
    daily = catalog.read(storage, JOB, cache_dir=cache_dir, mode="index")
    assert daily.listing == "full" and "more than 24 h old" in daily.reason
    assert [o["backup_id"] for o in daily.orphans] == [bid(0)] and len(daily.backups) == 2
    after = catalog.read(storage, JOB, cache_dir=cache_dir, mode="index")
    assert after.listing == "index" and [o["backup_id"] for o in after.orphans] == [bid(0)]
    assert [b["backup_id"] for b in after.backups] == [bid(2), bid(1)]


def test_the_cache_keeps_only_what_the_catalog_uses(tmp_path):
    (tmp_path / "nas").mkdir()
    storage = open_storage({"type": "local", "name": "nas", "path": str(tmp_path / "nas")})
    tables = dict(("public.t%03d" % i, {"rows": i, "sha256": "%064x" % i}) for i in range(200))
    add_backup(storage, bid(0), extra={"fingerprint": {"tables": tables}, "phases": {"stream_s": 1.0}})
    cache_dir = str(tmp_path / "cache")
    cold = catalog.read(storage, JOB, cache_dir=cache_dir)
    files = os.listdir(cache_dir)
    assert sorted(f.endswith(".meta.json") for f in files) == [False, True], files
    manifests = [f for f in files if not f.endswith(".meta.json")][0]
    with open(os.path.join(cache_dir, manifests)) as handle:
        text = handle.read()
    assert "public.t199" not in text and "stream_s" not in text and len(text) < 2000, len(text)
    written = os.stat(os.path.join(cache_dir, manifests)).st_mtime_ns
    os.utime(os.path.join(cache_dir, manifests), ns=(written - 10 ** 9, written - 10 ** 9))
    warm = catalog.read(storage, JOB, cache_dir=cache_dir)
    assert warm.backups == cold.backups and warm.backups[0]["valid"] and warm.backups[0]["source"] == {"kind": "postgres"}
    # A warm full listing with nothing new records its time in the small notes file, not in the manifests' file.
    assert os.stat(os.path.join(cache_dir, manifests)).st_mtime_ns == written - 10 ** 9


def test_newest_reading_counts_index_entries_and_proves_only_the_newest(spec):
    inner = open_storage(spec)
    for hour in range(6):
        add_backup(inner, bid(hour), payload=b"dump %d" % hour)
    inner.delete(mf.object_key(JOB, bid(5), "dump", ".pgdump.zst"))                   # newest: replaced by a
    inner.put_bytes(mf.object_key(JOB, bid(5), "dump", ".pgdump.zst"), b"truncated")   # copy of the wrong size
    inner.delete(mf.manifest_key(JOB, bid(4)))                                         # next: manifest gone
    storage = Counting(inner)
    found = catalog.read_newest(storage, JOB)
    assert found.listing == "newest" and found.count == 6
    assert [(b["backup_id"], b["valid"]) for b in found.backups] == [(bid(5), False), (bid(3), True)]
    assert "has 9 bytes, manifest says 6" in found.backups[0]["problems"][0]
    assert [o["backup_id"] for o in found.orphans] == [bid(4)]
    assert storage.lists == [cindex.index_prefix(JOB)], "only the index is listed, never the data keys"
    assert sorted(storage.gets) == sorted([mf.manifest_key(JOB, bid(5)), mf.manifest_key(JOB, bid(3))])
    assert found.backups[1]["sizes"] == {"stored_bytes": 6} and found.backups[1]["checked"] == "objects"


def test_newest_reading_of_a_job_without_index_entries_lists_in_full(tmp_path):
    (tmp_path / "nas").mkdir()
    storage = open_storage({"type": "local", "name": "nas", "path": str(tmp_path / "nas")})
    for hour in range(3):
        add_backup(storage, bid(hour), index=False)
    found = catalog.read_newest(storage, JOB)
    assert found.listing == "full" and found.count == 3 and all(b["valid"] for b in found.backups)
    assert catalog.read_newest(storage, "other-job").count == 0


def test_newest_reading_stops_after_max_checked(tmp_path):
    (tmp_path / "nas").mkdir()
    storage = open_storage({"type": "local", "name": "nas", "path": str(tmp_path / "nas")})
    for hour in range(4):
        add_backup(storage, bid(hour))
        storage.delete(mf.object_key(JOB, bid(hour), "dump", ".pgdump.zst"))
    found = catalog.read_newest(storage, JOB, max_checked=3)
    assert found.count == 4 and [b["valid"] for b in found.backups] == [False, False, False]


@pytest.mark.parametrize("text", ["20261127T013000Z", "20240229T235959Z"])
def test_compact_timestamps_parse_as_strptime_does(text):
    assert clock.parse_compact(text) == datetime.datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize("text", ["20261127T013000", "20261127X013000Z", "2026112TT013000Z", "20230229T000000Z",
                                  "20261127T256000Z", "", "20261127T01300\u00b2Z"])
def test_compact_timestamps_refuse_anything_else(text):
    with pytest.raises(ValueError):
        clock.parse_compact(text)
