# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the maintenance_mode tests: an echo app, HTTP requests from a chosen loopback address, pids."""

import http.client
import http.server
import json
import os
import secrets
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SNIPPET = os.path.join(ROOT, "roles", "maintenance", "files", "nginx", "watchkeeper-maintenance.conf")
MIDDLEWARE_DIR = os.path.join(ROOT, "roles", "maintenance", "files", "middleware")


class _Echo(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        size = int(self.headers.get("Content-Length") or 0)
        if size:
            self.rfile.read(size)
        body = json.dumps({"app": "echo", "method": self.command, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = _answer

    def log_message(self, *args):
        pass


class EchoApp(object):
    """A tiny HTTP app on loopback that echoes method and path (the upstream nginx proxies to)."""

    def __init__(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def request(port, method="GET", path="/orders", headers=None, source="127.0.0.1", timeout=10):
    """(status, headers dict (lower-case names), body text) of one request sent from ``source``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, source_address=(source, 0), timeout=timeout)
    try:
        conn.request(method, path, body=b"x=1" if method in ("POST", "PUT") else None, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), body
    finally:
        conn.close()


def reaches_app(answer):
    return answer[0] == 200 and '"app": "echo"' in answer[2]


def worker_pids(master_pid):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == master_pid:
                pids.append(int(entry))
    return sorted(pids)


def secret_file(directory):
    secret = "wkbypass-" + secrets.token_hex(16)
    path = os.path.join(directory, "bypass-secret")
    with open(path, "w") as handle:
        handle.write(secret + "\n")
    os.chmod(path, 0o600)
    return secret, path
