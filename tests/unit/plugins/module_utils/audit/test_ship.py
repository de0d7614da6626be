"""Shipping to a directory through the storage interface: sealed files only, in order, once; conflicts refused."""

import os

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import ship
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.sign import HmacSigner, Verifier
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.verify import verify
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError

from trailkit import KEY  # pylint: disable=import-error


def shipped_files(root):
    out = []
    for dirpath, _dirs, files in os.walk(root):
        out.extend(os.path.relpath(os.path.join(dirpath, f), root) for f in files)
    return sorted(out)


def test_ships_sealed_files_once_and_verifies(trail, tmp_path):
    dest = str(tmp_path / "ops_state")
    storage = ship.storage_for(directory=dest)
    first = ship.ship(trail.spool, storage, "audit")
    assert first["shipped"][0] == "chain.json" and len(first["shipped"]) == 1 + 3 * 3
    assert all("000000000016" not in name for name in shipped_files(dest)), "the open segment stays home"
    assert ship.ship(trail.spool, storage, "audit")["shipped"] == [], "nothing twice"
    result = verify(storage, "audit", Verifier([KEY]))
    assert result["ok"] and result["records"] == 15 and result["chains"][0]["unsealed_records"] == 0


def test_backlog_after_a_new_seal(trail, tmp_path):
    storage = ship.storage_for(directory=str(tmp_path / "d"))
    ship.ship(trail.spool, storage, "audit")
    trail.spool.open()
    trail.spool.seal(HmacSigner(KEY), "run_end")
    assert ship.ship(trail.spool, storage, "audit")["shipped"] == [
        "segments/000000000016.jsonl", "checkpoints/000000000017.json.sig", "checkpoints/000000000017.json"]
    trail.spool.close()


def test_same_bytes_already_there_count_as_shipped_other_bytes_refused(trail, tmp_path):
    dest = tmp_path / "d"
    storage = ship.storage_for(directory=str(dest))
    ship.ship(trail.spool, storage, "audit")
    os.unlink(os.path.join(trail.root, "shipped", os.listdir(os.path.join(trail.root, "shipped"))[0]))
    assert len(ship.ship(trail.spool, storage, "audit")["shipped"]) == 10, "a lost confirmation is re-checked, not re-written"
    os.unlink(os.path.join(trail.root, "shipped", os.listdir(os.path.join(trail.root, "shipped"))[0]))
    target = dest / "audit" / trail.chain / "segments" / "000000000006.jsonl"
    target.write_bytes(b"forged\n")
    with pytest.raises(StorageError, match="refusing to overwrite"):
        ship.ship(trail.spool, storage, "audit")


def test_ship_quietly_reports_instead_of_raising(trail, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")

    def factory():
        return ship.storage_for(spec={"type": "local", "path": str(blocker / "sub")})

    outcome = ship.ship_quietly(trail.spool, factory, "audit")
    assert outcome["shipped"] == [] and outcome["error"]
