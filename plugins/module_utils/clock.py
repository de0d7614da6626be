# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where modules read the time, so tests can freeze it.

Set ``WATCHKEEPER_NOW`` (ISO 8601, e.g. ``2026-11-27T12:00:00Z``) in a task's ``environment:`` to
freeze "now" for that task. Durations are always measured with ``time.monotonic()``.
"""

import datetime
import os

UTC = datetime.timezone.utc
NOW_ENV = "WATCHKEEPER_NOW"


def parse_time(text):
    """Parse an ISO 8601 timestamp; a naive value is taken as UTC. Returns an aware datetime."""
    if isinstance(text, datetime.datetime):
        value = text
    else:
        raw = str(text).strip()
        if raw.endswith("Z") or raw.endswith("z"):
            raw = raw[:-1] + "+00:00"
        value = datetime.datetime.fromisoformat(raw)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def now():
    """Current UTC time, or the frozen time from ``WATCHKEEPER_NOW``."""
    frozen = os.environ.get(NOW_ENV)
    if frozen:
        return parse_time(frozen)
    return datetime.datetime.now(UTC)


def isoformat(value):
    """``2026-11-27T01:30:00Z`` (seconds precision, UTC)."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def compact(value):
    """``20261127T013000Z``, the timestamp used in backup ids and object keys."""
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_compact(text):
    """The inverse of ``compact``; ValueError for anything else. Slices, not ``strptime``: a listing parses one
    per backup, and ``strptime`` costs ten times as much."""
    if len(text) != 16 or text[8] != "T" or text[15] != "Z" or not (text[:8] + text[9:15]).isdigit():
        raise ValueError("not a compact UTC timestamp (YYYYMMDDTHHMMSSZ): %r" % (text,))
    return datetime.datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]), int(text[11:13]),
                             int(text[13:15]), tzinfo=UTC)
