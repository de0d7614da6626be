# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maintenance_mode, nginx backend: a real nginx on loopback, with the shipped snippet, proxying to an echo app."""

import json
import os
import shutil
import sys
import tempfile
import time

import pytest

import helpers
import maintenance_helpers as mh

MODULE = "watchkeeper.ops.maintenance_mode"


@pytest.fixture
def site(nginx_factory):
    """A throwaway nginx whose only server includes the snippet; the module already ran once (disabled)."""
    base = tempfile.mkdtemp(prefix="wk-mm-nginx-")
    os.chmod(base, 0o755)
    app = mh.EchoApp()
    ngx_dir = os.path.join(base, "nginx")
    conf = os.path.join(ngx_dir, "nginx.conf")
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    state_dir = os.path.join(base, "state")
    secret, secret_path = mh.secret_file(base)
    backend = {"type": "nginx", "dir": state_dir, "test_command": [binary, "-p", ngx_dir, "-c", conf, "-t", "-q"],
               "reload_command": [binary, "-p", ngx_dir, "-c", conf, "-s", "reload"]}
    info = {"base": base, "state_dir": state_dir, "secret": secret, "secret_file": secret_path, "backend": backend,
            "ops_state": os.path.join(base, "ops")}
    first = run(info, state="disabled")
    assert not first.failed, first.get("msg")
    with open(mh.SNIPPET) as handle:
        snippet = handle.read()
    proc = nginx_factory(ngx_dir, http="include %s/http.conf;" % state_dir,
                         server=snippet + "\nlocation / { proxy_pass http://127.0.0.1:%d; }" % app.port)
    info.update(nginx=proc, port=proc.port)
    yield info
    app.stop()
    shutil.rmtree(base, ignore_errors=True)


def run(site_info, check_mode=False, **options):
    args = {"backends": [site_info["backend"]], "ops_state": site_info["ops_state"]}
    args.update(options)
    return helpers.run_module(MODULE, args, check_mode=check_mode)


def wait_reload(master, before, timeout=15.0):
    """The worker pids once nginx has replaced ``before`` (after a reload)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = mh.worker_pids(master)
        if now and not set(now) & set(before):
            return now
        time.sleep(0.1)
    raise AssertionError("nginx workers were not replaced: %s" % mh.worker_pids(master))


def test_full_read_only_bypass_and_disable(site):
    port = site["port"]
    assert mh.reaches_app(mh.request(port, source="127.0.0.2"))
    res = run(site, state="enabled", mode="full", maintenance_message="Upgrading the <database>", retry_after=120,
              ends_at="2026-11-27T03:00:00Z", allow_ips=["127.0.0.3"], bypass_secret_file=site["secret_file"])
    assert not res.failed, res.get("msg")
    assert res.changed and res["backends"][0]["reloaded"] is True
    for method in ("GET", "POST", "DELETE"):
        status, headers, body = mh.request(port, method, source="127.0.0.2")
        assert status == 503 and headers.get("retry-after") == "120", (method, status, headers)
        assert "Upgrading the &lt;database&gt;" in body and "2026-11-27T03:00:00Z" in body
        assert headers["content-type"].startswith("text/html")
    # Bypass: the cookie, the header, the allowed address; a wrong cookie does not.
    assert mh.reaches_app(mh.request(port, "POST", headers={"Cookie": "a=b; wk_bypass=%s" % site["secret"]},
                                     source="127.0.0.2"))
    assert mh.reaches_app(mh.request(port, headers={"X-Maintenance-Bypass": site["secret"]}, source="127.0.0.2"))
    assert mh.reaches_app(mh.request(port, "POST", source="127.0.0.3"))
    assert mh.request(port, headers={"Cookie": "wk_bypass=%s" % site["secret"][:-1]}, source="127.0.0.2")[0] == 503

    res = run(site, state="enabled", mode="read_only", maintenance_message="Read-only for a while", retry_after=120,
              allow_ips=["127.0.0.3"], bypass_secret_file=site["secret_file"])
    assert res.changed and res["backends"][0]["reloaded"] is False
    assert res["previous"]["mode"] == "full" and res["state"]["mode"] == "read_only"
    get = mh.request(port, source="127.0.0.2")
    assert mh.reaches_app(get) and json.loads(get[2])["method"] == "GET"
    assert mh.request(port, "HEAD", source="127.0.0.2")[0] == 200
    assert mh.reaches_app(mh.request(port, "OPTIONS", source="127.0.0.2"))
    status, headers, body = mh.request(port, "POST", source="127.0.0.2")
    assert status == 503 and headers["retry-after"] == "120" and headers["content-type"] == "application/json"
    assert json.loads(body)["message"] == "Read-only for a while" and json.loads(body)["error"] == "maintenance"
    assert mh.reaches_app(mh.request(port, "POST", source="127.0.0.3"))

    res = run(site, state="disabled")
    assert res.changed and res["state"] == {"state": "disabled"} and res["previous"]["mode"] == "read_only"
    for method in ("GET", "POST", "PUT"):
        assert mh.reaches_app(mh.request(port, method, source="127.0.0.2"))


def test_flips_never_reload_and_allow_ips_reloads_once(site):
    master = site["nginx"].pid
    workers = mh.worker_pids(master)
    assert workers
    same = {"maintenance_message": "Back soon", "retry_after": 300}
    first = run(site, state="enabled", mode="full", **same)
    second = run(site, state="enabled", mode="full", **same)
    assert first.changed and not second.changed
    assert mh.request(site["port"])[0] == 503
    for mode in ("read_only", "full"):
        assert run(site, state="enabled", mode=mode, **same).changed
    off = run(site, state="disabled")
    again = run(site, state="disabled")
    assert off.changed and not again.changed
    assert mh.reaches_app(mh.request(site["port"]))
    assert mh.worker_pids(master) == workers, "a state flip reloaded nginx"
    assert not any(b["reloaded"] for r in (first, second, off, again) for b in r["backends"])

    allowed = run(site, state="enabled", mode="full", allow_ips=["127.0.0.2"], **same)
    assert allowed.changed and allowed["backends"][0]["reloaded"] is True and "config" in allowed["backends"][0]["changes"]
    new_workers = wait_reload(master, workers)
    assert mh.reaches_app(mh.request(site["port"], source="127.0.0.2"))
    assert mh.request(site["port"], source="127.0.0.4")[0] == 503
    repeat = run(site, state="enabled", mode="full", allow_ips=["127.0.0.2"], **same)
    assert not repeat.changed and repeat["backends"][0]["reloaded"] is False
    time.sleep(0.3)
    assert mh.worker_pids(master) == new_workers


def test_check_mode_diff_and_secret_never_shown(site):
    def snapshot():
        out = {}
        for root, _dirs, files in os.walk(site["state_dir"]):
            for name in files:
                with open(os.path.join(root, name), "rb") as handle:
                    out[os.path.join(root, name)] = handle.read()
        return out
    before = snapshot()
    options = {"state": "enabled", "mode": "full", "maintenance_message": "Checked", "allow_ips": ["127.0.0.3"],
               "bypass_secret_file": site["secret_file"]}
    res = run(site, check_mode=True, **options)
    assert not res.failed, res.get("msg")
    assert res.changed and res["check_mode"] and "full flag" in res["backends"][0]["changes"]
    assert res["diff"]["before"]["nginx"] == {"state": "disabled"}
    assert res["diff"]["after"]["nginx"]["mode"] == "full" and res["diff"]["after"]["nginx"]["bypass"] is True
    assert snapshot() == before and mh.reaches_app(mh.request(site["port"]))
    assert not os.path.exists(os.path.join(site["ops_state"], "locks", "maintenance-mode.lock"))
    # A real run, verbose, with --diff and a log file: the secret appears nowhere (it does in the include).
    log_path = os.path.join(site["base"], "ansible.log")
    play = [{"hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": [{"name": "enable", MODULE: dict(options, backends=[site["backend"]], ops_state=site["ops_state"])}]}]
    play_path = os.path.join(site["base"], "play.yml")
    with open(play_path, "w") as handle:
        json.dump(play, handle)
    code, data, stdout, stderr = helpers.run_playbook(play_path, env={"ANSIBLE_LOG_PATH": log_path},
                                                      args=("-vvv", "--diff"))
    assert code == 0, stdout[-2000:] + stderr[-2000:]
    task = data["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert task["changed"] and task["diff"]["after"]["nginx"]["bypass"] is True
    with open(log_path) as handle:
        logged = handle.read()
    assert "bypass_secret_file" in logged  # the log is really verbose
    for text in (stdout, stderr, logged, json.dumps(task)):
        assert site["secret"] not in text
    with open(os.path.join(site["state_dir"], "http.conf")) as handle:
        assert site["secret"] in handle.read()
    assert oct(os.stat(os.path.join(site["state_dir"], "http.conf")).st_mode & 0o777) == "0o600"
    assert mh.request(site["port"], source="127.0.0.2")[0] == 503
