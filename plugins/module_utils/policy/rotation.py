# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure rotation rule of integrity sweeps (no I/O, no state): which backups a run reads.

With ``subset: "1/N"`` and ``subset_period: P`` time is cut into periods of P seconds since the
Unix epoch, numbered ``floor(epoch / P)``. A run reads the backups whose own period number (taken
from their creation time) has the same remainder modulo N as the run's:

    run slot     = floor(now_epoch / P) mod N
    backup slot  = floor(created_at_epoch / P) mod N

N runs in N consecutive periods have N consecutive period numbers, hence every remainder once, so
every backup is read exactly once per cycle of N periods, whichever host runs the sweep and
without remembering anything between runs. ``subset: all`` is the cycle of one: every backup
has slot 0 and every run reads them all.
"""

import datetime
import re

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import freshness

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
DEFAULT_PERIOD_S = 86400
MAX_CYCLE = 100000
SUBSET_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_subset(value):
    """The cycle length N from ``"all"`` (1) or ``"1/N"``; raises ValueError with the accepted forms."""
    text = "all" if value is None else str(value).strip().lower()
    if text == "all":
        return 1
    match = SUBSET_RE.match(text)
    if not match:
        raise ValueError("subset %r is not understood: use 'all' or '1/N', for example '1/30' to read one "
                         "thirtieth of the backups per run and all of them over 30 runs" % (value,))
    part, cycle = int(match.group(1)), int(match.group(2))
    if part != 1:
        hint = " ('1/%d' reads about the same share per run)" % max(1, cycle // part) if part else ""
        raise ValueError("subset %r: only 'all' or '1/N' is supported, each run reading the backups of one slot "
                         "out of N%s" % (value, hint))
    if not 1 <= cycle <= MAX_CYCLE:
        raise ValueError("subset %r: N must be between 1 and %d" % (value, MAX_CYCLE))
    return cycle


def parse_period(value):
    """Whole seconds (> 0) from ``"1d"``, ``"12h"``, ``"3600s"``, ``3600`` or ``"1d 12h"``; raises ValueError."""
    try:
        seconds = freshness.parse_duration(value)
    except ValueError:
        raise ValueError("subset_period %r is not a duration: use seconds or e.g. 3600s, 12h, 1d, 7d" % (value,))
    if seconds != int(seconds) or seconds < 1:
        raise ValueError("subset_period %r must be a whole number of seconds, at least 1s" % (value,))
    return int(seconds)


def period_number(when, period_s):
    """``floor(epoch_seconds(when) / period_s)``, exact (integer arithmetic on the timedelta)."""
    if when.tzinfo is None:
        raise ValueError("a naive datetime has no defined epoch; give an aware (UTC) time")
    return (when - EPOCH) // datetime.timedelta(seconds=period_s)


def run_slot(now, cycle, period_s=DEFAULT_PERIOD_S):
    """The slot a run at ``now`` reads."""
    return period_number(now, period_s) % cycle


def backup_slot(created_at, cycle, period_s=DEFAULT_PERIOD_S):
    """The slot a backup created at ``created_at`` belongs to."""
    return period_number(created_at, period_s) % cycle


def selected(backups, now, cycle=1, period_s=DEFAULT_PERIOD_S, when=None):
    """The items of ``backups`` (order kept) a run at ``now`` reads.

    ``when`` maps an item to its (aware) creation time; by default the items are the times.
    """
    when = when or (lambda item: item)
    slot = run_slot(now, cycle, period_s)
    return [item for item in backups if backup_slot(when(item), cycle, period_s) == slot]


def describe(now, cycle=1, period_s=DEFAULT_PERIOD_S):
    """``{"slot", "cycle", "period_s", "period_start", "next_period_start"}`` of a run (times as aware datetimes)."""
    number = period_number(now, period_s)
    start = EPOCH + datetime.timedelta(seconds=number * period_s)
    return {"slot": number % cycle, "cycle": cycle, "period_s": period_s, "period_start": start,
            "next_period_start": start + datetime.timedelta(seconds=period_s)}
