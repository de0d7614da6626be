"""Log sources: discovery by layout with every rotation naming, host/program filters, clear errors, pruning by
time bounds (first line, last line, mtime, rotation time in the name), gzip members, records with inherited
times, and the JSON of ``journalctl -o json`` (parsing only: a fake output, no journal is read here)."""

import datetime
import gzip
import json
import os

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import journal, sources, timestamps as t

UTC = datetime.timezone.utc


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def write(path, lines, gz=False, mtime=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = "".join(line + "\n" for line in lines).encode()
    with (gzip.open(path, "wb") if gz else open(path, "wb")) as handle:
        handle.write(data)
    if mtime:
        os.utime(path, (mtime, mtime))


def line(moment, text, host="h1", program="app"):
    return "<134>%s %s %s[1]: %s" % (moment.isoformat(), host, program, text)


@pytest.fixture()
def tree(tmp_path):
    root = str(tmp_path)
    d3, d4, d5 = at(2026, 12, 3, 12), at(2026, 12, 4, 12), at(2026, 12, 5, 12)
    write(os.path.join(root, "h1", "app.log-20261204-1796342400.gz"), [line(d3, "three")], gz=True, mtime=d3.timestamp() + 60)
    write(os.path.join(root, "h1", "app.log-20261205-1796428800.gz"), [line(d4, "four")], gz=True, mtime=d4.timestamp() + 60)
    write(os.path.join(root, "h1", "app.log"), [line(d5, "five"), "  continuation"])
    write(os.path.join(root, "h1", "db.log.2.gz"), [line(d3, "old", program="db")], gz=True, mtime=d3.timestamp())
    write(os.path.join(root, "h1", "db.log.1"), [line(d4, "mid", program="db")], mtime=d4.timestamp())
    write(os.path.join(root, "h2", "app.log"), [line(d5, "two", host="h2")])
    return root


def test_discover_orders_rotations_oldest_first_and_filters(tree):
    streams = sources.discover(tree)
    assert [(s.host, s.program, [os.path.basename(f.path) for f in s.files]) for s in streams] == [
        ("h1", "app", ["app.log-20261204-1796342400.gz", "app.log-20261205-1796428800.gz", "app.log"]),
        ("h1", "db", ["db.log.2.gz", "db.log.1"]),
        ("h2", "app", ["app.log"])]
    assert [s.key for s in sources.discover(tree, hosts=["h1"], programs=["d*"])] == [("h1", "db")]
    assert sources.discover(tree, hosts=["nope"]) == []


def test_missing_root_and_paths_are_clear_errors(tree):
    with pytest.raises(sources.LogSourceError, match="log root .*/missing does not exist"):
        sources.discover(os.path.join(tree, "missing"))
    with pytest.raises(sources.LogSourceError, match="does not exist"):
        sources.discover(paths=[os.path.join(tree, "none*.log")])
    with pytest.raises(sources.LogSourceError, match="must contain"):
        sources.discover(tree, layout="{host}/all.log")


def test_paths_mode_groups_rotations_by_name(tree):
    streams = sources.discover(paths=[os.path.join(tree, "h1")])
    assert sorted((s.program, len(s.files)) for s in streams) == [("app", 3), ("db", 2)]


def test_prune_uses_first_line_mtime_and_rotation_time(tree):
    streams = sources.discover(tree, hosts=["h1"], programs=["app"])
    kept, pruned = sources.prune(streams, at(2026, 12, 4, 0), at(2026, 12, 4, 23))
    assert pruned == 2 and [os.path.basename(f.path) for f in kept[0].files] == ["app.log-20261205-1796428800.gz"]
    assert kept[0].all_files == streams[0].files  # neighbours stay known for context
    assert kept[0].files[0].first_ts == at(2026, 12, 4, 12)
    kept, pruned = sources.prune(streams, at(2026, 12, 6), None)
    assert pruned == 3 and kept == []


def test_open_text_reads_every_gzip_member_and_records_inherit_time(tmp_path):
    path = str(tmp_path / "x.log.1.gz")
    with open(path, "wb") as handle:
        handle.write(gzip.compress(line(at(2026, 12, 5, 1), "a").encode() + b"\n"))
        handle.write(gzip.compress(b"  tail \xff\n"))
    with sources.open_text(path) as handle:
        assert handle.read().splitlines()[1] == "  tail \ufffd"
    stream = sources.discover(paths=[path])[0]
    records = list(sources.iter_records(stream, at(2026, 12, 5, 1), at(2026, 12, 5, 1), "UTC"))
    assert [(n, p.ts) for _f, n, _l, p in records] == [(1, at(2026, 12, 5, 1)), (2, at(2026, 12, 5, 1))]


def test_journal_json_parsing_from_a_fake_journalctl_output():
    entries = [
        {"__REALTIME_TIMESTAMP": "1764923113123456", "_HOSTNAME": "app1", "SYSLOG_IDENTIFIER": "sshd", "PRIORITY": "4",
         "SYSLOG_PID": "77", "MESSAGE": "Failed password for root"},
        {"__REALTIME_TIMESTAMP": "1764923114000000", "_HOSTNAME": "app1", "_COMM": "cron", "MESSAGE": [104, 105]},
        {"MESSAGE": "no time"},
    ]
    lines = [json.dumps(e) for e in entries] + ["not json"]
    streams = journal.journal_streams(None, None, lines=lines)
    assert [s.key for s in streams] == [("app1", "cron"), ("app1", "sshd")]
    _f, number, text, parsed = streams[1].records[0]
    # PRIORITY 4 without SYSLOG_FACILITY: daemon.warning, <28>, so the level survives the re-scan of the line
    assert text == "<28>2025-12-05T08:25:13.123456Z app1 sshd[77]: Failed password for root"
    assert parsed.level == 4 and parsed.ts == at(2025, 12, 5, 8, 25, 13, 123456) and number == 1
    assert streams[0].records[0][3].message == "hi" and streams[0].records[0][3].level is None
    assert streams[0].records[0][2] == "2025-12-05T08:25:14Z app1 cron: hi"  # no level known: no PRI
    back = t.parse_line(text)  # the rendered line parses back to the same time and level
    assert (back.ts, back.level) == (parsed.ts, 4)
    only = journal.journal_streams(at(2025, 12, 5, 8, 25, 14), None, programs=["cr*"], lines=lines)
    assert [s.key for s in only] == [("app1", "cron")]


def test_selection_fragment_matches_the_argument_spec():
    import yaml
    from ansible_collections.watchkeeper.ops.plugins.doc_fragments.log_selection import ModuleDocFragment
    from ansible_collections.watchkeeper.ops.plugins.module_utils.logs.selection import SELECTION_SPEC

    docs = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert sorted(docs) == sorted(SELECTION_SPEC)
    for name, spec in SELECTION_SPEC.items():
        assert docs[name].get("type", "str") == spec.get("type", "str"), name
        assert docs[name].get("default") == spec.get("default"), name
        assert docs[name].get("elements") == spec.get("elements"), name


def test_window_resolution_and_its_errors():
    from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import selection

    now = at(2026, 12, 5, 8)
    assert selection.resolve_window(last="30m", now=now) == (at(2026, 12, 5, 7, 30), now)
    assert selection.resolve_window(since="-1h", until="-30m", now=now) == (at(2026, 12, 5, 7), at(2026, 12, 5, 7, 30))
    assert selection.resolve_window(now=now) == (None, now)
    for kwargs, message in ((dict(last="soon"), "last: not a duration"), (dict(since="2026-12-06T00:00Z"), "is after until"),
                            (dict(until="tomorrow"), "until: not a time")):
        with pytest.raises(selection.SelectionError, match=message):
            selection.resolve_window(now=now, **kwargs)
    with pytest.raises(selection.SelectionError, match="min_level"):
        selection.selection({"min_level": "loud"}, now)
    with pytest.raises(selection.SelectionError, match="timezone"):
        selection.selection({"timezone": "Mars/Base"}, now)
