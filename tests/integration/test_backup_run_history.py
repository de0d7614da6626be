# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every run of the backup module leaves its record in ``<ops_state>/history/backup/<job>/`` (issue 14, the
population the compliance report counts): a good run ``ok``, a run with one unreachable destination ``partial``,
a run with no reachable destination ``failed``, a run refused before it had a backup id ``failed`` with a new id.
Check mode writes no record; no secret reaches a record."""

import json
import os

from helpers import assert_failed, assert_ok, backup_args, closed_port, local_dest, new_job, public_key_encryption, run_module

SECRET = "sekrit-d2f0c9a4-never-in-a-record"
FIELDS = ("schema", "schema_version", "job", "backup_id", "status", "started", "finished", "duration_s", "destinations",
          "sizes", "sha256", "step", "msg")
DEST_FIELDS = ("name", "type", "location", "status", "error", "step")


def records(state, job):
    directory = state / "history" / "backup" / job
    if not directory.is_dir():
        return []
    out = []
    for name in sorted(os.listdir(str(directory))):
        text = (directory / name).read_text()
        assert SECRET not in text
        out.append((name, json.loads(text)))
    return out


def dead_s3(name="s3"):
    return {"name": name, "type": "s3", "bucket": "wk-history", "endpoint_url": "http://127.0.0.1:%d" % closed_port(),
            "access_key": "testing", "secret_key": SECRET, "region": "us-east-1", "retries": 0, "timeout": 2}


def source(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir(exist_ok=True)
    (tree / "a.txt").write_text("hello\n")
    return {"type": "files", "paths": [str(tree)]}


def test_ok_partial_and_failed_runs_each_leave_a_record(gpg_keys, tmp_path, scratch):
    job, state = new_job("hist"), tmp_path / "state"
    enc = public_key_encryption(gpg_keys)
    good = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        job, source(tmp_path), [local_dest(tmp_path / "nas")], enc, state, tmp_dir=scratch, shared_state="local")))
    partial = assert_failed(run_module("watchkeeper.ops.backup", backup_args(
        job, source(tmp_path), [local_dest(tmp_path / "nas"), dead_s3()], enc, state, tmp_dir=scratch, shared_state="local")))
    failed = assert_failed(run_module("watchkeeper.ops.backup", backup_args(
        job, source(tmp_path), [dead_s3()], enc, state, tmp_dir=scratch, shared_state="local")))
    found = records(state, job)
    assert len(found) == 3, [name for name, _doc in found]
    by_id = dict((doc["backup_id"], (name, doc)) for name, doc in found)
    for result, status in ((good, "ok"), (partial, "partial"), (failed, "failed")):
        name, doc = by_id[result["backup_id"]]
        assert doc["status"] == status and doc["job"] == job
        assert doc["schema"] == "watchkeeper.ops/backup-run" and doc["schema_version"] == 1
        assert name == "%s-%s.json" % (doc["started"].replace("-", "").replace(":", ""), doc["backup_id"])
        assert doc["started"] <= doc["finished"] and doc["duration_s"] >= 0
        assert [d["name"] for d in doc["destinations"]] == [d["name"] for d in result["destinations"]]
        assert [d["status"] for d in doc["destinations"]] == [d["status"] for d in result["destinations"]]
    assert by_id[good["backup_id"]][1]["msg"] is None and by_id[good["backup_id"]][1]["sha256"] == good["sha256"]
    s3 = by_id[partial["backup_id"]][1]["destinations"][1]
    assert s3["status"] == "failed" and s3["error"] and s3["location"].startswith("s3://wk-history")
    assert by_id[failed["backup_id"]][1]["step"] == failed["step"] and by_id[failed["backup_id"]][1]["msg"] == failed["msg"]
    for _name, doc in found:  # these fields and no others: never the module's parameters
        assert sorted(doc) == sorted(FIELDS) and all(sorted(d) == sorted(DEST_FIELDS) for d in doc["destinations"])


def test_a_run_refused_before_it_started_is_recorded_with_a_new_id(gpg_keys, tmp_path, scratch):
    job, state = new_job("hist"), tmp_path / "state"
    twice = [local_dest(tmp_path / "nas", name="same"), local_dest(tmp_path / "nas2", name="same")]
    result = assert_failed(run_module("watchkeeper.ops.backup", backup_args(
        job, source(tmp_path), twice, public_key_encryption(gpg_keys), state, tmp_dir=scratch)))
    assert "two destinations are named 'same'" in result["msg"]
    (name, doc), = records(state, job)
    assert doc["status"] == "failed" and doc["step"] == "configure" and doc["destinations"] == []
    assert "two destinations are named 'same'" in doc["msg"] and name.endswith("-%s.json" % doc["backup_id"])


def test_check_mode_leaves_no_record_and_unwritable_history_only_warns(gpg_keys, tmp_path, scratch):
    job, state = new_job("hist"), tmp_path / "state"
    enc = public_key_encryption(gpg_keys)
    assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        job, source(tmp_path), [local_dest(tmp_path / "nas")], enc, state, tmp_dir=scratch), check_mode=True))
    assert records(state, job) == []
    (state / "history" / "backup").mkdir(parents=True)
    (state / "history" / "backup" / job).write_text("a file where the job's directory should be")
    result = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        job, source(tmp_path), [local_dest(tmp_path / "nas")], enc, state, tmp_dir=scratch)))
    assert result["status"] == "ok"
    assert any("run history record of job %s was not written" % job in w for w in result.get("warnings", [])), result
