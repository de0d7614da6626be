# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure freshness rules (no I/O): durations, ages, and whether a job's backups are stale.

The absence of a recent good backup is itself a failure: a job is stale when it has no valid
backup at all, or when its newest valid backup is older than ``max_age``.
"""

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
PART_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(value):
    """Seconds from ``3600``, ``"90m"``, ``"26h"``, ``"7d"`` or ``"1d 2h"``; raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("not a duration: %r" % value)
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    text = str(value).strip().lower()
    match = DURATION_RE.match(text)
    if match:
        return float(match.group(1)) * UNITS[match.group(2) or "s"]
    parts = PART_RE.findall(text)
    if parts and PART_RE.sub("", text).strip() == "":
        return sum(float(num) * UNITS[unit] for num, unit in parts)
    raise ValueError("not a duration: %r (use e.g. 3600, 90m, 26h, 7d)" % value)


def human_duration(seconds):
    """``"2d 3h"``, ``"4h 05m"``, ``"12m 30s"``, ``"42s"`` (two largest units)."""
    seconds = int(round(max(0, seconds)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return "%dd %dh" % (days, hours)
    if hours:
        return "%dh %02dm" % (hours, minutes)
    if minutes:
        return "%dm %02ds" % (minutes, secs)
    return "%ds" % secs


def assess(backup_times, now, max_age_s=None):
    """Freshness of a job from the creation times of its **valid** backups.

    Returns ``{"count", "newest", "newest_age_s", "stale", "reason"}``. ``stale`` is None when
    no ``max_age_s`` is given and there is at least one backup (nothing to judge against).
    A backup dated in the future counts as age 0 (clock skew between hosts).
    """
    times = sorted(backup_times, reverse=True)
    if not times:
        return {"count": 0, "newest": None, "newest_age_s": None, "stale": True, "reason": "no valid backup found"}
    newest = times[0]
    age = max(0.0, (now - newest).total_seconds())
    out = {"count": len(times), "newest": newest, "newest_age_s": age, "stale": None, "reason": None}
    if max_age_s is not None:
        out["stale"] = age > max_age_s
        if out["stale"]:
            out["reason"] = "newest valid backup is %s old, more than max_age %s" % (
                human_duration(age), human_duration(max_age_s))
    return out
