# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scaling schedules (known peaks) as pure data: a floor of replicas during a time range.

No I/O here. A schedule is a dict, in the spirit of the GCP autoscaler's scaling schedules:

* ``name`` (letters, digits, ``_``, ``-``), ``min_replicas`` (the floor while it is active), and either
* ``start`` and ``end`` (ISO 8601; naive times are in ``timezone``, default UTC): active in ``[start, end)``, or
* ``cron`` (five fields: minute hour day-of-month month day-of-week, in ``timezone``; ``*``, lists ``1,15``, ranges
  ``1-5`` and steps ``*/15`` or ``8-18/2``; day-of-week 0-7 with 0 and 7 Sunday) and ``duration`` (seconds or
  ``90m``, ``2h``, ``1d``): active in ``[fire, fire + duration)`` for every firing time.
* ``disabled: true`` keeps a schedule in the inventory without effect.

When both day fields are restricted (neither is ``*``) a day matches when either does, as in cron(8). A firing time
that does not exist on the local clock (DST gap) is skipped; one that happens twice (DST overlap) counts the first.
"""

import datetime
import re

import zoneinfo

UTC = datetime.timezone.utc
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
KEYS = frozenset(("name", "min_replicas", "start", "end", "cron", "duration", "timezone", "disabled", "description"))
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)?\s*$", re.I)
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
# (name, lowest, highest)
FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31), ("month", 1, 12), ("day-of-week", 0, 7))
SEARCH_DAYS = 400  # a cron that fires at least once a year is always found


class ScheduleError(ValueError):
    """An invalid schedule; the message names it and says what to fix."""


def parse_duration(value, what="duration"):
    """Seconds (an int > 0) from ``90``, ``"90s"``, ``"45m"``, ``"2h"``, ``"1d"``, ``"1w"``."""
    if isinstance(value, bool) or value is None:
        raise ScheduleError("%s %r is not a duration (use seconds or e.g. 45m, 2h, 1d)" % (what, value))
    if isinstance(value, (int, float)):
        seconds = int(value)
    else:
        match = _DURATION_RE.match(str(value))
        if not match:
            raise ScheduleError("%s %r is not a duration (use seconds or e.g. 45m, 2h, 1d)" % (what, value))
        seconds = int(float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()])
    if seconds <= 0:
        raise ScheduleError("%s must be positive, got %r" % (what, value))
    return seconds


def zone(name):
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ScheduleError("unknown time zone %r (use an IANA name such as Europe/Berlin or UTC)" % (name,))


def to_utc(value, tz=UTC):
    """An aware UTC datetime from a datetime, a Unix time or ISO 8601 text (naive values are in ``tz``)."""
    if isinstance(value, datetime.datetime):
        parsed = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, UTC)
    else:
        try:
            parsed = datetime.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ScheduleError("%r is not an ISO 8601 date and time (e.g. 2026-11-27T08:00:00+01:00)" % (value,))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


# --------------------------------------------------------------------------- cron

def _parse_field(text, name, low, high):
    values = set()
    for part in text.split(","):
        match = re.match(r"^(\*|\d+(?:-\d+)?)(?:/(\d+))?$", part.strip())
        if not match:
            raise ScheduleError("cron %s field %r: use *, a number, a range a-b, a list or a step /n" % (name, text))
        base, step = match.group(1), int(match.group(2) or 1)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            first, last = (int(x) for x in base.split("-"))
        else:
            first = last = int(base)
            if match.group(2):
                last = high  # "5/15" means from 5 on, every 15
        if not low <= first <= last <= high or step < 1:
            raise ScheduleError("cron %s field %r: values must lie in %d-%d (a range low-high, a step >= 1)"
                                % (name, text, low, high))
        values.update(range(first, last + 1, step))
    return values


def parse_cron(expr):
    """``{"minute": set, "hour": set, "dom": set, "month": set, "dow": set (0 = Sunday), "dom_star", "dow_star"}``."""
    fields = str(expr).split()
    if len(fields) != 5:
        raise ScheduleError("cron %r needs five fields: minute hour day-of-month month day-of-week" % (expr,))
    parsed = [_parse_field(text, *spec) for text, spec in zip(fields, FIELDS)]
    dow = set(day % 7 for day in parsed[4])
    return {"minute": parsed[0], "hour": parsed[1], "dom": parsed[2], "month": parsed[3], "dow": dow,
            "dom_star": fields[2] == "*", "dow_star": fields[4] == "*"}


def _day_matches(cron, day):
    dom_ok = day.day in cron["dom"]
    dow_ok = (day.isoweekday() % 7) in cron["dow"]
    if cron["dom_star"] or cron["dow_star"]:
        return dom_ok and dow_ok
    return dom_ok or dow_ok


def _local_instant(day, hour, minute, tz):
    """The UTC instant of a wall time, or None when the wall time does not exist (DST gap)."""
    wall = datetime.datetime(day.year, day.month, day.day, hour, minute)
    first = wall.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return first.astimezone(UTC)


def fires_between(cron, tz, after, until):
    """Firing instants (UTC, sorted) in ``(after, until]``; both aware datetimes."""
    out = []
    day = after.astimezone(tz).date() - datetime.timedelta(days=1)
    last = until.astimezone(tz).date() + datetime.timedelta(days=1)
    while day <= last:
        if day.month in cron["month"] and _day_matches(cron, day):
            for hour in sorted(cron["hour"]):
                for minute in sorted(cron["minute"]):
                    instant = _local_instant(day, hour, minute, tz)
                    if instant is not None and after < instant <= until:
                        out.append(instant)
        day += datetime.timedelta(days=1)
    return sorted(set(out))


def last_fire(cron, tz, at):
    """The latest firing instant ``<= at`` within SEARCH_DAYS, else None."""
    day = at.astimezone(tz).date()
    for dummy in range(SEARCH_DAYS):
        if day.month in cron["month"] and _day_matches(cron, day):
            for hour in sorted(cron["hour"], reverse=True):
                for minute in sorted(cron["minute"], reverse=True):
                    instant = _local_instant(day, hour, minute, tz)
                    if instant is not None and instant <= at:
                        return instant
        day -= datetime.timedelta(days=1)
    return None


def next_fire(cron, tz, at):
    """The earliest firing instant ``> at`` within SEARCH_DAYS, else None."""
    day = at.astimezone(tz).date()
    for dummy in range(SEARCH_DAYS):
        if day.month in cron["month"] and _day_matches(cron, day):
            for hour in sorted(cron["hour"]):
                for minute in sorted(cron["minute"]):
                    instant = _local_instant(day, hour, minute, tz)
                    if instant is not None and instant > at:
                        return instant
        day += datetime.timedelta(days=1)
    return None


# --------------------------------------------------------------------------- schedules

def check_schedule(spec, index=0):
    """A normalised schedule: ``{name, min_replicas, disabled, tz, cron|None, duration_s, start|None, end|None}``."""
    if not isinstance(spec, dict):
        raise ScheduleError("schedules[%d] must be a dict, got %r" % (index, spec))
    label = "schedule %s" % spec.get("name", "#%d" % index)
    unknown = sorted(set(spec) - KEYS)
    if unknown:
        raise ScheduleError("%s: unknown key(s) %s (known: %s)" % (label, ", ".join(unknown), ", ".join(sorted(KEYS))))
    name = spec.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ScheduleError("%s: name must be letters, digits, _, - or . (up to 64), got %r" % (label, name))
    floor = spec.get("min_replicas")
    if isinstance(floor, bool) or not isinstance(floor, int) or floor < 0:
        raise ScheduleError("%s: min_replicas must be an integer >= 0, got %r" % (label, floor))
    tz = zone(spec.get("timezone") or "UTC")
    out = {"name": name, "min_replicas": floor, "disabled": bool(spec.get("disabled")), "tz": tz,
           "timezone": str(spec.get("timezone") or "UTC"), "cron": None, "duration_s": None, "start": None, "end": None}
    has_cron, has_range = "cron" in spec, "start" in spec or "end" in spec
    if has_cron == has_range:
        raise ScheduleError("%s: give either cron and duration, or start and end" % label)
    if has_cron:
        out["cron"] = parse_cron(spec["cron"])
        out["cron_text"] = str(spec["cron"])
        out["duration_s"] = parse_duration(spec.get("duration"), "%s: duration" % label)
    else:
        if "start" not in spec or "end" not in spec:
            raise ScheduleError("%s: a time range needs both start and end" % label)
        out["start"], out["end"] = to_utc(spec["start"], tz), to_utc(spec["end"], tz)
        if out["end"] <= out["start"]:
            raise ScheduleError("%s: end %s is not after start %s" % (label, spec["end"], spec["start"]))
    return out


def occurrence(schedule, now, lead_s=0):
    """The occurrence active at some instant of ``[now, now + lead_s]``, as ``(start, end)`` UTC, else None."""
    horizon = now + datetime.timedelta(seconds=lead_s)
    if schedule["cron"] is None:
        if schedule["start"] <= horizon and now < schedule["end"]:
            return schedule["start"], schedule["end"]
        return None
    duration = datetime.timedelta(seconds=schedule["duration_s"])
    fire = last_fire(schedule["cron"], schedule["tz"], horizon)
    if fire is not None and now < fire + duration:
        # the latest start up to the horizon; an earlier one may still be running with a later end
        return fire, fire + duration
    return None


def upcoming(schedule, now):
    """The next start strictly after ``now`` (UTC) or None."""
    if schedule["cron"] is None:
        return schedule["start"] if schedule["start"] > now else None
    return next_fire(schedule["cron"], schedule["tz"], now)


def floor_at(schedules, now, lead_s=0):
    """``(floor, active)``: the largest ``min_replicas`` of the schedules active in ``[now, now + lead_s]``
    (0 when none) and ``[{name, min_replicas, start, end}]`` of those active, sorted by name."""
    active = []
    for schedule in schedules:
        if schedule["disabled"]:
            continue
        hit = occurrence(schedule, now, lead_s)
        if hit:
            active.append({"name": schedule["name"], "min_replicas": schedule["min_replicas"],
                           "start": hit[0], "end": hit[1]})
    active.sort(key=lambda item: item["name"])
    return max([item["min_replicas"] for item in active] or [0]), active
