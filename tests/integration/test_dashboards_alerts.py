# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dashboards read the alerts firing in a real Alertmanager (Debian's prometheus-alertmanager on loopback):
firing alerts are listed and set the status, a silenced one is not, and an Alertmanager that cannot be read is a
warning that names it (the site is still written)."""

import datetime
import json
import os
import shutil
import subprocess
import urllib.request

import pytest

from eda_helpers import free_port
from helpers import assert_ok, run_module, wait_for

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
CONFIG = """route:
  receiver: "null"
receivers:
  - name: "null"
"""


def _iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _post(url, path, body):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def _ready(url):
    try:
        with urllib.request.urlopen(url + "/-/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory):
    if BINARY is None:
        pytest.skip("prometheus-alertmanager is not installed (scripts/setup.sh installs it)")
    base = str(tmp_path_factory.mktemp("alertmanager"))
    with open(os.path.join(base, "alertmanager.yml"), "w") as handle:
        handle.write(CONFIG)
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    with open(os.path.join(base, "alertmanager.log"), "w") as log:
        proc = subprocess.Popen([BINARY, "--config.file=%s" % os.path.join(base, "alertmanager.yml"),
                                 "--storage.path=%s" % os.path.join(base, "data"), "--web.listen-address=127.0.0.1:%d" % port,
                                 "--cluster.listen-address="], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: proc.poll() is not None or _ready(url), timeout=30, what="alertmanager ready")
        assert proc.poll() is None, open(os.path.join(base, "alertmanager.log")).read()[-2000:]
        now = datetime.datetime.now(datetime.timezone.utc)
        alert = {"startsAt": _iso(now - datetime.timedelta(minutes=5)), "endsAt": _iso(now + datetime.timedelta(hours=1))}
        _post(url, "/api/v2/alerts", [
            dict(alert, labels={"alertname": "WatchkeeperBackupStale", "severity": "critical", "instance": "db1"},
                 annotations={"summary": "job app-db has no backup newer than 26h"}),
            dict(alert, labels={"alertname": "HostDiskFillingUp", "severity": "warning", "instance": "web2"}),
            dict(alert, labels={"alertname": "SilencedDuringMaintenance", "severity": "critical", "instance": "db2"})])
        _post(url, "/api/v2/silences", {
            "matchers": [{"name": "alertname", "value": "SilencedDuringMaintenance", "isRegex": False, "isEqual": True}],
            "startsAt": _iso(now - datetime.timedelta(minutes=1)), "endsAt": _iso(now + datetime.timedelta(hours=1)),
            "createdBy": "test", "comment": "maintenance window"})
        wait_for(lambda: len(json.load(urllib.request.urlopen(url + "/api/v2/alerts", timeout=5))) == 3, timeout=30,
                 what="three alerts in Alertmanager")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _generate(tmp_path, url):
    dest = str(tmp_path / "site")
    result = assert_ok(run_module("watchkeeper.ops.ops_dashboard", {
        "dest": dest, "ops_state": str(tmp_path / "state"), "alertmanager_url": url, "cache_dir": ""}))
    with open(os.path.join(dest, "index.html")) as handle:
        return result, handle.read()


def test_firing_alerts_are_listed_and_set_the_status_a_silenced_one_is_not(alertmanager, tmp_path):
    result, index = _generate(tmp_path, alertmanager)
    doc = result["dashboard"]
    assert [(a["name"], a["severity"], a["level"], a["instance"]) for a in doc["alerts"]] == [
        ("WatchkeeperBackupStale", "critical", "critical", "db1"), ("HostDiskFillingUp", "warning", "warning", "web2")]
    assert doc["alerts_error"] is None and result["status"]["level"] == "critical"
    assert any(r.startswith("alert WatchkeeperBackupStale firing on db1 since ") and r.endswith(
        "(critical): job app-db has no backup newer than 26h") for r in result["status"]["reasons"])
    assert 'data-alert="WatchkeeperBackupStale"' in index and 'data-alert="HostDiskFillingUp"' in index
    assert "SilencedDuringMaintenance" not in index and "SilencedDuringMaintenance" not in json.dumps(doc)


def test_an_alertmanager_that_cannot_be_read_is_a_warning_and_the_site_is_still_written(tmp_path):
    url = "http://127.0.0.1:%d" % free_port()  # nothing listens there
    result, index = _generate(tmp_path, url)
    assert result["dashboard"]["alerts"] == [] and "cannot be read" in result["dashboard"]["alerts_error"]
    assert result["status"]["level"] == "warning" and result["dashboard"]["alerts_error"] in result["status"]["reasons"]
    assert 'data-field="alerts_error"' in index and url in index
