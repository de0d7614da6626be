# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Redis backend of maintenance_mode: one key holding the JSON state for applications.

A small RESP2 client over a socket (stdlib only). The key (default ``watchkeeper:maintenance``) holds
``{"state": "enabled", "mode", "message", "ends_at", "retry_after", "allow_ips", "bypass",
"bypass_sha256", "since", "version": 1}``; disabling deletes it (a missing key means "not in maintenance").
The shipped middleware (``roles/maintenance/files/middleware/wk_maintenance.py``) reads it. The secret
itself is never stored: only its SHA-256, which the middleware compares with the cookie's or header's.
"""

import json
import socket

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance import common

DEFAULT_KEY = "watchkeeper:maintenance"


class RespError(Exception):
    """An error reply of the server (``-ERR ...``)."""


class RespClient(object):
    """``RespClient(host, port, timeout).command("GET", key)``: one connection, RESP2 arrays of bulk strings."""

    def __init__(self, host="127.0.0.1", port=6379, timeout=2.0, unix_socket=None):
        self.host, self.port, self.timeout, self.unix_socket = host, int(port), float(timeout), unix_socket
        self.sock = None
        self.buf = b""

    def connect(self):
        if self.unix_socket:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            sock.connect(self.unix_socket)
        else:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock = sock
        return self

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def command(self, *args):
        if self.sock is None:
            self.connect()
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode("utf-8")
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(parts))
        return self._reply()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the server")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, size):
        while len(self.buf) < size + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the server")
            self.buf += chunk
        data, self.buf = self.buf[:size], self.buf[size + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode("utf-8")
        if kind == b"-":
            raise RespError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self._exact(size)
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self._reply() for _item in range(count)]
        raise ConnectionError("unexpected reply from the server: %r" % line[:40])


class RedisBackend(object):
    kind = "redis"

    def __init__(self, spec, log=None):
        self.name = spec.get("name") or "redis"
        self.host = spec.get("host") or "127.0.0.1"
        self.port = spec.get("port") or 6379
        self.unix_socket = spec.get("unix_socket")
        self.db = spec.get("db") or 0
        self.key = spec.get("key") or DEFAULT_KEY
        self.username = spec.get("username")
        self.password_file = spec.get("password_file")
        self.timeout = spec.get("timeout") or 5
        self.log = log or (lambda msg: None)

    @property
    def where(self):
        return self.unix_socket or "%s:%s" % (self.host, self.port)

    def _client(self):
        client = RespClient(self.host, self.port, self.timeout, self.unix_socket)
        try:
            client.connect()
            if self.password_file:
                password = common.read_text(self.password_file)
                if password is None:
                    raise WatchkeeperError("password_file %s does not exist" % self.password_file, step="connect")
                args = ["AUTH"] + ([self.username] if self.username else []) + [password.strip()]
                client.command(*args)
            if self.db:
                client.command("SELECT", self.db)
        except (OSError, ConnectionError, RespError) as exc:
            client.close()
            raise WatchkeeperError("cannot reach Redis at %s: %s" % (self.where, exc), step="connect",
                                   hint="check host, port, password_file and that redis-server runs")
        return client

    def read_stored(self, client):
        raw = client.command("GET", self.key)
        if raw is None:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            return {"state": "enabled", "mode": "full", "message": "unreadable value in %s" % self.key}

    def apply(self, desired, secret, check_mode):
        client = self._client()
        try:
            return self._apply(client, desired, secret, check_mode)
        except (OSError, ConnectionError, RespError) as exc:
            raise WatchkeeperError("Redis at %s failed: %s" % (self.where, exc), step="write")
        finally:
            client.close()

    def _apply(self, client, desired, secret, check_mode):
        stored = self.read_stored(client)
        previous = common.public_state(stored)
        result = {"changed": False, "previous": previous, "state": common.public_state(desired), "changes": []}
        if desired["state"] == "disabled":
            if stored is not None:
                result.update(changed=True, changes=["key deleted"])
                if not check_mode:
                    client.command("DEL", self.key)
            return result
        document = dict(common.stored_state(desired), bypass_sha256=common.secret_digest(secret), version=1)
        kept = stored.get("since") if stored and stored.get("state") == "enabled" else None
        document["since"] = kept or common.now_iso()
        if stored is not None and common.same(stored, document):
            return result
        changes = ["key written"]
        if stored and stored.get("bypass_sha256") != document["bypass_sha256"]:
            changes.append("bypass secret")
        result.update(changed=True, changes=changes)
        if not check_mode:
            client.command("SET", self.key, json.dumps(document, sort_keys=True))
        return result
