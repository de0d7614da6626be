# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The systemd journal as streams: ``journalctl -o json --since @EPOCH --until @EPOCH``, one stream per host and
identifier (SYSLOG_IDENTIFIER, else _COMM), each record rendered like a collector line
``2026-12-05T08:25:13.123456Z host ident[pid]: message``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json
import math
import subprocess

from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import timestamps


class JournalError(Exception):
    """journalctl is missing or failed (the message has its error)."""


class JournalFile(object):
    """Stands for a LogFile in journal records."""

    __slots__ = ("path", "host", "program", "compressed", "first_ts", "last_ts", "mtime", "order")

    def __init__(self, host, program):
        self.path = "journal"
        self.host = host
        self.program = program
        self.compressed = False
        self.first_ts = self.last_ts = self.mtime = None
        self.order = (2, 0)


def _text(value):
    if isinstance(value, list):  # binary fields come as byte arrays
        try:
            return bytes(value).decode("utf-8", "replace")
        except (TypeError, ValueError):
            return ""
    if value is None:
        return ""
    return str(value)


def parse_entry(text):
    """(host, identifier, pid, facility, Parsed) of one ``journalctl -o json`` line, or None for a line without a time."""
    try:
        entry = json.loads(text)
    except ValueError:
        return None
    if not isinstance(entry, dict) or "__REALTIME_TIMESTAMP" not in entry:
        return None
    try:
        micros = int(entry["__REALTIME_TIMESTAMP"])
    except (TypeError, ValueError):
        return None
    ts = timestamps.EPOCH + timestamps.datetime.timedelta(microseconds=micros)
    host = _text(entry.get("_HOSTNAME")) or None
    ident = _text(entry.get("SYSLOG_IDENTIFIER")) or _text(entry.get("_COMM")) or None
    pid = _text(entry.get("SYSLOG_PID")) or _text(entry.get("_PID")) or None
    try:
        level = timestamps.level_number(_text(entry.get("PRIORITY")))
    except ValueError:
        level = None
    message = _text(entry.get("MESSAGE"))
    if level is None:
        level = timestamps.word_level(message)
    facility = _text(entry.get("SYSLOG_FACILITY"))
    facility = int(facility) if facility.isdigit() and int(facility) <= 23 else 3  # daemon: a service's own output
    return host, ident, pid, facility, timestamps.Parsed(ts, host, ident, level, message)


def render(host, ident, pid, parsed, facility=3):
    """The collector's line format (``<PRI>time host tag: message``): the level survives the re-scan of the line."""
    tag = ident or "-"
    if pid:
        tag += "[%s]" % pid
    pri = "<%d>" % (facility * 8 + parsed.level) if parsed.level is not None else ""
    return "%s%s %s %s: %s" % (pri, timestamps.to_utc_iso(parsed.ts), host or "-", tag, parsed.message)


def run_journalctl(since, until, journalctl="journalctl", extra=None):
    args = [journalctl, "-o", "json", "--no-pager", "-q"]
    if since is not None:
        args.append("--since=@%d" % math.floor(timestamps.datetime.datetime.timestamp(since)))
    if until is not None:
        args.append("--until=@%d" % math.ceil(timestamps.datetime.datetime.timestamp(until)))
    args.extend(extra or [])
    try:
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    except OSError as exc:
        raise JournalError("cannot run %s: %s" % (journalctl, exc))
    if proc.returncode != 0:
        raise JournalError("%s failed (%d): %s" % (" ".join(args), proc.returncode,
                                                   proc.stderr.decode("utf-8", "replace").strip()))
    return proc.stdout.decode("utf-8", "replace").splitlines()


def iter_journal(lines, since=None, until=None):
    """(host, identifier, line_number, rendered line, Parsed) of journalctl JSON lines inside [since, until]."""
    number = 0
    for text in lines:
        entry = parse_entry(text)
        if entry is None:
            continue
        number += 1
        host, ident, pid, facility, parsed = entry
        if (since is not None and parsed.ts < since) or (until is not None and parsed.ts > until):
            continue
        yield host, ident, number, render(host, ident, pid, parsed, facility), parsed


def journal_streams(since, until, hosts=None, programs=None, journalctl="journalctl", lines=None):
    """Streams of the journal between since and until; ``lines`` replaces running journalctl (tests)."""
    from ansible_collections.watchkeeper.ops.plugins.module_utils.logs.sources import Stream  # circular at import time

    if lines is None:
        lines = run_journalctl(since, until, journalctl)
    groups = {}
    for host, ident, _number, line, parsed in iter_journal(lines, since, until):
        if hosts and not any(fnmatch.fnmatchcase(host or "", p) for p in hosts):
            continue
        if programs and not any(fnmatch.fnmatchcase(ident or "", p) for p in programs):
            continue
        key = (host or "", ident or "")
        if key not in groups:
            groups[key] = (JournalFile(host, ident), [])
        fake, records = groups[key]
        records.append((fake, len(records) + 1, line, parsed))
    streams = []
    for key in sorted(groups):
        fake, records = groups[key]
        streams.append(Stream(fake.host, fake.program, [fake], records))
    return streams
