"""Verification records: written atomically per backup, read back per job, junk ignored."""

import json
import os

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils import verified

BID = "20260301T023000Z-0000abcd"


def test_write_then_read(tmp_path):
    path = verified.write(str(tmp_path), "app-db", BID, {"verified_at": "2026-03-01T03:00:00Z", "mode": "verify"})
    assert path == str(tmp_path / "verified" / "app-db" / ("%s.json" % BID))
    assert verified.read(str(tmp_path), "app-db") == {BID: {
        "backup_id": BID, "job": "app-db", "verified_at": "2026-03-01T03:00:00Z", "mode": "verify"}}
    assert [n for n in os.listdir(os.path.dirname(path)) if ".tmp-" in n] == []


def test_read_skips_junk_and_mismatched_records(tmp_path):
    directory = tmp_path / "verified" / "app-db"
    directory.mkdir(parents=True)
    (directory / "notes.txt").write_text("hello")
    (directory / ("%s.json" % BID)).write_text("{broken")
    other = "20260302T023000Z-0000abce"
    (directory / ("%s.json" % other)).write_text(json.dumps({"backup_id": BID}))
    assert verified.read(str(tmp_path), "app-db") == {}
    assert verified.read(str(tmp_path), "never-verified") == {}


@pytest.mark.parametrize("job,backup_id", [("../etc", BID), ("app-db", "../../x"), ("app-db", "latest")])
def test_refuses_paths_that_are_not_ids(tmp_path, job, backup_id):
    with pytest.raises(Exception):
        verified.write(str(tmp_path), job, backup_id, {})
    assert not (tmp_path / "verified").exists() or os.listdir(str(tmp_path / "verified")) == []
