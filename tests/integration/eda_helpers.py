# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's rulebook under the real ``ansible-rulebook`` (Java + Drools), and Alertmanager's webhook
notifications as Alertmanager 0.25 (Debian 12's prometheus-alertmanager) posts them.

Used by tests/integration/test_fleet_eda.py and bench/incident.py."""

import datetime
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TESTS, "support"))

import ansible_run  # noqa: E402  pylint: disable=wrong-import-position

BIN = os.path.dirname(sys.executable)
RULEBOOK = "watchkeeper.ops.incident_response"
# Lines ansible-runner prints for the plays of the two playbooks the rulebook runs.
INCIDENT_PLAY = "PLAY [Open or update the incident of an alert]"
RESTART_PLAY = "PLAY [Restart the service host by host]"
RECAP = "PLAY RECAP"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def utc(stamp=None):
    """RFC 3339 with nanoseconds, as Go's time.Time marshals (what Alertmanager sends)."""
    stamp = stamp or datetime.datetime.now(datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def notification(alerts, receiver="eda", external_url="http://mon1:9093"):
    """Alertmanager's webhook body (version 4) for one group: ``alerts`` are dicts with status, labels,
    annotations, startsAt and (resolved) endsAt; the group is by alertname and instance, like roles/monitoring."""
    group = {"alertname": alerts[0]["labels"]["alertname"], "instance": alerts[0]["labels"].get("instance", "")}
    common = dict(set.intersection(*[set(a["labels"].items()) for a in alerts]))
    out = []
    for item in alerts:
        labels = item["labels"]
        fingerprint = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
        out.append({"status": item["status"], "labels": labels, "annotations": item.get("annotations", {}),
                    "startsAt": item["startsAt"], "endsAt": item.get("endsAt", "0001-01-01T00:00:00Z"),
                    "generatorURL": "http://mon1:9090/graph?g0.expr=up%7Bjob%3D%22toyapp%22%7D+%3D%3D+0&g0.tab=1",
                    "fingerprint": fingerprint})
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    key = "{}:{%s}" % ", ".join('%s="%s"' % (k, v) for k, v in sorted(group.items()))
    return {"receiver": receiver, "status": status, "alerts": out, "groupLabels": group, "commonLabels": common,
            "commonAnnotations": {}, "externalURL": external_url, "version": "4", "groupKey": key,
            "truncatedAlerts": 0}


def post(url, body, token=None, timeout=10):
    """POST a body (dict -> JSON, or raw text); returns (status, parsed JSON answer)."""
    data = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "Alertmanager/0.25.0"}
    if token:
        headers["Authorization"] = "Bearer %s" % token
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


class Rulebook(object):
    """``ansible-rulebook -r watchkeeper.ops.incident_response`` in its own process group, output in a file."""

    def __init__(self, work, inventory, ops_state, token="", env=None):
        self.work = work
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/alerts" % self.port
        self.token = token
        self.log_path = os.path.join(work, "rulebook.log")
        vars_path = os.path.join(work, "eda_vars.json")
        with open(vars_path, "w") as handle:
            json.dump({"eda_alertmanager_host": "127.0.0.1", "eda_alertmanager_port": self.port,
                       "eda_alertmanager_token": token, "emergency_ops_state": ops_state}, handle)
        self.argv = [os.path.join(BIN, "ansible-rulebook"), "-r", RULEBOOK, "-i", inventory, "--vars", vars_path, "-v"]
        self.env = ansible_run.ansible_env(dict({"ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_NOCOLOR": "1",
                                                 "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_PIPELINING": "1",
                                                 "ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(work, "cp")},
                                                **(env or {})))
        self.proc = None
        self._log = None

    def start(self, timeout=180):
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.argv, cwd=self.work, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("ansible-rulebook exited %s:\n%s" % (self.proc.returncode, self.log()[-4000:]))
            try:
                status, _answer = post(self.url, "{}", token=self.token, timeout=2)
                if status == 400:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError("the rulebook's webhook did not answer within %d s:\n%s" % (timeout, self.log()[-4000:]))

    def log(self):
        with open(self.log_path, errors="replace") as handle:
            return handle.read()

    def count(self, text):
        return self.log().count(text)

    def wait_for(self, what, predicate, timeout=240, interval=0.5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                raise AssertionError("ansible-rulebook exited %s while waiting for %s:\n%s"
                                     % (self.proc.returncode, what, self.log()[-6000:]))
            time.sleep(interval)
        raise AssertionError("timed out waiting for %s:\n%s" % (what, self.log()[-6000:]))

    def playbooks_done(self):
        """Finished playbook runs (one PLAY RECAP each)."""
        return self.count(RECAP)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        if self._log:
            self._log.close()


def read_incident(ops_state, incident_id):
    path = os.path.join(ops_state, "incidents", "records", "%s.json" % incident_id)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def incident_ids(ops_state):
    folder = os.path.join(ops_state, "incidents", "records")
    return sorted(re.sub(r"\.json$", "", f) for f in os.listdir(folder)) if os.path.isdir(folder) else []
