# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The last-sweep record the dashboards read: per-destination summary, merge, unreadable files."""

import os

from ansible_collections.watchkeeper.ops.plugins.module_utils import integrity_record as rec


def test_a_sweep_summary_per_destination():
    good = {"status": "ok", "backups": [{"backup_id": "a", "verdict": "good"}, {"backup_id": "b", "verdict": "skipped"}]}
    bad = {"status": "ok", "backups": [{"backup_id": "a", "verdict": "bad", "problems": ["p1", "p2", "p3", "p4"]}]}
    failed = {"status": "failed", "step": "list", "error": "destination s3: timed out", "backups": []}
    assert rec.sweep_summary(good) == {"status": "passed", "checked": 1, "bad": [], "bad_count": 0, "reason": None, "step": None}
    assert rec.sweep_summary(bad)["status"] == "damaged" and rec.sweep_summary(bad)["bad"] == [{"backup_id": "a", "problems": ["p1", "p2", "p3"]}]
    assert rec.sweep_summary(failed) == {"status": "failed", "checked": 0, "bad": [], "bad_count": 0,
                                         "reason": "destination s3: timed out", "step": "list"}


def test_a_sweep_of_one_destination_keeps_the_others(tmp_path):
    ops = str(tmp_path)
    rec.record_sweep(ops, "app", "2026-12-01T00:00:00Z", {"nas": {"status": "damaged"}, "s3": {"status": "passed"}})
    rec.record_sweep(ops, "app", "2026-12-02T00:00:00Z", {"nas": {"status": "passed"}})
    doc = rec.last_sweep(ops, "app")
    assert doc["destinations"]["nas"] == {"status": "passed", "checked_at": "2026-12-02T00:00:00Z"}
    assert doc["destinations"]["s3"] == {"status": "passed", "checked_at": "2026-12-01T00:00:00Z"}
    assert oct(os.stat(rec.sweep_path(ops, "app")).st_mode & 0o777) == "0o600"


def test_a_missing_or_foreign_record_reads_as_none(tmp_path):
    ops = str(tmp_path)
    assert rec.last_sweep(ops, "app") is None
    os.makedirs(os.path.join(ops, "integrity"))
    with open(rec.sweep_path(ops, "app"), "w") as handle:
        handle.write('{"schema": "something/else", "destinations": {}}')
    assert rec.last_sweep(ops, "app") is None
    with open(rec.sweep_path(ops, "app"), "w") as handle:
        handle.write("{not json")
    assert rec.last_sweep(ops, "app") is None
