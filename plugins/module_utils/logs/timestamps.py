# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Timestamps, durations and levels of log lines (pure, no I/O except reading the host's zone once).

``parse_line`` recognises, each with an optional ``<PRI>`` prefix:

- the collector's format ``<134>2026-12-05T08:25:13.123456+01:00 app1 myapp[812]: message`` (RFC 3339 time,
  host, syslog tag);
- RFC 5424 ``<165>1 2026-12-05T08:25:13.003Z host app procid msgid [sd...] message`` (``-`` for nil fields);
- RFC 3164 ``Dec  5 08:25:13 host prog[pid]: message`` (no year: inferred from ``year_hint``; no zone: ``default_tz``);
- ISO 8601 at the start of a line ``2026-12-05 08:25:13,123 ERROR ...`` (zone explicit or ``default_tz``);
- JSON lines ``{"time"|"timestamp"|"ts"|"@timestamp"|"t": ..., "level"|"severity"|"lvl": ..., "msg"|"message": ...}``,
  also as the message of a syslog line (the JSON's level wins, the header's time is kept).

Levels are syslog severities (0 emerg .. 7 debug). Without a PRI or a JSON level, a level word near the start
of the message counts (``ERROR``, ``[warn]``...).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import datetime
import json
import os
import re

try:
    import zoneinfo
except ImportError:  # pragma: no cover - Python < 3.9
    zoneinfo = None

UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)

LEVEL_NAMES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
LEVELS = {
    "emerg": 0, "emergency": 0, "panic": 0,
    "alert": 1,
    "crit": 2, "critical": 2, "fatal": 2,
    "err": 3, "error": 3,
    "warning": 4, "warn": 4,
    "notice": 5,
    "info": 6, "informational": 6, "information": 6,
    "debug": 7, "trace": 7,
}

Parsed = collections.namedtuple("Parsed", "ts host program level message")


def level_number(name_or_int):
    """0..7 for a syslog severity name or number ('warning', 'WARN', 4, '4'); ValueError otherwise."""
    if isinstance(name_or_int, bool):
        raise ValueError("not a log level: %r" % (name_or_int,))
    if isinstance(name_or_int, int):
        if 0 <= name_or_int <= 7:
            return name_or_int
        raise ValueError("log level %d out of range 0..7" % name_or_int)
    text = str(name_or_int).strip().lower()
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text in LEVELS:
        return LEVELS[text]
    raise ValueError("unknown log level %r (use one of %s or 0..7)" % (name_or_int, ", ".join(LEVEL_NAMES)))


def level_name(number):
    return None if number is None else LEVEL_NAMES[number]


# ----------------------------------------------------------------------------------------------------- durations

_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d|w)?", re.I)
_UNITS = {None: 1.0, "ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(text):
    """Seconds in '90s', '30m', '2h', '1d', '1h30m', '1.5h' or a bare number of seconds; ValueError otherwise."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if text < 0:
            raise ValueError("negative duration %r" % (text,))
        return float(text)
    value = str(text).strip()
    pos, total, parts = 0, 0.0, 0
    while pos < len(value):
        match = _DURATION_PART.match(value, pos)
        if not match or match.end() == pos:
            raise ValueError("not a duration: %r (use e.g. 90s, 30m, 2h, 1d, 1h30m)" % (text,))
        unit = match.group(2).lower() if match.group(2) else None
        if unit is None and parts:
            raise ValueError("not a duration: %r (a number without unit after another)" % (text,))
        total += float(match.group(1)) * _UNITS[unit]
        parts += 1
        pos = match.end()
        while pos < len(value) and value[pos] == " ":
            pos += 1
    if not parts:
        raise ValueError("not a duration: %r (use e.g. 90s, 30m, 2h, 1d, 1h30m)" % (text,))
    return total


# ----------------------------------------------------------------------------------------------------- zones

_LOCAL = []


def local_zone():
    """The host's zone: $TZ, /etc/timezone, /etc/localtime, else the current fixed offset."""
    if _LOCAL:
        return _LOCAL[0]
    zone = None
    name = os.environ.get("TZ", "").lstrip(":")
    if zoneinfo is not None:
        if name:
            zone = _try_zone(name)
        if zone is None:
            try:
                with open("/etc/timezone") as handle:
                    zone = _try_zone(handle.read().strip())
            except (IOError, OSError):
                zone = None
        if zone is None:
            try:
                with open("/etc/localtime", "rb") as handle:
                    zone = zoneinfo.ZoneInfo.from_file(handle, key="localtime")
            except (IOError, OSError, ValueError):
                zone = None
    if zone is None:
        zone = datetime.datetime.now().astimezone().tzinfo
    _LOCAL.append(zone)
    return zone


def _try_zone(name):
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return None


def get_zone(value):
    """A tzinfo for None (the host's zone), a tzinfo, 'UTC', '+01:00' or an IANA name; ValueError otherwise."""
    if value is None or value == "":
        return local_zone()
    if isinstance(value, datetime.tzinfo):
        return value
    text = str(value).strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    offset = _OFFSET.match(text)
    if offset:
        return _offset_zone(text)
    if zoneinfo is not None:
        zone = _try_zone(text)
        if zone is not None:
            return zone
    raise ValueError("unknown time zone %r (use an IANA name like Europe/Paris, UTC or +01:00)" % (value,))


_OFFSET = re.compile(r"^([+-])(\d\d):?(\d\d)$")
_OFFSETS = {}


def _offset_zone(text):
    if text in ("Z", "z"):
        return UTC
    zone = _OFFSETS.get(text)
    if zone is None:
        match = _OFFSET.match(text)
        minutes = int(match.group(2)) * 60 + int(match.group(3))
        zone = UTC if minutes == 0 else datetime.timezone(datetime.timedelta(minutes=minutes if match.group(1) == "+" else -minutes))
        _OFFSETS[text] = zone
    return zone


def to_utc_iso(value):
    """ISO 8601 in UTC with 'Z' (microseconds only when not zero)."""
    if value is None:
        return None
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


# ----------------------------------------------------------------------------------------------------- times

_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d\d:?\d\d)?$")
_RELATIVE = re.compile(r"^([+-])\s*(.+)$")


def _iso_match(match, default_tz):
    year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    hour = int(match.group(4) or 0)
    minute = int(match.group(5) or 0)
    second = int(match.group(6) or 0)
    frac = match.group(7)
    micro = int((frac + "000000")[:6]) if frac else 0
    zone = match.group(8)
    tzinfo = _offset_zone(zone) if zone else default_tz
    if second == 60:
        second = 59
    return datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=tzinfo)


def parse_time(value, now=None, default_tz=None):
    """An aware datetime for 'now', '-30m' (relative to ``now``), an ISO 8601/RFC 3339 time (zone-less ones in
    ``default_tz``), a datetime or epoch seconds; ValueError with the reason otherwise."""
    zone = get_zone(default_tz)
    if now is None:
        now = datetime.datetime.now(UTC)
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return epoch_to_datetime(value)
    text = str(value).strip()
    if text.lower() == "now":
        return now
    relative = _RELATIVE.match(text)
    if relative and not _ISO.match(text):
        seconds = parse_duration(relative.group(2))
        delta = datetime.timedelta(seconds=seconds)
        return now - delta if relative.group(1) == "-" else now + delta
    match = _ISO.match(text)
    if not match:
        raise ValueError("not a time: %r (use ISO 8601 like 2026-12-05T08:00:00+01:00, 'now' or '-30m')" % (value,))
    try:
        return _iso_match(match, zone)
    except ValueError as exc:
        raise ValueError("not a time: %r (%s)" % (value, exc))


def epoch_to_datetime(number):
    """Epoch seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude) as an aware UTC datetime."""
    value = float(number)
    if abs(value) >= 1e17:
        value /= 1e9
    elif abs(value) >= 1e14:
        value /= 1e6
    elif abs(value) >= 1e11:
        value /= 1e3
    return EPOCH + datetime.timedelta(seconds=value)


# ----------------------------------------------------------------------------------------------------- lines

_PRI = re.compile(r"<(\d{1,3})>")
_RFC3339 = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d{1,9})?)?(?:Z|z|[+-]\d\d:?\d\d)?"
_TS_ISO = re.compile(r"(%s)(?:\s+|$)" % _RFC3339)
_RFC5424 = re.compile(r"1 (-|%s) (\S+) (\S+) (\S+) (\S+) " % _RFC3339)
_SD = re.compile(r'-|(?:\[(?:[^\]\\"]|\\.|"(?:[^"\\]|\\.)*")*\])+')
_MONTHS = dict((name, i + 1) for i, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec")))
_RFC3164 = re.compile(r"([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?: (\d{4}))?\s+")
_HOST_TAG = re.compile(r"(\S+) ([^\s:\[\]]+)(?:\[[^\]\s]*\])?: ?")
_TAG = re.compile(r"([^\s:\[\]]+)(?:\[[^\]\s]*\])?: ?")
_LEVEL_WORD = re.compile(r"\[\s*(emerg(?:ency)?|alert|crit(?:ical)?|fatal|err(?:or)?|warn(?:ing)?|notice|info|debug)\s*\]"
                         r"|\b(EMERG(?:ENCY)?|ALERT|CRIT(?:ICAL)?|FATAL|ERR(?:OR)?|WARN(?:ING)?|NOTICE|INFO|DEBUG)\b", re.I)
_JSON_TIME = ("time", "timestamp", "ts", "@timestamp", "t", "datetime", "date")
_JSON_LEVEL = ("level", "severity", "lvl", "levelname", "log.level")
_JSON_MSG = ("msg", "message", "log")
_JSON_HOST = ("host", "hostname")
_JSON_PROGRAM = ("program", "logger", "app", "service", "logger_name")


def _looks_like_level_token(text):
    return text.strip("[]:").lower() in LEVELS


def _rfc3164_ts(match, zone, year_hint):
    month = _MONTHS.get(match.group(1).lower())
    if month is None:
        return None
    day, hour, minute, second = int(match.group(2)), int(match.group(3)), int(match.group(4)), int(match.group(5))
    micro = int((match.group(6) + "000000")[:6]) if match.group(6) else 0
    limit = None
    if match.group(7):
        years = [int(match.group(7))]
    elif isinstance(year_hint, int) and not isinstance(year_hint, bool):
        years = [year_hint]
    else:
        reference = year_hint if isinstance(year_hint, datetime.datetime) else datetime.datetime.now(UTC)
        if reference.tzinfo is None:
            reference = reference.replace(tzinfo=zone)
        # A line is never much newer than the reference (the file's mtime, the window's end): "Dec 31" read
        # in January belongs to the previous year.
        years = [reference.year, reference.year - 1]
        limit = reference + datetime.timedelta(days=2)
    for year in years:
        try:
            value = datetime.datetime(year, month, day, hour, minute, min(second, 59), micro, tzinfo=zone)
        except ValueError:  # Feb 29 in a non-leap year
            continue
        if limit is None or value <= limit:
            return value
    return None


def _json_ts(value, zone):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return epoch_to_datetime(value)
    if isinstance(value, str):
        text = value.strip()
        if re.match(r"^\d{9,19}(\.\d+)?$", text):
            return epoch_to_datetime(float(text))
        match = _ISO.match(text)
        if match:
            try:
                return _iso_match(match, zone)
            except ValueError:
                return None
    return None


def _json_level(value):
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        # syslog numbers 0..7; bunyan/pino numbers 10..60
        if 0 <= value <= 7:
            return value
        return {10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2}.get(value - value % 10)
    try:
        return level_number(value)
    except ValueError:
        return None


def _first(obj, keys):
    for key in keys:
        if key in obj:
            return obj[key]
    return None


def parse_json(text, zone):
    """(ts, level, message, host, program) of a JSON object line, or None when ``text`` is not a JSON object."""
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    ts = _json_ts(_first(obj, _JSON_TIME), zone)
    level = _json_level(_first(obj, _JSON_LEVEL))
    message = _first(obj, _JSON_MSG)
    host = _first(obj, _JSON_HOST)
    program = _first(obj, _JSON_PROGRAM)
    return (ts, level, message if isinstance(message, str) else None, host if isinstance(host, str) else None,
            program if isinstance(program, str) else None)


def word_level(message):
    """The level of a level word in the first ~40 characters of ``message``, or None."""
    match = _LEVEL_WORD.search(message, 0, 48)
    while match:
        if match.group(1):
            return LEVELS[match.group(1).lower()]
        word = match.group(2)
        if word.isupper():
            return LEVELS[word.lower()]
        match = _LEVEL_WORD.search(message, match.end(), 48)
    return None


def parse_line(line, default_tz=None, year_hint=None):
    """Parsed(ts, host, program, level, message) of one log line; fields it cannot find are None."""
    zone = get_zone(default_tz)
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    line = line.rstrip("\r\n")
    pos, level = 0, None
    pri = _PRI.match(line)
    if pri and int(pri.group(1)) <= 191:
        level = int(pri.group(1)) & 7
        pos = pri.end()
    ts = host = program = None
    rfc5424 = _RFC5424.match(line, pos)
    if rfc5424:
        if rfc5424.group(1) != "-":
            ts = _iso_match(_ISO.match(rfc5424.group(1)), zone)
        host = None if rfc5424.group(2) == "-" else rfc5424.group(2)
        program = None if rfc5424.group(3) == "-" else rfc5424.group(3)
        sd = _SD.match(line, rfc5424.end())
        pos = sd.end() if sd else rfc5424.end()
        message = line[pos:]
        if message.startswith(" "):
            message = message[1:]
        if message.startswith("\ufeff"):
            message = message[1:]
    else:
        iso = _TS_ISO.match(line, pos)
        old = None if iso else _RFC3164.match(line, pos)
        if iso:
            ts = _iso_match(_ISO.match(iso.group(1)), zone)
            pos = iso.end()
        elif old:
            ts = _rfc3164_ts(old, zone, year_hint)
            pos = old.end()
        if iso or old:
            header = _HOST_TAG.match(line, pos)
            if header and (pri or old or not _looks_like_level_token(header.group(1))) \
                    and not _looks_like_level_token(header.group(2)):
                host, program = header.group(1), header.group(2)
                pos = header.end()
            elif old or pri:
                tag = _TAG.match(line, pos)
                if tag and not _looks_like_level_token(tag.group(1)):
                    program = tag.group(1)
                    pos = tag.end()
        message = line[pos:]
    if message.startswith("{"):
        parsed = parse_json(message, zone)
        if parsed is not None:
            json_ts, json_level, json_message, json_host, json_program = parsed
            ts = ts or json_ts
            level = json_level if json_level is not None else level
            host = host or json_host
            program = program or json_program
            if json_message is not None:
                message = json_message
    if level is None:
        level = word_level(message)
    return Parsed(ts, host, program, level, message)
