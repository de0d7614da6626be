# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role watchkeeper.ops.emergency on its own, in one ansible-playbook run on local hosts: the host-count guard,
the health gate over real HTTP (an answer of 500, then 200 after a delay) and with a command, and the timeline task
when the incident moved on already or the store cannot be written (the runbook goes on, with a warning)."""

import http.server
import json
import os
import sys
import threading
import time

from helpers import run_module, run_playbook


class Health(object):
    """``/ok`` answers 200, ``/broken`` 500, ``/slow`` 503 until ``ready_after`` seconds after its first request,
    then 200."""

    def __init__(self, ready_after=3.0):
        first = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                code = {"/ok": 200, "/broken": 500}.get(self.path)
                if self.path == "/slow":
                    first.append(time.monotonic())
                    code = 200 if first[-1] - first[0] >= ready_after else 503
                self.send_response(code or 404)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def include(tasks_from, name, **variables):
    return {"name": name, "ansible.builtin.include_role": {"name": "watchkeeper.ops.emergency", "tasks_from": tasks_from},
            "vars": variables}


def show(name):
    return {"name": "show " + name, "ansible.builtin.debug": {"var": "emergency_health_result"}}


def by_task(data):
    results = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            for host, res in task["hosts"].items():
                name = task["task"]["name"].replace("watchkeeper.ops.emergency : ", "")
                results.setdefault((name, host), []).append(res)
    return results


def test_guard_health_gate_and_timeline_fallbacks(tmp_path):
    ops = str(tmp_path / "ops")
    opened = run_module("watchkeeper.ops.incident", {"id": "inc-role", "state": "resolved", "title": "t",
                                                     "severity": "SEV2", "ops_state": ops})
    assert opened.get("failed"), "resolving an unknown incident must fail"
    run_module("watchkeeper.ops.incident", {"id": "inc-role", "state": "open", "title": "API down", "severity": "SEV2",
                                            "ops_state": ops})
    assert run_module("watchkeeper.ops.incident", {"id": "inc-role", "state": "resolved", "ops_state": ops})["changed"]
    health = Health()
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[pair]\nh1\nh2\n[single]\nh3\n[all:vars]\nansible_connection=local\n"
                         "ansible_python_interpreter=%s\n" % sys.executable)
    playbook = [
        {"hosts": "single", "gather_facts": False, "vars": {"emergency_runbook": "x.yml", "emergency_ops_state": ops},
         "tasks": [
             include("guard", "guard alone", emergency_max_hosts=1),
             include("health", "broken", emergency_health_url=health.base + "/broken", emergency_health_timeout=3,
                     emergency_health_interval=1, emergency_health_must_pass=False, emergency_health_phase="before"),
             show("broken"),
             include("health", "slow", emergency_health_url=health.base + "/slow", emergency_health_timeout=30,
                     emergency_health_interval=1),
             show("slow"),
             include("health", "command", emergency_health_command="echo nope >&2; exit 3", emergency_health_timeout=2,
                     emergency_health_interval=1, emergency_health_must_pass=False),
             show("command"),
             include("timeline", "late entry", emergency_incident_id="inc-role", emergency_incident_state="mitigated",
                     emergency_timeline_text="restart done", emergency_timeline_data={"seconds": 4}),
             include("timeline", "no store", emergency_incident_id="inc-role",
                     emergency_ops_state="/proc/wk-cannot-write", emergency_timeline_text="lost"),
             include("health", "must pass", emergency_health_url=health.base + "/broken", emergency_health_timeout=2,
                     emergency_health_interval=1),
             {"name": "never reached", "ansible.builtin.debug": {"msg": "after the gate"}}]},
    ]
    path = tmp_path / "play.yml"
    path.write_text(json.dumps(playbook))
    try:
        code, data, stdout, stderr = run_playbook(str(path), inventory=str(inventory))
    finally:
        health.close()
    assert code != 0 and data, stdout[-3000:] + stderr[-2000:]
    results = by_task(data)
    shown = [r["emergency_health_result"] for r in
             results[("show broken", "h3")] + results[("show slow", "h3")] + results[("show command", "h3")]]
    assert shown[0]["healthy"] is False and shown[0]["status"] == 500 and shown[0]["phase"] == "before"
    assert "answered 500" in shown[0]["detail"]
    assert shown[1]["healthy"] is True and shown[1]["status"] == 200 and shown[1]["seconds"] >= 2
    assert shown[2]["healthy"] is False and shown[2]["status"] == 3 and "exited 3: nope" in shown[2]["detail"]
    failed = results[("Fail the host when it is not healthy", "h3")]
    assert [r.get("failed", False) for r in failed if not r.get("skipped")] == [True]
    assert "h3 is not healthy after" in [r for r in failed if r.get("failed")][0]["msg"]
    assert ("never reached", "h3") not in results
    warn_task = "Warn that the incident record could not be written (the emergency action goes on)"
    warnings = [r["msg"] for r in results.get((warn_task, "h3"), []) if not r.get("skipped")]
    assert len(warnings) == 1 and '"lost" could not be added to incident inc-role' in warnings[0]

    doc = run_module("watchkeeper.ops.incident_info", {"id": "inc-role", "ops_state": ops})["incident"]
    assert doc["status"] == "resolved"
    entries = [(e["source"], e["author"], e["text"], e["data"]) for e in doc["timeline"] if e["source"] == "runbook"]
    assert entries == [("runbook", "x.yml", "restart done", {"seconds": 4, "host": "h3"})]
    assert os.path.isdir(ops)

    # A failed run_once task ends the whole run: the guard gets its own.
    path.write_text(json.dumps([{"hosts": "pair", "gather_facts": False, "tasks": [
        include("guard", "guard", emergency_runbook="x.yml", emergency_max_hosts=1),
        {"name": "never reached", "ansible.builtin.debug": {"msg": "acted"}}]}]))
    code, data, stdout, _stderr = run_playbook(str(path), inventory=str(inventory))
    results = by_task(data)
    guard = results[("Refuse to act on more hosts than the runbook allows", "h1")][0]
    assert code != 0 and guard["failed"] and "refuses to act on 2 hosts (h1, h2)" in guard["msg"]
    assert "allow_more_hosts" in guard["msg"] and ("never reached", "h2") not in results
