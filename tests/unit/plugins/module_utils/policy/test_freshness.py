"""Freshness rules: durations, ages, stale verdicts (pure; property-tested)."""

import datetime

import pytest
from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import freshness

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("text,seconds", [
    (3600, 3600), ("3600", 3600), ("90m", 5400), ("26h", 93600), ("7d", 604800), ("1w", 604800),
    ("1d 2h", 93600), ("1h30m", 5400), (" 4 h ", 14400), ("0", 0), ("1.5h", 5400),
])
def test_parse_duration(text, seconds):
    assert freshness.parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "h", "4 hours", "-1h", "1y", True, -5, "4h x"])
def test_parse_duration_rejects(bad):
    with pytest.raises(ValueError):
        freshness.parse_duration(bad)


@given(st.integers(min_value=0, max_value=10 ** 6), st.sampled_from(["s", "m", "h", "d", "w"]))
def test_parse_duration_units(number, unit):
    assert freshness.parse_duration("%d%s" % (number, unit)) == number * freshness.UNITS[unit]


@pytest.mark.parametrize("seconds,text", [(0, "0s"), (42, "42s"), (750, "12m 30s"), (14700, "4h 05m"), (183600, "2d 3h")])
def test_human_duration(seconds, text):
    assert freshness.human_duration(seconds) == text


def test_no_backup_is_stale_even_without_max_age():
    verdict = freshness.assess([], NOW)
    assert verdict["stale"] is True and verdict["count"] == 0 and "no valid backup" in verdict["reason"]


def test_boundary_is_not_stale_one_second_later_is():
    newest = NOW - datetime.timedelta(hours=4)
    assert freshness.assess([newest], NOW, 4 * 3600)["stale"] is False
    assert freshness.assess([newest], NOW + datetime.timedelta(seconds=1), 4 * 3600)["stale"] is True


def test_future_backup_counts_as_age_zero():
    verdict = freshness.assess([NOW + datetime.timedelta(minutes=5)], NOW, 60)
    assert verdict["newest_age_s"] == 0 and verdict["stale"] is False


times = st.lists(st.datetimes(min_value=datetime.datetime(2020, 1, 1), max_value=datetime.datetime(2030, 1, 1),
                              timezones=st.just(UTC)), max_size=30)


@given(times, st.integers(min_value=0, max_value=10 ** 8))
def test_verdict_depends_only_on_the_newest(backups, max_age):
    verdict = freshness.assess(backups, NOW, max_age)
    if not backups:
        assert verdict["stale"] is True
        return
    newest = max(backups)
    assert verdict["newest"] == newest
    assert verdict["count"] == len(backups)
    assert verdict["stale"] == (max(0.0, (NOW - newest).total_seconds()) > max_age)
    assert freshness.assess(list(reversed(backups)), NOW, max_age) == verdict
    # Adding an older backup never changes the verdict.
    older = min(backups) - datetime.timedelta(days=1)
    assert freshness.assess(backups + [older], NOW, max_age)["stale"] == verdict["stale"]
