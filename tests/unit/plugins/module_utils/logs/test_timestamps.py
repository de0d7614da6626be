"""Timestamps, durations and levels of log lines: every format of issue 13, zones, RFC 3164 year rollover."""

import datetime

import pytest
from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import timestamps as t

UTC = datetime.timezone.utc
PARIS = t.get_zone("Europe/Paris")


def at(*args, tz=UTC):
    return datetime.datetime(*args, tzinfo=tz)


def test_collector_line_with_json_message_keeps_header_time_and_json_level():
    p = t.parse_line('<134>2026-12-05T08:25:13.123456+01:00 app1 myapp[812]: {"level":"error","msg":"payment failed","id":42}')
    assert p.ts == at(2026, 12, 5, 7, 25, 13, 123456)
    assert (p.host, p.program, p.level, p.message) == ("app1", "myapp", 3, "payment failed")


def test_rfc5424_with_structured_data_and_nil_fields():
    p = t.parse_line('<165>1 2026-12-05T08:25:13.003Z host app - ID47 [ex@32473 iut="3" src="a\\]b"] hello there')
    assert p == t.Parsed(at(2026, 12, 5, 8, 25, 13, 3000), "host", "app", 5, "hello there")
    nil = t.parse_line("<11>1 - - - - - - only message")
    assert nil == t.Parsed(None, None, None, 3, "only message")


def test_rfc3164_uses_the_default_zone_and_the_year_hint():
    p = t.parse_line("Dec  5 08:25:13 host prog[12]: something WARN later", "Europe/Paris", 2026)
    assert p.ts == at(2026, 12, 5, 8, 25, 13, tz=PARIS) and p.ts.utcoffset() == datetime.timedelta(hours=1)
    assert (p.host, p.program, p.level) == ("host", "prog", 4)  # a level word in the first 40 characters
    assert t.parse_line("<13>Dec  5 08:25:13 host prog: x", "UTC", 2026).level == 5


def test_rfc3164_in_january_reading_december_lines_is_last_year():
    january = at(2027, 1, 2, 0, 5, tz=PARIS)
    assert t.parse_line("Dec 31 23:59:59 h p: x", PARIS, january).ts == at(2026, 12, 31, 23, 59, 59, tz=PARIS)
    assert t.parse_line("Jan  2 00:01:00 h p: x", PARIS, january).ts == at(2027, 1, 2, 0, 1, tz=PARIS)


def test_iso_lines_with_and_without_zone():
    p = t.parse_line("2026-12-05 08:25:13,123 ERROR something: went wrong", "Europe/Paris")
    assert p.ts == at(2026, 12, 5, 7, 25, 13, 123000) and p.level == 3 and p.host is None
    assert t.parse_line("2026-12-05T08:25:13Z [warn] disk", "Europe/Paris").ts == at(2026, 12, 5, 8, 25, 13)
    assert t.parse_line("2026-12-05T08:25:13-05:00 x").ts == at(2026, 12, 5, 13, 25, 13)


@pytest.mark.parametrize("value,expected", [
    (1764923113, at(2025, 12, 5, 8, 25, 13)),
    (1764923113123, at(2025, 12, 5, 8, 25, 13, 123000)),
    ("1764923113.5", at(2025, 12, 5, 8, 25, 13, 500000)),
    ("2026-12-05T08:25:13+01:00", at(2026, 12, 5, 7, 25, 13)),
])
def test_json_lines_epoch_seconds_and_ms_and_iso(value, expected):
    line = '{"ts": %s, "severity": "WARNING", "message": "m", "host": "h", "logger": "l"}' % (
        value if isinstance(value, int) else '"%s"' % value)
    assert t.parse_line(line) == t.Parsed(expected, "h", "l", 4, "m")


def test_continuation_line_has_no_time_and_level_words():
    assert t.parse_line("    at com.example.Foo(Foo.java:42)") == t.Parsed(None, None, None, None, "    at com.example.Foo(Foo.java:42)")
    assert t.word_level("[error] x") == 3 and t.word_level("Error is lowercase prose") is None
    assert t.word_level("x" * 60 + " ERROR") is None


def test_levels_and_durations():
    assert [t.level_number(x) for x in ("warning", "WARN", 4, "4", "err", "error", "crit", "emerg")] == [4, 4, 4, 4, 3, 3, 2, 0]
    for bad in ("loud", 9, True):
        with pytest.raises(ValueError):
            t.level_number(bad)
    assert [t.parse_duration(x) for x in ("90s", "30m", "2h", "1d", "1h30m", "45")] == [90, 1800, 7200, 86400, 5400, 45]
    for bad in ("", "soon", "5 3", "-1h"):
        with pytest.raises(ValueError):
            t.parse_duration(bad)


def test_parse_time_relative_absolute_and_errors():
    now = at(2026, 12, 5, 8, 0)
    assert t.parse_time("now", now) == now
    assert t.parse_time("-30m", now) == at(2026, 12, 5, 7, 30)
    assert t.parse_time("2026-12-05 09:00", now, "Europe/Paris") == now
    assert t.parse_time("2026-12-05", now, "UTC") == at(2026, 12, 5)
    for bad in ("yesterday", "2026-13-01T00:00Z", "-soon"):
        with pytest.raises(ValueError):
            t.parse_time(bad, now)
    with pytest.raises(ValueError):
        t.get_zone("Mars/Olympus")


ZONES = st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "+05:45"])


@given(st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2037, 1, 1)), ZONES)
def test_rfc3339_round_trip_in_random_zones(moment, zone):
    value = moment.replace(tzinfo=UTC).astimezone(t.get_zone(zone))
    line = "<134>%s h p: x" % value.isoformat()
    assert t.parse_line(line).ts == value
    assert t.to_utc_iso(t.parse_line(line).ts).endswith("Z")
