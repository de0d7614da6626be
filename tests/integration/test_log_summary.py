"""log_summary through one real ansible-playbook run over a collector tree in tmp_path: two hosts, a current plain
file and a rotated .gz per stream, lines in two time zones (acceptance 4 of the logs issue).

The expected numbers are computed here from the lines this test writes, not by the collection's code: lines that
differ only in ids and numbers are one template with the exact count; a template that appears only in the window
is reported as new; a program that suddenly logs 20 lines in one interval (baseline: 1 per interval) spikes; a
missing root is a clear error; a password in an example line is masked; check mode gives the same answer and
changes nothing."""

import datetime
import gzip
import json
import os
import sys

import pytest

from helpers import run_playbook

MOD = "watchkeeper.ops.log_summary"
UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
PARIS = datetime.timezone(datetime.timedelta(hours=1))
ROTATED = NOW - datetime.timedelta(hours=1)  # the rotation at the window's start
ORDER = "order <num> for <uuid> paid by <email> from <ip> in <num>"
TIMEOUT = "payment gateway timeout after <num> (request <hex>)"
SECRET = "hunter2-Very-Secret"


def stamp(minutes_before_now, seconds=0):
    return NOW - datetime.timedelta(minutes=minutes_before_now) + datetime.timedelta(seconds=seconds)


def syslog(ts, host, tag, message, pri=134, zone=UTC):
    """A line as the collector writes it (RFC 3339 time in the sender's zone)."""
    return "<%d>%s %s %s: %s\n" % (pri, ts.astimezone(zone).isoformat(), host, tag, message)


def order(n, host_index):
    return "order %d for 123e4567-e89b-12d3-a456-%012d paid by user%d@example.com from 10.%d.0.%d:%d in %dms" % (
        n * 7 + 1000, n, n, host_index, n % 250, 40000 + n, n * 3 + 1)


def write(path, lines, mtime, compressed=False):
    opener = gzip.open if compressed else open
    with opener(str(path), "wt") as handle:
        handle.writelines(lines)
    os.utime(str(path), (mtime.timestamp(), mtime.timestamp()))


def build_tree(root):
    """The collector tree; returns the numbers the summary must report."""
    expected = {"order_window": 0, "order_baseline": 0, "window_total": 0}
    for index, (host, zone) in enumerate((("app1", UTC), ("app2", PARIS))):
        os.makedirs(str(root / host))
        baseline, window = [], []
        # shop: 3 orders per 5 minutes in the baseline (07:00-08:00), 2 per 5 minutes in the window.
        for minute in range(0, 60, 5):
            for k in range(3):
                n = minute * 10 + k
                baseline.append(syslog(stamp(120 - minute, k), host, "shop[812]", order(n, index), zone=zone))
                expected["order_baseline"] += 1
            for k in range(2):
                n = 5000 + minute * 10 + k
                window.append(syslog(stamp(60 - minute - 1, k), host, "shop[812]", order(n, index), zone=zone))
                expected["order_window"] += 1
        write(root / host / ("shop.log-20261205-%d.gz" % ROTATED.timestamp()), baseline, ROTATED, compressed=True)
        if host == "app1":
            # New after the baseline: five gateway timeouts, and a failed login carrying a password.
            for k in range(5):
                window.append(syslog(stamp(20 - k), host, "shop[812]", "payment gateway timeout after %ds (request %s)"
                                     % (30 + k, "9f86d08%09x" % (k * 977 + 12345)), pri=131))
            window.append(syslog(stamp(15), host, "shop[812]", "login failed for bob password=%s" % SECRET, pri=132))
            # JSON lines of another program: the msg field is templated, the other fields (ids, times) are not.
            api = [syslog(stamp(12 - k), host, "api[9]", json.dumps(
                {"level": "error", "msg": "upstream %d refused" % (k + 500), "request_id": "r-%d" % k})) for k in range(3)]
            write(root / host / "api.log", api, stamp(10))
            expected["window_total"] += len(api)
        window.sort(key=lambda text: text.split(" ", 1)[0][5:])  # by time, as the collector appends
        expected["window_total"] += len(window)
        write(root / host / "shop.log", window, stamp(1))
    # A rotation from two days before: outside both periods, pruned by its time bounds without being read.
    old = NOW - datetime.timedelta(days=2)
    write(root / "app1" / ("shop.log-20261203-%d.gz" % old.timestamp()),
          [syslog(old - datetime.timedelta(minutes=m), "app1", "shop[812]", "ancient %d" % m) for m in (3, 2, 1)], old,
          compressed=True)
    # app2's worker: one line per interval in the baseline and the window, 20 in the interval 08:30-08:35.
    worker_base = [syslog(stamp(118 - m), "app2", "worker[77]", "job %d done" % m, zone=PARIS) for m in range(0, 60, 5)]
    write(root / "app2" / ("worker.log-20261205-%d.gz" % ROTATED.timestamp()), worker_base, ROTATED, compressed=True)
    worker = [syslog(stamp(58 - m), "app2", "worker[77]", "job %d done" % m, zone=PARIS) for m in range(0, 60, 5)]
    worker += [syslog(stamp(29, k), "app2", "worker[77]", "job %d retried" % k, pri=132, zone=PARIS) for k in range(20)]
    worker.sort(key=lambda text: datetime.datetime.fromisoformat(text.split(" ", 1)[0][5:]))
    write(root / "app2" / "worker.log", worker, stamp(1))
    expected["window_total"] += len(worker)
    return expected


def task(name, args, check_mode=False):
    return {"name": name, MOD: args, "check_mode": check_mode, "ignore_errors": True,
            "environment": {"WATCHKEEPER_NOW": NOW.isoformat()}}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("remote")
    expected = build_tree(root)
    before = dict((str(p), (p.stat().st_mtime, p.stat().st_size)) for p in root.rglob("*"))
    common = {"root": str(root), "last": "1h", "interval": "5m", "timezone": "UTC"}
    tasks = [
        task("summary", dict(common, top=50)),
        task("check mode", dict(common, top=50), check_mode=True),
        task("errors only", dict(common, min_level="err", programs=["shop", "api"])),
        task("capped", dict(common, max_templates=2)),
        task("missing root", dict(common, root=str(root / "missing"))),
        task("bad interval", dict(common, interval="soon")),
        task("no window", {"root": str(root)}),
    ]
    play = [{"hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": tasks}]
    path = str(tmp_path_factory.mktemp("play") / "play.yml")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(play, handle)
    _code, data, stdout, stderr = run_playbook(path)
    assert data, stdout[-3000:] + stderr[-3000:]
    results = dict((t["task"]["name"], t["hosts"]["localhost"]) for t in data["plays"][0]["tasks"])
    after = dict((str(p), (p.stat().st_mtime, p.stat().st_size)) for p in root.rglob("*"))
    return {"results": results, "expected": expected, "stdout": stdout, "unchanged": before == after}


def by_template(summary, key="templates"):
    return dict((t["template"], t) for t in summary[key])


def test_lines_differing_only_in_ids_and_numbers_are_one_template(run):
    result = run["results"]["summary"]
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    summary = result["summary"]
    exp = run["expected"]
    assert summary["window"] == {"since": "2026-12-05T08:00:00Z", "until": "2026-12-05T09:00:00Z"}
    assert summary["total"] == exp["window_total"]
    assert sum(row["count"] for row in summary["counts"]) == exp["window_total"]
    orders = by_template(summary)[ORDER]
    assert orders["count"] == exp["order_window"] == 48
    assert orders["baseline_count"] == exp["order_baseline"] == 72
    assert orders["hosts"] == ["app1", "app2"] and orders["programs"] == ["shop"] and orders["levels"] == ["info"]
    assert by_template(summary)["upstream <num> refused"]["count"] == 3  # JSON msg field, ids in other fields
    assert by_template(summary)["job <num> done"]["count"] == 12
    assert summary["files"] == {"scanned": 7, "pruned": 1}
    assert "ancient <num>" not in by_template(summary)
    assert summary["other"]["capped"] is False


def test_counts_are_per_host_program_level_and_epoch_aligned_interval(run):
    counts = run["results"]["summary"]["summary"]["counts"]
    rows = dict(((r["host"], r["program"], r["level"], r["interval_start"]), r["count"]) for r in counts)
    # app2 writes in +01:00: its lines are counted in the UTC interval they belong to.
    assert rows[("app2", "shop", "info", "2026-12-05T08:00:00Z")] == 2
    assert rows[("app2", "worker", "warning", "2026-12-05T08:30:00Z")] == 20
    assert rows[("app1", "shop", "err", "2026-12-05T08:40:00Z")] == 5
    assert all(r["interval_start"].endswith(("0:00Z", "5:00Z")) for r in counts)


def test_a_template_that_appears_only_after_the_baseline_is_new(run):
    summary = run["results"]["summary"]["summary"]
    new = by_template(summary, "new_templates")
    assert new[TIMEOUT]["count"] == 5 and new[TIMEOUT]["baseline_count"] == 0
    assert new[TIMEOUT]["hosts"] == ["app1"] and new[TIMEOUT]["levels"] == ["err"]
    assert new[TIMEOUT]["first_seen"] == "2026-12-05T08:40:00Z" and new[TIMEOUT]["last_seen"] == "2026-12-05T08:44:00Z"
    assert ORDER not in new and "job <num> done" not in new
    assert set(new) == {TIMEOUT, "login failed for bob password=***", "upstream <num> refused", "job <num> retried"}
    assert summary["new_templates_total"] == 4


def test_a_spike_is_reported(run):
    spikes = run["results"]["summary"]["summary"]["spikes"]
    assert spikes == [{"host": "app2", "program": "worker", "interval_start": "2026-12-05T08:30:00Z", "count": 21,
                       "baseline_per_interval": 1.0, "factor": 21.0}]


def test_a_secret_in_an_example_line_is_masked(run):
    summary = run["results"]["summary"]["summary"]
    login = by_template(summary)["login failed for bob password=***"]
    assert login["example"].endswith("app1 shop[812]: login failed for bob password=***")
    assert SECRET not in run["stdout"]


def test_check_mode_reads_the_same_and_changes_nothing(run):
    checked = run["results"]["check mode"]
    assert not checked.get("failed") and checked["changed"] is False
    assert checked["summary"] == run["results"]["summary"]["summary"]
    assert run["unchanged"]


def test_min_level_and_programs_select(run):
    summary = run["results"]["errors only"]["summary"]
    assert set(by_template(summary)) == {TIMEOUT, "upstream <num> refused"}
    assert summary["total"] == 8 and summary["spikes"] == []


def test_the_template_cap_counts_the_rest_as_other_and_says_so(run):
    result = run["results"]["capped"]
    assert not result.get("failed"), result.get("msg")
    summary = result["summary"]
    other = summary["other"]
    assert other["capped"] is True and other["max_templates"] == 2
    # The baseline's two templates (orders, jobs done) took the places; everything else of the window is other.
    assert set(by_template(summary)) == {ORDER, "job <num> done"}
    assert other["window"] == summary["total"] - 48 - 12 and other["baseline"] == 0
    assert any("more than 2 distinct templates" in w for w in result.get("warnings", []))


@pytest.mark.parametrize("name, message", [
    ("missing root", "does not exist"),
    ("bad interval", "interval: not a duration"),
    ("no window", "give since or last"),
])
def test_bad_input_is_a_clear_error(run, name, message):
    result = run["results"][name]
    assert result.get("failed"), result
    assert message in result["msg"]
