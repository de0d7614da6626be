"""Rotation of integrity sweeps: N consecutive runs read every backup exactly once (pure; property-tested)."""

import datetime

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import rotation

UTC = datetime.timezone.utc
DAY = 86400

instants = st.datetimes(min_value=datetime.datetime(1960, 1, 1), max_value=datetime.datetime(2090, 1, 1),
                        timezones=st.just(UTC))
periods = st.one_of(st.sampled_from([1, 60, 3600, 12 * 3600, DAY, 7 * DAY]), st.integers(min_value=1, max_value=40 * DAY))


@pytest.mark.parametrize("text,cycle", [
    ("all", 1), ("ALL", 1), (" all ", 1), (None, 1), ("1/30", 30), (" 1 / 7 ", 7), ("1/1", 1), ("1/60", 60),
])
def test_parse_subset(text, cycle):
    assert rotation.parse_subset(text) == cycle


@pytest.mark.parametrize("bad,says", [
    ("", "use 'all' or '1/N'"), ("half", "use 'all' or '1/N'"), ("30", "use 'all' or '1/N'"), ("1/", "use 'all' or '1/N'"),
    ("1/-3", "use 'all' or '1/N'"), ("1/0", "between 1 and"), ("1/1000000", "between 1 and"),
    ("2/30", "'1/15' reads about the same share"), ("0/30", "only 'all' or '1/N'"),
])
def test_parse_subset_rejects_clearly(bad, says):
    with pytest.raises(ValueError) as err:
        rotation.parse_subset(bad)
    assert says in str(err.value)
    assert repr(bad) in str(err.value)


@pytest.mark.parametrize("text,seconds", [
    ("1d", DAY), ("12h", 43200), ("3600s", 3600), (3600, 3600), ("3600", 3600), ("1d 12h", 129600), ("1w", 7 * DAY),
    ("90m", 5400), ("0.5h", 1800),
])
def test_parse_period(text, seconds):
    assert rotation.parse_period(text) == seconds
    assert isinstance(rotation.parse_period(text), int)


@pytest.mark.parametrize("bad,says", [
    ("", "not a duration"), ("daily", "not a duration"), ("-1h", "not a duration"), ("1y", "not a duration"),
    ("0", "at least 1s"), ("0d", "at least 1s"), ("1.5s", "whole number of seconds"), (True, "not a duration"),
])
def test_parse_period_rejects_clearly(bad, says):
    with pytest.raises(ValueError) as err:
        rotation.parse_period(bad)
    assert says in str(err.value) and "subset_period" in str(err.value)


def test_slots_follow_the_epoch_period_number():
    start = datetime.datetime(2026, 3, 1, tzinfo=UTC)  # day 20513 since the epoch
    assert rotation.period_number(start, DAY) == 20513
    assert rotation.run_slot(start, 30) == 20513 % 30
    assert rotation.run_slot(start + datetime.timedelta(hours=23, minutes=59, seconds=59), 30) == 20513 % 30
    assert rotation.run_slot(start + datetime.timedelta(days=1), 30) == 20514 % 30
    # Exact at boundaries, including microseconds and before 1970.
    assert rotation.period_number(start - datetime.timedelta(microseconds=1), DAY) == 20512
    assert rotation.period_number(datetime.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), DAY) == -1
    assert rotation.backup_slot(datetime.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), 30) == 29


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        rotation.run_slot(datetime.datetime(2026, 3, 1), 30)


def test_describe_a_run():
    now = datetime.datetime(2026, 3, 1, 13, 30, tzinfo=UTC)
    info = rotation.describe(now, 30, DAY)
    assert info == {"slot": 20513 % 30, "cycle": 30, "period_s": DAY,
                    "period_start": datetime.datetime(2026, 3, 1, tzinfo=UTC),
                    "next_period_start": datetime.datetime(2026, 3, 2, tzinfo=UTC)}
    assert rotation.describe(now)["slot"] == 0 and rotation.describe(now)["cycle"] == 1


@settings(max_examples=300, deadline=None)
@given(st.lists(instants, max_size=80), st.integers(min_value=1, max_value=60), instants, periods)
def test_n_consecutive_runs_read_every_backup_exactly_once(backups, cycle, start, period_s):
    items = list(enumerate(backups))  # distinct items even when two backups share a time
    reads = dict.fromkeys(range(len(items)), 0)
    for run in range(cycle):
        now = start + datetime.timedelta(seconds=run * period_s)
        for index, _when in rotation.selected(items, now, cycle, period_s, when=lambda item: item[1]):
            reads[index] += 1
    assert all(count == 1 for count in reads.values()), reads


@settings(max_examples=200, deadline=None)
@given(st.lists(instants, min_size=1, max_size=40), st.integers(min_value=2, max_value=60), instants, periods,
       st.floats(min_value=0, max_value=0.999))
def test_a_run_anywhere_in_its_period_reads_the_same_slot_and_not_everything(backups, cycle, start, period_s, offset):
    base = rotation.EPOCH + datetime.timedelta(seconds=rotation.period_number(start, period_s) * period_s)
    later = base + datetime.timedelta(seconds=int(offset * period_s))
    assert rotation.selected(backups, base, cycle, period_s) == rotation.selected(backups, later, cycle, period_s)
    # Backups made in one period of each of ``cycle`` consecutive periods: each run reads exactly one.
    spread = [base + datetime.timedelta(seconds=i * period_s) for i in range(cycle)]
    for run in range(cycle):
        now = base + datetime.timedelta(seconds=run * period_s)
        assert rotation.selected(spread, now, cycle, period_s) == [spread[run]]


@given(st.lists(instants, max_size=50), instants, periods)
def test_subset_all_selects_everything(backups, now, period_s):
    cycle = rotation.parse_subset("all")
    assert rotation.selected(backups, now, cycle, period_s) == backups


@given(st.lists(instants, max_size=50), st.integers(min_value=1, max_value=60), instants, periods)
def test_the_answer_depends_only_on_the_inputs(backups, cycle, now, period_s):
    """Stateless: another node, another order, the same answer."""
    picked = rotation.selected(backups, now, cycle, period_s)
    assert sorted(rotation.selected(list(reversed(backups)), now, cycle, period_s)) == sorted(picked)
    assert rotation.selected(backups, now, cycle, period_s) == picked
