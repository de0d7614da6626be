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


def _nas(tmp_path):
    from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.local import LocalStorage
    root = tmp_path / "nas"
    root.mkdir(exist_ok=True)
    return {"type": "local", "name": "nas", "path": str(root)}, LocalStorage({"type": "local", "name": "nas", "path": str(root)})


def test_destination_record_newest_verification_wins(tmp_path):
    spec, nas = _nas(tmp_path)
    where = verified.write_destination(nas, "app-db", BID, {"verified_at": "2026-03-02T00:00:00Z", "mode": "verify"})
    assert where.endswith("_ops_state/app-db/verified/%s.json" % BID)
    verified.write_destination(nas, "app-db", BID, {"verified_at": "2026-03-01T00:00:00Z", "mode": "late"})
    assert verified.read_destination(nas, "app-db")[BID]["mode"] == "verify"  # an older proof never replaces a newer
    verified.write_destination(nas, "app-db", BID, {"verified_at": "2026-03-03T00:00:00Z", "mode": "restore"})
    assert verified.read_destination(nas, "app-db")[BID]["mode"] == "restore"
    assert [o.key for o in nas.list("app-db/")] == []  # nothing under the job's own keys


def test_read_union_of_local_and_destination_records(tmp_path):
    spec, nas = _nas(tmp_path)
    other = "20260302T023000Z-0000abce"
    verified.write(str(tmp_path / "ctrl-b"), "app-db", BID, {"verified_at": "2026-03-01T03:00:00Z"})
    verified.write_destination(nas, "app-db", other, {"verified_at": "2026-03-02T03:00:00Z", "destination": "nas"})
    union = verified.read_union(str(tmp_path / "ctrl-b"), "app-db", [spec], {"shared_state": "destination"})
    assert sorted(union) == [BID, other]
    assert sorted(verified.read_union(str(tmp_path / "ctrl-b"), "app-db", [spec], {"shared_state": "local"})) == [BID]
    errors = {}
    down = {"type": "local", "name": "gone", "path": str(tmp_path / "missing")}
    assert sorted(verified.read_union(str(tmp_path / "ctrl-b"), "app-db", [down, spec], {}, errors=errors)) == [BID, other]
    assert list(errors) == ["gone"]


def test_record_writes_locally_and_to_the_destination_verified_from(tmp_path):
    spec, nas = _nas(tmp_path)
    params = {"ops_state": str(tmp_path / "ctrl-a"), "destinations": [spec], "shared_state": "destination"}
    path, remote = verified.record(params, "app-db", BID, {"verified_at": "2026-03-01T03:00:00Z", "destination": "nas"})
    assert os.path.exists(path) and remote.endswith("%s.json" % BID)
    assert BID in verified.read_destination(nas, "app-db")
    params["shared_state"] = "local"
    assert verified.record(params, "app-db", BID, {"verified_at": "2026-03-02T03:00:00Z", "destination": "nas"})[1] is None
