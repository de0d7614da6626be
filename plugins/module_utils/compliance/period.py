# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The period a compliance report covers (pure): a calendar month or ``[start, end)``, always UTC."""

import datetime
import re

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock

MONTH_RE = re.compile(r"\A(\d{4})-(\d{2})\Z")
DATE_RE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")


class PeriodError(ValueError):
    """The period given cannot be understood."""


def month_bounds(year, month):
    start = datetime.datetime(year, month, 1, tzinfo=clock.UTC)
    end = datetime.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=clock.UTC)
    return start, end


def previous_month(now):
    first = now.astimezone(clock.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = first - datetime.timedelta(days=1)
    return "%04d-%02d" % (last.year, last.month)


def _instant(name, value):
    text = str(value).strip()
    try:
        if DATE_RE.match(text):
            return datetime.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=clock.UTC)
        return clock.parse_time(text)
    except ValueError:
        raise PeriodError("period.%s %r is neither a date (YYYY-MM-DD) nor an ISO 8601 time" % (name, value))


def parse(spec, now):
    """``{"label", "start", "end", "kind"}`` from ``{"month": "2026-11"}``, ``{"start": ..., "end": ...}`` or
    nothing (the calendar month before ``now``). ``end`` is exclusive. Raises PeriodError."""
    spec = dict((k, v) for k, v in (spec or {}).items() if v not in (None, ""))
    unknown = sorted(set(spec) - {"month", "start", "end"})
    if unknown:
        raise PeriodError("period: unknown key(s) %s; give month (YYYY-MM) or start and end" % ", ".join(unknown))
    if "month" in spec and ("start" in spec or "end" in spec):
        raise PeriodError("period: give either month or start and end, not both")
    if not spec:
        spec = {"month": previous_month(now)}
    if "month" in spec:
        match = MONTH_RE.match(str(spec["month"]).strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise PeriodError("period.month %r is not a month as YYYY-MM (for example 2026-11)" % spec["month"])
        start, end = month_bounds(int(match.group(1)), int(match.group(2)))
        return {"kind": "month", "label": "%s-%s" % match.groups(), "start": start, "end": end}
    if "start" not in spec or "end" not in spec:
        raise PeriodError("period: start and end go together (end is exclusive)")
    start, end = _instant("start", spec["start"]), _instant("end", spec["end"])
    if end <= start:
        raise PeriodError("period: end %s is not after start %s" % (clock.isoformat(end), clock.isoformat(start)))
    return {"kind": "range", "label": "%s-%s" % (clock.compact(start), clock.compact(end)), "start": start, "end": end}


def contains(period, when):
    return when is not None and period["start"] <= when < period["end"]


def public(period):
    """The period as the report shows it."""
    return {"kind": period["kind"], "label": period["label"], "start": clock.isoformat(period["start"]),
            "end": clock.isoformat(period["end"])}
