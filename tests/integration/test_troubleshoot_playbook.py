# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/troubleshoot.yml (issue 13, acceptance 5): over a collector's tree (plain and rotated .gz files, two
hosts), the report (JSON + HTML) holds the matching lines newest first with their context, the summary's new
template, the hosts' health and the recent run records; a password and a bearer token of a log line appear masked;
Chromium renders the report (screenshot). A step that fails is named in the report and fails the run."""

import glob
import gzip
import json
import os
import sys
import time

import pytest

from helpers import collections_path, report_page, run_playbook

PLAYBOOK = os.path.join(collections_path(), "ansible_collections", "watchkeeper", "ops", "playbooks", "troubleshoot.yml")
PASSWORD = "Hunter2-Tr0ub4dor"
TOKEN = "eyJraWQiOiJ3ayJ9.c2VjcmV0LXRva2Vu.QmVhcmVyU2VjcmV0"


def stamp(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + ".%06d+00:00" % int((epoch % 1) * 1e6)


def line(epoch, host, prog, msg, pri=14):
    return "<%d>%s %s %s[%d]: %s\n" % (pri, stamp(epoch), host, prog, 100 + len(prog), msg)


def write(path, lines, compressed=False, mtime=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    opener = gzip.open if compressed else open
    with opener(path, "wt", encoding="utf-8") as handle:
        handle.writelines(lines)
    if mtime:
        os.utime(path, (mtime, mtime))


@pytest.fixture
def collector_tree(tmp_path):
    """web1/app and db1/postgres: a baseline hour before the window (rotated, gz) and the last 30 minutes."""
    root = tmp_path / "remote"
    now = time.time()
    base = now - 3600 + 10  # the baseline (the 30 minutes before the window), in the rotated file
    old = [line(base + i * 29, "web1", "app", "request id=%d took %d ms" % (1000 + i, 20 + i)) for i in range(60)]
    old += [line(base + 1750, "web1", "app", "cache warmup done in 3.2s")]
    rotated = "app.log-%s-%d.gz" % (time.strftime("%Y%m%d", time.localtime(base + 1760)), base + 1760)  # logrotate's dateformat
    write(str(root / "web1" / rotated), old, compressed=True, mtime=base + 1760)
    recent = [line(now - 1500 + i * 20, "web1", "app", "request id=%d took %d ms" % (5000 + i, 30 + i)) for i in range(40)]
    recent[10] = line(now - 1500 + 200, "web1", "app",
                      "ERROR payment failed for order 77: upstream refused password=%s" % PASSWORD, pri=11)
    recent[25] = line(now - 1500 + 500, "web1", "app",
                      "ERROR retry failed, sent Authorization: Bearer %s to billing" % TOKEN, pri=11)
    recent += [line(now - 300 + i, "web1", "app", "circuit breaker opened for billing-%d after %d errors" % (i, 5 + i), pri=12)
               for i in range(12)]
    write(str(root / "web1" / "app.log"), recent)
    pg = [line(now - 3000 + i * 110, "db1", "postgres", "checkpoint complete: wrote %d buffers" % (100 + i)) for i in range(25)]
    pg[20] = line(now - 3000 + 20 * 110, "db1", "postgres", "FATAL: remaining connection slots are reserved", pri=10)
    write(str(root / "db1" / "postgres.log"), pg)
    return root


def inventory(tmp_path, ops, root):
    path = str(tmp_path / "inventory.json")
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"all": {"children": {"log_collector": {"hosts": {"collector": {}}},
                                        "web": {"hosts": {"web1": {}}}, "db": {"hosts": {"db1": {}}}},
                           "vars": dict(local, watchkeeper_ops_state=ops, logging_collector_root=str(root))}}, handle)
    return path


def play(inv, extra, expect_ok=True):
    code, data, out, err = run_playbook(PLAYBOOK, inventory=inv, env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"},
                                        args=("-e", json.dumps(extra)))
    assert (code == 0) == expect_ok and data is not None, "rc %s\n%s\n%s" % (code, out[-5000:], err[-3000:])
    return data, out + err


def test_report_with_masked_secrets_renders_in_chromium(collector_tree, tmp_path):
    ops = str(tmp_path / "ops")
    os.makedirs(os.path.join(ops, "verified", "app-db"))
    with open(os.path.join(ops, "verified", "app-db", "20261205T010000Z.json"), "w") as handle:
        handle.write('{"status": "passed"}')
    inv = inventory(tmp_path, ops, collector_tree)
    data, output = play(inv, {"troubleshoot_service": "app, postgres", "troubleshoot_last": "30m",
                              "troubleshoot_hosts": "web1:db1", "troubleshoot_context": 2})
    stats = data["global_custom_stats"]["watchkeeper_troubleshoot"]
    assert stats["errors"] == [] and stats["matches"] == 15, stats  # 2 ERRORs, 12 "... errors", 1 FATAL
    report_json = stats["json"]
    with open(report_json, encoding="utf-8") as handle:
        report = json.load(handle)
    with open(stats["report"], encoding="utf-8") as handle:
        html = handle.read()
    for text in (json.dumps(report), html, output):
        assert PASSWORD not in text and TOKEN not in text
    lines = [m["line"] for m in report["matches"]]
    assert [m["timestamp"] for m in report["matches"]] == sorted((m["timestamp"] for m in report["matches"]), reverse=True)
    assert any("password=***" in text for text in lines) and any("Bearer ***" in text for text in lines), lines
    fatal = [m for m in report["matches"] if "FATAL" in m["line"]][0]
    assert fatal["host"] == "db1" and fatal["program"] == "postgres" and len(fatal["before"]) == 2 and len(fatal["after"]) == 2
    assert "wrote 119 buffers" in fatal["before"][-1] and "wrote 121 buffers" in fatal["after"][0]
    summary = report["summaries"]["collector"]
    new = [t["template"] for t in summary["new_templates"]]
    assert any(t.startswith("circuit breaker opened for") for t in new), new
    assert not any(t.startswith(("request id=", "checkpoint complete")) for t in new), new  # in the baseline too
    assert sorted(report["health"]) == ["db1", "web1"] and report["health"]["web1"]["status"] in ("ok", "warning", "critical")
    assert any(path.endswith("20261205T010000Z.json") for path in report["runs"]["web1"])

    shot = tmp_path / "troubleshoot.png"
    with report_page(stats["report"], shot) as page:
        assert page.locator("#match-count").inner_text() == str(len(report["matches"]))
        assert page.locator("#matches tr.match").count() == len(report["matches"])
        first = page.locator("#matches tr.match").first.inner_text()
        assert report["matches"][0]["line"].split(": ", 1)[1][:30] in first
        assert page.locator(".new-template").count() == len(new)
        assert page.locator('#health tr[data-host="web1"]').is_visible()
        assert PASSWORD not in page.content() and "password=***" in page.content()
    assert shot.stat().st_size > 10000
    measurements = os.environ.get("WK_MEASUREMENTS_DIR")
    if measurements:
        os.makedirs(measurements, exist_ok=True)
        os.replace(str(shot), os.path.join(measurements, "troubleshoot_report.png"))


def test_a_failed_step_is_named_in_the_report_and_fails_the_run(tmp_path):
    ops = str(tmp_path / "ops")
    inv = inventory(tmp_path, ops, tmp_path / "no-such-tree")
    data, output = play(inv, {"troubleshoot_service": "app", "troubleshoot_hosts": "web1"}, expect_ok=False)
    reports = glob.glob(os.path.join(ops, "reports", "troubleshoot", "*.json"))
    assert len(reports) == 1, reports
    with open(reports[0], encoding="utf-8") as handle:
        report = json.load(handle)
    steps = sorted((e["host"], e["step"]) for e in report["errors"])
    assert steps == [("collector", "search"), ("collector", "summary")], report["errors"]
    assert all("no-such-tree" in e["msg"] for e in report["errors"]), report["errors"]
    assert "Troubleshooting steps failed: collector / search" in output
    assert report["health"]["web1"]  # the other steps still ran
