# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the emergency runbook tests on a fleet (service_restart.yml, rollback.yml).

Each host gets a toy app in the layout ansistrano / Capistrano deploy: ``/srv/erapp/releases/<name>/`` and a
``current`` symlink. A release is ``app.py`` (a small HTTP server on 127.0.0.1:8080) plus a file ``status`` that
it reads once at start: the status it answers to every GET (200 for a good release, 500 for a broken one). The
systemd unit ``erapp`` runs ``/srv/erapp/current/app.py``, so a restart picks the release ``current`` points to
at that moment; the answer names the host, the release and the status.
"""

import json
import os
import socket
import time
import urllib.error
import urllib.request

from ansible_run import run_playbook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(ROOT, "playbooks")
APP_DIR = "/srv/erapp"
UNIT = "erapp"
HEALTH_URL = "http://127.0.0.1:8080/"

APP = r'''import http.server
import os
import socket

if os.environ.get("ERAPP_STATUS"):  # in a container: python3 -c, status and address from the environment
    HERE, STATUS = "container", int(os.environ["ERAPP_STATUS"])
else:
    HERE = os.path.dirname(os.path.realpath(__file__))
    with open(os.path.join(HERE, "status")) as handle:
        STATUS = int(handle.read().strip())
BODY = ("erapp %s %s %d\n" % (socket.gethostname(), os.path.basename(HERE), STATUS)).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(STATUS)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer((os.environ.get("ERAPP_BIND", "127.0.0.1"), 8080), Handler).serve_forever()
'''

SERVICE = """[Unit]
Description=watchkeeper emergency runbook test app
[Service]
ExecStart=/usr/bin/python3 %s/current/app.py
Restart=no
[Install]
WantedBy=multi-user.target
""" % APP_DIR


def install_app(fleet, host, releases, current, relative=True):
    """Replace the host's app: ``releases`` maps release names to their status (200 / 500); ``current`` points to
    one of them (relative link ``releases/<name>`` as ansistrano writes it, else absolute); the unit is restarted
    and answers before this returns."""
    script = ["set -e", "systemctl stop %s 2>/dev/null || true" % UNIT, "rm -rf %s" % APP_DIR,
              "mkdir -p %s/releases" % APP_DIR]
    for name, status in releases.items():
        rel = "%s/releases/%s" % (APP_DIR, name)
        script += ["mkdir -p %s" % rel, "cat > %s/app.py <<'EOF'\n%sEOF" % (rel, APP), "echo %d > %s/status" % (status, rel)]
    target = "releases/%s" % current if relative else "%s/releases/%s" % (APP_DIR, current)
    script += ["ln -s %s %s/current" % (target, APP_DIR),
               "cat > /etc/systemd/system/%s.service <<'EOF'\n%sEOF" % (UNIT, SERVICE),
               "systemctl daemon-reload", "systemctl enable --now %s" % UNIT,
               "systemctl restart %s" % UNIT]
    fleet.exec(host, "\n".join(script))
    wait_answer(fleet, host)


def wait_answer(fleet, host, timeout=30):
    """Wait until the app on the host answers (any status); returns (status, body)."""
    code = ("import time, urllib.request, urllib.error\n"
            "end = time.time() + %d\n"
            "while True:\n"
            "    try:\n"
            "        r = urllib.request.urlopen('%s', timeout=2); print(r.status, r.read().decode().strip()); break\n"
            "    except urllib.error.HTTPError as e:\n"
            "        print(e.code, e.read().decode().strip()); break\n"
            "    except OSError as e:\n"
            "        if time.time() > end: print('error', e); break\n"
            "        time.sleep(0.2)\n" % (timeout, HEALTH_URL))
    out = fleet.exec(host, ["python3", "-c", code], timeout=timeout + 30).stdout.strip()
    status, _sep, body = out.partition(" ")
    return status, body


def probe(fleet, host):
    """(status, body) of GET / from the host itself, e.g. ("200", "erapp <container> r2 200")."""
    return wait_answer(fleet, host, timeout=0)


def invocation(fleet, host):
    """The systemd InvocationID of the app's unit: a restart changes it."""
    return fleet.exec(host, ["systemctl", "show", "-p", "InvocationID", "--value", UNIT]).stdout.strip()


def current(fleet, host):
    """The text of the ``current`` symlink."""
    return fleet.exec(host, ["readlink", "%s/current" % APP_DIR]).stdout.strip()


def set_status(fleet, host, release, status):
    """Change what a release answers from its next start on (the running process keeps its status)."""
    fleet.exec(host, "echo %d > %s/releases/%s/status" % (status, APP_DIR, release))


def mark_irreversible(fleet, host, release, marker=".irreversible_migration"):
    fleet.exec(host, "echo 'ALTER TABLE items DROP COLUMN legacy' > %s/releases/%s/%s" % (APP_DIR, release, marker))


def runbook(inventory, name, extra, timeout=600):
    """ansible-playbook playbooks/<name> with that inventory (a fleet's) and ``extra`` as JSON extra vars; returns
    (rc, json callback data, stdout)."""
    code, data, stdout, stderr = run_playbook(os.path.join(PLAYBOOKS, name), inventory=inventory,
                                              args=["-e", json.dumps(extra)], timeout=timeout,
                                              env={"ANSIBLE_SHOW_CUSTOM_STATS": "1", "ANSIBLE_PIPELINING": "1"})
    assert data is not None, "no JSON from %s (rc %s)\n%s\n%s" % (name, code, stdout[-3000:], stderr[-3000:])
    return code, data, stdout


def stats(data, key):
    return (data.get("global_custom_stats") or {}).get(key)


def failures(data):
    """(host, task name, msg) of every failed task result in the json callback output."""
    out = []
    for play in data.get("plays") or []:
        for task in play.get("tasks") or []:
            for host, res in (task.get("hosts") or {}).items():
                if res.get("failed") and not res.get("skipped"):
                    out.append((host, (task.get("task") or {}).get("name"), str(res.get("msg"))))
    return out


def hosts_with_task(data, task_name):
    """Hosts that ran (not skipped) a task of that name."""
    out = []
    for play in data.get("plays") or []:
        for task in play.get("tasks") or []:
            if (task.get("task") or {}).get("name") == task_name:
                out += [h for h, res in (task.get("hosts") or {}).items() if not res.get("skipped")]
    return out


def incident(ops_state, incident_id):
    """The stored incident record, read straight from disk (no collection code)."""
    with open(os.path.join(ops_state, "incidents", "records", incident_id + ".json")) as handle:
        return json.load(handle)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_url(url, timeout=30):
    """Wait until ``url`` answers 200 from this machine."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError("%s did not answer 200 within %d s" % (url, timeout))
        time.sleep(0.2)
