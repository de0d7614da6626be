# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The load_management role's settings checked and normalised into a plan (pure).

Every mistake (an unknown key, a limit of 0, a minimum above its maximum, a class reserve that leaves no room...)
raises ``LoadConfigError`` naming the class, the key and what is allowed, before anything is written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError

CLASS_KEYS = ("name", "match", "shed", "rate", "burst", "delay", "concurrency", "client_rate", "client_burst",
              "client_delay", "client_concurrency")
RULE_KEYS = ("prefix", "exact", "regex", "methods")
SERVER_KEYS = ("address", "max_conns")
RANGE_KEYS = ("min", "max")
# Only what must not be shed may go without limits; these are the keys that make a class sheddable.
SHED_KEYS = ("rate", "burst", "delay", "concurrency")

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
RATE_RE = re.compile(r"^([0-9]+)r/(s|m)$")
METHOD_RE = re.compile(r"^[A-Z]{1,20}$")
ADDRESS_RE = re.compile(r"^(unix:/[^\s;{}\"']+|\[[0-9a-fA-F:.]+\]:[0-9]{1,5}|[A-Za-z0-9.-]+:[0-9]{1,5})$")
PATH_RE = re.compile(r"^/[^\s\"'\\;{}]*$")
MAX_RETRY_BUCKETS = 5


class LoadConfigError(WatchkeeperError):
    """A load_management setting that cannot be turned into a safe nginx configuration."""


def _fail(where, msg):
    raise LoadConfigError("load_management: %s: %s" % (where, msg))


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _positive(where, key, value, allow_zero=False):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not _is_int(value):
        _fail(where, "%s must be a whole number, got %r" % (key, value))
    if value < 0 or (value == 0 and not allow_zero):
        _fail(where, "%s must be %s, got %d (a limit of 0 would refuse everything: remove the key for no limit)"
              % (key, "0 or more" if allow_zero else "at least 1", value))
    return value


def _rate(where, key, value):
    """``"10r/s"``, ``"30r/m"`` or a number of requests per second -> (text for nginx, per second)."""
    if _is_int(value):
        value = "%dr/s" % value
    found = RATE_RE.match(str(value).strip()) if isinstance(value, (str, int)) else None
    if not found:
        _fail(where, "%s must look like 10r/s or 30r/m (requests per second or minute), got %r" % (key, value))
    count = int(found.group(1))
    if count == 0:
        _fail(where, "%s is 0 requests: a limit of 0 would refuse everything (remove the key for no limit)" % key)
    return "%d%s" % (count, "r/" + found.group(2)), count if found.group(2) == "s" else count / 60.0


def _unknown(where, item, allowed):
    if not isinstance(item, dict):
        _fail(where, "must be a mapping, got %s" % type(item).__name__)
    extra = sorted(str(k) for k in item if k not in allowed)
    if extra:
        _fail(where, "unknown key%s %s (allowed: %s)" % ("s" if len(extra) > 1 else "", ", ".join(extra), ", ".join(allowed)))


def _regex_for(where, rule):
    kinds = [k for k in ("prefix", "exact", "regex") if k in rule]
    if len(kinds) != 1:
        _fail(where, "give exactly one of prefix, exact or regex, got %s" % (", ".join(kinds) or "none"))
    kind, value = kinds[0], rule[kinds[0]]
    if not isinstance(value, str) or not value:
        _fail(where, "%s must be a non-empty string" % kind)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        _fail(where, "%s contains a control character" % kind)
    if kind == "regex":
        try:
            re.compile(value)
        except re.error as exc:
            _fail(where, "regex %r does not compile: %s" % (value, exc))
        return value
    if not PATH_RE.match(value):
        _fail(where, "%s must be a path starting with / without spaces, quotes, backslashes, ; or braces, got %r" % (kind, value))
    return "^" + re.escape(value) + ("$" if kind == "exact" else "")


def _rule(where, rule):
    _unknown(where, rule, RULE_KEYS)
    out = {"regex": _regex_for(where, rule), "methods": []}
    for key in ("prefix", "exact", "regex"):
        if key in rule:
            out[key] = rule[key]
    methods = rule.get("methods")
    if methods is not None:
        if isinstance(methods, str):
            methods = [methods]
        if not isinstance(methods, list) or not methods:
            _fail(where, "methods must be a non-empty list such as [GET, POST]")
        for method in methods:
            if not isinstance(method, str) or not METHOD_RE.match(method):
                _fail(where, "method %r is not an HTTP method in capitals (GET, POST...)" % (method,))
        out["methods"] = sorted(set(methods))
    return out


def _klass(index, klass):
    where = "class #%d" % (index + 1)
    if isinstance(klass, dict) and isinstance(klass.get("name"), str):
        where = "class %s" % klass["name"]
    _unknown(where, klass, CLASS_KEYS)
    name = klass.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        _fail(where, "name must be lower-case letters, digits and _ starting with a letter (max 31), got %r" % (name,))
    shed = klass.get("shed", True)
    if not isinstance(shed, bool):
        _fail(where, "shed must be true or false, got %r" % (shed,))
    if not shed:
        limited = [k for k in SHED_KEYS if k in klass]
        if limited:
            _fail(where, "a class that is never shed (shed: false) cannot have class-wide limits (%s): they would shed "
                  "it; give per-client limits (client_*) only" % ", ".join(limited))
    out = {"name": name, "shed": shed, "rules": []}
    rules = klass.get("match", [])
    if not isinstance(rules, list):
        _fail(where, "match must be a list of rules ({prefix|exact|regex, methods})")
    for number, rule in enumerate(rules):
        out["rules"].append(_rule("%s, match #%d" % (where, number + 1), rule))
    for prefix in ("", "client_"):
        rate_key = prefix + "rate"
        if rate_key in klass:
            out[rate_key], out[prefix + "rate_per_s"] = _rate(where, rate_key, klass[rate_key])
            burst = _positive(where, prefix + "burst", klass.get(prefix + "burst", 0), allow_zero=True)
            out[prefix + "burst"] = burst
            if klass.get(prefix + "delay") is not None:
                delay = _positive(where, prefix + "delay", klass[prefix + "delay"], allow_zero=True)
                if delay > burst:
                    _fail(where, "%sdelay (%d) is above %sburst (%d): the requests passed at once must be part of the burst"
                          % (prefix, delay, prefix, burst))
                out[prefix + "delay"] = delay
            else:
                out[prefix + "delay"] = None
        else:
            for key in ("burst", "delay"):
                if klass.get(prefix + key) is not None:
                    _fail(where, "%s%s needs %s" % (prefix, key, rate_key))
        if (prefix + "concurrency") in klass:
            out[prefix + "concurrency"] = _positive(where, prefix + "concurrency", klass[prefix + "concurrency"])
    return out


def _servers(servers):
    if not isinstance(servers, list) or not servers:
        _fail("upstream_servers", "give at least one server ({address: host:port, max_conns: N})")
    out = []
    for number, server in enumerate(servers):
        where = "upstream server #%d" % (number + 1)
        _unknown(where, server, SERVER_KEYS)
        address = server.get("address")
        if not isinstance(address, str) or not ADDRESS_RE.match(address):
            _fail(where, "address must be host:port, [v6]:port or unix:/path, got %r" % (address,))
        if "max_conns" not in server:
            _fail(where, "max_conns is required: it is the concurrency the server can take, and what protects it")
        out.append({"address": address, "max_conns": _positive(where, "max_conns", server["max_conns"])})
    return out


def _retry(key, value):
    if _is_int(value):
        value = {"min": value, "max": value}
    _unknown(key, value, RANGE_KEYS)
    low = _positive(key, "min", value.get("min"))
    high = _positive(key, "max", value.get("max", low))
    if low > high:
        _fail(key, "min (%d) is above max (%d)" % (low, high))
    buckets = min(MAX_RETRY_BUCKETS, high - low + 1)
    if buckets == 1:
        return {"min": low, "max": high, "values": [low]}
    values = sorted(set(low + (high - low) * i // (buckets - 1) for i in range(buckets)))
    return {"min": low, "max": high, "values": values}


def _allow(ips):
    if not isinstance(ips, list):
        _fail("allow_ips", "must be a list of addresses or networks")
    out = []
    for value in ips:
        try:
            out.append(str(ipaddress.ip_network(str(value), strict=False)))
        except ValueError:
            _fail("allow_ips", "%r is not an address or network (10.0.0.0/8, 2001:db8::/32, 127.0.0.1)" % (value,))
    return out


def _word(key, value, pattern, what):
    if not isinstance(value, str) or not re.match(pattern, value):
        _fail(key, "must be %s, got %r" % (what, value))
    return value


def plan(classes, servers, default_class="normal", critical_reserve=1, allow_ips=None, retry_after_rate_limited=5,
         retry_after_shed=30, upstream_name="wk_load", location="/", access_log="/var/log/nginx/watchkeeper-load.log",
         client_zone_size="10m"):
    """The checked settings as one plan for the renderer; raises ``LoadConfigError`` at the first mistake."""
    extra = {"upstream_name": _word("upstream_name", upstream_name, r"^[A-Za-z][A-Za-z0-9_]{0,40}$", "a name of letters, digits and _"),
             "location": _word("location", location, r"^/[^\s\"'\\;{}]*$", "a path prefix starting with /"),
             "access_log": _word("access_log", access_log, r"^(/[^\s\"'\\;{}]+|off)$", "an absolute path or off"),
             "client_zone_size": _word("client_zone_size", client_zone_size, r"^[1-9][0-9]{0,5}[km]$", "a size such as 10m or 512k")}
    if not isinstance(classes, list) or not classes:
        _fail("classes", "give at least one request class")
    out = [_klass(i, k) for i, k in enumerate(classes)]
    names = [k["name"] for k in out]
    twice = sorted(set(n for n in names if names.count(n) > 1))
    if twice:
        _fail("classes", "class names must be unique, %s given twice" % ", ".join(twice))
    if default_class not in names:
        _fail("default_class", "%r is not one of the classes (%s)" % (default_class, ", ".join(names)))
    for klass in out:
        if not klass["rules"] and klass["name"] != default_class:
            _fail("class %s" % klass["name"], "match is empty: only the default class (%s) may match nothing" % default_class)
    upstream = _servers(servers)
    capacity = sum(s["max_conns"] for s in upstream)
    critical = [k["name"] for k in out if not k["shed"]]
    reserve = _positive("critical_reserve", "critical_reserve", critical_reserve, allow_zero=not critical)
    if reserve >= capacity:
        _fail("critical_reserve", "the reserve (%d) must be below the upstream capacity (%d, the sum of max_conns): "
              "min above max leaves nothing for the other classes" % (reserve, capacity))
    shared = capacity - reserve
    for klass in out:
        if klass.get("concurrency", 0) > shared:
            _fail("class %s" % klass["name"], "concurrency (%d) is above what the sheddable classes may use (%d = upstream "
                  "capacity %d - critical_reserve %d)" % (klass["concurrency"], shared, capacity, reserve))
    extra.update({"classes": out, "default_class": default_class, "servers": upstream, "capacity": capacity,
                  "critical_reserve": reserve, "shared_limit": shared, "critical": critical,
                  "allow_ips": _allow(allow_ips or []),
                  "retry_after": {"rate_limited": _retry("retry_after_rate_limited", retry_after_rate_limited),
                                  "shed": _retry("retry_after_shed", retry_after_shed)}})
    return extra
