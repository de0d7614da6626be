# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rolling maintenance over two app hosts of a fleet (real SSH hosts with systemd, nginx and a toy app).

Each host (app1, app2) runs a toy app (``python3 -m http.server`` on 127.0.0.1:8080, a systemd unit ``toyapp``)
behind Debian's nginx on port 80, whose site includes the snippet of the role ``watchkeeper.ops.maintenance``
(installed by the role over SSH, as the runbooks expect; nothing comes from the network). The window lives in
``ops_state`` on the first host, where the runbooks' ``run_once`` tasks run.

``maintenance_schedule.yml`` creates the window (its task: restart ``toyapp``); ``maintenance_start.yml`` with
``maintenance_rolling_serial=1`` takes the hosts one at a time: maintenance mode on (nginx answers 503 with
``Retry-After``), the window's task on that host, the health check of the app, maintenance mode back; then
``maintenance_end.yml`` (same serial) verifies and completes the window. Meanwhile a thread of the test sends
``GET /`` to both hosts' port 80 every 50 ms (bounded in rounds and time) and records every answer. Afterwards:

* in every round at least one host answered 200 from its app (never both down at once);
* each host answered 503 with ``Retry-After`` during its turn, app1's turn ended before app2's began, and both
  end at 200 (also between the two runbooks: the rolling start puts each host back);
* each host's app was restarted (its systemd invocation changed), the window is completed on time with one task
  result per host, and the start's ``set_stats`` summary says so.

A second window whose task fails shows that a failed turn stops the rolling: app1 stays in maintenance, app2 is
never switched (it answers 200 throughout), the start fails and publishes ``status: failed``;
``maintenance_end.yml`` then puts app1 back.
"""

import collections
import datetime
import http.client
import json
import os
import threading
import time

import pytest

from ansible_run import run_playbook


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(ROOT, "playbooks")
HOSTS = ("app1", "app2")
RETRY_AFTER = "120"

UNIT = """[Unit]
Description=watchkeeper test toy app
[Service]
ExecStart=/usr/bin/python3 -m http.server 8080 --bind 127.0.0.1 --directory /srv/toyapp
[Install]
WantedBy=multi-user.target
"""

SITE = """server {
    listen 80 default_server;
    include /etc/nginx/snippets/watchkeeper-maintenance.conf;
    location / { proxy_pass http://127.0.0.1:8080; }
}
"""


def probe(ip, timeout=2):
    """(status, Retry-After, first bytes of the body) of GET / on port 80, or ("error", None, why)."""
    conn = http.client.HTTPConnection(ip, 80, timeout=timeout)
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        return resp.status, resp.getheader("Retry-After"), resp.read(200).decode("utf-8", "replace")
    except OSError as exc:
        return "error", None, str(exc)
    finally:
        conn.close()


def from_app(answer, host):
    return answer[0] == 200 and answer[2].startswith("toyapp %s" % host)


class Sampler(threading.Thread):
    """Every ``interval`` s, GET / on every host (one round); at most ``max_rounds`` rounds and ``max_seconds``."""

    def __init__(self, ips, interval=0.05, max_rounds=8000, max_seconds=480):
        super().__init__(daemon=True)
        self.ips = ips
        self.interval = interval
        self.max_rounds = max_rounds
        self.max_seconds = max_seconds
        self.rounds = []  # [(seconds since start, {host: answer})]
        self.halt = threading.Event()
        self.exhausted = False

    def run(self):
        begin = time.monotonic()
        while not self.halt.is_set():
            if len(self.rounds) >= self.max_rounds or time.monotonic() - begin > self.max_seconds:
                self.exhausted = True
                return
            started = time.monotonic()
            answers = dict((host, probe(ip)) for host, ip in self.ips.items())
            self.rounds.append((round(started - begin, 3), answers))
            self.halt.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def stop(self):
        self.halt.set()
        self.join(timeout=30)

    def counts(self):
        out = dict((host, collections.Counter()) for host in self.ips)
        for _t, answers in self.rounds:
            for host, answer in answers.items():
                out[host][str(answer[0])] += 1
        return dict((host, dict(sorted(counter.items()))) for host, counter in out.items())


def playbook(site, name, extra=None):
    args = ["-e", "@%s" % site["vars"]] + (["-e", json.dumps(extra)] if extra else [])
    code, data, stdout, stderr = run_playbook(os.path.join(PLAYBOOKS, name), inventory=site["fleet"].inventory,
                                              args=args, timeout=900,
                                              env={"ANSIBLE_SHOW_CUSTOM_STATS": "1", "ANSIBLE_PIPELINING": "1"})
    assert data is not None, "no JSON from %s (rc %s)\n%s\n%s" % (name, code, stdout[-3000:], stderr[-3000:])
    return code, data, stdout


def stats(data):
    return data["global_custom_stats"]["watchkeeper_maintenance"]


def invocation(site, host):
    return site["fleet"].exec(host, ["systemctl", "show", "-p", "InvocationID", "--value", "toyapp"]).stdout.strip()


def nginx_workers(site, host):
    """The pids of nginx's worker processes: a reload replaces them, a flip of maintenance mode must not."""
    return sorted(site["fleet"].exec(host, "ps -o pid= --ppid $(cat /run/nginx.pid)").stdout.split())


def read_json(site, host, path):
    return json.loads(site["fleet"].exec(host, ["cat", path]).stdout)


def schedule(site, window_id, tasks):
    start = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10)).replace(microsecond=0)
    code, _data, stdout = playbook(site, "maintenance_schedule.yml", {"maintenance_window": {
        "id": window_id, "title": "Rolling app restart", "description": "The app restarts, one host at a time.",
        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "timezone": "UTC", "duration": "2h",
        "impact": "full_outage", "components": ["Web app"], "tasks": tasks}})
    assert code == 0, stdout[-6000:]


@pytest.fixture(scope="module")
def site(fleet_factory, tmp_path_factory):
    fleet = fleet_factory(["%s:app" % h for h in HOSTS])
    for host in HOSTS:
        fleet.exec(host, "mkdir -p /srv/toyapp && echo 'toyapp %s' > /srv/toyapp/index.html" % host)
        fleet.exec(host, "cat > /etc/systemd/system/toyapp.service <<'EOF'\n%sEOF\n" % UNIT)
        fleet.exec(host, "systemctl daemon-reload && systemctl enable --now toyapp && systemctl start nginx")
    base = tmp_path_factory.mktemp("rolling")
    variables = {
        "maintenance_target": "app",
        "maintenance_nginx_reload_command": ["systemctl", "reload", "nginx"],
        "maintenance_retry_after": int(RETRY_AFTER),
        "maintenance_components": ["Web app"],
        "maintenance_pre_backup": False,
        # The app itself, from the host, while nginx still answers 503; a restarted app gets a few seconds.
        "maintenance_health_urls": [{"url": "http://127.0.0.1:8080/", "retries": 10, "delay": 1}],
    }
    site = {"fleet": fleet, "vars": str(base / "vars.json"), "ips": dict((h, fleet.ip(h)) for h in HOSTS)}
    with open(site["vars"], "w") as handle:
        json.dump(variables, handle)
    install = str(base / "install.yml")
    with open(install, "w") as handle:
        json.dump([{"name": "Install maintenance mode on the app hosts", "hosts": "app", "gather_facts": False,
                    "roles": [{"role": "watchkeeper.ops.maintenance"}],
                    "tasks": [
                        {"name": "Serve the app through nginx with the maintenance snippet",
                         "ansible.builtin.copy": {"dest": "/etc/nginx/sites-enabled/wk-app", "content": SITE,
                                                  "mode": "0644"},
                         "notify": "reload nginx"},
                        {"name": "Remove the default site",
                         "ansible.builtin.file": {"path": "/etc/nginx/sites-enabled/default", "state": "absent"},
                         "notify": "reload nginx"}]}], handle)
    code, _data, stdout = playbook(site, install)
    assert code == 0, stdout[-6000:]
    for host, ip in site["ips"].items():
        assert from_app(probe(ip), host), probe(ip)
    return site


def test_rolling_start_and_end_keep_one_host_up(site, record_property):
    schedule(site, "roll-restart", [{"name": "restart app", "type": "service_restart", "service": "toyapp"}])
    before = dict((h, invocation(site, h)) for h in HOSTS)
    workers = dict((h, nginx_workers(site, h)) for h in HOSTS)
    sampler = Sampler(site["ips"])
    sampler.start()
    try:
        code, started, stdout = playbook(site, "maintenance_start.yml", {"maintenance_window_id": "roll-restart",
                                                                         "maintenance_rolling_serial": 1})
        assert code == 0, stdout[-8000:]
        between = dict((h, probe(ip)) for h, ip in site["ips"].items())
        code, ended, stdout = playbook(site, "maintenance_end.yml", {"maintenance_window_id": "roll-restart",
                                                                     "maintenance_rolling_serial": 1})
        assert code == 0, stdout[-8000:]
    finally:
        sampler.stop()
    counts = sampler.counts()
    print("\nrolling maintenance: %d rounds over %.1f s; answers per host and status: %s"
          % (len(sampler.rounds), sampler.rounds[-1][0] if sampler.rounds else 0, json.dumps(counts)))
    record_property("request_counts", json.dumps(counts))
    assert not sampler.exhausted, "the request loop hit its bound before the runbooks ended"

    rounds = sampler.rounds
    both_down = [(t, answers) for t, answers in rounds if not any(from_app(answers[h], h) for h in HOSTS)]
    assert both_down == [], "moments with no host serving the app: %s" % both_down[:5]
    turns = {}
    for host in HOSTS:
        in_maintenance = [i for i, (_t, answers) in enumerate(rounds) if answers[host][0] == 503]
        assert in_maintenance, "%s never answered 503: %s" % (host, counts[host])
        wrong = [(rounds[i][0], rounds[i][1][host]) for i in in_maintenance if rounds[i][1][host][1] != RETRY_AFTER]
        assert wrong == [], "every 503 of %s has Retry-After %s: %s" % (host, RETRY_AFTER, wrong[:3])
        turns[host] = (in_maintenance[0], in_maintenance[-1])
        assert all(from_app(rounds[i][1][host], host) or rounds[i][1][host][0] == 503 for i in range(len(rounds))), \
            "%s answered only 200 from its app or 503" % host
        assert from_app(rounds[0][1][host], host) and from_app(rounds[-1][1][host], host), "starts and ends at 200"
    assert turns["app1"][1] < turns["app2"][0], "app1's turn ended before app2's began: %s" % turns
    for host in HOSTS:
        assert from_app(between[host], host), "the rolling start put %s back: %s" % (host, between[host])
        assert invocation(site, host) != before[host], "the window's task restarted the app on %s" % host
        assert nginx_workers(site, host) == workers[host], "no reload of nginx on %s" % host

    summary = stats(started)
    assert summary["status"] == "started" and summary["mode"]["state"] == "enabled"
    assert [(t["host"], t["name"], t["ok"]) for t in summary["tasks"]] == [
        ("app1", "restart app", True), ("app2", "restart app", True)]
    window = read_json(site, "app1", "/var/lib/watchkeeper/maintenance/windows/roll-restart.json")
    assert window["status"] == "completed" and window["outcome"]["result"] == "on_time"
    assert [t["host"] for t in window["outcome"]["tasks"]] == ["app1", "app2"]
    assert stats(ended)["status"] == "completed" and stats(ended)["outcome"]["result"] == "on_time"
    for host in HOSTS:
        before_file = read_json(site, host, "/var/lib/watchkeeper/maintenance/mode-before/roll-restart.json")
        assert before_file["state"] == "disabled", "each host recorded its own state before its turn"


def test_a_failed_turn_stops_the_rolling(site, record_property):
    schedule(site, "roll-broken", [{"name": "broken step", "type": "command", "argv": ["false"]}])
    sampler = Sampler(site["ips"])
    sampler.start()
    try:
        code, started, stdout = playbook(site, "maintenance_start.yml", {"maintenance_window_id": "roll-broken",
                                                                         "maintenance_rolling_serial": 1})
    finally:
        sampler.stop()
    counts = sampler.counts()
    print("\nfailed turn: %d rounds; answers per host and status: %s" % (len(sampler.rounds), json.dumps(counts)))
    record_property("request_counts", json.dumps(counts))
    assert not sampler.exhausted
    assert code != 0, "the start fails"
    assert stats(started)["status"] == "failed" and stats(started)["failed_task"] is not None
    assert counts["app1"].get("503", 0) > 0, counts
    assert all(from_app(answers["app2"], "app2") for _t, answers in sampler.rounds), "app2 was never switched"
    assert probe(site["ips"]["app1"])[0:2] == (503, RETRY_AFTER), "app1 stays in maintenance for the operator"
    assert site["fleet"].exec("app2", ["test", "-e", "/var/lib/watchkeeper/maintenance/mode-before/roll-broken.json"],
                              check=False).returncode != 0, "app2's turn never began"

    code, _ended, stdout = playbook(site, "maintenance_end.yml", {"maintenance_window_id": "roll-broken",
                                                                  "maintenance_rolling_serial": 1})
    assert code == 0, stdout[-8000:]
    for host, ip in site["ips"].items():
        assert from_app(probe(ip), host), "both back after maintenance_end.yml"
