# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dashboards' readers: Alertmanager answers of every shape, a destination that cannot be listed, health
snapshots recorded and read back, unreadable drill reports skipped."""

import http.server
import json
import os
import threading

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.dashboard import sources
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage


class _Canned(http.server.BaseHTTPRequestHandler):
    status, body = 200, b"[]"

    def do_GET(self):  # pylint: disable=invalid-name
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture()
def canned():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Canned)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def answer(status, body):
        _Canned.status, _Canned.body = status, body
        return "http://127.0.0.1:%d" % server.server_address[1]
    yield answer
    server.shutdown()
    server.server_close()


def test_alertmanager_answers(canned):
    body = [{"labels": {"alertname": "A", "severity": "critical", "instance": "db1"}, "annotations": {"summary": "s"},
             "startsAt": "2026-12-05T10:00:00.000Z", "fingerprint": "f1"}, "junk", {"labels": "not a dict"}]
    alerts, error = sources.alerts(canned(200, json.dumps(body).encode()))
    assert error is None and alerts[0] == {"name": "A", "severity": "critical", "instance": "db1", "since": "2026-12-05T10:00:00.000Z",
                                           "summary": "s", "fingerprint": "f1"}
    assert alerts[1]["name"] == "unnamed" and len(alerts) == 2
    assert sources.alerts(canned(500, b"oops"))[1].endswith("answered HTTP 500")
    assert "not a list" in sources.alerts(canned(200, b'{"a": 1}'))[1]
    assert "cannot be read" in sources.alerts(canned(200, b"<html>"))[1]
    assert sources.alerts("") == ([], None)


def test_a_destination_that_cannot_be_listed_is_unreachable_with_the_reason(tmp_path):
    out = sources.list_destination("app-db", {"name": "nas", "type": "local", "path": str(tmp_path / "missing")}, None)
    assert out["reachable"] is False and "does not exist" in out["reason"] and out["backups"] == []
    out = sources.list_destination("app-db", {"name": "s3", "type": "s3", "bucket": "b", "endpoint_url": "http://127.0.0.1:9",
                                              "retries": 0, "timeout": 2, "access_key": "k", "secret_key": "s"}, None)
    assert out["reachable"] is False and out["reason"]


def test_listings_keep_each_jobs_destination_order_with_buckets_and_directories_mixed(tmp_path):
    (tmp_path / "nas").mkdir()
    s3 = {"name": "s3", "type": "s3", "bucket": "b", "endpoint_url": "http://127.0.0.1:9", "retries": 0, "timeout": 2,
          "access_key": "k", "secret_key": "s"}
    nas = {"name": "nas", "type": "local", "path": str(tmp_path / "nas")}
    gone = {"name": "gone", "type": "local", "path": str(tmp_path / "missing")}
    jobs = [{"name": "a", "destinations": [s3, nas]}, {"name": "b", "destinations": [gone, s3, nas]}, {"name": "c"}]
    out = sources.list_backups(jobs, None)
    assert dict((job, [(d["name"], d["reachable"]) for d in rows]) for job, rows in out.items()) == {
        "a": [("s3", False), ("nas", True)], "b": [("gone", False), ("s3", False), ("nas", True)], "c": []}
    assert out["a"][1]["listing"] == "full" and out["a"][1]["count"] == 0  # a job without index entries: in full


def test_health_is_recorded_per_host_and_read_back_oldest_first(tmp_path):
    directory = str(tmp_path)
    health = {"host": {"cpu_percent": 12.5, "memory": {"percent": 40.0}, "mounts": [
        {"mount": "/", "used_percent": 50.0}, {"mount": "/data", "used_percent": 96.0}]}, "status": "critical"}
    assert sources.record_health(directory, {"db1": health, "bad": "not a dict", "web/../x": health}, 1000.0) == ["db1", "web/../x"]
    sources.record_health(directory, {"db1": dict(health, host=dict(health["host"], cpu_percent=20.0))}, 1300.0)
    read = sources.health(directory)
    assert sorted(read) == ["db1", "web_.._x"] and [p["cpu"] for p in read["db1"]] == [12.5, 20.0]
    assert read["db1"][-1]["disk"] == 96.0 and read["db1"][-1]["disk_mount"] == "/data"
    assert os.path.isdir(os.path.join(directory, "web_.._x"))


def test_drill_reports_newest_first_and_broken_ones_skipped(tmp_path):
    storage = open_storage({"type": "local", "name": "ops", "path": str(tmp_path), "verify_readback": False})
    for drill_id, finished in (("20261001T000000Z-aaaaaaaa", "2026-10-01T01:00:00Z"), ("20261101T000000Z-bbbbbbbb", "2026-11-01T01:00:00Z")):
        storage.put_bytes("reports/dr_drill/%s/report.json" % drill_id, json.dumps(
            {"drill_id": drill_id, "finished_at": finished, "files": {"runbooks/app-db.md": {}}}).encode())
        storage.put_bytes("reports/dr_drill/%s/runbooks/app-db.md" % drill_id, b"# " + drill_id.encode())
    storage.put_bytes("reports/dr_drill/20261201T000000Z-cccccccc/report.json", b"{broken")
    drills = sources.drills(storage)
    assert [d["drill_id"] for d in drills] == ["20261101T000000Z-bbbbbbbb", "20261001T000000Z-aaaaaaaa"]
    assert sources.runbooks(storage, drills[0]) == {"app-db": b"# 20261101T000000Z-bbbbbbbb"}
