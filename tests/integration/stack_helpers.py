# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the container stack tests (test_stack.py): the role and scale.yml on localhost against the Engine,
HTTP through the stack's nginx, SQL and the backup runner inside the containers."""

import http.client
import json
import os
import socket
import subprocess
import sys

import helpers
# test_stack.py reports failed runs with sh.describe
from fleet_helpers import describe  # noqa: F401  pylint: disable=unused-import

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "compose"))

import build as stack_build  # noqa: E402,F401  pylint: disable=wrong-import-position,import-error,unused-import

ROLE_PLAY = [{"hosts": "localhost", "gather_facts": False,
              "tasks": [{"name": "Run the stack role", "ansible.builtin.include_role": {"name": "watchkeeper.ops.stack"}},
                        {"name": "Show the outcome", "ansible.builtin.set_stats": {"data": {"stack": "{{ stack_result }}"}}}]}]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def playbook_path(name):
    return os.path.join(helpers.collections_path(), "ansible_collections", "watchkeeper", "ops", "playbooks", name)


def run_role(stack, extra=None, timeout=600):
    """The role in a play on localhost; returns (rc, json data, stdout, stderr)."""
    play = os.path.join(stack["dir"], "role-play.json")
    with open(play, "w") as handle:
        json.dump(ROLE_PLAY, handle)
    return _play(play, stack, extra, timeout)


def run_scale(stack, extra, timeout=600):
    return _play(playbook_path("scale.yml"), stack, dict({"scale_mode": "stack", "scale_host": "localhost"}, **extra),
                 timeout)


def _play(path, stack, extra, timeout):
    variables = dict(stack["vars"], **(extra or {}))
    vars_file = os.path.join(stack["dir"], "vars.json")
    with open(vars_file, "w") as handle:
        json.dump(variables, handle)
    env = {"ANSIBLE_SHOW_CUSTOM_STATS": "1", "DOCKER_HOST": stack["docker_host"]}
    return helpers.run_playbook(path, env=env, timeout=timeout, args=("-e", "@" + vars_file))


def failure_messages(data):
    """The messages of the failed tasks in the json callback output."""
    return [str(res.get("msg")) for play in (data or {}).get("plays") or [] for task in play.get("tasks") or []
            for res in (task.get("hosts") or {}).values() if res.get("failed")]


def get(port, path="/", timeout=5):
    """(status, headers dict lower-cased, body) of GET http://127.0.0.1:<port><path>, or None."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), resp.read().decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        conn.close()


def post(port, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", path, body=body.encode())
        return conn.getresponse().status
    finally:
        conn.close()


def docker_exec(stack, container, argv, check=True, timeout=300):
    res = subprocess.run(["docker", "exec", container] + list(argv), capture_output=True, text=True, timeout=timeout,
                         check=False, env=dict(os.environ, DOCKER_HOST=stack["docker_host"]))
    if check and res.returncode != 0:
        tail = (res.stderr + res.stdout)[-3000:]
        raise AssertionError("%s in %s exited %d: %s" % (argv[:3], container, res.returncode, tail))
    return res


def sql(stack, query):
    """A query as the superuser through the socket of the stack's PostgreSQL (peer auth inside the container)."""
    res = docker_exec(stack, "%s-postgres-1" % stack["project"], ["psql", "-X", "-q", "-A", "-t", "-h", "/tmp", "-U",
                                                                  "postgres", "-d", "app", "-v", "ON_ERROR_STOP=1",
                                                                  "-c", query])
    return res.stdout.strip()


def runner_result(stack, kind):
    """The backup runner's last result of ``kind`` (backup or verify), as the module returned it."""
    res = docker_exec(stack, "%s-backup-1" % stack["project"], ["cat", "/tmp/wk-stack-backup/%s.json" % kind])
    return json.loads(res.stdout)
