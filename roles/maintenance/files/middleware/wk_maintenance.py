# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Maintenance mode for Python web apps, read from the Redis key that watchkeeper.ops.maintenance_mode writes.

Stdlib only (it speaks RESP to Redis over a socket itself); copy this file next to your app.

    from wk_maintenance import WSGIMaintenance, ASGIMaintenance
    application = WSGIMaintenance(application, host="10.0.0.5")       # WSGI (gunicorn, uwsgi, mod_wsgi)
    app = ASGIMaintenance(app, host="10.0.0.5")                        # ASGI (uvicorn, hypercorn)

Semantics (the same as the nginx snippet): ``full`` answers every request with 503 + Retry-After (HTML
page, or JSON when the client accepts JSON only); ``read_only`` lets GET/HEAD/OPTIONS through and answers
other methods with 503 + JSON; a client in ``allow_ips`` or sending the secret as cookie ``wk_bypass`` or
header ``X-Maintenance-Bypass`` (compared by SHA-256) passes. A missing key means no maintenance.

The state is cached for ``cache_seconds`` (2). When it is stale a background thread refreshes it, and
requests keep using the last known state meanwhile: a slow or dead Redis never delays a request. After a
failed refresh the next try waits (``backoff`` doubling from 1 s up to ``max_backoff`` 30 s). Before the
first successful read, ``fail_open=True`` (default) serves normally; ``fail_open=False`` serves the
maintenance page (fail closed). Only the very first read is waited for, at most ``connect_timeout``.
"""

import asyncio
import hashlib
import hmac
import html
import ipaddress
import json
import socket
import threading
import time
from http.cookies import CookieError, SimpleCookie

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CLOSED = {"state": "enabled", "mode": "full", "message": "Service unavailable.", "retry_after": 60}


def redis_get(host, port, key, timeout, password=None, db=0):
    """GET ``key`` with a fresh connection; returns the bytes or None. Raises OSError on any failure."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        reader = sock.makefile("rb")
        commands = ([["AUTH", password]] if password else []) + ([["SELECT", str(db)]] if db else []) + [["GET", key]]
        payload = b"".join(b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in c)
                           for c in commands)
        sock.sendall(payload)
        reply = None
        for _command in commands:
            line = reader.readline()
            if not line.endswith(b"\r\n"):
                raise OSError("connection closed by Redis")
            if line[:1] == b"-":
                raise OSError("Redis error: %s" % line[1:].strip().decode("utf-8", "replace"))
            if line[:1] == b"$":
                size = int(line[1:])
                reply = None if size < 0 else reader.read(size + 2)[:size]
        return reply


class MaintenanceState(object):
    """The cached state with background refresh; ``current()`` never blocks once a first read finished."""

    def __init__(self, host="127.0.0.1", port=6379, key="watchkeeper:maintenance", password=None, db=0,
                 cache_seconds=2.0, connect_timeout=0.25, fail_open=True, backoff=1.0, max_backoff=30.0,
                 clock=time.monotonic):
        self.host, self.port, self.key, self.password, self.db = host, int(port), key, password, db
        self.cache_seconds, self.timeout, self.fail_open = cache_seconds, connect_timeout, fail_open
        self.backoff_start, self.max_backoff, self.clock = backoff, max_backoff, clock
        self.state = None          # last known state (dict); None before the first successful read
        self.fetched_at = None
        self.next_try = 0.0
        self.backoff = backoff
        self.failures = 0
        self.last_error = None
        self._lock = threading.Lock()
        self._refreshing = False
        self._first = threading.Event()

    def _fetch(self):
        try:
            raw = redis_get(self.host, self.port, self.key, self.timeout, self.password, self.db)
            state = json.loads(raw.decode("utf-8")) if raw else {"state": "disabled"}
        except (OSError, ValueError) as exc:
            with self._lock:
                self.failures += 1
                self.last_error = str(exc)
                self.next_try = self.clock() + self.backoff
                self.backoff = min(self.backoff * 2, self.max_backoff)
            return
        finally:
            with self._lock:
                self._refreshing = False
            self._first.set()
        with self._lock:
            self.state, self.fetched_at = state, self.clock()
            self.backoff, self.next_try = self.backoff_start, 0.0

    def _start_refresh(self):
        with self._lock:
            now = self.clock()
            fresh = self.fetched_at is not None and now - self.fetched_at < self.cache_seconds
            if self._refreshing or fresh or now < self.next_try:
                return False
            self._refreshing = True
        threading.Thread(target=self._fetch, name="wk-maintenance-refresh", daemon=True).start()
        return True

    def started(self):
        return self._first.is_set()

    def current(self):
        self._start_refresh()
        if not self._first.is_set():
            self._first.wait(self.timeout + 0.05)
        state = self.state
        if state is None:
            return {"state": "disabled"} if self.fail_open else dict(CLOSED)
        return state


def _bypassed(state, remote_addr, cookie_header, bypass_header):
    for net in state.get("allow_ips") or []:
        try:
            if remote_addr and ipaddress.ip_address(remote_addr) in ipaddress.ip_network(net, strict=False):
                return True
        except ValueError:
            continue
    digest = state.get("bypass_sha256")
    if not digest:
        return False
    candidates = [bypass_header] if bypass_header else []
    if cookie_header:
        try:
            cookie = SimpleCookie(cookie_header)
            if "wk_bypass" in cookie:
                candidates.append(cookie["wk_bypass"].value)
        except CookieError:
            pass
    return any(hmac.compare_digest(hashlib.sha256(c.encode("utf-8")).hexdigest(), digest) for c in candidates)


def decide(state, method, remote_addr, cookie_header, bypass_header, accept):
    """None to pass the request, else (status line, headers list, body bytes)."""
    if not state or state.get("state") != "enabled":
        return None
    mode = state.get("mode") or "full"
    if mode == "read_only" and method.upper() in SAFE_METHODS:
        return None
    if _bypassed(state, remote_addr, cookie_header, bypass_header):
        return None
    headers = [("Retry-After", str(int(state.get("retry_after") or 300))), ("Cache-Control", "no-store")]
    wants_json = mode == "read_only" or ("json" in (accept or "") and "html" not in (accept or ""))
    if wants_json:
        body = json.dumps({"error": "maintenance", "mode": mode, "message": state.get("message"),
                           "ends_at": state.get("ends_at"), "retry_after": state.get("retry_after")}).encode()
        headers.append(("Content-Type", "application/json"))
    else:
        until = "Expected back by %s." % state["ends_at"] if state.get("ends_at") else "We will be back shortly."
        body = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Down for maintenance</title>"
                "</head><body><h1>Down for maintenance</h1><p class=\"message\">%s</p><p>%s</p></body></html>"
                % (html.escape(state.get("message") or ""), html.escape(until))).encode("utf-8")
        headers.append(("Content-Type", "text/html; charset=utf-8"))
    headers.append(("Content-Length", str(len(body))))
    return "503 Service Unavailable", headers, body


class WSGIMaintenance(object):
    def __init__(self, app, state=None, **options):
        self.app = app
        self.state = state or MaintenanceState(**options)

    def __call__(self, environ, start_response):
        answer = decide(self.state.current(), environ.get("REQUEST_METHOD", "GET"), environ.get("REMOTE_ADDR"),
                        environ.get("HTTP_COOKIE"), environ.get("HTTP_X_MAINTENANCE_BYPASS"),
                        environ.get("HTTP_ACCEPT"))
        if answer is None:
            return self.app(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]


class ASGIMaintenance(object):
    def __init__(self, app, state=None, **options):
        self.app = app
        self.state = state or MaintenanceState(**options)

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http":
            return await self.app(scope, receive, send)
        if self.state.started():
            state = self.state.current()  # never blocks once the first read finished
        else:
            state = await asyncio.get_running_loop().run_in_executor(None, self.state.current)
        headers = dict((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers") or [])
        client = scope.get("client") or (None, None)
        answer = decide(state, scope.get("method", "GET"), client[0], headers.get("cookie"),
                        headers.get("x-maintenance-bypass"), headers.get("accept"))
        if answer is None:
            return await self.app(scope, receive, send)
        status, hdrs, body = answer
        await send({"type": "http.response.start", "status": int(status.split()[0]),
                    "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in hdrs]})
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})
        return None
