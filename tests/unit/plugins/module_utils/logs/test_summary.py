"""log_summary's engine: window and baseline resolution, epoch-aligned intervals, templates counted per period,
new templates, spikes against the baseline's mean, the template cap, secrets masked (pure, plus one small read of
real plain and gzip files through ``summarize``)."""

import datetime
import gzip
import os

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import summary as sm

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
WINDOW = (NOW - datetime.timedelta(hours=1), NOW)
BASELINE = (NOW - datetime.timedelta(hours=2), NOW - datetime.timedelta(hours=1))


def at(minutes_before_now, seconds=0):
    return NOW - datetime.timedelta(minutes=minutes_before_now, seconds=-seconds)


def new_summary(**kwargs):
    return sm.Summary(WINDOW, BASELINE, kwargs.pop("interval_s", 300), **kwargs)


# ------------------------------------------------------------------------------------------------ periods

@pytest.mark.parametrize("params, message", [
    ({}, "needs a window: give since or last"),
    ({"since": "-1h", "until": "-1h"}, "the window is empty"),
    ({"last": "1h", "interval": "1.5s"}, "whole number"),
    ({"last": "1h", "top": -1}, "top must be at least 0"),
    ({"last": "1h", "spike_min_count": 0}, "spike_min_count must be at least 1"),
    ({"last": "1h", "max_templates": 0}, "max_templates must be at least 1"),
    ({"last": "1h", "spike_factor": 0}, "spike_factor must be > 0"),
    ({"last": "1h", "baseline_since": "-10m"}, "baseline"),
])
def test_run_rejects_bad_options_before_reading(tmp_path, params, message):
    params = dict(params, root=str(tmp_path / "not-read"))
    with pytest.raises(sm.SummaryError, match=message):
        sm.run(params, now=NOW)


def test_baseline_defaults_to_the_same_length_just_before():
    window = (NOW - datetime.timedelta(minutes=45), NOW)
    assert sm.resolve_baseline(window, now=NOW, zone="UTC") == (window[0] - datetime.timedelta(minutes=45), window[0])
    assert sm.resolve_baseline(window, baseline_last="1d", now=NOW, zone="UTC") == \
        (window[0] - datetime.timedelta(days=1), window[0])
    assert sm.resolve_baseline(window, baseline_since="-1d", baseline_until="-23h", now=NOW, zone="UTC") == \
        (NOW - datetime.timedelta(days=1), NOW - datetime.timedelta(hours=23))


@pytest.mark.parametrize("kwargs, message", [
    ({"baseline_since": "-3h", "baseline_last": "1h"}, "mutually exclusive"),
    ({"baseline_since": "-2h", "baseline_until": "-10m"}, "at or before the window's start"),
    ({"baseline_since": "-2h", "baseline_until": "-3h"}, "must be before its end"),
    ({"baseline_last": "-"}, "baseline"),
])
def test_baseline_errors(kwargs, message):
    with pytest.raises(sm.SummaryError, match=message):
        sm.resolve_baseline(WINDOW, now=NOW, zone="UTC", **kwargs)


def test_interval_rules():
    assert sm.interval_seconds("5m", WINDOW) == 300
    assert sm.interval_seconds(60, WINDOW) == 60
    for bad, message in (("0.5s", "at least 1s"), ("1.5s", "whole number"), ("soon", "not a duration"), ("0s", "at least")):
        with pytest.raises(sm.SummaryError, match=message):
            sm.interval_seconds(bad, WINDOW)
    with pytest.raises(sm.SummaryError, match="use a longer one"):
        sm.interval_seconds("1s", (NOW - datetime.timedelta(days=1), NOW))


# ------------------------------------------------------------------------------------------------ intervals

@given(st.datetimes(min_value=datetime.datetime(1971, 1, 1), max_value=datetime.datetime(2100, 1, 1),
                    timezones=st.sampled_from([UTC, datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
                                               datetime.timezone(datetime.timedelta(hours=-8))])),
       st.sampled_from([1, 7, 60, 300, 900, 3600, 86400]))
def test_bucket_is_epoch_aligned_and_holds_the_time(ts, seconds):
    start = sm.bucket(ts, seconds)
    assert start <= ts < start + datetime.timedelta(seconds=seconds)
    assert (start - sm.EPOCH).total_seconds() % seconds == 0
    assert start.tzinfo == UTC


def test_bucket_edges():
    edge = datetime.datetime(2026, 12, 5, 8, 5, tzinfo=UTC)
    assert sm.bucket(edge, 300) == edge
    assert sm.bucket(edge - datetime.timedelta(microseconds=1), 300) == datetime.datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    paris = datetime.timezone(datetime.timedelta(hours=1))
    # a day interval starts at 00:00 UTC, not at local midnight
    assert sm.bucket(datetime.datetime(2026, 12, 5, 0, 30, tzinfo=paris), 86400) == datetime.datetime(2026, 12, 4, tzinfo=UTC)


# ------------------------------------------------------------------------------------------------ templates

def test_lines_differing_in_ids_and_numbers_are_one_template_with_the_right_count():
    s = new_summary()
    for i in range(7):
        msg = "order %d for 123e4567-e89b-12d3-a456-42661417%04d failed after %dms from 10.0.0.%d" % (i, i, i * 13, i)
        s.add("app1" if i % 2 else "app2", "shop", 3, at(50 - i), msg, "line %d: " % i + msg)
    s.add("app1", "shop", 6, at(10), "order shipped", "order shipped")
    out = s.result()
    assert out["total"] == 8
    first = out["templates"][0]
    assert first["template"] == "order <num> for <uuid> failed after <num> from <ip>"
    assert first["count"] == 7 and first["hosts"] == ["app1", "app2"] and first["programs"] == ["shop"]
    assert first["levels"] == ["err"] and first["example"].startswith("line 0: order 0 for")
    assert first["first_seen"] == "2026-12-05T08:10:00Z" and first["last_seen"] == "2026-12-05T08:16:00Z"
    assert out["templates"][1]["template"] == "order shipped" and out["templates"][1]["count"] == 1
    assert out["templates_total"] == 2


def test_new_templates_are_those_absent_from_the_baseline():
    s = new_summary()
    s.add("h", "p", 6, at(90), "user 1 logged in", "x")
    s.add("h", "p", 6, at(30), "user 2 logged in", "x")
    s.add("h", "p", 3, at(20), "db timeout after 30s", "x")
    s.add("h", "p", 3, at(10), "db timeout after 12s", "x")
    s.add("h", "p", 3, at(95), "disk full", "x")  # baseline only: not in the window's templates
    out = s.result()
    assert [t["template"] for t in out["new_templates"]] == ["db timeout after <num>"]
    assert out["new_templates"][0]["count"] == 2 and out["new_templates_total"] == 1
    assert [(t["template"], t["baseline_count"]) for t in out["templates"]] == [("db timeout after <num>", 0),
                                                                                ("user <num> logged in", 1)]
    assert out["baseline"]["total"] == 2


def test_period_edges():
    s = new_summary()
    assert s.add("h", "p", 6, WINDOW[0], "at the window's start", "x") == "window"
    assert s.add("h", "p", 6, WINDOW[1], "at the window's end", "x") == "window"
    assert s.add("h", "p", 6, BASELINE[0], "at the baseline's start", "x") == "baseline"
    assert s.add("h", "p", 6, BASELINE[0] - datetime.timedelta(microseconds=1), "before", "x") is None
    assert s.add("h", "p", 6, WINDOW[1] + datetime.timedelta(microseconds=1), "after", "x") is None
    assert s.add("h", "p", 6, None, "no time", "x") is None
    assert s.result()["total"] == 2 and s.result()["baseline"]["total"] == 1


def test_min_level_skips_higher_levels_and_unknown_ones():
    s = new_summary(min_level=4)
    assert s.add("h", "p", 3, at(5), "e", "x") == "window"
    assert s.add("h", "p", 4, at(5), "w", "x") == "window"
    assert s.add("h", "p", 6, at(5), "i", "x") is None
    assert s.add("h", "p", None, at(5), "?", "x") is None


def test_counts_per_host_program_level_interval():
    s = new_summary()
    for minute, host, level in ((59, "a", 3), (56, "a", 3), (54, "a", 3), (54, "a", 6), (54, "b", 3), (1, "a", None)):
        s.add(host, "p", level, at(minute), "m", "x")
    rows = s.result()["counts"]
    assert rows == [
        {"host": "a", "program": "p", "level": "err", "interval_start": "2026-12-05T08:00:00Z", "count": 2},
        {"host": "a", "program": "p", "level": "err", "interval_start": "2026-12-05T08:05:00Z", "count": 1},
        {"host": "a", "program": "p", "level": "info", "interval_start": "2026-12-05T08:05:00Z", "count": 1},
        {"host": "b", "program": "p", "level": "err", "interval_start": "2026-12-05T08:05:00Z", "count": 1},
        {"host": "a", "program": "p", "level": None, "interval_start": "2026-12-05T08:55:00Z", "count": 1},
    ]


def test_template_cap_counts_the_rest_as_other():
    s = new_summary(max_templates=2)
    s.add("h", "p", 6, at(90), "alpha", "x")
    for word in ("alpha", "beta", "gamma", "delta", "gamma"):
        s.add("h", "p", 6, at(30), word, "x")
    s.add("h", "p", 6, at(80), "omega", "x")
    out = s.result()
    assert [t["template"] for t in out["templates"]] == ["alpha", "beta"]
    assert out["other"] == {"window": 3, "baseline": 1, "max_templates": 2, "capped": True}
    assert out["total"] == 5 and len(s.templates) == 2


def test_secrets_are_masked_in_examples_and_templates():
    s = new_summary()
    s.add("h", "p", 3, at(5), "login failed password=hunter2 for bob", "app: login failed password=hunter2 for bob")
    s.add("h", "p", 3, at(4), "login failed password=s3cr3t for bob", "app: login failed password=s3cr3t for bob")
    out = s.result()
    assert len(out["templates"]) == 1 and out["templates"][0]["count"] == 2
    assert "hunter2" not in repr(out) and "s3cr3t" not in repr(out)
    assert out["templates"][0]["example"] == "app: login failed password=*** for bob"
    raw = new_summary(mask_secrets=False)
    raw.add("h", "p", 3, at(5), "token=abc", "token=abc")
    assert raw.result()["templates"][0]["example"] == "token=abc"


# ------------------------------------------------------------------------------------------------ spikes

def test_spike_against_the_baseline_mean():
    s = new_summary(interval_s=600)  # 6 intervals in the 1 h baseline
    for i in range(30):  # 30 lines in the baseline: mean 5 per interval
        s.add("h", "api", 6, at(61 + i), "ok", "x")
    for _k in range(15):  # 15 = exactly 3 x 5: a spike
        s.add("h", "api", 6, at(55), "ok", "x")
    for _k in range(14):  # 14 < 15: not a spike
        s.add("h", "api", 6, at(25), "ok", "x")
    for _k in range(10):  # no baseline for this program: a spike at spike_min_count, factor null
        s.add("h", "worker", 3, at(5), "boom", "x")
    for _k in range(9):
        s.add("h", "cron", 3, at(5), "boom", "x")
    spikes = s.result(spike_factor=3.0, spike_min_count=10)["spikes"]
    assert spikes == [
        {"host": "h", "program": "api", "interval_start": "2026-12-05T08:00:00Z", "count": 15,
         "baseline_per_interval": 5.0, "factor": 3.0},
        {"host": "h", "program": "worker", "interval_start": "2026-12-05T08:50:00Z", "count": 10,
         "baseline_per_interval": 0.0, "factor": None},
    ]


@settings(max_examples=200)
@given(st.integers(0, 200), st.integers(0, 100), st.floats(1.0, 10.0), st.integers(1, 50))
def test_spike_rule(baseline_lines, window_lines, factor, min_count):
    s = new_summary(interval_s=900)  # 4 intervals in the baseline
    for i in range(baseline_lines):
        s.add("h", "p", 6, at(61 + (i % 59)), "x", "x")
    for _k in range(window_lines):
        s.add("h", "p", 6, at(20), "x", "x")
    spikes = s.result(spike_factor=factor, spike_min_count=min_count)["spikes"]
    mean = baseline_lines / 4.0
    expected = window_lines >= min_count and (mean == 0 or window_lines >= factor * mean)
    assert bool(spikes) == expected
    if spikes:
        assert spikes[0]["count"] == window_lines
        assert spikes[0]["factor"] == (None if mean == 0 else round(window_lines / mean, 2))


# ------------------------------------------------------------------------------------------------ files

def line(ts, host, text, pri=134):
    return "<%d>%s %s shop[1]: %s\n" % (pri, ts.isoformat(), host, text)


def stamp(path, when):
    """The modification time of a file written at ``when`` (pruning reads it)."""
    os.utime(str(path), (when.timestamp(), when.timestamp()))


def test_summarize_reads_plain_and_gz_files(tmp_path):
    for host in ("app1", "app2"):
        (tmp_path / host).mkdir()
        with gzip.open(str(tmp_path / host / "shop.log.1.gz"), "wt") as handle:
            for i in range(5):
                handle.write(line(at(100 - i), host, "order %d done" % i))
        with open(str(tmp_path / host / "shop.log"), "w") as handle:
            handle.write(line(at(40), host, "order 99 done"))
            handle.write(line(at(30), host, "payment 7 failed password=hunter2", pri=131))
            handle.write("  continuation without a time\n")
        stamp(tmp_path / host / "shop.log.1.gz", at(96))
        stamp(tmp_path / host / "shop.log", at(30))
    s = new_summary()
    files = sm.summarize(s, {"root": str(tmp_path), "hosts": ["app*"]}, "UTC")
    out = s.result()
    assert files["scanned"] == 4
    assert out["baseline"]["total"] == 10 and out["total"] == 6
    by_template = dict((t["template"], t) for t in out["templates"])
    assert by_template["order <num> done"]["count"] == 2 and by_template["order <num> done"]["baseline_count"] == 10
    assert [t["template"] for t in out["new_templates"]] == ["continuation without a time", "payment <num> failed password=***"]
    assert by_template["payment <num> failed password=***"]["levels"] == ["err"]
    assert "hunter2" not in repr(out)


def test_relp_resent_copy_counts_once_in_a_collector_tree_only(tmp_path):
    (tmp_path / "app1").mkdir()
    resent = line(at(20) + datetime.timedelta(microseconds=123456), "app1", "order 5 done")
    with open(str(tmp_path / "app1" / "shop.log"), "w") as handle:
        handle.writelines([line(at(21), "app1", "order 4 done"), resent, line(at(19, 1), "app1", "order 6 done"), resent,
                           line(at(18, 1), "app1", "order 7 done")])
    stamp(tmp_path / "app1" / "shop.log", at(19))
    s = new_summary()
    sm.summarize(s, {"root": str(tmp_path)}, "UTC")
    assert s.result()["total"] == 4
    s = new_summary()
    sm.summarize(s, {"paths": [str(tmp_path / "app1" / "shop.log")]}, "UTC")  # not a collector's file: as written
    assert s.result()["total"] == 5


def test_summarize_missing_root(tmp_path):
    from ansible_collections.watchkeeper.ops.plugins.module_utils.logs.sources import LogSourceError
    with pytest.raises(LogSourceError, match="does not exist"):
        sm.summarize(new_summary(), {"root": str(tmp_path / "nope")}, "UTC")


def test_run_with_defaults(tmp_path):
    (tmp_path / "db1").mkdir()
    with open(str(tmp_path / "db1" / "postgres.log"), "w") as handle:
        handle.write(line(at(70), "db1", "in the baseline"))
        for minute in (50, 40, 30, 20, 10):
            handle.write(line(at(minute), "db1", "checkpoint complete: wrote %d buffers" % minute))
    stamp(tmp_path / "db1" / "postgres.log", at(10))
    out = sm.run({"root": str(tmp_path), "last": "1h", "timezone": "UTC", "min_level": "info"}, now=NOW)
    assert out["window"] == {"since": "2026-12-05T08:00:00Z", "until": "2026-12-05T09:00:00Z"}
    assert out["baseline"]["since"] == "2026-12-05T07:00:00Z" and out["baseline"]["until"] == "2026-12-05T08:00:00Z"
    assert out["interval_s"] == 300 and out["total"] == 5 and out["files"] == {"scanned": 1, "pruned": 0}
    assert out["templates"][0]["template"] == "checkpoint complete: wrote <num> buffers"


def test_paths_take_the_host_and_program_from_the_line(tmp_path):
    path = tmp_path / "app.log"
    with open(str(path), "w") as handle:
        handle.write(line(at(80), "web9", "started"))
        handle.write(line(at(20), "web9", "request 1 failed", pri=131))
        handle.write(line(at(10), "web7", "request 2 failed", pri=131))
    stamp(path, at(10))
    s = new_summary()
    files = sm.summarize(s, {"paths": [str(path)]}, "UTC")
    out = s.result()
    assert files == {"scanned": 1, "pruned": 0}
    failed = out["templates"][0]
    assert failed["template"] == "request <num> failed" and failed["hosts"] == ["web7", "web9"] and failed["programs"] == ["shop"]


def test_journal_is_read_once_per_period(monkeypatch):
    """journal: true asks journalctl for the baseline, then for the window (journalctl's JSON, no journald here)."""
    from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import journal, sources

    def entry(when, message, priority):
        return '{"__REALTIME_TIMESTAMP": "%d", "_HOSTNAME": "db1", "SYSLOG_IDENTIFIER": "postgres", "PRIORITY": "%d", ' \
               '"MESSAGE": "%s"}' % (when.timestamp() * 1e6, priority, message)
    lines = [entry(at(90), "checkpoint 1 done", 6), entry(at(30), "checkpoint 2 done", 6), entry(at(20), "deadlock on 42", 3)]
    asked = []

    def fake(since, until, hosts=None, programs=None):
        asked.append((since, until))
        return journal.journal_streams(since, until, hosts, programs, lines=lines)
    monkeypatch.setattr(sources, "journal_streams", fake)
    s = new_summary()
    assert sm.summarize(s, {"journal": True}, "UTC") == {"scanned": 0, "pruned": 0}
    assert asked == [BASELINE, WINDOW]
    out = s.result()
    assert out["baseline"]["total"] == 1 and out["total"] == 2
    assert [t["template"] for t in out["new_templates"]] == ["deadlock on <num>"]
    assert out["new_templates"][0]["hosts"] == ["db1"] and out["new_templates"][0]["programs"] == ["postgres"]
