# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network rule: TCP listening sockets against an allow-list (``ss -tlnpH``, else /proc/net/tcp{,6})."""

import re
import socket
import struct

from ansible_collections.watchkeeper.ops.plugins.module_utils.security.rules import Rule, failed, passed

PROCESS_RE = re.compile(r'users:\(\("([^"]+)"')
LOOPBACK = ("127.", "::1", "::ffff:127.")


def parse_ss(text):
    """``ss -tlnpH`` -> ``[(address, port, process)]``."""
    out = []
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) < 4 or parts[0] != "LISTEN":
            continue
        local = parts[3]
        address, _sep, port = local.rpartition(":")
        address = address.strip("[]").split("%", 1)[0]
        match = PROCESS_RE.search(line)
        if port.isdigit():
            out.append((address or "*", int(port), match.group(1) if match else None))
    return out


def _hex_address(text):
    raw = bytes.fromhex(text)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, struct.pack("<I", struct.unpack(">I", raw)[0]))
    words = struct.unpack(">4I", raw)
    return socket.inet_ntop(socket.AF_INET6, b"".join(struct.pack("<I", w) for w in words))


def parse_proc(text):
    """/proc/net/tcp or tcp6 -> ``[(address, port, None)]`` of the sockets in state LISTEN (0A)."""
    out = []
    for line in (text or "").splitlines()[1:]:
        parts = line.split()
        if len(parts) > 3 and parts[3] == "0A":
            address, port = parts[1].split(":")
            out.append((_hex_address(address), int(port, 16), None))
    return out


def listening(ctx):
    rc, out, _err = ctx.run(["ss", "-tlnpH"])
    if rc == 0:
        return parse_ss(out), "ss -tlnpH"
    sockets = parse_proc(ctx.read("/proc/net/tcp", "")) + parse_proc(ctx.read("/proc/net/tcp6", ""))
    return sockets, "/proc/net/tcp"


def is_loopback(address):
    return address.startswith(LOOPBACK) or address == "localhost"


def allowed(address, port, allow):
    """``allow`` holds ports (``22``) or ``address:port`` strings (``10.0.0.5:5432``, ``[::]:443``)."""
    for entry in allow:
        text = str(entry).strip()
        if text.isdigit():
            if int(text) == port:
                return True
            continue
        addr, _sep, entry_port = text.rpartition(":")
        if entry_port.isdigit() and int(entry_port) == port and addr.strip("[]") in (address, "*"):
            return True
    return False


def unexpected(sockets, allow, include_loopback=False):
    return sorted(set((a, p, n) for a, p, n in sockets
                      if (include_loopback or not is_loopback(a)) and not allowed(a, p, allow)),
                  key=lambda s: (s[1], s[0]))


def check_listening(ctx):
    sockets, source = listening(ctx)
    allow = ctx.params.get("listen_allowed") or []
    bad = unexpected(sockets, allow, ctx.params.get("listen_include_loopback"))
    if bad:
        return failed("%s: not in the allow-list: %s" % (source, ", ".join(
            "%s:%d%s" % (a if ":" not in a else "[%s]" % a, p, " (%s)" % n if n else "") for a, p, n in bad)))
    return passed("%s: %d listening, all allowed (%s)" % (source, len(sockets), ", ".join(str(a) for a in allow) or "none"))


RULES = [
    Rule("WK-NET-001", "network", "high", "Only allow-listed TCP ports listen on non-loopback addresses",
         "Bind the service to 127.0.0.1 or stop it; if the port is meant to be reachable, add it to "
         "security_audit_listen_allowed.", check_listening, ["Lynis NETW-3012", "CIS Debian 2.2"]),
]
