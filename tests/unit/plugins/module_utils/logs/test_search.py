"""The search engine: literal vs regex with grep's line semantics, window edges to the microsecond in random zones,
context across buffer boundaries (random block splits against a naive reference) and across rotated files,
newest first with the limit across streams, the per-file time limit."""

import datetime
import gzip
import os
import re
import time

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import scan, search, sources, timestamps as t, workers

UTC = datetime.timezone.utc
BASE = datetime.datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def q(pattern, regex=False, **kw):
    return search.make_query(pattern, regex, kw.pop("ignore_case", False), zone="UTC", **kw)


def run_chunks(data, query, splits=(), check_time=True):
    cuts = sorted(set(s for s in splits if 0 < s < len(data)))
    chunks = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
    return scan.scan(chunks, query, 2026, check_time)


def lines_of(n, every=3):
    return ["<134>%s h p[1]: n=%d%s" % ((BASE + datetime.timedelta(seconds=i)).isoformat(), i, " HIT" if i % every == 0 else "")
            for i in range(n)]


def test_literal_is_literal_and_regex_is_python_re():
    data = b"<134>2026-12-05T08:00:00Z h p: a.c\n<134>2026-12-05T08:00:01Z h p: abc\n"
    assert run_chunks(data, q("a.c")).count == 1
    assert run_chunks(data, q("a.c", True)).count == 2
    assert run_chunks(data, q("A.C", ignore_case=True)).count == 1
    assert run_chunks(data, q(r"(?<=p: )ab", True)).count == 1


def test_a_regex_never_matches_across_lines_like_grep():
    data = b"x a\nb y\nc a b\n"
    res = run_chunks(data, q(r"a\sb", True), check_time=False)
    assert res.count == 1 and [h.number for h in res.hits] == [3]
    assert run_chunks(data, q(r"^b", True), check_time=False).count == 1
    assert run_chunks(data, q(r"a$", True), check_time=False).count == 1


def test_bad_patterns_are_clear_errors():
    with pytest.raises(search.SearchError, match="invalid regex"):
        search.compile_pattern("(a", True)
    with pytest.raises(search.SearchError, match="empty"):
        search.compile_pattern("", False)
    with pytest.raises(search.SearchError, match=">= 0"):
        q("x", before=-1)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), before=st.integers(0, 4), after=st.integers(0, 4), limit=st.integers(1, 30),
       splits=st.lists(st.integers(0, 4000), max_size=6))
def test_context_across_buffer_boundaries_equals_a_naive_reference(n, before, after, limit, splits):
    lines = lines_of(n)
    data = "".join(line + "\n" for line in lines).encode()
    res = run_chunks(data, q("HIT", before=before, after=after, limit=limit), splits)
    expected = [i for i, line in enumerate(lines) if "HIT" in line]
    assert res.count == len(expected)
    assert [h.number for h in res.hits] == [i + 1 for i in expected[-limit:]]
    for hit in res.hits:
        i = hit.number - 1
        assert [x.decode() for x in hit.before] == lines[max(0, i - before):i]
        assert [x.decode() for x in hit.after] == lines[i + 1:i + 1 + after]
        assert hit.ts == BASE + datetime.timedelta(seconds=i)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 60), cut=st.integers(0, 59), after=st.integers(1, 4), splits=st.lists(st.integers(0, 4000), max_size=6))
def test_context_after_the_window_end_is_read_on_past_the_window(n, cut, after, splits):
    """Reading stops at the first block past the window, except for the context lines the last hits still need."""
    lines = lines_of(n, every=1)
    cut = min(cut, n - 1)
    data = "".join(line + "\n" for line in lines).encode()
    res = run_chunks(data, q("HIT", after=after, limit=100, until=BASE + datetime.timedelta(seconds=cut)), splits)
    assert [h.number for h in res.hits] == list(range(1, cut + 2))
    for hit in res.hits:
        assert [x.decode() for x in hit.after] == lines[hit.number:hit.number + after]


ZONES = st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "+05:45", "-09:30"])


@settings(max_examples=60, deadline=None)
@given(start=st.datetimes(min_value=datetime.datetime(2001, 1, 1), max_value=datetime.datetime(2036, 1, 1)),
       width=st.integers(0, 10 ** 7), zone=ZONES, splits=st.lists(st.integers(0, 600), max_size=4))
def test_window_edges_are_exact_to_the_microsecond(start, width, zone, splits):
    since = start.replace(tzinfo=UTC)
    until = since + datetime.timedelta(microseconds=width)
    tz = t.get_zone(zone)
    micro = datetime.timedelta(microseconds=1)
    moments = [since - micro, since, until, until + micro]
    lines = ["<134>%s h p: tick %d" % (m.astimezone(tz).isoformat(), i) for i, m in enumerate(moments)]
    data = "".join(line + "\n" for line in lines).encode()
    res = run_chunks(data, q("tick", since=since, until=until), splits)
    assert res.count == 2 and [h.number for h in res.hits] == [2, 3]


def test_min_level_and_continuation_lines_inherit_the_time():
    data = (b"<131>2026-12-05T08:00:00Z h p: boom\n  at trace boom\n<134>2026-12-05T08:00:05Z h p: fine boom\n")
    res = run_chunks(data, q("boom", min_level=3))
    assert res.count == 1 and res.hits[0].number == 1
    res = run_chunks(data, q("trace", since=BASE, until=BASE))
    assert res.count == 1 and res.hits[0].ts == BASE


def write(path, lines, gz=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = "".join(line + "\n" for line in lines).encode()
    with (gzip.open(path, "wb") if gz else open(path, "wb")) as handle:
        handle.write(data)


def test_context_and_newest_first_across_rotated_files_and_streams(tmp_path):
    root = str(tmp_path)
    old = lines_of(6)
    new = ["<134>%s h p[1]: m=%d%s" % ((BASE + datetime.timedelta(minutes=10, seconds=i)).isoformat(), i, " HIT" if i in (0, 5) else "")
           for i in range(6)]
    write(os.path.join(root, "h1", "app.log.1.gz"), old, gz=True)
    write(os.path.join(root, "h1", "app.log"), new)
    db_lines = ["<134>%s h2 db: HIT %d" % ((BASE + datetime.timedelta(minutes=9, seconds=i)).isoformat(), i) for i in range(3)]
    write(os.path.join(root, "h2", "db.log"), db_lines)
    streams, pruned = sources.prune(sources.discover(root), None, None, "UTC")
    res = search.search(streams, q("HIT", before=2, after=2, limit=4), workers_count=2)
    got = [(m["host"], m["line_number"], m["timestamp"]) for m in res["matches"]]
    assert got == [("h1", 6, "2026-12-05T08:10:05Z"), ("h1", 1, "2026-12-05T08:10:00Z"),
                   ("h2", 3, "2026-12-05T08:09:02Z"), ("h2", 2, "2026-12-05T08:09:01Z")]
    first_of_new = res["matches"][1]
    assert first_of_new["before"] == old[-2:] and first_of_new["after"] == new[1:3]
    assert res["counts"] == {"total": 2 + 3 + 2, "by_host": {"h1": 4, "h2": 3}, "by_program": {"app": 4, "db": 3}}
    assert res["truncated"] is True and pruned == 0
    # the hit at the end of the rotated file takes its "after" lines from the current file
    res = search.search(streams, q("n=5", after=2), workers_count=1)
    assert res["matches"][0]["after"] == new[:2]


def test_a_job_over_its_time_limit_is_killed_and_named():
    def slow(key, progress):
        progress(True)
        time.sleep(30)

    def fast(key, progress):
        progress(True)
        progress(False)
        return key

    started = time.monotonic()
    with pytest.raises(workers.FileTimeout, match="/slow.log"):
        list(workers.run([("a", "/fast.log"), ("b", "/slow.log")], lambda k, p: (slow if k == "b" else fast)(k, p), 0.5))
    assert time.monotonic() - started < 10
    skipped = []
    assert list(workers.run([("b", "/slow.log"), ("a", "/fast.log")], lambda k, p: (slow if k == "b" else fast)(k, p), 0.3,
                            skip_timeout=skipped.append)) == [("a", "a")]
    assert skipped == ["/slow.log"]
    with pytest.raises(workers.WorkerError, match="/bad.log.*ZeroDivisionError"):
        list(workers.run([("c", "/bad.log")], lambda k, p: 1 / 0, 5))


def test_catastrophic_regex_really_stops():
    data = b"<134>2026-12-05T08:00:00Z h p: " + b"a" * 40 + b"b\n"
    query = q("(a+)+$", True)
    with pytest.raises(workers.FileTimeout):
        list(workers.run([(0, "/evil.log")], lambda k, p: scan.scan([data], query, 2026, False, p), 0.5))
    assert re.compile(rb"(a+)+$")  # the pattern itself compiles: only the time limit stops it


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_a_damaged_gz_is_searched_up_to_the_damage_and_named(tmp_path, damage):
    root = str(tmp_path)
    lines = lines_of(3000, every=1000)  # HIT on lines 1, 1001, 2001
    write(os.path.join(root, "h1", "app.log.1.gz"), lines, gz=True)
    path = os.path.join(root, "h1", "app.log.1.gz")
    with open(path, "rb") as handle:
        data = handle.read()
    if damage == "truncated":
        data = data[:len(data) // 2]
    else:
        data = data[:len(data) // 2] + bytes(b ^ 0x5A for b in data[len(data) // 2:len(data) // 2 + 64]) + data[len(data) // 2 + 64:]
    with open(path, "wb") as handle:
        handle.write(data)
    warnings = []
    streams, _pruned = sources.prune(sources.discover(root), None, None, "UTC")
    res = search.search(streams, q("HIT", limit=10), warn=warnings.append, workers_count=1)
    numbers = sorted(m["line_number"] for m in res["matches"])
    assert numbers and numbers[0] == 1  # the readable part was searched
    if damage == "truncated":
        assert numbers != [1, 1001, 2001]  # and not more than it
    assert [d["file"] for d in res["files"]["damaged"]] == [path]
    assert damage in res["files"]["damaged"][0]["error"] and path in warnings[0]


@pytest.mark.parametrize("split", [None, 2, 4])
def test_relp_resent_copy_counts_once_but_real_repeats_count(split):
    """After a collector restart its file holds a line twice, byte for byte, the copy after newer lines (RELP at
    least once, the in-flight batch re-sent after the queue): counted once. Real repeats count."""
    resent = b"<134>2026-12-05T08:00:01.123456+00:00 h p[1]: n=7 HIT\n"
    lines = [b"<134>2026-12-05T08:00:00.000001+00:00 h p[1]: n=6\n", resent,
             b"<134>2026-12-05T08:00:02.5+00:00 h p[1]: n=8 HIT\n", b"<134>2026-12-05T08:00:02.6+00:00 h p[1]: n=9\n",
             resent, resent,  # re-sent after newer lines (and a second copy right after it)
             b"<134>2026-12-05T08:00:03+00:00 h p[1]: retry HIT\n", b"<134>2026-12-05T08:00:03+00:00 h p[1]: retry HIT\n",
             b"<134>2026-12-05T08:00:01.5+00:00 h p[1]: late but new HIT\n"]  # out of order, seen once: kept
    data = b"".join(lines)
    cut = None if split is None else len(b"".join(lines[:split]))
    chunks = [data] if cut is None else [data[:cut], data[cut:]]
    res = scan.scan(chunks, q("HIT", after=1), 2026, True, fold=True)
    assert [h.number for h in res.hits] == [2, 3, 7, 8, 9] and res.count == 5
    assert scan.scan(chunks, q("HIT"), 2026, True, fold=False).count == 7  # paths and journal: as written
