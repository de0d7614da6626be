# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 4 acceptance 3 and 4, and the deletion order of ``retention_purge`` with ``target: backups``.

* a backup under a hold marker (``backup_hold``), one under an S3 Object Lock legal hold (moto, bucket with Object
  Lock) and the newest verified backup survive ``keep_last: 1``, with the reasons; no DELETE reaches a held object;
* incremental file backups: packs still referenced survive, unreferenced ones go, every remaining snapshot restores;
* incomplete runs go only after the grace; a delete failing after the manifest leaves leftovers that the next run
  removes after the grace.
"""

import datetime
import os
import subprocess
import uuid

import pytest

from helpers import (Store, assert_failed, assert_ok, backup_args, local_dest, moto_requests, new_job, run_module,
                     s3_dest)
from restore_helpers import restore_verify, verify_args
from retention_helpers import UTC, clone, hold, ids_of, now_env, purge, real_backup, sqlite_file, write_verified

T0 = datetime.datetime(2027, 5, 10, 1, 0, tzinfo=UTC)


def test_held_and_verified_backups_survive_a_policy_that_would_remove_them(tmp_path, moto, s3_bucket, scratch):
    client = s3_bucket[1]
    bucket = "wk-lock-%s" % uuid.uuid4().hex[:10]
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    job = new_job("hold")
    dests = [local_dest(tmp_path / "nas", name="nas"), s3_dest(moto, bucket)]
    stores = {"nas": Store.local(tmp_path / "nas"), "s3": Store("s3", bucket=bucket, client=client)}
    days = [T0 - datetime.timedelta(days=i) for i in range(6)]
    first = real_backup(job, {"type": "sqlite", "path": sqlite_file(tmp_path / "a.sqlite")}, dests, tmp_path / "state",
                        scratch, days[0])
    ids = [first["backup_id"]] + [None] * 5
    for i in range(1, 6):
        for spec in dests:
            ids[i] = clone(spec, job, first["manifest"], days[i], backup_id=ids[i])
    write_verified(tmp_path / "state", job, ids[3])

    marked = assert_ok(hold(job, ids[4], dests, T0))
    assert marked["changed"] is True and marked["marker"]["case"] == "CASE-42"
    assert marked["marker"]["created_at"] == "2027-05-10T01:00:00Z"
    again = assert_ok(hold(job, ids[4], dests, T0 + datetime.timedelta(hours=1)))
    assert again["changed"] is False, "backup_hold is not idempotent"
    assert Store.local(tmp_path / "nas").manifest("%s/holds/%s.json" % (job, ids[4]))["reason"] == "litigation hold"
    # The store's own hold, set out of band on the main object of backup 5 in S3.
    locked = [k for k in stores["s3"].listing() if ids[5] in k and not k.endswith(".manifest.json")][0]
    client.put_object_legal_hold(Bucket=bucket, Key=locked, LegalHold={"Status": "ON"})

    plan = assert_ok(purge(job, dests, {"keep_last": 1}, tmp_path / "state", T0, check_mode=True))
    done = assert_ok(purge(job, dests, {"keep_last": 1}, tmp_path / "state", T0))
    assert ids_of(stores["nas"].listing()) == sorted([ids[0], ids[3], ids[4]])
    assert ids_of(stores["s3"].listing()) == sorted([ids[0], ids[3], ids[4], ids[5]])
    for result in (plan, done):
        for name in ("nas", "s3"):
            why = dict((b["backup_id"], b["reasons"]) for b in result["backups"][name]["backups"])
            assert why[ids[3]][0] == "safety: newest backup that passed restore verification", why[ids[3]]
            assert why[ids[4]][0] == ("hold: legal hold marker: litigation hold; case CASE-42 (by alice, since "
                                      "2027-05-10T01:00:00Z)"), why[ids[4]]
            assert why[ids[0]] == ["keep_last: 1 of 1"]
        s3_why = dict((b["backup_id"], b["reasons"]) for b in result["backups"]["s3"]["backups"])
        assert s3_why[ids[5]][0] == "hold: s3 object lock legal hold on %s" % locked
    assert done["removed"] == 3 + 2  # nas: 1, 2 and 5; s3: 1 and 2
    # The held object never saw a DELETE (with versioning it would "succeed" as a delete marker).
    assert not [line for line in moto_requests(moto, bucket) if "DELETE" in line and ids[5] in line]
    assert not client.list_object_versions(Bucket=bucket, Prefix=locked).get("DeleteMarkers")

    # Released: the marker goes (check mode first changes nothing), and the next purge may remove the backup.
    assert assert_ok(hold(job, ids[4], dests, T0, check_mode=True, state="absent"))["changed"] is True
    assert "%s/holds/%s.json" % (job, ids[4]) in stores["nas"].listing()
    assert assert_ok(hold(job, ids[4], dests, T0, state="absent"))["changed"] is True
    assert_ok(purge(job, dests, {"keep_last": 1}, tmp_path / "state", T0))
    assert ids_of(stores["nas"].listing()) == sorted([ids[0], ids[3]])


def test_provider_hold_through_backup_hold_on_s3_and_a_store_that_ignores_holds(tmp_path, moto, s3_bucket, gcs, gcs_bucket,
                                                                                scratch):
    from helpers import gcs_dest
    client = s3_bucket[1]
    bucket = "wk-lock-%s" % uuid.uuid4().hex[:10]
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    job = new_job("phold")
    s3 = s3_dest(moto, bucket)
    gcs_spec = gcs_dest(gcs.info["endpoint"], gcs_bucket[0])
    first = real_backup(job, {"type": "sqlite", "path": sqlite_file(tmp_path / "a.sqlite")}, [s3, gcs_spec],
                        tmp_path / "state", scratch, T0)
    backup_id = first["backup_id"]
    done = assert_ok(hold(job, backup_id, [s3], T0, provider_hold=True))
    keys = done["destinations"]["s3"]["provider_holds"]
    assert len(keys) == len(first["manifest"]["objects"]) + 1
    for key in keys:
        assert client.get_object_legal_hold(Bucket=bucket, Key=key)["LegalHold"]["Status"] == "ON"
    assert assert_ok(hold(job, backup_id, [s3], T0, provider_hold=True))["changed"] is False
    assert assert_ok(hold(job, backup_id, [s3], T0, provider_hold=True, state="absent"))["changed"] is True
    for key in keys:
        assert client.get_object_legal_hold(Bucket=bucket, Key=key)["LegalHold"]["Status"] == "OFF"
    # gcp-storage-emulator drops temporaryHold: the module reads the hold back and says so instead of pretending.
    failed = assert_failed(hold(job, backup_id, [gcs_spec], T0, provider_hold=True))
    assert "destination gcs" in failed["msg"] and "did not keep the temporary hold" in failed["msg"]
    blob = gcs_bucket[1].bucket(gcs_bucket[0]).get_blob(first["manifest"]["objects"][0]["key"])
    assert not blob.temporary_hold, "the emulator now keeps holds: test the GCS hold path against it directly"


def _tree_step(root, step):
    os.makedirs(root, exist_ok=True)
    if step == 0:
        with open(os.path.join(root, "stable.bin"), "wb") as handle:
            handle.write(os.urandom(30 * 1024))
    with open(os.path.join(root, "step-%d.bin" % step), "wb") as handle:
        handle.write(os.urandom(40 * 1024))
    with open(os.path.join(root, "changing.txt"), "w") as handle:
        handle.write("version %d\n" % step * 2000)
    if step >= 2:
        os.unlink(os.path.join(root, "step-%d.bin" % (step - 2)))


def test_incremental_packs_mark_and_sweep_and_every_remaining_snapshot_restores(tmp_path, scratch):
    job = new_job("packs")
    tree = str(tmp_path / "tree")
    dest = local_dest(tmp_path / "nas", name="nas")
    store = Store.local(tmp_path / "nas")
    snaps = []
    for step in range(5):
        _tree_step(tree, step)
        args = backup_args(job, {"type": "files", "mode": "incremental", "paths": [tree]}, [dest], {"mode": "none"},
                           tmp_path / "state", tmp_dir=scratch)
        snaps.append(assert_ok(run_module("watchkeeper.ops.backup", args, env=now_env(T0 + datetime.timedelta(hours=step)))))
    packs_of = [set(p["key"] for p in s["manifest"]["files"]["packs"]) for s in snaps]
    before = set(k for k in store.listing() if "/packs/" in k)
    assert before == set().union(*packs_of)
    keep = packs_of[3] | packs_of[4]
    assert packs_of[0] & keep and before - keep, "the steps must share some packs and orphan others"

    later = T0 + datetime.timedelta(days=30)
    policy = {"keep_last": 2}
    plan = assert_ok(purge(job, [dest], policy, tmp_path / "state", later, check_mode=True, incomplete_grace="1h"))
    assert sorted(plan["plan"]["nas"]["packs"]) == sorted(before - keep)
    assert set(k for k in store.listing() if "/packs/" in k) == before
    done = assert_ok(purge(job, [dest], policy, tmp_path / "state", later, incomplete_grace="1h"))
    assert set(k for k in store.listing() if "/packs/" in k) == keep
    assert done["backups"]["nas"]["packs_removed"] == len(before - keep) and done["removed"] == 3
    for snap in snaps[3:]:
        res = assert_ok(restore_verify(verify_args(job, [dest], tmp_path / "state", backup_id=snap["backup_id"],
                                                   scratch_dir=str(tmp_path / "scratch"))))
        assert res["backup_id"] == snap["backup_id"] and res["passed"] is True


def _chattr(flag, path):
    return subprocess.run(["chattr", flag, path], capture_output=True, check=False).returncode == 0


def test_incomplete_runs_wait_for_the_grace_and_a_failed_delete_leaves_leftovers_for_the_next_run(tmp_path, scratch):
    job = new_job("order")
    dest = local_dest(tmp_path / "nas", name="nas")
    store = Store.local(tmp_path / "nas")
    source = {"type": "sqlite", "path": sqlite_file(tmp_path / "a.sqlite")}
    old = real_backup(job, source, [dest], tmp_path / "state", scratch, T0)
    real_backup(job, source, [dest], tmp_path / "state", scratch, T0 + datetime.timedelta(days=1))
    # An interrupted run: an object, no manifest.
    orphan = "%s/2027/05/11/20270511T130000Z-0badc0de.sqlite.zst" % job
    store.write(orphan, b"partial")
    young = T0 + datetime.timedelta(days=1, hours=12, minutes=30)
    res = assert_ok(purge(job, [dest], {"keep_last": 2}, tmp_path / "state", young, incomplete_grace="1h"))
    assert orphan in store.listing(), res["backups"]["nas"]
    assert res["backups"]["nas"]["incomplete"][0]["verdict"] == "keep", res["backups"]["nas"]
    res = assert_ok(purge(job, [dest], {"keep_last": 2}, tmp_path / "state", young + datetime.timedelta(hours=1),
                          incomplete_grace="1h"))
    assert orphan not in store.listing() and res["backups"]["nas"]["incomplete_removed"] == 1

    main = os.path.join(str(tmp_path / "nas"), old["manifest"]["objects"][0]["key"])
    if not _chattr("+i", main):
        pytest.skip("chattr +i is not available here, so a delete cannot be made to fail")
    try:
        later = T0 + datetime.timedelta(days=3)
        failed = assert_failed(purge(job, [dest], {"keep_last": 1}, tmp_path / "state", later))
        assert "destination nas" in failed["msg"] and "cannot delete" in failed["msg"]
        row = [b for b in failed["backups"]["nas"]["backups"] if b["backup_id"] == old["backup_id"]][0]
        assert row["verdict"] == "failed" and row["leftovers"] == [old["manifest"]["objects"][0]["key"]]
        # The manifest went first: the backup is gone for every reader, its object is an incomplete run now.
        info = assert_ok(run_module("watchkeeper.ops.backup_info", {"job": job, "destination": dest}))
        assert old["backup_id"] not in [b["backup_id"] for b in info["backups"]]
        assert old["backup_id"] in info["incomplete"]
    finally:
        _chattr("-i", main)
    res = assert_ok(purge(job, [dest], {"keep_last": 1}, tmp_path / "state", later, incomplete_grace="1h"))
    assert res["backups"]["nas"]["incomplete_removed"] == 1
    assert not [k for k in store.listing() if old["backup_id"] in k]
