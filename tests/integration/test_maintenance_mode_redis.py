# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maintenance_mode, redis backend, and the shipped middleware in a real WSGI app (wsgiref) and ASGI app (uvicorn)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

import helpers
import maintenance_helpers as mh
import wk_services

sys.path.insert(0, mh.MIDDLEWARE_DIR)
import wk_maintenance  # noqa: E402  pylint: disable=wrong-import-position

MODULE = "watchkeeper.ops.maintenance_mode"


def wsgi_app(environ, start_response):
    body = json.dumps({"app": "echo", "method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"]}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


ASGI_APP = textwrap.dedent('''
    import json, os
    import wk_maintenance

    async def echo(scope, receive, send):
        body = json.dumps({"app": "echo", "method": scope["method"], "path": scope["path"]}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    app = wk_maintenance.ASGIMaintenance(echo, port=int(os.environ["WK_REDIS_PORT"]), key=os.environ["WK_KEY"],
                                         cache_seconds=0.2, connect_timeout=1.0)
''')


@pytest.fixture
def apps(redis):
    """Start the two apps against ``redis`` (or another Redis, through ``start(port)``)."""
    base = tempfile.mkdtemp(prefix="wk-mm-redis-")
    started = []

    def start(port, key):
        wsgi = make_server("127.0.0.1", 0, wk_maintenance.WSGIMaintenance(
            wsgi_app, port=port, key=key, cache_seconds=0.2, connect_timeout=1.0), handler_class=_Quiet)
        threading.Thread(target=wsgi.serve_forever, daemon=True).start()
        with open(os.path.join(base, "asgi_app.py"), "w") as handle:
            handle.write(ASGI_APP)
        asgi_port = wk_services.free_port()
        env = dict(os.environ, WK_REDIS_PORT=str(port), WK_KEY=key,
                   PYTHONPATH=os.pathsep.join([mh.MIDDLEWARE_DIR, base]))
        asgi = wk_services.Process("uvicorn", [sys.executable, "-m", "uvicorn", "asgi_app:app", "--host", "127.0.0.1",
                                               "--port", str(asgi_port), "--log-level", "warning"],
                                   os.path.join(base, "uvicorn.log"), env=env, port=asgi_port)
        wk_services.wait_port(asgi_port, proc=asgi.proc, name="uvicorn", log=asgi.log_path)
        started.append((wsgi, asgi))
        return {"wsgi": wsgi.server_address[1], "asgi": asgi_port}
    yield start
    for wsgi, asgi in started:
        wsgi.shutdown()
        wsgi.server_close()
        asgi.stop()
    shutil.rmtree(base, ignore_errors=True)


def run(port, key, check_mode=False, **options):
    args = {"backends": [{"type": "redis", "port": port, "key": key}], "ops_state": tempfile.gettempdir() + "/wk-mm-ops"}
    args.update(options)
    return helpers.run_module(MODULE, args, check_mode=check_mode)


def wait_status(port, status, method="GET", timeout=10.0, **kwargs):
    """Poll until the app answers ``status`` (the middleware caches for 0.2 s)."""
    deadline = time.monotonic() + timeout
    answer = None
    while time.monotonic() < deadline:
        answer = mh.request(port, method, **kwargs)
        if answer[0] == status:
            return answer
        time.sleep(0.1)
    raise AssertionError("port %d still answers %s to %s, wanted %s" % (port, answer and answer[0], method, status))


def redis_get(port, key):
    return subprocess.run(["redis-cli", "-p", str(port), "--raw", "GET", key], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_wsgi_and_asgi_apps_follow_the_key(redis, apps, tmp_path):
    key = "wk:test:%s" % uuid.uuid4().hex[:8]
    ports = apps(redis.port, key)
    secret, secret_path = mh.secret_file(str(tmp_path))
    for port in ports.values():
        assert mh.reaches_app(mh.request(port))
    res = run(redis.port, key, state="enabled", mode="full", maintenance_message="Moving racks", retry_after=90,
              bypass_secret_file=secret_path)
    assert not res.failed, res.get("msg")
    assert res.changed and res["previous"] == {"state": "disabled"}
    stored = json.loads(redis_get(redis.port, key))
    assert stored["mode"] == "full" and stored["bypass_sha256"] and secret not in json.dumps(stored)
    for port in ports.values():
        status, headers, body = wait_status(port, 503, "GET")
        assert headers["retry-after"] == "90" and "Moving racks" in body
        assert mh.request(port, "POST")[0] == 503
        assert mh.reaches_app(mh.request(port, headers={"Cookie": "wk_bypass=%s" % secret}))
        assert mh.reaches_app(mh.request(port, "POST", headers={"X-Maintenance-Bypass": secret}))
    assert not run(redis.port, key, state="enabled", mode="full", maintenance_message="Moving racks", retry_after=90,
                   bypass_secret_file=secret_path).changed

    assert run(redis.port, key, state="enabled", mode="read_only", maintenance_message="Read only", retry_after=90).changed
    for port in ports.values():
        assert mh.reaches_app(wait_status(port, 200, "GET"))
        status, headers, body = mh.request(port, "POST")
        assert status == 503 and headers["content-type"].startswith("application/json")
        assert json.loads(body)["mode"] == "read_only" and json.loads(body)["message"] == "Read only"

    res = run(redis.port, key, state="disabled")
    assert res.changed and res["previous"]["mode"] == "read_only" and redis_get(redis.port, key) == ""
    for port in ports.values():
        wait_status(port, 200, "POST")
        assert mh.reaches_app(mh.request(port, "GET"))
    assert not run(redis.port, key, state="disabled").changed


def test_redis_down_keeps_last_state_without_delay(apps, tmp_path):
    """A hung Redis (SIGSTOP: connections hang) and a dead one (refused): answers stay fast and in maintenance."""
    own = wk_services.start_redis(str(tmp_path / "redis"))
    try:
        key = "wk:down:%s" % uuid.uuid4().hex[:8]
        ports = apps(own.port, key)
        assert run(own.port, key, state="enabled", mode="full", maintenance_message="Hold on").changed
        for port in ports.values():
            wait_status(port, 503)
        os.kill(own.pid, signal.SIGSTOP)
        try:
            hung = socket.create_connection(("127.0.0.1", own.port), timeout=1)  # accepted by the kernel...
            hung.settimeout(0.3)
            hung.sendall(b"*1\r\n$4\r\nPING\r\n")
            with pytest.raises(socket.timeout):  # ...but never answered: the case a timeout would hit
                hung.recv(10)
            hung.close()
            slowest = check_fast(ports)
        finally:
            os.kill(own.pid, signal.SIGCONT)
        own.stop()
        slowest = max(slowest, check_fast(ports))
        # Connect timeout 1 s: one synchronous refresh per request would take >= 1 s.
        assert slowest < 0.5, slowest
    finally:
        own.stop()


def check_fast(ports, rounds=8):
    """Requests over ~1.6 s (several cache periods, so refreshes are due): 503 every time; the slowest time."""
    slowest = 0.0
    for _round in range(rounds):
        for port in ports.values():
            started = time.monotonic()
            status, _headers, body = mh.request(port, timeout=5)
            slowest = max(slowest, time.monotonic() - started)
            assert status == 503 and "Hold on" in body
        time.sleep(0.2)
    return slowest


def test_check_mode_and_diff_change_nothing(redis, tmp_path):
    key = "wk:check:%s" % uuid.uuid4().hex[:8]
    secret, secret_path = mh.secret_file(str(tmp_path))
    res = run(redis.port, key, check_mode=True, state="enabled", mode="read_only", bypass_secret_file=secret_path)
    assert not res.failed, res.get("msg")
    assert res.changed and res["backends"][0]["changes"] == ["key written"] and redis_get(redis.port, key) == ""
    assert res["diff"] == {"before": {"redis": {"state": "disabled"}},
                           "after": {"redis": dict(res["state"])}} and res["state"]["bypass"] is True
    assert run(redis.port, key, state="enabled", mode="full", bypass_secret_file=secret_path).changed
    stored = redis_get(redis.port, key)
    res = run(redis.port, key, check_mode=True, state="disabled")
    assert res.changed and res["backends"][0]["changes"] == ["key deleted"] and redis_get(redis.port, key) == stored
    assert res["diff"]["before"]["redis"]["mode"] == "full" and res["diff"]["after"]["redis"] == {"state": "disabled"}
    for text in (json.dumps(res), res["stdout"], res["stderr"]):
        assert secret not in text and "bypass_sha256" not in text
    assert run(redis.port, key, state="disabled").changed


def test_unreachable_redis_fails_naming_the_backend():
    res = run(helpers.closed_port(), "wk:none", state="enabled")
    assert res.failed and res["failed_backend"] == "redis" and "cannot reach Redis" in res["msg"]
    assert res["backends"][0]["status"] == "failed"
