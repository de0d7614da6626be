# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parts of maintenance_mode: the state document, the secret, the nginx include, RESP, the middleware's decision."""

import hashlib
import os
import socket
import sys
import threading

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance import common, nginx, redis_state

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
sys.path.insert(0, os.path.join(ROOT, "roles", "maintenance", "files", "middleware"))
import wk_maintenance  # noqa: E402  pylint: disable=wrong-import-position

SECRET = "abcdefghijklmnop-0123456789"


def enabled(**extra):
    params = {"state": "enabled", "mode": "full", "maintenance_message": "m", "retry_after": 60, "allow_ips": []}
    params.update(extra)
    return common.desired_state(params, extra.pop("secret", None))


def test_desired_state_normalises_time_and_networks():
    state = common.desired_state({"state": "enabled", "mode": "read_only", "ends_at": "2026-11-27T04:00:00+01:00",
                                  "allow_ips": ["10.1.2.3/8", "127.0.0.1", "127.0.0.1/32"], "retry_after": 5}, SECRET)
    assert state == {"state": "enabled", "mode": "read_only", "message": common.DEFAULT_MESSAGE,
                     "ends_at": "2026-11-27T03:00:00Z", "retry_after": 5, "allow_ips": ["10.0.0.0/8", "127.0.0.1"],
                     "bypass": True}
    assert common.desired_state({"state": "disabled", "mode": "full"}, None) == {"state": "disabled"}
    with pytest.raises(ConfigError):
        common.desired_state({"state": "enabled", "allow_ips": ["not-an-ip"]}, None)
    with pytest.raises(ConfigError):
        common.desired_state({"state": "enabled", "ends_at": "tomorrow"}, None)


def test_secret_file_rules_never_quote_the_content(tmp_path):
    good = tmp_path / "good"
    good.write_text(SECRET + "\n")
    assert common.read_secret(str(good)) == SECRET
    bad = tmp_path / "bad"
    bad.write_text('short"secret; }\n')
    with pytest.raises(ConfigError) as err:
        common.read_secret(str(bad))
    assert "short" not in str(err.value)
    with pytest.raises(ConfigError):
        common.read_secret(str(tmp_path / "missing"))
    assert common.redact("line with %s in it" % SECRET, SECRET) == "line with <redacted> in it"


def test_http_include_is_stable_and_carries_the_bypass():
    state = enabled(allow_ips=["192.0.2.0/24"], retry_after=42)
    conf = nginx.render_http_conf("/srv/m", state, SECRET)
    assert conf == nginx.render_http_conf("/srv/m", dict(state), SECRET)
    assert '"%s" 1;' % SECRET in conf and "192.0.2.0/24 1;" in conf and 'default "42"' in conf
    assert '"000" 0;' in conf
    no_secret = nginx.render_http_conf("/srv/m", state, None)
    assert SECRET not in no_secret and "$cookie_wk_bypass $wk_maint_cookie_bypass {\n    default 0;\n}" in no_secret
    assert conf != nginx.render_http_conf("/srv/m", enabled(allow_ips=["192.0.2.0/24"], retry_after=43), SECRET)


def test_page_escapes_and_the_shipped_snippet_names_the_generated_variables():
    state = enabled(maintenance_message="<b>x</b> & y", ends_at="2026-11-27T03:00:00Z")
    page = nginx.render_page(nginx.DEFAULT_PAGE, state)
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in page and "2026-11-27T03:00:00Z" in page
    with open(os.path.join(ROOT, "roles", "maintenance", "files", "nginx", "watchkeeper-maintenance.conf")) as handle:
        snippet = handle.read()
    conf = nginx.render_http_conf("/srv/m", enabled(), None)
    for var in ("$wk_maint_dir", "$wk_maint_write", "$wk_maint_bypass", "$wk_maint_retry_after"):
        assert var in snippet and (var + " {") in conf


def test_summary_of_several_backends():
    full = enabled()
    assert common.summary([{"state": "disabled"}, full])["consistent"] is False
    assert common.summary([full, dict(full)])["consistent"] is True
    assert common.summary([{"state": "disabled"}]) == {"state": "disabled"}


def _serve_once(reply):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer():
        conn, _addr = server.accept()
        conn.recv(4096)
        conn.sendall(reply)
        conn.close()
        server.close()
    threading.Thread(target=answer, daemon=True).start()
    return server.getsockname()[1]


def test_resp_client_parses_replies():
    port = _serve_once(b"*3\r\n$3\r\nabc\r\n:7\r\n$-1\r\n")
    client = redis_state.RespClient("127.0.0.1", port, timeout=2)
    assert client.command("MGET", "a", "b", "c") == [b"abc", 7, None]
    client.close()
    port = _serve_once(b"-WRONGPASS invalid username-password pair\r\n")
    client = redis_state.RespClient("127.0.0.1", port, timeout=2)
    with pytest.raises(redis_state.RespError):
        client.command("AUTH", "x")
    client.close()


def test_middleware_decision():
    state = {"state": "enabled", "mode": "read_only", "message": "m", "retry_after": 30, "allow_ips": ["10.0.0.0/8"],
             "bypass_sha256": hashlib.sha256(SECRET.encode()).hexdigest()}
    assert wk_maintenance.decide(state, "GET", "192.0.2.1", None, None, None) is None
    status, headers, _body = wk_maintenance.decide(state, "POST", "192.0.2.1", None, None, None)
    assert status.startswith("503") and ("Retry-After", "30") in headers
    assert wk_maintenance.decide(state, "POST", "10.9.9.9", None, None, None) is None
    assert wk_maintenance.decide(state, "POST", "192.0.2.1", "x=1; wk_bypass=%s" % SECRET, None, None) is None
    assert wk_maintenance.decide(state, "POST", "192.0.2.1", None, SECRET, None) is None
    assert wk_maintenance.decide(state, "POST", "192.0.2.1", None, SECRET + "x", None) is not None
    assert wk_maintenance.decide({"state": "disabled"}, "POST", "192.0.2.1", None, None, None) is None


def test_middleware_fail_open_or_closed_and_backoff():
    ticks = [100.0]
    dead = wk_maintenance.MaintenanceState(port=1, connect_timeout=0.2, clock=lambda: ticks[0])
    assert dead.current() == {"state": "disabled"}
    dead._first.clear()
    closed = wk_maintenance.MaintenanceState(port=1, connect_timeout=0.2, fail_open=False, clock=lambda: ticks[0])
    assert closed.current()["mode"] == "full"
    # After a failure the next try waits for the back-off: no new refresh is started meanwhile.
    assert closed.failures == 1 and closed._start_refresh() is False
    ticks[0] += 1.5
    assert closed._start_refresh() is True
