"""Manifest keys, ids and validation."""

import datetime
import json
import os
import re

import pytest
from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ManifestError

UTC = datetime.timezone.utc
WHEN = datetime.datetime(2026, 11, 27, 1, 30, 5, tzinfo=UTC)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def good_manifest(**over):
    doc = {"schema": mf.SCHEMA, "schema_version": 1, "backup_id": "20261127T013005Z-0123abcd", "job": "app-db",
           "status": "complete", "created_at": "2026-11-27T01:30:05Z", "completed_at": "2026-11-27T01:31:00Z",
           "source": {"kind": "postgres"}, "sizes": {}, "compression": {}, "encryption": {"mode": "none"},
           "objects": [{"role": "dump", "key": "k", "stored_bytes": 1, "sha256": "a" * 64}]}
    doc.update(over)
    return doc


def test_keys_follow_the_documented_layout():
    backup_id = mf.new_backup_id(WHEN)
    assert re.match(r"^20261127T013005Z-[0-9a-f]{8}$", backup_id)
    assert mf.manifest_key("app-db", backup_id) == "app-db/2026/11/27/%s.manifest.json" % backup_id
    assert mf.object_key("app-db", backup_id, "dump", ".pgdump.zst.gpg") == "app-db/2026/11/27/%s.pgdump.zst.gpg" % backup_id
    assert mf.object_key("app-db", backup_id, "globals", ".sql.zst") == "app-db/2026/11/27/%s.globals.sql.zst" % backup_id
    assert mf.pack_key("up", "ab" + "0" * 30, ".tar.zst") == "up/packs/ab/ab%s.tar.zst" % ("0" * 30)
    assert mf.parse_manifest_key("app-db", mf.manifest_key("app-db", backup_id)) == backup_id
    assert mf.parse_manifest_key("app", mf.manifest_key("app-db", backup_id)) is None
    assert mf.backup_time(backup_id) == WHEN


@given(st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31), timezones=st.just(UTC)),
       st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31), timezones=st.just(UTC)))
def test_ids_sort_like_their_times(a, b):
    ida, idb = mf.new_backup_id(a), mf.new_backup_id(b)
    if a.replace(microsecond=0) < b.replace(microsecond=0):
        assert ida < idb and mf.manifest_key("j", ida) < mf.manifest_key("j", idb)


@pytest.mark.parametrize("job", ["app-db", "a", "A.b_c-1", "x" * 64])
def test_valid_job_names(job):
    assert mf.check_job_name(job) == job


@pytest.mark.parametrize("job", ["", "-x", "a/b", "a b", "../x", "x" * 65, None])
def test_invalid_job_names(job):
    with pytest.raises(ManifestError):
        mf.check_job_name(job)


def test_roundtrip_and_validation():
    doc = good_manifest()
    assert mf.loads(mf.dumps(doc)) == doc


@pytest.mark.parametrize("change,problem", [
    ({"schema": "other"}, "schema is"),
    ({"schema_version": 99}, "newer than"),
    ({"status": "running"}, "status is"),
    ({"backup_id": "nope"}, "bad backup_id"),
    ({"objects": []}, "non-empty"),
    ({"objects": [{"role": "dump", "key": "k", "stored_bytes": 1, "sha256": "xyz"}]}, "SHA-256"),
    ({"objects": [{"role": "dump", "key": "k"}]}, "lacks stored_bytes"),
    ({"files": {"packs": ["p/aa/x.tar.zst"]}}, "files.packs[0] needs a key"),
    ({"files": {"packs": [{"key": "p/aa/x", "sha256": "no"}]}}, "files.packs[0] needs a key"),
    ({"files": {"packs": {"key": "p"}}}, "files.packs must be a list"),
])
def test_validation_names_the_problem(change, problem):
    with pytest.raises(ManifestError) as err:
        mf.loads(json.dumps(good_manifest(**change)))
    assert problem in str(err.value)


def test_missing_fields_and_bad_json():
    doc = good_manifest()
    del doc["objects"]
    assert mf.validate(doc) == ["missing field objects"]
    with pytest.raises(ManifestError, match="not valid JSON"):
        mf.loads(b"{not json")


def test_collection_version_matches_galaxy_yml():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        version = re.search(r"^version:\s*(\S+)", handle.read(), re.M).group(1)
    assert mf.COLLECTION_VERSION == version
