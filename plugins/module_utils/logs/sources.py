# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Log files on disk: which exist (``discover``), which can hold lines of a time window (``prune``), and reading
them line by line (``iter_records``).

A *stream* is one host's program: its current file and its rotated files, oldest first. Rotated names accepted:
``prog.log-20261204-1733300000.gz`` (logrotate ``dateext`` with ``-%Y%m%d-%s``), ``prog.log-20261204[.gz]``,
``prog.log.1``, ``prog.log.2.gz``. A ``.gz`` file is read transparently (every gzip member).

Time bounds of a file, without reading it whole: the first line's timestamp (first block only), the last line's
(the tail of a plain file), the modification time (logrotate's gzip keeps it: the time of the last write) and the
rotation time in the name. Lines are assumed in time order within a file (the collector appends as it receives).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import fnmatch
import glob
import gzip
import io
import os
import re
import socket

from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import timestamps
from ansible_collections.watchkeeper.ops.plugins.module_utils.logs.journal import journal_streams, iter_journal  # noqa: F401 pylint: disable=unused-import

DEFAULT_ROOT = "/var/log/remote"
DEFAULT_LAYOUT = "{host}/{program}.log"
# Clients' clocks and the collector's queue: a line's own timestamp may be a little later than the file's mtime.
SLACK = datetime.timedelta(minutes=5)
HEAD_BYTES = 64 * 1024
TAIL_BYTES = 64 * 1024
_ROTATION = re.compile(r"(?:\.(\d+)|-(\d{8})(?:-(\d{9,11}))?(?:[-_.]?\d*)?)?(\.gz)?$")


class LogSourceError(Exception):
    """A root, layout or path that cannot be read (the message says which)."""


class LogFile(object):
    """One file of a stream. ``first_ts``/``last_ts`` are bounds filled by ``prune`` (None: unknown)."""

    __slots__ = ("path", "host", "program", "compressed", "first_ts", "last_ts", "mtime", "order")

    def __init__(self, path, host, program, compressed=None, order=(2, 0)):
        self.path = path
        self.host = host
        self.program = program
        self.compressed = path.endswith(".gz") if compressed is None else compressed
        self.first_ts = None
        self.last_ts = None
        self.mtime = None
        self.order = order

    def __repr__(self):
        return "LogFile(%r)" % self.path


class Stream(object):
    """One host's program: ``files`` oldest -> newest. ``journal`` streams carry their records instead."""

    __slots__ = ("host", "program", "files", "records", "all_files")

    def __init__(self, host, program, files, records=None, all_files=None):
        self.host = host
        self.program = program
        self.files = files
        self.records = records
        self.all_files = all_files if all_files is not None else files

    @property
    def key(self):
        return (self.host or "", self.program or "")

    def __repr__(self):
        return "Stream(%r, %r, %d files)" % (self.host, self.program, len(self.files))


def rotation_order(suffix):
    """Sort key of a rotation suffix ('' current, '.1', '.2.gz', '-20261204-1733300000.gz'): older sorts first."""
    match = _ROTATION.match(suffix)
    if not suffix or suffix == ".gz" or not match or match.end() == 0:
        return (2, 0)
    if match.group(1):
        return (0, -int(match.group(1)))
    if match.group(2):
        return (1, int(match.group(2)) * 10 ** 11 + int(match.group(3) or 0))
    return (2, 0)


def _split_rotation(name, base):
    """The rotation suffix of ``name`` after ``base`` or None when ``name`` is not a file of that stream."""
    if not name.startswith(base):
        return None
    suffix = name[len(base):]
    if suffix in ("", ".gz"):
        return suffix
    match = _ROTATION.match(suffix)
    if match and match.end() == len(suffix) and (match.group(1) or match.group(2)):
        return suffix
    return None


def _layout_regex(layout):
    if "{program}" not in layout:
        raise LogSourceError("layout %r must contain {program}" % layout)
    parts = re.split(r"(\{host\}|\{program\})", layout)
    regex = ""
    for part in parts:
        if part == "{host}":
            regex += r"(?P<host>[^/]+)"
        elif part == "{program}":
            regex += r"(?P<program>[^/]+?)"
        else:
            regex += re.escape(part)
    return re.compile("^" + regex + "$")


def _matches(value, patterns):
    return not patterns or any(fnmatch.fnmatchcase(value or "", pattern) for pattern in patterns)


def discover(root=None, layout=DEFAULT_LAYOUT, paths=None, hosts=None, programs=None):
    """Streams under ``root`` by ``layout`` (or the given ``paths``) filtered by host/program fnmatch patterns."""
    if paths:
        return _discover_paths(paths, hosts, programs)
    root = root or DEFAULT_ROOT
    if not os.path.isdir(root):
        raise LogSourceError("log root %s does not exist or is not a directory" % root)
    if not os.access(root, os.R_OK | os.X_OK):
        raise LogSourceError("log root %s is not readable" % root)
    layout = layout or DEFAULT_LAYOUT
    regex = _layout_regex(layout)
    pattern = layout.replace("{host}", "*").replace("{program}", "*")
    groups = {}
    for path in glob.glob(os.path.join(glob.escape(root), pattern + "*")):
        rel = os.path.relpath(path, root)
        for cut in _candidate_bases(rel):
            match = regex.match(cut)
            if match:
                suffix = rel[len(cut):]
                host = match.groupdict().get("host")
                program = match.group("program")
                key = (host, program)
                groups.setdefault(key, []).append(LogFile(path, host, program, order=rotation_order(suffix)))
                break
    streams = []
    for (host, program), files in sorted(groups.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        if not os.path.isfile(files[0].path) and len(files) == 1:
            continue
        files = [f for f in files if os.path.isfile(f.path)]
        if files and _matches(host, hosts) and _matches(program, programs):
            files.sort(key=lambda f: f.order)
            streams.append(Stream(host, program, files))
    return streams


def _candidate_bases(rel):
    """``rel`` and ``rel`` without the rotation suffix."""
    out = []
    match = _ROTATION.search(rel)
    if match and match.start() < len(rel):
        out.append(rel[:match.start()])
    out.append(rel)
    return out


def _discover_paths(paths, hosts, programs):
    local_host = socket.gethostname().split(".")[0]
    files = []
    for item in paths:
        item = os.path.expanduser(str(item))
        if os.path.isdir(item):
            found = [os.path.join(d, n) for d, _s, names in os.walk(item) for n in names]
        elif os.path.exists(item):
            found = [item]
        else:
            found = glob.glob(item)
            if not found:
                raise LogSourceError("log path %s does not exist (no file matches)" % item)
        for path in found:
            if not os.access(path, os.R_OK):
                raise LogSourceError("log file %s is not readable" % path)
            files.append(path)
    groups = {}
    for path in sorted(set(files)):
        name = os.path.basename(path)
        match = _ROTATION.search(name)
        base = name[:match.start()] if match else name
        suffix = name[len(base):]
        if suffix and _split_rotation(name, base) is None:
            base, suffix = name, ""
        program = base[:-4] if base.endswith(".log") else base
        key = (os.path.dirname(path), base)
        groups.setdefault(key, []).append(LogFile(path, local_host, program, order=rotation_order(suffix)))
    streams = []
    for (_dir, _base), group in sorted(groups.items()):
        group.sort(key=lambda f: f.order)
        if _matches(group[0].host, hosts) and _matches(group[0].program, programs):
            streams.append(Stream(group[0].host, group[0].program, group))
    return streams


# ----------------------------------------------------------------------------------------------------- reading

def open_text(path):
    """A text reader of ``path`` (``.gz`` transparently; undecodable bytes replaced)."""
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace", newline="\n")
    return io.open(path, "r", encoding="utf-8", errors="replace", newline="\n")


def open_binary(path):
    return gzip.open(path, "rb") if path.endswith(".gz") else io.open(path, "rb")


def _first_ts(lines, zone, year_hint):
    for line in lines:
        parsed = timestamps.parse_line(line, zone, year_hint)
        if parsed.ts is not None:
            return parsed.ts
    return None


def file_head_ts(log_file, zone, year_hint=None):
    """Timestamp of the first line that has one in the first 64 KiB."""
    try:
        with open_binary(log_file.path) as handle:
            data = handle.read(HEAD_BYTES)
    except (IOError, OSError, EOFError) as exc:
        raise LogSourceError("cannot read %s: %s" % (log_file.path, exc))
    lines = data.split(b"\n")
    if len(data) == HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]
    return _first_ts(lines, zone, year_hint)


def file_tail_ts(log_file, zone, year_hint=None):
    """Timestamp of the last line that has one in the last 64 KiB of a plain file."""
    try:
        with io.open(log_file.path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - TAIL_BYTES))
            data = handle.read()
    except (IOError, OSError) as exc:
        raise LogSourceError("cannot read %s: %s" % (log_file.path, exc))
    lines = data.split(b"\n")
    if size > TAIL_BYTES:
        lines = lines[1:]
    return _first_ts(reversed(lines), zone, year_hint)


def _name_bound(log_file, zone):
    """Upper bound of the last line's time from the rotation suffix (epoch, else the end of the date)."""
    match = re.search(r"-(\d{8})(?:-(\d{9,11}))?[^/]*$", os.path.basename(log_file.path))
    if not match:
        return None
    if match.group(2):
        return timestamps.epoch_to_datetime(int(match.group(2)))
    try:
        day = datetime.datetime.strptime(match.group(1), "%Y%m%d").replace(tzinfo=zone)
    except ValueError:
        return None
    return day + datetime.timedelta(days=1)


def file_bounds(log_file, zone):
    """Fill ``first_ts``, ``last_ts`` (upper bounds, SLACK added to mtime/name bounds) and ``mtime``."""
    try:
        mtime = os.stat(log_file.path).st_mtime
    except OSError as exc:
        raise LogSourceError("cannot read %s: %s" % (log_file.path, exc))
    log_file.mtime = timestamps.epoch_to_datetime(mtime)
    hint = log_file.mtime.astimezone(zone)
    log_file.first_ts = file_head_ts(log_file, zone, hint)
    bounds = [log_file.mtime + SLACK]
    name = _name_bound(log_file, zone)
    if name is not None:
        bounds.append(name + SLACK)
    if not log_file.compressed:
        # the last line itself (clients' clocks may be ahead of the collector's mtime)
        tail = file_tail_ts(log_file, zone, hint)
        if tail is not None:
            bounds = [tail]
    log_file.last_ts = min(bounds)
    return log_file


def prune(streams, since, until, default_tz=None):
    """(streams keeping only the files that may hold lines in [since, until], number of files pruned)."""
    zone = timestamps.get_zone(default_tz)
    kept, pruned = [], 0
    for stream in streams:
        if stream.records is not None:
            kept.append(stream)
            continue
        files = []
        for log_file in stream.files:
            file_bounds(log_file, zone)
            if (log_file.first_ts is not None and until is not None and log_file.first_ts > until) or \
                    (since is not None and log_file.last_ts < since):
                pruned += 1
            else:
                files.append(log_file)
        if files:
            kept.append(Stream(stream.host, stream.program, files, all_files=stream.all_files))
    return kept, pruned


def collector_stamp(line):
    """The timestamp text of a line in the collector's format (``<PRI>STAMP HOST ...``, bytes or str), else None."""
    if not line or line[:1] not in (b"<", "<"):
        return None
    close = line.find(b">" if isinstance(line, bytes) else ">", 1, 6)
    space = line.find(b" " if isinstance(line, bytes) else " ", close + 1) if close > 0 else -1
    return line[close + 1:space] if space > close + 1 else None


def out_of_order_resend(stamp, previous_stamp):
    """Whether a line stamped ``stamp`` after a line stamped ``previous_stamp`` may be RELP's re-sent copy.

    RELP delivers at least once: when the collector stops between writing a message and acknowledging it, the
    client sends it again after the restart (rsyslog #979, librelp #56), after newer messages of its queue, so the
    copy is older than the line before it. Only sub-second stamps qualify: whole-second lines can repeat for real.
    The readers then count the line once when an identical line (bytes, microseconds included) came before it.
    """
    if stamp is None or previous_stamp is None:
        return False
    dot = b"." if isinstance(stamp, bytes) else "."
    return dot in stamp and stamp <= previous_stamp


def iter_records(stream, since, until, default_tz=None):
    """(LogFile, line_number, line, Parsed) of the stream's lines in [since, until], oldest first. Lines without a
    timestamp inherit the previous line's."""
    zone = timestamps.get_zone(default_tz)
    if stream.records is not None:
        for record in stream.records:
            if (since is None or record[3].ts >= since) and (until is None or record[3].ts <= until):
                yield record
        return
    for log_file in stream.files:
        hint = log_file.mtime.astimezone(zone) if log_file.mtime else None
        if hint is None:
            try:
                hint = timestamps.epoch_to_datetime(os.stat(log_file.path).st_mtime).astimezone(zone)
            except OSError as exc:
                raise LogSourceError("cannot read %s: %s" % (log_file.path, exc))
        previous = None
        try:
            with open_text(log_file.path) as handle:
                for number, line in enumerate(handle, 1):
                    line = line.rstrip("\n")
                    parsed = timestamps.parse_line(line, zone, hint)
                    if parsed.ts is None:
                        parsed = parsed._replace(ts=previous)
                    else:
                        previous = parsed.ts
                    if parsed.ts is None or (since is not None and parsed.ts < since):
                        continue
                    if until is not None and parsed.ts > until:
                        break
                    yield log_file, number, line, parsed
        except (IOError, OSError, EOFError) as exc:
            raise LogSourceError("cannot read %s: %s" % (log_file.path, exc))
