"""Writing a drill's files: atomic directory publish, latest.json, bucket-style keys through Storage."""

import datetime
import hashlib
import json
import os

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.report import drill, store
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

import samples

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def rendered(token="0a1b2c3d", results=None):
    results = results or [samples.result("app-db"), samples.result("a/b <c>", kind="sqlite"), samples.failed_result("uploads")]
    doc = drill.build_report(results, {}, "alice", None, NOW, token, "DR drill")
    return doc, store.render_files(doc)


def test_runbook_file_names_are_safe_and_unique():
    jobs = [{"id": "app-db", "runbook": {"x": 1}}, {"id": "../../etc/passwd", "runbook": {"x": 1}}, {"id": "App-DB", "runbook": {"x": 1}},
            {"id": "app-db#2", "runbook": {"x": 1}}, {"id": "none", "runbook": None}]
    assert store.runbook_paths(jobs) == {"app-db": "runbooks/app-db.md", "../../etc/passwd": "runbooks/_.._etc_passwd.md",
                                         "App-DB": "runbooks/App-DB-2.md", "app-db#2": "runbooks/app-db_2.md"}


def test_render_lists_every_file_with_its_sha256_and_puts_the_json_last():
    doc, files = rendered()
    names = [f[0] for f in files]
    assert names == ["runbooks/app-db.md", "runbooks/a_b__c_.md", "report.html", "report.json"]
    for name, data in files[:-1]:
        assert doc["files"][name] == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    assert json.loads(files[-1][1].decode()) == json.loads(store.dumps(doc).decode())
    assert [j.get("runbook_file") for j in doc["jobs"]] == ["runbooks/app-db.md", "runbooks/a_b__c_.md", None]


def test_directory_publish_and_latest(tmp_path):
    doc, files = rendered()
    where = store.write_directory(str(tmp_path), doc["drill_id"], files, files[-1][1])
    base = tmp_path / "reports" / "dr_drill"
    final = base / doc["drill_id"]
    assert where["report.json"] == str(final / "report.json") and where["latest"] == str(base / "latest.json")
    assert sorted(os.listdir(base)) == [doc["drill_id"], "latest.json"]  # no partial folder or file left
    assert (final / "runbooks" / "app-db.md").read_text().startswith("# Restore runbook: app-db")
    assert (base / "latest.json").read_bytes() == (final / "report.json").read_bytes()
    assert oct(os.stat(final).st_mode & 0o777) == "0o755"
    doc2, files2 = rendered("99999999")
    store.write_directory(str(tmp_path), doc2["drill_id"], files2, files2[-1][1])
    assert json.loads((base / "latest.json").read_text())["drill_id"] == doc2["drill_id"]
    with pytest.raises(StorageError, match="refusing to overwrite"):
        store.write_directory(str(tmp_path), doc["drill_id"], files, files[-1][1])


def test_directory_errors_are_storage_errors(tmp_path):
    doc, files = rendered()
    blocker = tmp_path / "ops_state"
    blocker.write_text("a file, not a directory")
    with pytest.raises(StorageError, match="cannot write the drill report") as info:
        store.write_directory(str(blocker), doc["drill_id"], files, files[-1][1])
    assert info.value.step == "write report"


def test_storage_keys_and_latest_overwrite(tmp_path):
    storage = open_storage({"name": "state", "type": "local", "path": str(tmp_path)})
    doc, files = rendered()
    where = store.write_storage(storage, doc["drill_id"], files, files[-1][1])
    assert where["report.html"] == str(tmp_path / "reports" / "dr_drill" / doc["drill_id"] / "report.html")
    doc2, files2 = rendered("99999999")
    store.write_storage(storage, doc2["drill_id"], files2, files2[-1][1])
    latest = json.loads((tmp_path / "reports" / "dr_drill" / "latest.json").read_text())
    assert latest["drill_id"] == doc2["drill_id"]
    with pytest.raises(StorageError):
        store.write_storage(storage, doc["drill_id"], files, files[-1][1])  # never overwrites a drill's files


def test_planned_paths_for_check_mode(tmp_path):
    doc, files = rendered()
    where = store.planned(doc["drill_id"], files, ops_state="/var/lib/watchkeeper")
    assert where["report.json"] == "/var/lib/watchkeeper/reports/dr_drill/%s/report.json" % doc["drill_id"]
    assert where["latest"] == "/var/lib/watchkeeper/reports/dr_drill/latest.json"
