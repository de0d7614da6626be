"""metrics_textfile through one real ansible-playbook run: atomic textfile-collector files, merge semantics
(a failure keeps the last success), idempotence, check mode, diff, bad input; the file is read back with the
exposition parser and checked line by line."""

import json
import os
import re
import sys
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers import run_playbook

MOD = "watchkeeper.ops.metrics_textfile"
SUCCESS = "watchkeeper_backup_last_success_timestamp_seconds"
SAMPLE_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? \S+$')


def task(name, args, check_mode=False, diff=False):
    out = {"name": name, MOD: args, "check_mode": check_mode, "diff": diff, "ignore_errors": True}
    if name == "frozen":
        out["environment"] = {"WATCHKEEPER_NOW": "2026-12-05T06:00:00Z"}
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("textfile")
    textdir = str(root / "collector")
    os.makedirs(textdir)
    with open(os.path.join(textdir, "broken.prom"), "w", encoding="utf-8") as handle:
        handle.write("this is { not exposition text\n")
    for name in ("checked", "replaced"):
        with open(os.path.join(textdir, name + ".prom"), "w", encoding="utf-8") as handle:
            handle.write("# TYPE m gauge\nm 1\n")
    job = {"job": "app-db"}
    tasks = [
        task("success", {"directory": textdir, "name": "backup_app-db", "metrics": [
            {"name": SUCCESS, "labels": job, "value": "now", "help": "Unix time of the last good backup."},
            {"name": "watchkeeper_backup_stored_bytes", "labels": job, "value": 231109022},
            {"name": "watchkeeper_backup_last_status", "labels": job, "value": True},
            {"name": "watchkeeper_backup_max_age_seconds", "labels": job, "duration": "1d 2h"}]}),
        task("failure", {"directory": textdir, "name": "backup_app-db", "metrics": [
            {"name": "watchkeeper_backup_last_failure_timestamp_seconds", "labels": job, "value": "now"},
            {"name": "watchkeeper_backup_last_status", "labels": job, "value": 0}]}),
        task("count 1", {"directory": textdir, "name": "counted", "metrics": [
            {"name": "removed_total", "type": "counter", "labels": job, "value": 3, "increment": True}]}),
        task("count 2", {"directory": textdir, "name": "counted", "metrics": [
            {"name": "removed_total", "type": "counter", "labels": job, "value": 4, "increment": True},
            {"name": "removed_total", "type": "counter", "labels": {"job": "other"}, "value": 2, "increment": True}]}),
        task("fixed first", {"directory": textdir, "name": "fixed", "metrics": [{"name": "m", "value": 2.5}]}),
        task("fixed again", {"directory": textdir, "name": "fixed", "metrics": [{"name": "m", "value": 2.5}]}),
        task("check mode", {"directory": textdir, "name": "checked", "metrics": [{"name": "m", "value": 7}]},
             check_mode=True, diff=True),
        task("replace", {"directory": textdir, "name": "replaced", "mode": "replace", "metrics": [
            {"name": "watchkeeper_backup_last_status", "labels": job, "value": 1}]}),
        task("broken old file", {"directory": textdir, "name": "broken", "metrics": [{"name": "m", "value": 1}]}),
        task("bad metric name", {"directory": textdir, "name": "bad", "metrics": [{"name": "bad-name", "value": 1}]}),
        task("bad value", {"directory": textdir, "name": "bad", "metrics": [{"name": "m", "value": "lots"}]}),
        task("bad duration", {"directory": textdir, "name": "bad", "metrics": [{"name": "m", "duration": "soon"}]}),
        task("value and duration", {"directory": textdir, "name": "bad", "metrics": [{"name": "m", "value": 1, "duration": 5}]}),
        task("bad timestamp", {"directory": textdir, "name": "bad", "metrics": [{"name": "m", "timestamp": "yesterday"}]}),
        task("frozen", {"directory": textdir, "name": "frozen", "metrics": [
            {"name": "at", "value": "now"}, {"name": "ends", "timestamp": "2026-12-05T08:30:00+01:00"}]}),
        task("bad file name", {"directory": textdir, "name": "../escape", "metrics": [{"name": "m", "value": 1}]}),
        task("no directory", {"directory": str(root / "missing"), "name": "x", "metrics": [{"name": "m", "value": 1}]}),
    ]
    play = [{"hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": tasks}]
    path = str(root / "play.yml")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(play, handle)
    started = time.time()
    _code, data, stdout, stderr = run_playbook(path)
    assert data, stdout[-3000:] + stderr[-3000:]
    results = dict((t["task"]["name"], t["hosts"]["localhost"]) for t in data["plays"][0]["tasks"])
    return {"dir": textdir, "results": results, "started": started, "ended": time.time()}


def read(run_, name):
    with open(os.path.join(run_["dir"], name + ".prom"), encoding="utf-8") as handle:
        return handle.read()


def test_every_line_is_exposition_text_and_no_temporary_file_is_left(run):
    for name in os.listdir(run["dir"]):
        assert name.endswith(".prom"), name  # no .tmp left over
        for line in read(run, name[:-5]).splitlines():
            if name != "checked.prom":
                assert line.startswith("# HELP ") or line.startswith("# TYPE ") or SAMPLE_LINE.match(line), line


def test_a_failure_keeps_the_last_success_and_now_is_the_host_time(run):
    res = run["results"]
    assert res["success"]["changed"] and res["failure"]["changed"]
    assert res["failure"]["samples"] == 5
    lines = read(run, "backup_app-db").splitlines()
    assert "# HELP %s Unix time of the last good backup." % SUCCESS in lines
    assert 'watchkeeper_backup_last_status{job="app-db"} 0' in lines
    assert 'watchkeeper_backup_stored_bytes{job="app-db"} 231109022' in lines
    assert 'watchkeeper_backup_max_age_seconds{job="app-db"} 93600' in lines
    stamps = dict((line.split("{")[0], float(line.split()[-1])) for line in lines if "timestamp" in line and "{" in line)
    assert set(stamps) == {SUCCESS, "watchkeeper_backup_last_failure_timestamp_seconds"}
    for value in stamps.values():
        assert run["started"] <= value <= run["ended"]
    assert stamps[SUCCESS] <= stamps["watchkeeper_backup_last_failure_timestamp_seconds"]


def test_replace_keeps_only_the_new_series_and_the_file_is_exact(run):
    assert read(run, "replaced") == (
        "# TYPE watchkeeper_backup_last_status gauge\n"
        'watchkeeper_backup_last_status{job="app-db"} 1\n')


def test_same_content_is_not_rewritten(run):
    assert run["results"]["fixed first"]["changed"] is True
    assert run["results"]["fixed again"]["changed"] is False
    assert read(run, "fixed") == "# TYPE m gauge\nm 2.5\n"


def test_check_mode_reports_and_writes_nothing(run):
    res = run["results"]["check mode"]
    assert res["changed"] is True and not res.get("failed")
    assert "m 7" in res["diff"]["after"] and "m 1" in res["diff"]["before"]
    assert read(run, "checked") == "# TYPE m gauge\nm 1\n"


def test_an_unreadable_old_file_is_replaced_and_said(run):
    res = run["results"]["broken old file"]
    assert "line 1" in res["previous_unreadable"]
    assert read(run, "broken") == "# TYPE m gauge\nm 1\n"


@pytest.mark.parametrize("name,words", [
    ("bad metric name", "metrics[0]: 'bad-name' is not a valid metric name"),
    ("bad value", "metrics[0]: 'lots' is not a number"),
    ("bad duration", "metrics[0]: not a duration: 'soon'"),
    ("value and duration", "metrics[0] needs a name and one of value, duration or timestamp"),
    ("bad timestamp", "metrics[0]: "),
    ("bad file name", "use letters, digits"),
    ("no directory", "does not exist"),
])
def test_bad_input_fails_clearly_and_writes_nothing(run, name, words):
    res = run["results"][name]
    assert res.get("failed") and words in res["msg"], res
    assert not os.path.exists(os.path.join(run["dir"], "bad.prom"))
    assert not os.path.exists(os.path.join(os.path.dirname(run["dir"]), "escape.prom"))


def test_increment_adds_to_the_sample_in_the_file(run):
    assert read(run, "counted") == ('# TYPE removed_total counter\nremoved_total{job="app-db"} 7\nremoved_total{job="other"} 2\n')


def test_now_follows_a_frozen_clock_and_timestamps_are_utc(run):
    assert read(run, "frozen") == "# TYPE at gauge\nat 1796450400\n# TYPE ends gauge\nends 1796455800\n"


def test_prometheus_client_parses_every_file_the_module_wrote(run):
    """Prometheus' own text parser reads every sample the module wrote, with the same values."""
    for name in os.listdir(run["dir"]):
        text = read(run, name[:-5])
        if name == "checked.prom":
            continue
        parsed = dict(((sample.name, tuple(sorted(sample.labels.items()))), sample.value)
                      for family in text_string_to_metric_families(text) for sample in family.samples)
        ours = re.findall(r"^(\w+)(?:\{(.*)\})? (\S+)$", text, re.MULTILINE)
        assert len(parsed) == len(ours) > 0, (name, text)
