# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role load_management on a real nginx on loopback in front of the toy upstream (fixed capacity, counts its
concurrency): critical requests pass while bulk is shed with 429/503 + Retry-After, the upstream never holds more than
its capacity, internal callers skip the rate limits, bad input stops the role before any file is written, and a
configuration nginx -t rejects is never activated (the previous files are back, nginx is not reloaded)."""

import json
import os
import shutil
import sys
import tempfile
import threading
import time

import pytest

import load_helpers as lh
import maintenance_helpers as mh
import wk_services
from helpers import run_playbook

CAPACITY = 4
SERVICE_MS = 100
CLASSES = [
    {"name": "critical", "shed": False, "match": [{"prefix": "/health"}, {"prefix": "/login", "methods": ["POST"]}]},
    {"name": "normal", "concurrency": 1},
    {"name": "bulk", "match": [{"regex": "^/(export|search)(/|$)"}], "rate": "2r/s", "burst": 2, "concurrency": 1},
]


def _play(path, role_vars, cases=None):
    base = {"ansible_python_interpreter": sys.executable}
    if cases is None:
        play = {"hosts": "localhost", "gather_facts": False, "vars": dict(base, **role_vars),
                "roles": [{"role": "watchkeeper.ops.load_management"}]}
    else:  # several bad inputs in one launch: each failure message is collected
        tasks = [{"name": "case %s" % name, "block": [{"name": "apply", "ansible.builtin.include_role": {
            "name": "watchkeeper.ops.load_management"}, "vars": dict(role_vars, **extra)}],
            "rescue": [{"name": "record", "ansible.builtin.set_fact": {
                "wk_failures": "{{ wk_failures | default({}) | combine({'%s': ansible_failed_result.msg}) }}" % name}}]}
            for name, extra in cases.items()]
        tasks.append({"name": "report", "ansible.builtin.debug": {"var": "wk_failures"}})
        play = {"hosts": "localhost", "gather_facts": False, "vars": base, "tasks": tasks}
    with open(path, "w") as handle:
        json.dump([play], handle)
    return path


@pytest.fixture(scope="module")
def site():
    base = tempfile.mkdtemp(prefix="wk-load-")
    os.chmod(base, 0o755)
    conf_dir, snippet_dir = os.path.join(base, "conf.d"), os.path.join(base, "snippets")
    os.makedirs(conf_dir)
    os.makedirs(snippet_dir)
    upstream = lh.ToyUpstream(CAPACITY, SERVICE_MS)
    ngx = wk_services.start_nginx(os.path.join(base, "nginx"), http="include %s/*.conf;" % conf_dir,
                                  server="include %s/*.conf;" % snippet_dir)
    role_vars = {
        "load_management_classes": CLASSES,
        "load_management_upstream_servers": [{"address": "127.0.0.1:%d" % upstream.port, "max_conns": CAPACITY}],
        "load_management_critical_reserve": 2, "load_management_allow_ips": ["127.0.0.9"],
        "load_management_retry_after_rate_limited": {"min": 2, "max": 6}, "load_management_retry_after_shed": {"min": 20, "max": 20},
        "load_management_access_log": os.path.join(base, "load.log"),
        "load_management_nginx_conf_dir": conf_dir, "load_management_nginx_snippet_dir": snippet_dir,
        "load_management_nginx_test_command": ngx.command("-t", "-q"),
        "load_management_nginx_reload_command": ngx.command("-s", "reload"),
    }
    yield {"base": base, "conf_dir": conf_dir, "snippet_dir": snippet_dir, "upstream": upstream, "nginx": ngx,
           "vars": role_vars, "log": os.path.join(base, "load.log")}
    ngx.stop()
    upstream.stop()
    shutil.rmtree(base, ignore_errors=True)


def _files(site_info):
    out = {}
    for folder in (site_info["conf_dir"], site_info["snippet_dir"]):
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name)) as handle:
                out[name] = handle.read()
    return out


def _apply(site_info, tmp_name, **overrides):
    path = os.path.join(site_info["base"], tmp_name)
    return run_playbook(_play(path, dict(site_info["vars"], **overrides)))


def _wait_reload(master, before, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = mh.worker_pids(master)
        if now and not set(now) & set(before):
            return now
        time.sleep(0.1)
    raise AssertionError("nginx was not reloaded")


def test_rejected_configuration_is_never_activated_then_a_good_one_is(site):
    master = site["nginx"].pid
    workers = mh.worker_pids(master)
    bad_server = [{"address": "nowhere.invalid:80", "max_conns": CAPACITY}]
    # 1. First install rejected by nginx -t: the new files are removed, nothing reloaded.
    code, _data, stdout, _err = _apply(site, "bad1.yml", load_management_upstream_servers=bad_server)
    assert code != 0 and "never activated" in stdout and "host not found" in stdout, stdout[-3000:]
    assert _files(site) == {}
    assert mh.worker_pids(master) == workers
    assert lh.request(site["nginx"].port, "/health")[0] == 404  # no location yet: the old configuration

    # 2. A good configuration: written, tested, reloaded, served.
    code, _data, stdout, _err = _apply(site, "good.yml")
    assert code == 0, stdout[-3000:]
    workers = _wait_reload(master, workers)
    good = _files(site)
    assert sorted(good) == ["watchkeeper-load-http.conf", "watchkeeper-load.conf"]
    status, _headers, body, _secs = lh.request(site["nginx"].port, "/health")
    assert status == 200 and json.loads(body)["class"] == "critical"

    # 3. A change nginx rejects: the previous files are back byte for byte, no backup left, nginx not reloaded.
    code, _data, stdout, _err = _apply(site, "bad2.yml", load_management_upstream_servers=bad_server)
    assert code != 0 and "never activated" in stdout, stdout[-3000:]
    assert _files(site) == good
    time.sleep(0.3)
    assert mh.worker_pids(master) == workers
    assert lh.request(site["nginx"].port, "/login", "POST")[0] == 200

    # 4. The same good settings again: nothing changes, no reload.
    code, data, stdout, _err = _apply(site, "again.yml")
    assert code == 0 and data["stats"]["localhost"]["changed"] == 0, stdout[-3000:]
    assert mh.worker_pids(master) == workers and _files(site) == good


def test_bad_input_fails_clearly_before_any_file_is_written(site):
    before = _files(site)
    stamps = dict((n, os.stat(os.path.join(site["conf_dir"] if n.endswith("-http.conf") else site["snippet_dir"], n)).st_mtime_ns)
                  for n in before)
    bulk = dict(CLASSES[2])
    cases = {
        "unknown_key": {"load_management_classes": CLASSES[:2] + [dict(bulk, priority=1)]},
        "zero_limit": {"load_management_classes": CLASSES[:2] + [dict(bulk, concurrency=0)]},
        "zero_rate": {"load_management_classes": CLASSES[:2] + [dict(bulk, rate="0r/s")]},
        "min_above_max": {"load_management_retry_after_shed": {"min": 30, "max": 10}},
        "reserve_above_capacity": {"load_management_critical_reserve": CAPACITY},
        "unknown_rule_key": {"load_management_classes": [dict(CLASSES[0], match=[{"path": "/health"}])] + CLASSES[1:]},
    }
    path = os.path.join(site["base"], "cases.yml")
    code, data, stdout, _err = run_playbook(_play(path, site["vars"], cases=cases))
    assert code == 0, stdout[-3000:]
    failures = data["plays"][0]["tasks"][-1]["hosts"]["localhost"]["wk_failures"]
    assert sorted(failures) == sorted(cases)
    assert "class bulk: unknown key priority" in failures["unknown_key"]
    assert "concurrency must be at least 1, got 0" in failures["zero_limit"]
    assert "rate is 0 requests" in failures["zero_rate"]
    assert "retry_after_shed: min (30) is above max (10)" in failures["min_above_max"]
    assert "the reserve (4) must be below the upstream capacity (4" in failures["reserve_above_capacity"]
    assert "class critical, match #1: unknown key path" in failures["unknown_rule_key"]
    assert _files(site) == before
    for name, stamp in stamps.items():
        folder = site["conf_dir"] if name.endswith("-http.conf") else site["snippet_dir"]
        assert os.stat(os.path.join(folder, name)).st_mtime_ns == stamp, name


def _flood(port, path, threads, seconds, out, method="GET"):
    stop = time.monotonic() + seconds

    def loop():
        while time.monotonic() < stop:
            try:
                out.append((path,) + lh.request(port, path, method))
            except OSError as exc:
                out.append((path, "error", {}, str(exc), 0.0))
    workers = [threading.Thread(target=loop) for _number in range(threads)]
    for worker in workers:
        worker.start()
    return workers


def test_under_load_critical_passes_bulk_is_shed_and_the_upstream_stays_within_capacity(site):
    port = site["nginx"].port
    if not os.path.exists(os.path.join(site["snippet_dir"], "watchkeeper-load.conf")):
        code, _data, stdout, _err = _apply(site, "good-load.yml")
        assert code == 0, stdout[-3000:]
        time.sleep(1)
    site["upstream"].wait_idle()
    bulk, normal, critical = [], [], []
    workers = _flood(port, "/export/report.csv", 12, 4.0, bulk) + _flood(port, "/orders", 6, 4.0, normal)
    time.sleep(0.5)  # the flood is on
    workers += _flood(port, "/health", 1, 3.0, critical) + _flood(port, "/login", 1, 3.0, critical, "POST")
    for worker in workers:
        worker.join()
    stats = site["upstream"].stats()
    assert stats["max_in_flight"] <= CAPACITY, stats
    assert stats["max_in_flight"] >= 3, stats  # the load did reach the upstream

    assert len(critical) >= 20
    assert all(r[1] == 200 for r in critical), [r[:2] for r in critical if r[1] != 200][:5]
    codes = set(r[1] for r in bulk)
    assert {200, 429, 503} <= codes, codes
    for path, status, headers, body, _secs in bulk + normal:
        if status in (429, 503):
            answer = json.loads(body)
            assert answer["error"] == ("rate_limited" if status == 429 else "shed") and answer["class"] in ("bulk", "normal")
            retry = int(headers["retry-after"])
            assert (2 <= retry <= 6) if status == 429 else retry == 20, (path, status, retry)
        else:
            assert status == 200, (path, status, body[:200])
    assert not any(r[1] == 429 for r in normal)  # normal has no rate limit here, only its concurrency
    assert sum(1 for r in normal if r[1] == 503) > 0 and sum(1 for r in normal if r[1] == 200) > 0
    assert len(set(r[2]["retry-after"] for r in bulk if r[1] == 429)) > 1  # spread, not one value for the crowd

    with open(site["log"]) as handle:
        lines = [json.loads(line) for line in handle]
    seen = set((e["class"], e["decision"], e["status"]) for e in lines)
    assert {("critical", "passed", "200"), ("bulk", "rate_limited", "429"), ("bulk", "shed_class", "503"),
            ("normal", "shed_class", "503"), ("bulk", "passed", "200")} <= seen, seen


def test_internal_callers_skip_the_rate_limits(site):
    port = site["nginx"].port
    time.sleep(2)  # let the bulk rate bucket drain after the load test
    outside = [lh.request(port, "/search?q=%d" % i)[0] for i in range(8)]
    inside = [lh.request(port, "/search?q=%d" % i, source="127.0.0.9")[0] for i in range(8)]
    assert 429 in outside and outside.count(200) <= 4, outside
    assert inside == [200] * 8, inside
