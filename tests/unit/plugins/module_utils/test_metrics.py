"""Prometheus text exposition: render, parse, merge (pure; property-tested)."""

import math

import pytest
from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils import metrics

NAMES = st.from_regex(r"\A[a-zA-Z_:][a-zA-Z0-9_:]{0,20}\Z")
LABEL_NAMES = st.from_regex(r"\A[a-zA-Z][a-zA-Z0-9_]{0,10}\Z")
LABEL_VALUES = st.text(max_size=20)
VALUES = st.one_of(st.floats(allow_nan=False, allow_infinity=True), st.integers(min_value=-10 ** 14, max_value=10 ** 14))


def families_strategy():
    sample = st.tuples(st.dictionaries(LABEL_NAMES, LABEL_VALUES, max_size=3), VALUES)
    fam = st.tuples(st.text(max_size=30), st.sampled_from(metrics.TYPES), st.lists(sample, min_size=1, max_size=4))
    return st.dictionaries(NAMES, fam, max_size=5)


def build(spec):
    families = {}
    for name, (help_text, kind, samples) in spec.items():
        for labels, value in samples:
            metrics.add(families, name, value, labels, help_text, kind)
    return families


@given(families_strategy())
def test_render_then_parse_gives_the_same_families(spec):
    families = build(spec)
    parsed = metrics.parse(metrics.render(families))
    assert set(parsed) == set(families)
    for name, fam in families.items():
        assert parsed[name]["type"] == fam["type"]
        assert parsed[name]["help"] == fam["help"] == metrics.one_line(fam["help"])
        assert parsed[name]["samples"] == fam["samples"]


@given(families_strategy())
def test_render_is_canonical(spec):
    text = metrics.render(build(spec))
    assert metrics.render(metrics.parse(text)) == text


@given(families_strategy(), families_strategy())
def test_merge_keeps_old_series_and_takes_new_values(old_spec, new_spec):
    old, new = build(old_spec), build(new_spec)
    merged = metrics.merge(old, new)
    for name, fam in new.items():
        for labels, value in fam["samples"].items():
            assert merged[name]["samples"][labels] == value
    for name, fam in old.items():
        for labels, value in fam["samples"].items():
            if labels not in new.get(name, {"samples": {}})["samples"]:
                assert merged[name]["samples"][labels] == value


def test_a_known_file():
    families = {}
    metrics.add(families, "watchkeeper_backup_last_success_timestamp_seconds", 1764900000,
                {"job": "app-db", "destination": "s3"}, "Time of the last good backup.", "gauge")
    metrics.add(families, "watchkeeper_backup_stored_bytes", 1.5, {"job": 'we"ird\\job\n'})
    assert metrics.render(families) == (
        "# HELP watchkeeper_backup_last_success_timestamp_seconds Time of the last good backup.\n"
        "# TYPE watchkeeper_backup_last_success_timestamp_seconds gauge\n"
        'watchkeeper_backup_last_success_timestamp_seconds{destination="s3",job="app-db"} 1764900000\n'
        "# TYPE watchkeeper_backup_stored_bytes gauge\n"
        'watchkeeper_backup_stored_bytes{job="we\\"ird\\\\job\\n"} 1.5\n')


@pytest.mark.parametrize("value,text", [(float("nan"), "NaN"), (float("inf"), "+Inf"), (-float("inf"), "-Inf"),
                                        (True, "1"), (0, "0"), (2.5, "2.5")])
def test_special_values(value, text):
    families = metrics.add({}, "m", value)
    assert metrics.render(families) == "# TYPE m gauge\nm %s\n" % text
    back = metrics.parse(metrics.render(families))["m"]["samples"][()]
    assert (math.isnan(back) and text == "NaN") or back == metrics.number(value)


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "a b", None, "é"])
def test_bad_metric_names(name):
    with pytest.raises(metrics.MetricsError, match="not a valid metric name"):
        metrics.add({}, name, 1)


@pytest.mark.parametrize("label", ["", "1a", "a-b", "__reserved"])
def test_bad_label_names(label):
    with pytest.raises(metrics.MetricsError, match="not a valid label name"):
        metrics.add({}, "m", 1, {label: "x"})


@pytest.mark.parametrize("value", ["abc", None, [1]])
def test_bad_values(value):
    with pytest.raises(metrics.MetricsError, match="is not a number"):
        metrics.add({}, "m", value)


def test_bad_type():
    with pytest.raises(metrics.MetricsError, match="type 'histogram'"):
        metrics.add({}, "m", 1, kind="histogram")


BAD_FILES = [("m{a=\"x\" 1\n", "line 1"), ("ok 1\nm{a=x} 1\n", "line 2"), ("# TYPE m summary\n", "line 1"),
             ("m\n", "line 1"), ("m 1 2 3\n", "line 1")]


@pytest.mark.parametrize("text,where", BAD_FILES)
def test_parse_names_the_bad_line(text, where):
    with pytest.raises(metrics.MetricsError, match=where):
        metrics.parse(text)


def test_empty_families_render_nothing():
    assert metrics.render({}) == ""
    assert metrics.render({"m": metrics.family("m")}) == ""
