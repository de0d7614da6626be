# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AC8: ``backup_info`` with a frozen clock (``WATCHKEEPER_NOW``), damaged catalogs and many backups.

* a job is ``stale`` past ``max_age`` and not before; ``fail_if_stale`` turns that into a failure;
* a corrupted manifest (or one whose objects are missing or short) is ``valid: false`` with the
  problem and never counts as fresh;
* objects without a manifest are listed in ``incomplete`` and never counted;
* 1 000 backups in a local destination are listed (the module's elapsed time is printed);
* every backup writes an index entry; ``listing: index`` lists only those once warm, and an index entry whose
  manifest is gone is an orphan, never a backup (issue 11).
"""

import datetime
import hashlib
import json
import os
import shutil
import time
import uuid

import pytest

from helpers import Background, Store, assert_failed, assert_ok, backup_args, info, local_dest, new_job, run_module, s3_dest

T0 = datetime.datetime(2026, 3, 1, 0, 0, 0, tzinfo=datetime.timezone.utc)


def iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(**delta):
    return {"WATCHKEEPER_NOW": iso(T0 + datetime.timedelta(**delta))}


@pytest.fixture
def small_tree(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_text("freshness\n")
    return str(tree)


def backup_at(job, tree, dests, state, scratch, **delta):
    args = backup_args(job, {"type": "files", "paths": [tree]}, dests, {"mode": "none"}, state, tmp_dir=scratch)
    result = assert_ok(run_module("watchkeeper.ops.backup", args, env=at(**delta)))
    assert result["manifest"]["created_at"] == iso(T0 + datetime.timedelta(**delta))
    return result


def parallel(*calls):
    runs = [Background(fn, *args, **kwargs) for fn, args, kwargs in calls]
    for run in runs:
        run.start()
    return [run.result(300) for run in runs]


def test_stale_past_max_age_and_not_before(small_tree, tmp_path, moto, s3_bucket, scratch):
    job = new_job("fresh")
    dests = [local_dest(tmp_path / "nas"), s3_dest(moto, s3_bucket[0])]
    made = backup_at(job, small_tree, dests, tmp_path / "state", scratch)
    s3 = dests[1]
    before, edge, after, failing, passing, days, never = parallel(
        (info, (job, s3), {"env": at(hours=1, minutes=59), "max_age": "2h"}),
        (info, (job, s3), {"env": at(hours=2), "max_age": "7200"}),
        (info, (job, s3), {"env": at(hours=2, seconds=1), "max_age": "2h"}),
        (info, (job, s3), {"env": at(hours=3), "max_age": "2h", "fail_if_stale": True}),
        (info, (job, s3), {"env": at(hours=1), "max_age": "2h", "fail_if_stale": True}),
        (info, (job, s3), {"env": at(hours=25), "max_age": "1d 2h"}),
        (info, (new_job("never"), s3), {"env": at(hours=1), "max_age": "2h"}),
    )
    for res in (before, edge, after, passing, days, never):
        assert not res.failed, res.get("msg")
    assert (before["stale"], before["newest_age_s"], before["count"], before["valid_count"]) == (False, 7140.0, 1, 1)
    assert before["latest"]["backup_id"] == made["backup_id"]
    assert before["backups"][0]["age"] == "1h 59m"
    assert before["checked_at"] == iso(T0 + datetime.timedelta(hours=1, minutes=59))
    assert "stale_reason" not in before
    assert edge["stale"] is False and edge["newest_age_s"] == 7200.0
    assert after["stale"] is True and "max_age" in after["stale_reason"]
    assert_failed(failing)
    assert failing["stale"] is True and "stale" in failing["msg"] and job in failing["msg"]
    assert passing["stale"] is False
    assert days["stale"] is False
    assert never["stale"] is True and never["count"] == 0 and "no valid backup" in never["stale_reason"]


def test_damaged_backups_are_invalid_and_never_fresh(small_tree, tmp_path, scratch):
    job = new_job("damaged")
    nas = tmp_path / "nas"
    dests = [local_dest(nas)]
    store = Store.local(nas)
    good = backup_at(job, small_tree, dests, tmp_path / "state", scratch)
    damage = {}
    for hours, how in ((5, "truncated_json"), (6, "missing_object"), (7, "short_object"), (8, "future_schema")):
        res = backup_at(job, small_tree, dests, tmp_path / "state", scratch, hours=hours)
        manifest_key = res["destinations"][0]["manifest_key"]
        obj = res["manifest"]["objects"][0]
        if how == "truncated_json":
            data = store.read(manifest_key)
            os.unlink(os.path.join(str(nas), manifest_key))
            store.write(manifest_key, data[:len(data) // 2])
        elif how == "missing_object":
            os.unlink(os.path.join(str(nas), obj["key"]))
        elif how == "short_object":
            with open(os.path.join(str(nas), obj["key"]), "r+b") as handle:
                handle.truncate(obj["stored_bytes"] - 1)
        else:
            manifest = store.manifest(manifest_key)
            manifest["schema_version"] = 99
            os.unlink(os.path.join(str(nas), manifest_key))
            store.write(manifest_key, json.dumps(manifest).encode())
        damage[res["backup_id"]] = how
    # Objects of a run that never wrote its manifest (and a partial file) are no backup.
    orphan = "%s-%s" % ((T0 + datetime.timedelta(hours=9)).strftime("%Y%m%dT%H%M%SZ"), uuid.uuid4().hex[:8])
    first_obj = good["manifest"]["objects"][0]["key"]
    orphan_key = first_obj.replace(good["backup_id"], orphan)
    shutil.copyfile(os.path.join(str(nas), first_obj), os.path.join(str(nas), orphan_key))
    shutil.copyfile(os.path.join(str(nas), first_obj), os.path.join(str(nas), orphan_key + ".wk-partial-0123456789ab"))

    res = assert_ok(info(job, dests[0], env=at(hours=9, minutes=30), max_age="2h"))
    assert res["count"] == 5 and res["valid_count"] == 1
    assert res["latest"]["backup_id"] == good["backup_id"]
    assert res["stale"] is True and res["newest_age_s"] == 9.5 * 3600, "a damaged newer backup counted as fresh"
    assert res["incomplete"] == [orphan]
    by_id = {b["backup_id"]: b for b in res["backups"]}
    assert [b["backup_id"] for b in res["backups"]] == sorted(by_id, reverse=True)
    assert by_id[good["backup_id"]]["valid"] is True and by_id[good["backup_id"]]["problems"] == []
    expected = {"truncated_json": "not valid JSON", "missing_object": "is missing", "short_object": "manifest says",
                "future_schema": "newer than this collection"}
    for backup_id, how in damage.items():
        entry = by_id[backup_id]
        assert entry["valid"] is False, how
        assert any(expected[how] in p for p in entry["problems"]), (how, entry["problems"])
    failing = assert_failed(info(job, dests[0], env=at(hours=9, minutes=30), max_age="2h", fail_if_stale=True))
    assert failing["valid_count"] == 1 and "stale" in failing["msg"]


def test_a_thousand_backups_are_listed(small_tree, tmp_path, scratch):
    job = new_job("many")
    nas = tmp_path / "nas"
    dests = [local_dest(nas)]
    real = backup_at(job, small_tree, dests, tmp_path / "state", scratch)
    manifest = real["manifest"]
    base = real["destinations"][0]["manifest_key"][:-len(".manifest.json")]
    made = [real["backup_id"]]
    for i in range(1, 1000):
        when = T0 - datetime.timedelta(hours=i)
        backup_id = "%s-%s" % (when.strftime("%Y%m%dT%H%M%SZ"), uuid.uuid4().hex[:8])
        new_base = "%s/%s/%s" % (job, when.strftime("%Y/%m/%d"), backup_id)
        copy = json.loads(json.dumps(manifest))
        copy.update(backup_id=backup_id, created_at=iso(when), completed_at=iso(when + datetime.timedelta(seconds=3)))
        for obj in copy["objects"]:
            new_key = obj["key"].replace(base, new_base)
            os.makedirs(os.path.dirname(os.path.join(str(nas), new_key)), exist_ok=True)
            os.link(os.path.join(str(nas), obj["key"]), os.path.join(str(nas), new_key))
            obj["key"] = new_key
        with open(os.path.join(str(nas), new_base + ".manifest.json"), "w") as handle:
            json.dump(copy, handle, indent=2, sort_keys=True)
        made.append(backup_id)

    timings = {}
    for name, extra in (("validate", {}), ("keys only", {"validate": False}), ("limit 10", {"limit": 10})):
        started = time.monotonic()
        res = assert_ok(info(job, dests[0], env=at(minutes=30), max_age="1h", **extra))
        timings[name] = time.monotonic() - started
        assert res["count"] == 1000 and res["stale"] is False
        assert res["latest"]["backup_id"] == real["backup_id"]
        assert res["incomplete"] == []
        if name == "validate":
            assert res["valid_count"] == 1000
            assert [b["backup_id"] for b in res["backups"]] == sorted(made, reverse=True)
            assert res["backups"][-1]["age"] == "41d 15h"  # 999 h + 30 min
        if name == "limit 10":
            assert [b["backup_id"] for b in res["backups"]] == sorted(made, reverse=True)[:10]
    print("backup_info over 1000 backups (ansible-playbook wall time): %s"
          % ", ".join("%s %.1fs" % item for item in timings.items()))


def test_index_entries_and_the_index_listing_against_moto(small_tree, tmp_path, moto, s3_bucket, scratch):
    """Issue 11: the backup writes ``<job>/_index/<id>.json`` after its manifest; ``listing: index`` lists only those
    once the host's cache knows the destination, and an index entry whose manifest is gone is an orphan, never a
    backup and never fresh."""
    job = new_job("indexed")
    s3 = s3_dest(moto, s3_bucket[0])
    store = Store.s3(s3_bucket)
    old = backup_at(job, small_tree, [s3], tmp_path / "state", scratch)
    new = backup_at(job, small_tree, [s3], tmp_path / "state", scratch, hours=1)
    for made in (old, new):
        manifest_key = made["destinations"][0]["manifest_key"]
        entry = store.manifest("%s/_index/%s.json" % (job, made["backup_id"]))
        data = store.read(manifest_key)
        assert (entry["manifest_key"], entry["manifest_bytes"], entry["backup_id"]) == (manifest_key, len(data), made["backup_id"])
        assert entry["manifest_sha256"] == hashlib.sha256(data).hexdigest()
    cache = str(tmp_path / "cache")
    first = assert_ok(info(job, s3, env=at(hours=1, minutes=30), listing="index", cache_dir=cache))
    assert first["listing"] == "full" and "first listing" in first["listing_reason"]
    assert first["unindexed"] == [] and first["orphans"] == []
    warm = assert_ok(info(job, s3, env=at(hours=1, minutes=30), listing="index", cache_dir=cache, max_age="1h"))
    assert warm["listing"] == "index" and "listing_reason" not in warm
    assert [b["backup_id"] for b in warm["backups"]] == [new["backup_id"], old["backup_id"]]
    assert [b["checked"] for b in warm["backups"]] == ["objects", "index"]
    assert warm["latest"]["backup_id"] == new["backup_id"] and warm["stale"] is False
    # The newest manifest is deleted behind the collection's back: reported as an orphan, the job is stale.
    s3_bucket[1].delete_object(Bucket=s3_bucket[0], Key=new["destinations"][0]["manifest_key"])
    gone = assert_ok(info(job, s3, env=at(hours=1, minutes=30), listing="index", cache_dir=cache, max_age="1h"))
    assert gone["listing"] == "index"
    assert [o["backup_id"] for o in gone["orphans"]] == [new["backup_id"]] and "is missing" in gone["orphans"][0]["problem"]
    assert [b["backup_id"] for b in gone["backups"]] == [old["backup_id"]]
    assert gone["latest"]["backup_id"] == old["backup_id"] and gone["stale"] is True
    full = assert_ok(info(job, s3, env=at(hours=1, minutes=30), listing="full", max_age="1h"))
    assert [o["backup_id"] for o in full["orphans"]] == [new["backup_id"]] and full["incomplete"] == [new["backup_id"]]
    assert full["count"] == 1 and full["stale"] is True and full["backups"][0]["indexed"] is True
