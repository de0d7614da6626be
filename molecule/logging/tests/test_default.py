"""What the logging role set up in the molecule instance: collector and client on one host, the client forwarding to
127.0.0.1 over RELP. A line logged with logger arrives in /var/log/remote/<host>/<program>.log in the template
WatchkeeperFileFormat, and rsyslogd -N1 accepts the live configuration."""

import re
import time
import uuid

LINE = re.compile(r"^<13>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d (?P<host>\S+) wkmolecule(\[\d+\])?: (?P<msg>.*)$")


def test_files_installed(host):
    assert host.file("/etc/rsyslog.d/40-watchkeeper-collector.conf").is_file
    assert host.file("/etc/rsyslog.d/60-watchkeeper-client.conf").contains('target="127.0.0.1"')
    assert host.file("/etc/logrotate.d/watchkeeper-remote").contains("dateformat -%Y%m%d-%s")
    assert host.service("rsyslog").is_running and host.service("rsyslog").is_enabled
    assert host.socket("tcp://0.0.0.0:2514").is_listening


def test_rsyslogd_accepts_the_live_configuration(host):
    res = host.run("rsyslogd -N1")
    assert res.rc == 0, res.stderr


def test_a_logger_line_arrives_in_the_host_file(host):
    name = host.run("hostname").stdout.strip()
    token = uuid.uuid4().hex
    host.run_expect([0], "logger -t wkmolecule 'molecule %s'" % token)
    path = "/var/log/remote/%s/wkmolecule.log" % name
    deadline = time.time() + 60
    while time.time() < deadline:
        res = host.run("grep -F %s %s", token, path)
        if res.rc == 0:
            break
        time.sleep(1)
    assert res.rc == 0, "no line with %s in %s" % (token, path)
    match = LINE.match(res.stdout.strip())
    assert match and match.group("host") == name and match.group("msg") == "molecule %s" % token, res.stdout
