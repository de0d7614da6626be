# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the central-logs tests and bench (role watchkeeper.ops.logging on a fleet): a numbered-message sender
that logs as an application does (datagrams to /dev/log), counting what reached the collector, stopping and starting
the collector's rsyslog."""

import datetime
import os
import re

import helpers

ROOT = "/var/log/remote"
QUEUE_DIR = "/var/spool/rsyslog"
# A line of the template WatchkeeperFileFormat: <PRI>TIMESTAMP HOST TAG MSG
LINE = re.compile(r"^<(?P<pri>\d+)>(?P<ts>\S+) (?P<host>\S+) (?P<tag>[^:\[ ]+)(?:\[\d+\])?: ?(?P<msg>.*)$")

# Runs in the fleet host: sends `count` messages numbered from `first` to /dev/log (journald, as syslog(3) does),
# at `rate` per second (0: as fast as the socket takes them); prints messages per second.
SENDER = r'''
import socket, sys, time
prog, run, first, count, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.connect("/dev/log")
t0 = time.time()
for n, i in enumerate(range(first, first + count)):
    if rate and n % 100 == 0:
        ahead = t0 + n / rate - time.time()
        if ahead > 0:
            time.sleep(ahead)
    sock.send(("<14>%s: wkseq=%d run=%s" % (prog, i, run)).encode())
print(count / (time.time() - t0))
'''


def install_sender(fleet, host):
    fleet.exec(host, ["sh", "-c", "cat > /usr/local/bin/wk-log-sender.py << 'WKEOF'\n%s\nWKEOF" % SENDER])


def send_argv(prog, run, first, count, rate=0):
    return ["python3", "/usr/local/bin/wk-log-sender.py", prog, run, str(first), str(count), str(rate)]


def numbers(fleet, collector, host, prog, run):
    """(total lines, distinct numbers) of run ``run`` in the collector's file of host/prog."""
    path = os.path.join(ROOT, host, prog + ".log")
    out = fleet.exec(collector, ["sh", "-c", "test -f %s || exit 0; grep -o 'wkseq=[0-9]* run=%s$' %s | "
                                 "awk '{t++; if (!s[$1]++) d++} END {print t+0, d+0}'" % (path, run, path)],
                     timeout=120).stdout.split()
    return (int(out[0]), int(out[1])) if out else (0, 0)


def stop_collector(fleet, collector):
    """Stop rsyslog on the collector (and its socket unit, which would start it again for a local message)."""
    fleet.exec(collector, ["systemctl", "stop", "syslog.socket", "rsyslog.service"])
    assert fleet.exec(collector, ["systemctl", "is-active", "rsyslog"], check=False).stdout.strip() != "active"


def start_collector(fleet, collector):
    fleet.exec(collector, ["systemctl", "start", "rsyslog.service"])


def queue_files(fleet, host):
    out = fleet.exec(host, ["sh", "-c", "ls %s | grep '^watchkeeper_forward' || true" % QUEUE_DIR]).stdout
    return out.split()


def lines_with(fleet, collector, path, needle):
    res = fleet.exec(collector, ["grep", "-F", needle, path], check=False)
    return res.stdout.splitlines()


def wait_line(fleet, collector, path, needle, timeout=60):
    return helpers.wait_for(lambda: lines_with(fleet, collector, path, needle), timeout=timeout, interval=0.5,
                            what="%s in %s on the collector" % (needle, path))[0]


def parse(line):
    match = LINE.match(line)
    assert match, line
    return match.group("pri"), datetime.datetime.fromisoformat(match.group("ts")), match.group("host"), \
        match.group("tag"), match.group("msg")
