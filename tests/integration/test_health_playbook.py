"""playbooks/health.yml on localhost through real ansible-playbook: a snapshot per run in <ops_state>/health, the
summary in set_stats, and health_fail_on deciding when the play fails (an unreachable endpoint is critical)."""

import json
import os
import socket
import sys

from helpers import collections_path, run_playbook

PLAYBOOK = os.path.join(collections_path(), "ansible_collections", "watchkeeper", "ops", "playbooks", "health.yml")


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(tmp_path, extra):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    variables = dict({"watchkeeper_ops_state": str(tmp_path / "ops")}, **extra)
    return run_playbook(PLAYBOOK, inventory=str(inventory), env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"},
                        args=("-e", json.dumps(variables)))


def test_snapshots_summary_and_when_the_play_fails(tmp_path):
    down = [{"url": "http://127.0.0.1:%d/health" % closed_port(), "timeout": 2}]
    code, data, out, err = run(tmp_path, {"health_endpoints": down, "health_fail_on": "never"})
    assert code == 0, out[-3000:] + err[-3000:]
    summary = data["global_custom_stats"]["watchkeeper_health"]["localhost"]
    assert summary["status"] == "critical" and any("127.0.0.1" in reason for reason in summary["reasons"]), summary
    snapshots = os.listdir(str(tmp_path / "ops" / "health"))
    assert len(snapshots) == 1, snapshots

    code, data, out, err = run(tmp_path, {"health_endpoints": down})  # default: fail on critical
    assert code != 0
    failed = [t for t in data["plays"][0]["tasks"] if t["hosts"]["localhost"].get("failed")]
    assert failed and "localhost is critical" in failed[-1]["hosts"]["localhost"]["msg"], failed
    assert len(os.listdir(str(tmp_path / "ops" / "health"))) == 2  # the snapshot is written before the verdict

    code, data, out, err = run(tmp_path, {"health_fail_on": "sometimes"})
    assert code != 0 and "health_fail_on must be critical, warning or never" in out
