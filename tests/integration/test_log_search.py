"""log_search through one real ansible-playbook run over a collector tree built here: plain and gzip-rotated
files (compressed by the real ``gzip``), two hosts, two programs, lines in two zones (issue 13, acceptance 3):
context across a file boundary, window edges in both zones, newest first with the limit, a bad regex and a missing
directory as clear errors, a catastrophic regex stopped at its time limit naming the file, secrets masked."""

import json
import os
import subprocess
import sys

import pytest

from helpers import run_playbook

MOD = "watchkeeper.ops.log_search"
ROTATED = "shop.log-20261205-1796428800"


def write(path, lines, gz=False, mtime=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))
    if mtime:
        os.utime(path, (mtime, mtime))
    if gz:
        subprocess.run(["gzip", "-6", path], check=True)
        path += ".gz"
    return path


def build(root):
    # app1/shop: a rotated .gz (4 Dec, UTC) then the current file (5 Dec); BOUNDARY on both sides of the boundary
    old = ["<134>2026-12-04T10:%02d:00Z app1 shop[7]: old g%d%s" % (i, i, " BOUNDARY" if i == 9 else "") for i in range(10)]
    write(os.path.join(root, "app1", ROTATED), old, gz=True, mtime=1796379000)
    new = ["<134>2026-12-05T10:%02d:00Z app1 shop[7]: new c%d%s" % (i, i, " BOUNDARY" if i == 0 else "") for i in range(10)]
    new += ["<131>2026-12-05T10:20:00Z app1 shop[7]: login for bob password=hunter2 Authorization: Bearer abc123tokenXYZ"]
    write(os.path.join(root, "app1", "shop.log"), new)
    # app1/sshd in UTC, app2/shop in +01:00: the window 10:30:00Z..10:40:00Z and its edges
    write(os.path.join(root, "app1", "sshd.log"), [
        "<38>2026-12-05T10:29:59.999999Z app1 sshd[9]: EDGE before-since",
        "<38>2026-12-05T10:40:00Z app1 sshd[9]: EDGE at-until",
        "<38>2026-12-05T10:40:00.000001Z app1 sshd[9]: EDGE after-until",
    ] + ["<38>2026-12-05T11:%02d:00Z app1 sshd[9]: tick %d" % (i, i) for i in range(0, 60, 10)])
    write(os.path.join(root, "app2", "shop.log"), [
        "<134>2026-12-05T11:29:59.999999+01:00 app2 shop[3]: EDGE before-since",
        "<134>2026-12-05T11:30:00+01:00 app2 shop[3]: EDGE at-since",
        "<134>2026-12-05T11:40:00.000001+01:00 app2 shop[3]: EDGE after-until",
    ] + ["<134>2026-12-05T12:%02d:00+01:00 app2 shop[3]: tick %d" % (i, i) for i in range(5, 60, 10)])
    # app3/evil: one long line of 'a's then 'b' for a catastrophic (a+)+$
    write(os.path.join(root, "app3", "evil.log"), ["<134>2026-12-05T10:00:00Z app3 evil[1]: " + "a" * 40 + "b"])


def task(name, args, check_mode=False):
    return {"name": name, MOD: args, "check_mode": check_mode, "ignore_errors": True}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    base = tmp_path_factory.mktemp("logsearch")
    root = str(base / "remote")
    build(root)
    common = {"root": root, "timezone": "UTC", "until": "2026-12-06T00:00:00Z"}
    boundary = dict(common, hosts=["app1"], programs=["shop"], pattern="BOUNDARY", before=2, after=2)
    tasks = [
        task("boundary", boundary),
        task("boundary check mode", boundary, check_mode=True),
        task("edges utc", dict(common, hosts=["app*"], pattern="EDGE", since="2026-12-05T10:30:00Z",
                               until="2026-12-05T10:40:00Z")),
        task("edges paris", dict(common, pattern="edge", ignore_case=True, timezone="Europe/Paris",
                                 since="2026-12-05T11:30:00", until="2026-12-05 11:40:00")),
        task("newest first", dict(common, pattern=r"tick \d", regex=True, limit=3)),
        task("bad regex", dict(common, pattern="(unclosed", regex=True)),
        task("missing root", dict(common, root=str(base / "missing"), pattern="x")),
        task("catastrophic", dict(common, hosts=["app3"], pattern="(a+)+$", regex=True, file_timeout=2)),
        task("catastrophic warn", dict(common, hosts=["app3"], pattern="(a+)+$", regex=True, file_timeout=1,
                                       on_timeout="warn")),
        task("secrets", dict(common, pattern="login for bob")),
        task("secrets unmasked", dict(common, pattern="login for bob", mask_secrets=False)),
    ]
    play = [{"hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": tasks}]
    path = str(base / "play.yml")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(play, handle)
    _code, data, stdout, stderr = run_playbook(path)
    assert data, stdout[-3000:] + stderr[-3000:]
    out = dict((t["task"]["name"], t["hosts"]["localhost"]) for t in data["plays"][0]["tasks"])
    out["root"] = root
    return out


def test_context_crosses_the_rotation_boundary_both_ways(results):
    res = results["boundary"]
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is False
    first, second = res["matches"]
    root = results["root"]
    assert first["file"] == os.path.join(root, "app1", "shop.log") and first["line_number"] == 1
    assert first["timestamp"] == "2026-12-05T10:00:00Z" and first["level"] == "info"
    assert [line.split(": ")[1] for line in first["before"]] == ["old g8", "old g9 BOUNDARY"]
    assert [line.split(": ")[1] for line in first["after"]] == ["new c1", "new c2"]
    assert second["file"] == os.path.join(root, "app1", ROTATED + ".gz") and second["line_number"] == 10
    assert [line.split(": ")[1] for line in second["before"]] == ["old g7", "old g8"]
    assert [line.split(": ")[1] for line in second["after"]] == ["new c0 BOUNDARY", "new c1"]
    assert res["counts"] == {"total": 2, "by_host": {"app1": 2}, "by_program": {"shop": 2}}
    assert res["truncated"] is False


def test_check_mode_reads_the_same(results):
    assert results["boundary check mode"]["matches"] == results["boundary"]["matches"]
    assert results["boundary check mode"]["changed"] is False


def test_window_edges_in_two_zones(results):
    for name in ("edges utc", "edges paris"):
        res = results[name]
        assert not res.get("failed"), res.get("msg")
        got = sorted((m["host"], m["line"].rsplit(" ", 1)[1], m["timestamp"]) for m in res["matches"])
        assert got == [("app1", "at-until", "2026-12-05T10:40:00Z"), ("app2", "at-since", "2026-12-05T10:30:00Z")], name
        assert res["window"] == {"since": "2026-12-05T10:30:00Z", "until": "2026-12-05T10:40:00Z"}
        assert res["files"]["pruned"] >= 1  # app1's rotated file ends on 4 Dec


def test_newest_first_with_the_limit_across_hosts(results):
    res = results["newest first"]
    assert not res.get("failed"), res.get("msg")
    # ticks: app1 11:00..11:50Z, app2 12:05..12:55+01:00 = 11:05..11:55Z; the 3 newest interleave the hosts
    assert [(m["host"], m["timestamp"]) for m in res["matches"]] == [
        ("app2", "2026-12-05T11:55:00Z"), ("app1", "2026-12-05T11:50:00Z"), ("app2", "2026-12-05T11:45:00Z")]
    assert res["truncated"] is True
    assert res["counts"] == {"total": 12, "by_host": {"app1": 6, "app2": 6}, "by_program": {"sshd": 6, "shop": 6}}


def test_bad_regex_and_missing_directory_are_clear_errors(results):
    assert results["bad regex"]["failed"]
    assert "invalid regex '(unclosed'" in results["bad regex"]["msg"]
    assert results["missing root"]["failed"]
    assert "does not exist" in results["missing root"]["msg"] and "missing" in results["missing root"]["msg"]


def test_catastrophic_regex_stops_at_its_time_limit_naming_the_file(results):
    res = results["catastrophic"]
    assert res["failed"]
    assert os.path.join(results["root"], "app3", "evil.log") in res["msg"] and "file_timeout" in res["msg"]
    warned = results["catastrophic warn"]
    assert not warned.get("failed"), warned.get("msg")
    assert warned["timed_out"] == [os.path.join(results["root"], "app3", "evil.log")]
    assert any("evil.log" in w for w in warned.get("warnings", []))


def test_secrets_come_back_masked(results):
    line = results["secrets"]["matches"][0]["line"]
    assert "hunter2" not in line and "abc123tokenXYZ" not in line and "***" in line
    assert "hunter2" in results["secrets unmasked"]["matches"][0]["line"]
