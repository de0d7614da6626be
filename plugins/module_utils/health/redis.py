# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis INFO over a plain socket (RESP): memory against maxmemory, evictions, clients, persistence errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket


class RespError(Exception):
    pass


def command(*args):
    parts = ["*%d\r\n" % len(args)]
    for arg in args:
        data = str(arg).encode("utf-8")
        parts.append("$%d\r\n" % len(data))
        parts.append(data.decode("utf-8") + "\r\n")
    return "".join(parts).encode("utf-8")


def read_reply(stream):
    """One RESP reply (simple string, error, integer or bulk string) from a file-like socket stream."""
    line = stream.readline()
    if not line:
        raise RespError("connection closed by the server")
    kind, rest = line[:1], line[1:].rstrip(b"\r\n").decode("utf-8", "replace")
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RespError(rest)
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data = stream.read(size + 2)
        return data[:size].decode("utf-8", "replace")
    raise RespError("unexpected reply %r" % line[:40])


def parse_info(text):
    info = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            key, _sep, value = line.partition(":")
            info[key] = value.strip()
    return info


def number(info, key):
    try:
        return int(info[key])
    except (KeyError, ValueError):
        return None


def summarize(info):
    used, maxmemory = number(info, "used_memory"), number(info, "maxmemory")
    clients, maxclients = number(info, "connected_clients"), number(info, "maxclients")
    return {"used_memory": used, "maxmemory": maxmemory,
            "memory_percent": round(100.0 * used / maxmemory, 2) if used is not None and maxmemory else None,
            "evicted_keys": number(info, "evicted_keys"), "connected_clients": clients, "maxclients": maxclients,
            "clients_percent": round(100.0 * clients / maxclients, 2) if clients is not None and maxclients else None,
            "rdb_last_bgsave_status": info.get("rdb_last_bgsave_status"),
            "aof_enabled": info.get("aof_enabled") == "1",
            "aof_last_write_status": info.get("aof_last_write_status") if info.get("aof_enabled") == "1" else None,
            "redis_version": info.get("redis_version"), "role": info.get("role")}


def check(spec):
    """``{target, ...summary}`` or ``{target, error}``; the password never appears in the result."""
    host, port = spec.get("host") or "127.0.0.1", int(spec.get("port") or 6379)
    target = spec.get("name") or "%s:%d" % (host, port)
    result = {"target": target}
    try:
        with socket.create_connection((host, port), timeout=spec.get("timeout") or 5) as sock:
            stream = sock.makefile("rb")
            if spec.get("password"):
                auth = ("AUTH", spec["username"], spec["password"]) if spec.get("username") else ("AUTH", spec["password"])
                sock.sendall(command(*auth))
                try:
                    read_reply(stream)
                except RespError as exc:
                    result["error"] = "authentication failed: %s" % str(exc).split(".", 1)[0]
                    return result
            sock.sendall(command("INFO"))
            info = parse_info(read_reply(stream) or "")
    except RespError as exc:
        message = str(exc)
        if message.startswith("NOAUTH"):
            message = "authentication required (set password)"
        result["error"] = "INFO failed: %s" % message
        return result
    except (OSError, ValueError) as exc:
        result["error"] = "unreachable: %s" % exc
        return result
    result.update(summarize(info))
    return result
