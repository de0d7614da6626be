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


def test_check_mode_reports_a_change_and_makes_none(fleet, work, configured):
    files = ["/etc/rsyslog.d/40-watchkeeper-collector.conf", "/etc/logrotate.d/watchkeeper-remote"]
    before = [sha256(fleet, COLLECTOR, path) for path in files]
    pid = fleet.exec(COLLECTOR, ["systemctl", "show", "-p", "MainPID", "--value", "rsyslog"]).stdout.strip()
    code, data, out, err = run_play(fleet, work, {"logging_collector_retention_days": 7}, args=("--check", "--limit", COLLECTOR))
    assert code == 0 and data["stats"][COLLECTOR]["changed"] > 0, fh.describe(code, data, out, err)
    assert [sha256(fleet, COLLECTOR, path) for path in files] == before
    assert fleet.exec(COLLECTOR, ["systemctl", "show", "-p", "MainPID", "--value", "rsyslog"]).stdout.strip() == pid


def test_syslog_and_json_lines_arrive_per_host_and_program(fleet, work, configured):
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
    # the same line in a client's own journal, through log_search (journal: true)
    found = read_with_modules(fleet, work, CLIENTS[0], [
        {"watchkeeper.ops.log_search": {"journal": True, "programs": ["wkprobe"], "pattern": token, "last": "10m",
                                        "after": 1}, "register": "found"},
        {"ansible.builtin.set_stats": {"data": {"found": "{{ found.matches }}"}}}])["found"]
    assert [(m["host"], m["program"], m["file"], m["level"]) for m in found] == [(CLIENTS[0], "wkprobe", "journal", "warning")], found
    assert found[0]["line"].endswith("probe %s %s" % (CLIENTS[0], token))


def read_with_modules(fleet, work, host, tasks):
    """Run ``tasks`` on ``host`` in one play; returns the play's custom stats."""
    play = os.path.join(work, "read-%s.yml" % uuid.uuid4().hex[:6])
    with open(play, "w") as handle:
        json.dump([{"hosts": host, "gather_facts": False, "tasks": tasks}], handle)
    code, data, out, err = helpers.run_playbook(play, inventory=fleet.inventory, env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    assert code == 0, fh.describe(code, data, out, err)
    return data["global_custom_stats"]


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
    # What readers see: log_search and log_summary on the collector count every message once (the re-sent copy is folded).
    stats = read_with_modules(fleet, work, COLLECTOR, [
        {"watchkeeper.ops.log_search": {"programs": ["wkflood"], "pattern": "run=%s" % run, "limit": 1}, "register": "found"},
        {"watchkeeper.ops.log_summary": {"programs": ["wkflood"], "last": "1h"}, "register": "summary"},
        {"ansible.builtin.set_stats": {"data": {"found": "{{ found.counts }}", "templates": "{{ summary.summary.templates }}"}}}])
    assert stats["found"]["by_host"] == dict((name, FLOOD) for name in CLIENTS), stats
    counted = dict((t["template"], t["count"]) for t in stats["templates"])
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


def pki(work, fleet, name, hosts):
    """A CA ``name`` and a certificate per host (SAN: its name and address), made with openssl: {host: (ca, cert, key)}."""
    base = os.path.join(work, name)
    os.makedirs(base, exist_ok=True)
    ca_key, ca_cert = os.path.join(base, "ca.key"), os.path.join(base, "ca.pem")
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=%s" % name,
               "-keyout", ca_key, "-out", ca_cert]
    helpers.sh(" ".join(openssl))
    out = {}
    for host in hosts:
        key, csr, cert, ext = (os.path.join(base, host + suffix) for suffix in (".key", ".csr", ".pem", ".ext"))
        with open(ext, "w") as handle:
            handle.write("subjectAltName=DNS:%s,IP:%s\nextendedKeyUsage=serverAuth,clientAuth\n" % (host, fleet.ip(host)))
        helpers.sh("openssl req -newkey rsa:2048 -nodes -subj /CN=%s -keyout %s -out %s" % (host, key, csr))
        helpers.sh("openssl x509 -req -in %s -CA %s -CAkey %s -CAcreateserial -days 2 -extfile %s -out %s"
                   % (csr, ca_cert, ca_key, ext, cert))
        out[host] = (ca_cert, cert, key)
    return out


def install_pki(fleet, files):
    for host, paths in files.items():
        fleet.exec(host, ["mkdir", "-p", "/etc/rsyslog-tls"])
        for path, target in zip(paths, ("ca.pem", "host.pem", "host.key")):
            with open(path) as handle:
                content = handle.read()
            fleet.exec(host, ["sh", "-c", "cat > /etc/rsyslog-tls/%s << 'WKEOF'\n%sWKEOF\nchmod 0600 /etc/rsyslog-tls/%s"
                              % (target, content, target)])


def test_relp_over_tls_accepts_the_fleets_certificates_and_refuses_a_strangers(fleet, work, configured):
    """Last test of the module: it switches the fleet to TLS. A client whose certificate comes from another CA gets
    nothing through; once it holds a certificate of the fleet's CA and the role ran again, its messages arrive."""
    good = pki(work, fleet, "wk-fleet-ca", (COLLECTOR, CLIENTS[0]))
    stranger = pki(work, fleet, "stranger-ca", (CLIENTS[1],))
    install_pki(fleet, dict(good, **stranger))
    tls = {"logging_tls_ca": "/etc/rsyslog-tls/ca.pem", "logging_tls_cert": "/etc/rsyslog-tls/host.pem",
           "logging_tls_key": "/etc/rsyslog-tls/host.key", "logging_tls_auth_mode": "name",
           "logging_tls_permitted_peers": [COLLECTOR] + list(CLIENTS)}
    code, data, out, err = run_play(fleet, work, tls)
    assert code == 0, fh.describe(code, data, out, err)
    conf = fleet.exec(COLLECTOR, ["cat", "/etc/rsyslog.d/40-watchkeeper-collector.conf"]).stdout
    assert 'tls="on"' in conf and "/etc/rsyslog-tls/ca.pem" in conf
    token = uuid.uuid4().hex[:12]
    for name in CLIENTS:
        fleet.exec(name, ["logger", "-t", "wktls", "over tls %s %s" % (name, token)])
    lh.wait_line(fleet, COLLECTOR, "%s/%s/wktls.log" % (lh.ROOT, CLIENTS[0]), token)
    time.sleep(5)
    assert not lh.lines_with(fleet, COLLECTOR, "%s/%s/wktls.log" % (lh.ROOT, CLIENTS[1]), token)  # refused
    # rsyslog disables the RELP action after a failed certificate validation (docs/logs.md): the refused line stays in
    # the client's own syslog, and forwarding resumes when the client holds a certificate of the fleet's CA and the role
    # ran again (the certificate's checksum is in the configuration, so the role restarts rsyslog for the new file).
    assert lh.lines_with(fleet, CLIENTS[1], "/var/log/syslog", token)
    install_pki(fleet, {CLIENTS[1]: _reissue(work, fleet, "wk-fleet-ca", CLIENTS[1])})
    code, data, out, err = run_play(fleet, work, tls, args=("--limit", CLIENTS[1]))
    assert code == 0 and data["stats"][CLIENTS[1]]["changed"] > 0, fh.describe(code, data, out, err)
    later = uuid.uuid4().hex[:12]
    fleet.exec(CLIENTS[1], ["logger", "-t", "wktls", "over tls %s %s" % (CLIENTS[1], later)])
    line = lh.wait_line(fleet, COLLECTOR, "%s/%s/wktls.log" % (lh.ROOT, CLIENTS[1]), later)
    assert "over tls %s %s" % (CLIENTS[1], later) in line


def _reissue(work, fleet, ca_name, host):
    """A certificate for ``host`` from the existing CA ``ca_name`` of ``pki``."""
    base = os.path.join(work, ca_name)
    key, csr, cert, ext = (os.path.join(base, host + suffix) for suffix in (".key", ".csr", ".pem", ".ext"))
    with open(ext, "w") as handle:
        handle.write("subjectAltName=DNS:%s,IP:%s\nextendedKeyUsage=serverAuth,clientAuth\n" % (host, fleet.ip(host)))
    helpers.sh("openssl req -newkey rsa:2048 -nodes -subj /CN=%s -keyout %s -out %s" % (host, key, csr))
    helpers.sh("openssl x509 -req -in %s -CA %s/ca.pem -CAkey %s/ca.key -CAcreateserial -days 2 -extfile %s -out %s"
               % (csr, base, base, ext, cert))
    return (os.path.join(base, "ca.pem"), cert, key)
