"""The backup run history: records built from results and errors, written atomically, read back by period."""

import datetime
import json
import os

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils import run_history as rh
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError, ManifestError

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 14, 1, 30, tzinfo=UTC)
BID = "20261114T013000Z-3f9a1c2b"


def dest(name, status, error=None):
    return {"name": name, "type": "local", "location": "/mnt/" + name, "status": status, "error": error,
            "step": "upload" if error else None, "key": "k", "manifest_key": "m", "confirmed": [{"sha256": "x"}]}


@given(st.lists(st.sampled_from(["ok", "failed"]), max_size=6))
@settings(max_examples=200)
def test_status_is_ok_only_when_every_destination_is(statuses):
    result = {"status": "ok" if statuses and all(s == "ok" for s in statuses) else "failed",
              "destinations": [dest("d%d" % i, s) for i, s in enumerate(statuses)]}
    expected = "ok" if statuses and all(s == "ok" for s in statuses) else ("partial" if "ok" in statuses else "failed")
    assert rh.run_status(result) == expected


def test_record_keeps_outcomes_never_parameters_and_redacts():
    result = {"job": "app-db", "backup_id": BID, "status": "failed", "sha256": None, "sizes": {"raw_bytes": 10, "x": "y"},
              "destinations": [dest("nas", "ok"), dest("s3", "failed", "denied for key AKIA-SECRET")],
              "manifest": {"big": "document"}, "timings": {"total_s": 3}}
    error = ConfigError("cannot upload with AKIA-SECRET", step="upload", destination="s3")
    doc = rh.build_record("app-db", BID, T0, T0 + datetime.timedelta(seconds=42), 42.0, result, error,
                          redact=lambda text: text.replace("AKIA-SECRET", "********"))
    assert doc["status"] == "partial" and doc["step"] == "upload"
    assert doc["msg"] == "step upload, destination s3: cannot upload with ********"
    assert doc["destinations"][1] == {"name": "s3", "type": "local", "location": "/mnt/s3", "status": "failed",
                                      "error": "denied for key ********", "step": "upload"}
    assert doc["sizes"] == {"raw_bytes": 10} and "manifest" not in doc and "AKIA-SECRET" not in json.dumps(doc)
    assert (doc["started"], doc["finished"], doc["duration_s"]) == ("2026-11-14T01:30:00Z", "2026-11-14T01:30:42Z", 42.0)


def test_error_before_any_destination_is_failed():
    doc = rh.build_record("app-db", BID, T0, T0, -1, None, ConfigError("bad", step="configure"))
    assert (doc["status"], doc["step"], doc["destinations"], doc["duration_s"]) == ("failed", "configure", [], 0.0)


def test_write_is_atomic_and_read_back_by_period(tmp_path):
    ops = str(tmp_path)
    paths = []
    for day in (1, 14, 30):
        when = T0.replace(day=day)
        bid = "%s-0000000%d" % (when.strftime("%Y%m%dT%H%M%SZ"), day % 10)
        paths.append(rh.write_record(ops, rh.build_record("app-db", bid, when, when, 1, {"status": "ok", "destinations": [
            dest("nas", "ok")]})))
    directory = os.path.join(ops, "history", "backup", "app-db")
    assert sorted(os.listdir(directory)) == sorted(os.path.basename(p) for p in paths)  # no temporary file left
    assert oct(os.stat(paths[0]).st_mode & 0o777) == "0o640"
    with open(os.path.join(directory, "20261120T000000Z-deadbeef.json"), "w") as handle:
        handle.write("{not json")
    got = rh.read_runs(ops, "app-db", T0.replace(day=2), T0.replace(day=30))
    assert [(os.path.basename(p), d and d["status"]) for p, d in got] == [
        (os.path.basename(paths[1]), "ok"), ("20261120T000000Z-deadbeef.json", None)]
    seen = []
    assert len(rh.read_runs(ops, "app-db", reader=lambda p: seen.append(p) or open(p, "rb").read())) == 4 and len(seen) == 4
    assert rh.jobs(ops) == ["app-db"] and rh.read_runs(ops, "other") == []


def test_bad_job_or_id_is_refused(tmp_path):
    with pytest.raises(ManifestError):
        rh.write_record(str(tmp_path), rh.build_record("../etc", BID, T0, T0, 0))
    with pytest.raises(ValueError):
        rh.write_record(str(tmp_path), rh.build_record("app-db", "nope", T0, T0, 0))


class FakeModule(object):
    def __init__(self, secrets=()):
        self.no_log_values = set(secrets)
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


def test_record_run_makes_an_id_redacts_and_only_warns(tmp_path):
    module = FakeModule(["hunter2"])
    path = rh.record_run(module, str(tmp_path), "app-db", (T0, 0.0), error=ConfigError("password hunter2 refused"))
    with open(path) as handle:
        doc = json.load(handle)
    assert doc["status"] == "failed" and doc["backup_id"].startswith("20261114T013000Z-") and "hunter2" not in doc["msg"]
    assert module.warnings == []
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    assert rh.record_run(module, str(blocker), "app-db", (T0, 0.0), result={"backup_id": BID}) is None
    assert len(module.warnings) == 1 and "run history record of job app-db was not written" in module.warnings[0]
