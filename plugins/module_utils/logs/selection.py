# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The selection options shared by log_search and log_summary (the twin of doc_fragments/log_selection.py):
argument spec, the time window, the streams."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import sources, timestamps

SELECTION_SPEC = dict(
    root=dict(type="path", default=sources.DEFAULT_ROOT),
    layout=dict(type="str", default=sources.DEFAULT_LAYOUT),
    paths=dict(type="list", elements="path"),
    hosts=dict(type="list", elements="str"),
    programs=dict(type="list", elements="str"),
    journal=dict(type="bool", default=False),
    since=dict(type="str"),
    until=dict(type="str"),
    last=dict(type="str"),
    timezone=dict(type="str"),
    min_level=dict(type="str"),
    mask_secrets=dict(type="bool", default=True),
)
SELECTION_EXCLUSIVE = [("since", "last"), ("paths", "journal")]


class SelectionError(ValueError):
    """A selection option that cannot be used (the message names it)."""


def resolve_window(since=None, until=None, last=None, now=None, zone=None):
    """(since, until) as aware datetimes; until defaults to now, since to None (the beginning) or until - last."""
    zone = timestamps.get_zone(zone)
    now = now or datetime.datetime.now(timestamps.UTC)
    try:
        end = timestamps.parse_time(until, now, zone) if until else now
    except ValueError as exc:
        raise SelectionError("until: %s" % exc)
    start = None
    if last:
        try:
            start = end - datetime.timedelta(seconds=timestamps.parse_duration(last))
        except ValueError as exc:
            raise SelectionError("last: %s" % exc)
    elif since:
        try:
            start = timestamps.parse_time(since, now, zone)
        except ValueError as exc:
            raise SelectionError("since: %s" % exc)
    if start is not None and start > end:
        raise SelectionError("since (%s) is after until (%s)" % (timestamps.to_utc_iso(start), timestamps.to_utc_iso(end)))
    return start, end


def selection(params, now=None):
    """(zone, since, until, min_level) from module parameters; SelectionError on a bad value."""
    try:
        zone = timestamps.get_zone(params.get("timezone"))
    except ValueError as exc:
        raise SelectionError("timezone: %s" % exc)
    since, until = resolve_window(params.get("since"), params.get("until"), params.get("last"), now, zone)
    min_level = None
    if params.get("min_level") not in (None, ""):
        try:
            min_level = timestamps.level_number(params["min_level"])
        except ValueError as exc:
            raise SelectionError("min_level: %s" % exc)
    return zone, since, until, min_level


def streams(params, since, until, zone):
    """(streams that may hold lines of the window, files pruned); LogSourceError / JournalError on bad sources."""
    if params.get("journal"):
        found = sources.journal_streams(since, until, params.get("hosts"), params.get("programs"))
        return found, 0
    found = sources.discover(params.get("root"), params.get("layout") or sources.DEFAULT_LAYOUT, params.get("paths"),
                             params.get("hosts"), params.get("programs"))
    return sources.prune(found, since, until, zone)
