# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scaling schedules, pure: cron fields, firing times across DST, the active floor with a lead, bad input, and a
property: a cron schedule is active exactly when a firing time lies within the duration before now (brute force)."""

import datetime
import zoneinfo

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import autoscale_schedule as s

UTC = datetime.timezone.utc
M = datetime.timedelta(minutes=1)


def sched(**spec):
    spec.setdefault("name", "peak")
    spec.setdefault("min_replicas", 6)
    return s.check_schedule(spec)


def test_cron_fields():
    cron = s.parse_cron("*/15 8-18/2 1,15 * 1-5")
    assert cron["minute"] == {0, 15, 30, 45} and cron["hour"] == {8, 10, 12, 14, 16, 18}
    assert cron["dom"] == {1, 15} and cron["dow"] == {1, 2, 3, 4, 5}
    assert s.parse_cron("0 0 * * 7")["dow"] == {0}  # 7 is Sunday too


def test_weekday_mornings_in_berlin_follow_local_time_across_dst():
    # 08:00 Europe/Berlin on weekdays: 07:00 UTC in winter, 06:00 UTC in summer.
    peak = sched(cron="0 8 * * 1-5", duration="2h", timezone="Europe/Berlin")
    assert s.floor_at([peak], datetime.datetime(2026, 3, 27, 7, 30, tzinfo=UTC))[0] == 6  # Friday, CET
    assert s.floor_at([peak], datetime.datetime(2026, 3, 30, 6, 30, tzinfo=UTC))[0] == 6  # Monday, CEST
    assert s.floor_at([peak], datetime.datetime(2026, 3, 30, 8, 0, tzinfo=UTC))[0] == 0  # ended at 10:00 local
    assert s.floor_at([peak], datetime.datetime(2026, 3, 28, 7, 30, tzinfo=UTC))[0] == 0  # Saturday
    assert s.upcoming(peak, datetime.datetime(2026, 3, 28, 7, 30, tzinfo=UTC)) == datetime.datetime(2026, 3, 30, 6, 0, tzinfo=UTC)


def test_a_firing_time_in_the_dst_gap_is_skipped():
    gap = sched(cron="30 2 * * *", duration="1h", timezone="Europe/Berlin")
    fires = s.fires_between(gap["cron"], gap["tz"], datetime.datetime(2026, 3, 28, tzinfo=UTC),
                            datetime.datetime(2026, 3, 31, tzinfo=UTC))
    assert [f.day for f in fires] == [28, 30]  # 29 March 02:30 does not exist in Berlin


def test_range_with_lead_and_the_largest_floor():
    sale = sched(name="sale", min_replicas=10, start="2026-11-27T09:00:00", end="2026-11-27T21:00:00", timezone="Europe/Paris")
    night = sched(name="batch", min_replicas=4, cron="0 * * * *", duration="30m")
    at = datetime.datetime(2026, 11, 27, 7, 20, tzinfo=UTC)  # 08:20 Paris: the sale starts in 40 min
    floor, active = s.floor_at([sale, night], at)
    assert floor == 4 and active == [{"name": "batch", "min_replicas": 4, "start": at.replace(minute=0), "end": at.replace(minute=30)}]
    assert s.floor_at([sale], at, lead_s=2399)[0] == 0
    floor, active = s.floor_at([sale, night], at, lead_s=2400)
    assert floor == 10 and [x["name"] for x in active] == ["batch", "sale"]
    assert s.floor_at([dict(sale, disabled=True)], at, lead_s=2400)[0] == 0


@pytest.mark.parametrize("spec,message", [
    ({"cron": "0 8 * *", "duration": "1h"}, "five fields"),
    ({"cron": "61 8 * * *", "duration": "1h"}, "minute field"),
    ({"cron": "0 8 * * mon", "duration": "1h"}, "day-of-week field"),
    ({"cron": "0 8 * * *"}, "duration"),
    ({"cron": "0 8 * * *", "duration": "-5m"}, "not a duration"),
    ({"start": "2026-11-27T09:00:00"}, "needs both start and end"),
    ({"cron": "0 8 * * *", "duration": "1h", "start": "2026-11-27T09:00:00"}, "either cron and duration"),
    ({"start": "2026-11-27", "end": "2026-11-28", "timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"start": "2026-11-27", "end": "2026-11-28", "min_replicas": -1}, "min_replicas must be an integer"),
    ({"start": "2026-11-27", "end": "2026-11-28", "floor": 3}, "unknown key"),
    ({"start": "2026-11-27", "end": "2026-11-28", "name": "black friday"}, "name must be"),
])
def test_bad_schedules_are_refused(spec, message):
    with pytest.raises(s.ScheduleError, match=message):
        sched(**spec)


@settings(max_examples=150, deadline=None)
@given(minute=st.sampled_from(["0", "*/20", "5,35", "10-20/5"]), hour=st.sampled_from(["*", "1", "8-10", "*/6"]),
       dow=st.sampled_from(["*", "1-5", "0", "6,0"]), tz=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
       duration=st.integers(min_value=1, max_value=600),
       at=st.datetimes(min_value=datetime.datetime(2026, 3, 1), max_value=datetime.datetime(2026, 11, 30)))
def test_cron_activity_matches_a_brute_force_scan(minute, hour, dow, tz, duration, at):
    peak = sched(cron="%s %s * * %s" % (minute, hour, dow), duration="%dm" % duration, timezone=tz)
    now = at.replace(second=0, microsecond=0, tzinfo=UTC)
    zone = zoneinfo.ZoneInfo(tz)
    cron = peak["cron"]
    active = False
    for back in range(duration):  # every minute of (now - duration, now]
        instant = now - back * M
        local = instant.astimezone(zone)
        if (local.minute in cron["minute"] and local.hour in cron["hour"] and (local.isoweekday() % 7) in cron["dow"]
                and local.replace(tzinfo=None).replace(tzinfo=zone, fold=0).astimezone(UTC) == instant):
            active = True
            break
    assert (s.occurrence(peak, now) is not None) == active
