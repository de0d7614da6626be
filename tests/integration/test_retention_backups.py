# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 4 acceptance 2: ``retention_purge`` with ``target: backups`` applies a policy in local, S3 (moto) and GCS
(emulator) destinations; check mode plans the same and deletes nothing; per-destination overrides; an unreachable
destination fails the task while the others are purged.

One real backup per destination is made by ``watchkeeper.ops.backup`` (SQLite source) and cloned through the
storage API under 60 daily ids; what stays is checked out of band (directory walk, boto3, the GCS client).
"""

import datetime

from helpers import Store, assert_failed, assert_ok, closed_port, gcs_dest, local_dest, new_job, s3_dest
from retention_helpers import UTC, clone, ids_of, purge, real_backup, sqlite_file

END = datetime.datetime(2027, 3, 31, 2, 30, tzinfo=UTC)
PURGE_AT = END + datetime.timedelta(hours=6)
DAYS = [END - datetime.timedelta(days=i) for i in range(60)]  # 2027-01-31 .. 2027-03-31, one backup a day
# keep_daily 7: 03-25..03-31; keep_weekly 4: newest of ISO weeks 13 (03-31), 12 (03-28), 11 (03-21), 10 (03-14);
# keep_monthly 3: newest of March (03-31), February (02-28), January (01-31). Worked out on a calendar.
EXPECTED_DATES = ["2027-03-31", "2027-03-30", "2027-03-29", "2027-03-28", "2027-03-27", "2027-03-26", "2027-03-25",
                  "2027-03-21", "2027-03-14", "2027-02-28", "2027-01-31"]
POLICY = {"keep_daily": 7, "keep_weekly": 4, "keep_monthly": 3}


def seed(tmp_path, scratch, dests, job, days):
    """A real backup on the newest day in every destination, then clones for the other days. ``{date: id}``."""
    first = real_backup(job, {"type": "sqlite", "path": sqlite_file(tmp_path / "app.sqlite")}, dests, tmp_path / "state",
                        scratch, days[0])
    ids = {days[0].strftime("%Y-%m-%d"): first["backup_id"]}
    for when in days[1:]:
        new_id = None
        for spec in dests:
            new_id = clone(spec, job, first["manifest"], when, backup_id=new_id)
        ids[when.strftime("%Y-%m-%d")] = new_id
    return ids


def listing_ids(store, prefix=""):
    return ids_of(k[len(prefix):] for k in store.listing())


def test_policy_leaves_exactly_the_expected_backups_everywhere_and_check_mode_deletes_nothing(
        tmp_path, moto, s3_bucket, gcs, gcs_bucket, scratch):
    job = new_job("keep")
    dests = [local_dest(tmp_path / "nas", name="nas"), s3_dest(moto, s3_bucket[0], prefix="prod"),
             gcs_dest(gcs.info["endpoint"], gcs_bucket[0])]
    stores = {"nas": Store.local(tmp_path / "nas"), "s3": Store.s3(s3_bucket), "gcs": Store.gcs(gcs_bucket)}
    prefixes = {"nas": "", "s3": "prod/", "gcs": ""}
    ids = seed(tmp_path, scratch, dests, job, DAYS)
    expected = sorted(ids[d] for d in EXPECTED_DATES)
    removed = sorted(set(ids.values()) - set(expected))
    assert len(expected) == 11 and len(removed) == 49
    before = dict((n, s.listing()) for n, s in stores.items())
    for name, store in stores.items():
        assert listing_ids(store, prefixes[name]) == sorted(ids.values()), name

    plan = assert_ok(purge(job, dests, POLICY, tmp_path / "state", PURGE_AT, check_mode=True))
    assert plan["changed"] is True and plan["removed"] == 0
    for name, store in stores.items():
        assert store.listing() == before[name], "check mode changed %s" % name
        assert sorted(plan["plan"][name]["keep"]) == expected, name
        assert sorted(plan["plan"][name]["remove"]) == removed, name
        out = plan["backups"][name]
        assert out["status"] == "ok" and out["to_remove"] == 49 and out["kept"] == 11
        size = sum(v for k, v in before[name].items() if any(i in k for i in removed))
        assert plan["plan"][name]["bytes_to_free"] == size > 0, name
        verdicts = dict((b["backup_id"], b) for b in out["backups"])
        assert verdicts[ids["2027-03-14"]]["reasons"] == ["keep_weekly: newest of 2027-W10 (4 of 4)"]
        assert verdicts[ids["2027-01-31"]]["reasons"] == ["keep_monthly: newest of 2027-01 (3 of 3)"]
        assert verdicts[ids["2027-03-31"]]["reasons"][0].startswith("safety: newest complete backup")
        assert verdicts[ids["2027-03-13"]]["verdict"] == "remove"
        assert verdicts[ids["2027-03-13"]]["reasons"][0].startswith("no rule keeps it")

    done = assert_ok(purge(job, dests, POLICY, tmp_path / "state", PURGE_AT))
    assert done["changed"] is True and done["removed"] == 3 * 49 and done["failed_destinations"] == []
    for name, store in stores.items():
        assert listing_ids(store, prefixes[name]) == expected, name
        after = store.listing()
        gone = set(before[name]) - set(after)
        assert gone and all(any(i in k for i in removed) for k in gone), name
        assert not any(any(i in k for i in removed) for k in after), "objects of removed backups left in %s" % name
        assert done["backups"][name]["bytes_freed"] == sum(before[name][k] for k in gone)

    again = assert_ok(purge(job, dests, POLICY, tmp_path / "state", PURGE_AT))
    assert again["changed"] is False and again["removed"] == 0 and again["kept"] == 3 * 11


def test_destination_override_and_an_unreachable_destination(tmp_path, scratch):
    job = new_job("over")
    days = DAYS[:12]
    dests = [local_dest(tmp_path / "nas", name="nas"), local_dest(tmp_path / "nas2", name="nas2")]
    ids = seed(tmp_path, scratch, dests, job, days)
    newest = [ids[d.strftime("%Y-%m-%d")] for d in days]
    down = {"name": "offsite", "type": "s3", "bucket": "wk-down", "endpoint_url": "http://127.0.0.1:%d" % closed_port(),
            "access_key": "testing", "secret_key": "testing-secret", "region": "us-east-1", "timeout": 3, "retries": 0}
    failed = assert_failed(purge(job, dests + [down], {"keep_daily": 3}, tmp_path / "state", PURGE_AT,
                                 destination_policies={"nas2": {"keep_daily": 5}}))
    assert "destination offsite" in failed["msg"] and "unreachable" in failed["msg"]
    assert "nas" not in failed["msg"].replace("offsite", "")
    assert failed["failed_destinations"] == ["offsite"] and failed["backups"]["offsite"]["status"] == "failed"
    assert ids_of(Store.local(tmp_path / "nas").listing()) == sorted(newest[:3])
    assert ids_of(Store.local(tmp_path / "nas2").listing()) == sorted(newest[:5])
    assert failed["backups"]["nas2"]["policy"].startswith("keep_daily: 5")
    assert failed["removed"] == 9 + 7

    bad = assert_failed(purge(job, dests, {"keep_daily": 3}, tmp_path / "state", PURGE_AT,
                              destination_policies={"cloud": {"keep_daily": 5}}))
    assert "destination_policies names cloud" in bad["msg"]
