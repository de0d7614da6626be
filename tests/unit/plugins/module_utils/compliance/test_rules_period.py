"""KPI arithmetic, control status and the report period (pure rules, hypothesis where a rule is a rule)."""

import datetime
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import period as pr
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance.rules import (
    check_target, control_status, meets, rate)

UTC = datetime.timezone.utc
TARGETS = st.sampled_from([0, 50, 90, 92.5, 95, 99, 99.9, 99.99, 100])


@given(st.integers(0, 10 ** 6), st.integers(0, 10 ** 6), TARGETS)
@settings(max_examples=500)
def test_meets_is_the_exact_fraction(good, total, target):
    assume(good <= total)
    expected = total > 0 and Fraction(good, total) * 100 >= Fraction(str(target))
    assert meets(good, total, target) is expected
    if total:
        assert rate(good, total) == round(100.0 * good / total, 2)
    else:
        assert rate(good, total) is None and meets(good, total, target) is False


@given(st.integers(1, 10 ** 9))
def test_hundred_percent_means_every_one(total):
    assert meets(total, total, 100) and not meets(total - 1, total, 100)
    assert not meets(total - 1, total, 100.0)  # even when the rate rounds to 100.0


@given(st.integers(1, 10 ** 4), st.integers(0, 10 ** 4), TARGETS)
def test_more_good_never_hurts(total, good, target):
    assume(good < total)
    assert meets(good + 1, total, target) >= meets(good, total, target)


@given(st.lists(st.sampled_from(["pass", "fail", "not_applicable"]), min_size=1, max_size=6))
def test_control_status(statuses):
    got = control_status(statuses)
    if "fail" in statuses:
        assert got == "fail"
    elif set(statuses) == {"not_applicable"}:
        assert got == "not_applicable"
    else:
        assert got == "pass" and "pass" in statuses


def test_control_status_refuses_nonsense():
    for bad in ([], ["ok"], ["pass", None]):
        with pytest.raises(ValueError):
            control_status(bad)


def test_targets_are_percentages():
    assert check_target("95", "x") == 95.0
    for bad in (-1, 100.5, "many", None):
        with pytest.raises(ValueError):
            check_target(bad, "x")


@given(st.integers(1970, 2200), st.integers(1, 12))
def test_months_tile_the_calendar(year, month):
    p = pr.parse({"month": "%04d-%02d" % (year, month)}, None)
    nxt = pr.parse({"month": "%04d-%02d" % (year + (month == 12), month % 12 + 1)}, None)
    assert p["end"] == nxt["start"] and p["start"].day == 1 and p["label"] == "%04d-%02d" % (year, month)
    assert pr.contains(p, p["start"]) and not pr.contains(p, p["end"])
    assert pr.contains(p, p["end"] - datetime.timedelta(microseconds=1))


def test_default_is_the_previous_month():
    assert pr.parse({}, datetime.datetime(2027, 1, 1, 0, 0, tzinfo=UTC))["label"] == "2026-12"
    assert pr.parse(None, datetime.datetime(2026, 12, 31, 23, 59, tzinfo=UTC))["label"] == "2026-11"
    assert pr.parse({"month": None, "start": ""}, datetime.datetime(2026, 3, 5, tzinfo=UTC))["label"] == "2026-02"


def test_start_end_ranges():
    p = pr.parse({"start": "2026-10-01", "end": "2027-01-01T00:00:00+01:00"}, None)
    assert pr.public(p) == {"kind": "range", "label": "20261001T000000Z-20261231T230000Z",
                            "start": "2026-10-01T00:00:00Z", "end": "2026-12-31T23:00:00Z"}


@pytest.mark.parametrize("spec, message", [
    ({"month": "2026-13"}, "is not a month as YYYY-MM"),
    ({"month": "2026-1"}, "is not a month as YYYY-MM"),
    ({"month": "Nov 2026"}, "is not a month as YYYY-MM"),
    ({"month": "2026-11", "end": "2026-12-01"}, "either month or start and end"),
    ({"end": "2026-12-01"}, "start and end go together"),
    ({"start": "2026-12-01", "end": "2026-12-01"}, "is not after start"),
    ({"start": "31/12/2026", "end": "2027-01-01"}, "period.start '31/12/2026' is neither a date"),
    ({"week": "48"}, "unknown key(s) week"),
])
def test_bad_periods(spec, message):
    with pytest.raises(pr.PeriodError) as err:
        pr.parse(spec, datetime.datetime(2026, 12, 1, tzinfo=UTC))
    assert message in str(err.value)
