# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``playbooks/logging.yml`` over a fleet (issue 13): one collector (group log_collector) and two clients, Debian's
rsyslog and rsyslog-relp from the fleet image. One fleet and three playbook runs for the module: the setup, the
second run (idempotence) and a run with a configuration rsyslogd rejects.

The clients' forwarding queue is kept small (1000 messages in memory) so that a collector outage spills it to disk,
journald's rate limit is off (the floods would be cut at 10 000 per 30 s otherwise), and the retry interval is 2 s."""

import datetime
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid

import pytest

import fleet_helpers as fh
import helpers
import logging_helpers as lh

COLLECTOR = "col1"
CLIENTS = ("app1", "app2")
APP_FILE = "/var/log/shop/app.json"
FLOOD = 20000
VARS = {
    "logging_install_packages": False,
    "logging_journald_ratelimit_burst": 0,
    "logging_queue_size": 1000,
    "logging_queue_resume_interval": 2,
    "logging_app_files": [{"path": APP_FILE, "tag": "shop", "format": "json", "severity": "info",
                           "facility": "local0"}],
}


@pytest.fixture(scope="module")
def work():
    path = tempfile.mkdtemp(prefix="wk-fleetlog-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def fleet(fleet_factory):
    made = fleet_factory(["%s:log_collector" % COLLECTOR] + ["%s:app" % name for name in CLIENTS])
    for name in CLIENTS:
        lh.install_sender(made, name)
        made.exec(name, ["mkdir", "-p", os.path.dirname(APP_FILE)])
    return made


def run_play(fleet, work, extra=None, args=()):
    vars_file = fh.write_vars(os.path.join(work, "vars.json"), dict(VARS, **(extra or {})))
    playbook = os.path.join(helpers.collections_path(), "ansible_collections", "watchkeeper", "ops", "playbooks",
                            "logging.yml")
    env = {"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(work, "cp")}
    return helpers.run_playbook(playbook, inventory=fleet.inventory, env=env, args=("-e", "@%s" % vars_file) + tuple(args))


@pytest.fixture(scope="module")
def configured(fleet, work):
    code, data, out, err = run_play(fleet, work)
    assert code == 0, fh.describe(code, data, out, err)
    return data


def test_the_collector_and_clients_are_configured(fleet, configured):
    changed = sum(stats["changed"] for stats in configured["stats"].values())
    assert changed > 0
    listening = fleet.exec(COLLECTOR, ["ss", "-ltn", "sport = :2514"]).stdout
    assert ":2514" in listening
    for name in CLIENTS:
        assert fleet.exec(name, ["systemctl", "is-active", "rsyslog"]).stdout.strip() == "active"
        conf = fleet.exec(name, ["cat", "/etc/rsyslog.d/60-watchkeeper-client.conf"]).stdout
        assert 'target="%s"' % fleet.ip(COLLECTOR) in conf and 'queue.saveOnShutdown="on"' in conf
    assert fleet.exec(COLLECTOR, ["test", "-e", "/etc/rsyslog.d/60-watchkeeper-client.conf"], check=False).returncode != 0


def test_a_second_run_changes_nothing(fleet, work, configured):
    code, data, out, err = run_play(fleet, work)
    assert code == 0, fh.describe(code, data, out, err)
    assert {host: stats["changed"] for host, stats in data["stats"].items()} == {
        COLLECTOR: 0, CLIENTS[0]: 0, CLIENTS[1]: 0}


def test_syslog_and_json_lines_arrive_per_host_and_program(fleet, configured):
    token = uuid.uuid4().hex[:12]
    for name in CLIENTS:
        fleet.exec(name, ["logger", "-t", "wkprobe", "-p", "user.warning", "probe %s %s" % (name, token)])
        record = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(), "level": "error",
                  "msg": "payment failed", "token": token, "host": name}
        fleet.exec(name, ["sh", "-c", "printf '%%s\\n' '%s' >> %s" % (json.dumps(record), APP_FILE)])
    for name in CLIENTS:
        line = lh.wait_line(fleet, COLLECTOR, "%s/%s/wkprobe.log" % (lh.ROOT, name), token)
        pri, _ts, host, tag, msg = lh.parse(line)
        assert (pri, host, tag, msg) == ("12", name, "wkprobe", "probe %s %s" % (name, token))  # user.warning
        line = lh.wait_line(fleet, COLLECTOR, "%s/%s/shop.log" % (lh.ROOT, name), token)
        pri, _ts, host, tag, msg = lh.parse(line)
        assert (pri, host, tag) == ("134", name, "shop")  # local0.info, the imfile input's
        assert json.loads(msg)["token"] == token and json.loads(msg)["host"] == name
    # remote lines stay out of the collector's own syslog
    assert not lh.lines_with(fleet, COLLECTOR, "/var/log/syslog", token)


def test_lines_logged_while_the_collector_is_down_keep_their_time(fleet, configured):
    token = uuid.uuid4().hex[:12]
    lh.stop_collector(fleet, COLLECTOR)
    try:
        logged = float(fleet.exec(CLIENTS[0], ["sh", "-c", "date +%%s.%%N; logger -t wkdown 'down %s'" % token]).stdout)
        time.sleep(8)
    finally:
        lh.start_collector(fleet, COLLECTOR)
    restarted = time.time()
    line = lh.wait_line(fleet, COLLECTOR, "%s/%s/wkdown.log" % (lh.ROOT, CLIENTS[0]), token)
    _pri, stamp, host, _tag, _msg = lh.parse(line)
    assert host == CLIENTS[0] and stamp.tzinfo is not None
    assert abs(stamp.timestamp() - logged) < 2.0, (line, logged)  # the client's time of logging
    assert stamp.timestamp() < restarted - 5  # not the time of delivery


def test_a_flood_across_a_collector_stop_arrives_complete(fleet, work, configured):
    run = uuid.uuid4().hex[:8]
    senders = [helpers.Background(fleet.exec, name, lh.send_argv("wkflood", run, 1, FLOOD, rate=2000), timeout=300)
               for name in CLIENTS]
    for sender in senders:
        sender.start()
    time.sleep(3)
    lh.stop_collector(fleet, COLLECTOR)
    try:
        time.sleep(8)
        spilled = {name: lh.queue_files(fleet, name) for name in CLIENTS}
        time.sleep(7)
    finally:
        lh.start_collector(fleet, COLLECTOR)
    for sender in senders:
        sender.result(timeout=300)
    assert all(spilled.values()), spilled  # the queues did go to disk during the outage
    for name in CLIENTS:
        helpers.wait_for(lambda name=name: lh.numbers(fleet, COLLECTOR, name, "wkflood", run)[1] == FLOOD, timeout=240,
                         interval=2, what="%d distinct numbers from %s" % (FLOOD, name))
    time.sleep(3)
    counts = {name: lh.numbers(fleet, COLLECTOR, name, "wkflood", run) for name in CLIENTS}
    for name, (total, distinct) in counts.items():
        assert distinct == FLOOD, counts
        # RELP is at-least-once: the message in flight when the collector stops may come twice (rsyslog#979)
        assert total - distinct <= 1, counts
    # Nothing waits in the queues: a restart of the clients' rsyslog leaves no queue file and sends nothing more.
    for name in CLIENTS:
        fleet.exec(name, ["systemctl", "restart", "rsyslog"])
        assert lh.queue_files(fleet, name) == [], name
    time.sleep(5)
    assert {name: lh.numbers(fleet, COLLECTOR, name, "wkflood", run) for name in CLIENTS} == counts
    # What readers see: log_search on the collector counts every message once (the re-sent copy is folded).
    play = os.path.join(work, "count.yml")
    tasks = [{"watchkeeper.ops.log_search": {"programs": ["wkflood"], "pattern": "run=%s" % run, "limit": 1}, "register": "found"},
             {"watchkeeper.ops.log_summary": {"programs": ["wkflood"], "last": "1h"}, "register": "summary"},
             {"ansible.builtin.set_stats": {"data": {"found": "{{ found.counts }}", "templates": "{{ summary.summary.templates }}"}}}]
    with open(play, "w") as handle:
        json.dump([{"hosts": COLLECTOR, "gather_facts": False, "tasks": tasks}], handle)
    code, data, out, err = helpers.run_playbook(play, inventory=fleet.inventory, env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    assert code == 0, fh.describe(code, data, out, err)
    assert data["global_custom_stats"]["found"]["by_host"] == dict((name, FLOOD) for name in CLIENTS), data["global_custom_stats"]
    counted = dict((t["template"], t["count"]) for t in data["global_custom_stats"]["templates"])
    assert sum(n for t, n in counted.items() if t.startswith("wkseq=<num> run=")) == FLOOD * len(CLIENTS), counted


def sha256(fleet, host, path):
    return hashlib.sha256(fleet.exec(host, ["cat", path]).stdout.encode()).hexdigest()


def test_a_configuration_rsyslogd_rejects_is_not_activated(fleet, work, configured):
    live = "/etc/rsyslog.d/40-watchkeeper-collector.conf"
    before = sha256(fleet, COLLECTOR, live), sha256(fleet, COLLECTOR, "/etc/rsyslog.conf")
    pid = fleet.exec(COLLECTOR, ["systemctl", "show", "-p", "MainPID", "--value", "rsyslog"]).stdout.strip()
    broken = 'if $programname == "x" then {\n  action(type="omfile" file="/tmp/x"\n'  # unclosed
    code, data, out, err = run_play(fleet, work, {"logging_collector_extra_config": broken}, args=("--limit", COLLECTOR))
    assert code != 0, fh.describe(code, data, out, err)
    assert "rsyslogd -N1 rejected the new configuration" in out and "error during parsing file" in out, out[-3000:]
    assert (sha256(fleet, COLLECTOR, live), sha256(fleet, COLLECTOR, "/etc/rsyslog.conf")) == before
    assert fleet.exec(COLLECTOR, ["systemctl", "show", "-p", "MainPID", "--value", "rsyslog"]).stdout.strip() == pid
    token = uuid.uuid4().hex[:12]
    fleet.exec(CLIENTS[1], ["logger", "-t", "wkafter", "still here %s" % token])
    lh.wait_line(fleet, COLLECTOR, "%s/%s/wkafter.log" % (lh.ROOT, CLIENTS[1]), token)
