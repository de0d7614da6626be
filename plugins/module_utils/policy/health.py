# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure health classification (no I/O): measured facts + thresholds -> items with a status and a reason.

Every item is ``{name, kind, status, value, threshold, reason}``; ``status`` is ``ok``, ``warning`` or
``critical`` and ``reason`` is set for every non-ok item. The overall status is the worst item's.
Default thresholds follow the node-exporter mixin where it has a rule (disk and inodes 5 % / 3 % free, memory
90 %, CPU 90 %, load per core 2, file descriptors 70 % / 90 %, disk filling within 24 h / 4 h); the others
(swap, PSI, latency, certificates, Redis) are watchkeeper's own and documented in docs/monitoring.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

RANK = {"ok": 0, "warning": 1, "critical": 2}

# name: (warning, critical, direction) -- direction "above": value above a limit is bad; "below": under it.
DEFAULT_THRESHOLDS = {
    "cpu_percent": {"warning": 90.0, "critical": None, "direction": "above"},
    "load_per_core": {"warning": 2.0, "critical": None, "direction": "above"},
    "memory_percent": {"warning": 90.0, "critical": None, "direction": "above"},
    "swap_percent": {"warning": 50.0, "critical": 80.0, "direction": "above"},
    "disk_free_percent": {"warning": 5.0, "critical": 3.0, "direction": "below"},
    "inode_free_percent": {"warning": 5.0, "critical": 3.0, "direction": "below"},
    "fd_percent": {"warning": 70.0, "critical": 90.0, "direction": "above"},
    "psi_some_avg60_percent": {"warning": 20.0, "critical": 50.0, "direction": "above"},
    "uptime_s": {"warning": None, "critical": None, "direction": "below"},
    "http_latency_s": {"warning": 1.0, "critical": 5.0, "direction": "above"},
    "cert_days_left": {"warning": 21.0, "critical": 7.0, "direction": "below"},
    "redis_memory_percent": {"warning": 80.0, "critical": 95.0, "direction": "above"},
    "redis_evicted_keys": {"warning": 0.0, "critical": None, "direction": "above"},
    "redis_clients_percent": {"warning": 80.0, "critical": 95.0, "direction": "above"},
    "postgres_connections_percent": {"warning": 80.0, "critical": 90.0, "direction": "above"},
}
# Disk filling up (mixin): free < 40 % and full within 24 h -> warning; free < 20 % and full within 4 h -> critical.
DEFAULT_THRESHOLDS["disk_fill"] = {"warning_free_percent": 40.0, "warning_hours": 24.0,
                                   "critical_free_percent": 20.0, "critical_hours": 4.0}


def worst(statuses):
    """The worst of some statuses (``ok`` for none)."""
    result = "ok"
    for status in statuses:
        if RANK[status] > RANK[result]:
            result = status
    return result


def merge_thresholds(overrides):
    """Defaults updated with per-host ``overrides``; returns ``(thresholds, problems)``.

    A malformed override is ignored (its default stays) and described in ``problems`` so the caller can report
    it as an item instead of failing the whole run.
    """
    merged = dict((name, dict(spec)) for name, spec in DEFAULT_THRESHOLDS.items())
    problems = []
    if overrides is None:
        return merged, problems
    if not isinstance(overrides, dict):
        return merged, ["thresholds must be a dict of name -> {warning, critical}, got %r" % (overrides,)]
    for name, spec in overrides.items():
        if name not in merged:
            problems.append("unknown threshold %r (known: %s)" % (name, ", ".join(sorted(merged))))
            continue
        if not isinstance(spec, dict):
            problems.append("threshold %s must be a dict such as {warning: 80, critical: 95}, got %r" % (name, spec))
            continue
        candidate = dict(merged[name])
        bad = None
        for key, value in spec.items():
            if key not in candidate or key == "direction":
                bad = "threshold %s has no setting %r (use %s)" % (
                    name, key, ", ".join(k for k in sorted(candidate) if k != "direction"))
                break
            if value is not None:
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    bad = "threshold %s.%s must be a number or null, got %r" % (name, key, value)
                    break
            candidate[key] = value
        if bad is None and "direction" in candidate:
            bad = check_order(name, candidate)
        if bad:
            problems.append(bad)
        else:
            merged[name] = candidate
    return merged, problems


def check_order(name, spec):
    warn, crit = spec["warning"], spec["critical"]
    if warn is None or crit is None:
        return None
    if spec["direction"] == "above" and crit < warn:
        return "threshold %s: critical (%s) must not be below warning (%s)" % (name, crit, warn)
    if spec["direction"] == "below" and crit > warn:
        return "threshold %s: critical (%s) must not be above warning (%s)" % (name, crit, warn)
    return None


def grade(value, spec):
    """``(status, limit)`` of a value against ``{warning, critical, direction}``; ``None`` value -> ok."""
    if value is None:
        return "ok", None
    for level in ("critical", "warning"):
        limit = spec.get(level)
        if limit is None:
            continue
        if (spec["direction"] == "above" and value > limit) or (spec["direction"] == "below" and value < limit):
            return level, limit
    return "ok", None


def item(name, kind, status, value=None, threshold=None, reason=None):
    return {"name": name, "kind": kind, "status": status, "value": value, "threshold": threshold,
            "reason": reason if status != "ok" else None}


def measured(name, kind, value, spec, text):
    """An item for a number against a threshold; ``text`` formats the reason, e.g. ``"%(value).1f %% used"``."""
    status, limit = grade(value, spec)
    reason = None
    if status != "ok":
        word = ">" if spec["direction"] == "above" else "<"
        reason = "%s: %s %s %s (%s)" % (name, text % {"value": value}, word, fmt(limit), status)
    return item(name, kind, status, value, {"warning": spec.get("warning"), "critical": spec.get("critical")}, reason)


def fmt(number):
    return ("%.2f" % number).rstrip("0").rstrip(".")


def error_item(name, kind, message, status="critical"):
    return item(name, kind, status, None, None, "%s: %s" % (name, message))


def classify_host(host, th):
    """Items of the host's own facts (CPU, load, memory, swap, mounts, PSI, open files, uptime)."""
    items = []
    if host.get("cpu_percent") is not None:
        items.append(measured("cpu", "cpu", host["cpu_percent"], th["cpu_percent"], "%(value).1f %% busy"))
    if host.get("load_per_core") is not None:
        items.append(measured("load", "load", host["load_per_core"], th["load_per_core"], "load1 per core %(value).2f"))
    memory = host.get("memory") or {}
    if memory.get("percent") is not None:
        items.append(measured("memory", "memory", memory["percent"], th["memory_percent"], "%(value).1f %% used"))
    if memory.get("swap_percent") is not None:
        items.append(measured("swap", "swap", memory["swap_percent"], th["swap_percent"], "%(value).1f %% used"))
    for mount in host.get("mounts") or []:
        items.extend(classify_mount(mount, th))
    for resource, values in sorted((host.get("pressure") or {}).items()):
        value = (values or {}).get("some_avg60")
        if value is not None:
            items.append(measured("pressure %s" % resource, "pressure", value, th["psi_some_avg60_percent"],
                                  "some avg60 %(value).1f %%"))
    files = host.get("files") or {}
    if files.get("percent") is not None:
        items.append(measured("open files", "files", files["percent"], th["fd_percent"], "%(value).1f %% of fs.file-max"))
    if host.get("uptime_s") is not None:
        items.append(measured("uptime", "uptime", host["uptime_s"], th["uptime_s"], "up %(value).0f s"))
    for problem in host.get("errors") or []:
        items.append(error_item(problem["name"], problem.get("kind", "host"), problem["error"], "warning"))
    return items


def classify_mount(mount, th):
    name = "disk %s" % mount["mount"]
    if mount.get("readonly"):  # the mixin ignores read-only filesystems: they cannot fill up
        return [item(name, "disk", "ok", mount.get("free_percent"))]
    items = [measured(name, "disk", mount.get("free_percent"), th["disk_free_percent"], "%(value).1f %% free")]
    if mount.get("inode_free_percent") is not None:
        items.append(measured("inodes %s" % mount["mount"], "inodes", mount["inode_free_percent"],
                              th["inode_free_percent"], "%(value).1f %% inodes free"))
    prediction = mount.get("prediction")
    if prediction and mount.get("free_percent") is not None:
        items.append(classify_fill(name, mount["free_percent"], prediction, th["disk_fill"]))
    return items


def classify_fill(name, free_percent, prediction, spec):
    """Mixin's "filling up" rule on a prediction from ``predict_fill``."""
    hours = prediction.get("hours_to_full")
    status = "ok"
    if hours is not None:
        if free_percent < spec["critical_free_percent"] and hours <= spec["critical_hours"]:
            status = "critical"
        elif free_percent < spec["warning_free_percent"] and hours <= spec["warning_hours"]:
            status = "warning"
    reason = None
    if status != "ok":
        reason = "%s: %.1f %% free and full in %.1f h at the current rate (%s)" % (name, free_percent, hours, status)
    return item("%s fill" % name, "disk_fill", status, hours, dict(spec), reason)


def classify_services(services):
    items = []
    for svc in services:
        name = "service %s" % svc["name"]
        if svc.get("error"):
            items.append(error_item(name, "service", svc["error"]))
            continue
        expected = svc.get("expected", "running")
        running = bool(svc.get("running"))
        health = svc.get("health")
        if running != (expected == "running"):
            state = svc.get("state") or ("running" if running else "stopped")
            items.append(item(name, "service", "critical", state, expected,
                              "%s: %s, expected %s" % (name, state, expected)))
        elif running and health == "unhealthy":
            items.append(item(name, "service", "critical", health, "healthy", "%s: container is unhealthy" % name))
        elif running and health == "starting":
            items.append(item(name, "service", "warning", health, "healthy", "%s: health check still starting" % name))
        else:
            items.append(item(name, "service", "ok", svc.get("state"), expected))
    return items


def classify_endpoints(endpoints, th):
    items = []
    for ep in endpoints:
        name = "http %s" % ep["url"]
        if ep.get("error"):
            items.append(error_item(name, "http", ep["error"]))
            continue
        expected = ep.get("expected_status") or [200]
        if ep.get("status") not in expected:
            items.append(item(name, "http", "critical", ep.get("status"), expected,
                              "%s: status %s, expected %s" % (name, ep.get("status"), "/".join(str(s) for s in expected))))
            continue
        if ep.get("keyword") and not ep.get("keyword_found"):
            items.append(item(name, "http", "critical", ep.get("status"), ep["keyword"],
                              "%s: keyword %r not in the response" % (name, ep["keyword"])))
            continue
        items.append(measured(name, "http", ep.get("latency_s"), th["http_latency_s"], "latency %(value).3f s"))
    return items


def classify_certificates(certs, th):
    items = []
    for cert in certs:
        name = "certificate %s" % cert["target"]
        if cert.get("error"):
            items.append(error_item(name, "certificate", cert["error"]))
            continue
        items.append(measured(name, "certificate", cert.get("days_left"), th["cert_days_left"], "expires in %(value).1f days"))
        if cert.get("verify") and cert.get("trusted") is False:
            items.append(item("%s trust" % name, "certificate", "warning", False, True,
                              "%s: not trusted (%s)" % (name, cert.get("verify_error"))))
    return items


def classify_redis(instances, th):
    items = []
    for inst in instances:
        name = "redis %s" % inst["target"]
        if inst.get("error"):
            items.append(error_item(name, "redis", inst["error"]))
            continue
        if inst.get("memory_percent") is not None:
            items.append(measured("%s memory" % name, "redis", inst["memory_percent"], th["redis_memory_percent"],
                                  "used_memory %(value).1f %% of maxmemory"))
        items.append(measured("%s evictions" % name, "redis", inst.get("evicted_keys"), th["redis_evicted_keys"],
                              "%(value)d keys evicted"))
        if inst.get("clients_percent") is not None:
            items.append(measured("%s clients" % name, "redis", inst["clients_percent"], th["redis_clients_percent"],
                                  "connected clients %(value).1f %% of maxclients"))
        for field in ("rdb_last_bgsave_status", "aof_last_write_status"):
            value = inst.get(field)
            if value not in (None, "ok"):
                items.append(item("%s %s" % (name, field), "redis", "critical", value, "ok",
                                  "%s: %s is %s (persistence failing)" % (name, field, value)))
    return items


def classify_postgres(servers, th):
    items = []
    for server in servers:
        name = "postgres %s" % server["target"]
        if server.get("error"):
            items.append(error_item(name, "postgres", server["error"]))
        elif server.get("connections_percent") is not None:
            items.append(measured("%s connections" % name, "postgres", server["connections_percent"],
                                  th["postgres_connections_percent"], "%(value).1f %% of max_connections in use"))
    return items


def classify(host, checks, thresholds, problems=()):
    """All items plus the overall status (worst item) and the reasons of every non-ok item."""
    items = [error_item("thresholds", "config", problem, "warning") for problem in problems]
    items += classify_host(host or {}, thresholds)
    items += classify_services(checks.get("services") or [])
    items += classify_endpoints(checks.get("endpoints") or [], thresholds)
    items += classify_certificates(checks.get("certificates") or [], thresholds)
    items += classify_redis(checks.get("redis") or [], thresholds)
    items += classify_postgres(checks.get("postgres") or [], thresholds)
    return summarize(items)


def summarize(items):
    status = worst(it["status"] for it in items)
    reasons = [it["reason"] for it in items if it["status"] != "ok"]
    return {"status": status, "reasons": reasons, "items": items,
            "counts": dict((level, sum(1 for it in items if it["status"] == level)) for level in RANK)}


def predict_fill(samples, now, avail_now, horizon_s=86400.0):
    """Linear regression of available bytes over ``samples`` ``[(time_s, avail_bytes), ...]`` plus the current one.

    Returns ``{slope_bytes_per_s, predicted_avail_bytes, hours_to_full, samples}`` or None with fewer than two
    points or no time spread. ``hours_to_full`` is None when the disk is not filling (slope >= 0).
    """
    points = sorted(set(list(samples) + [(now, avail_now)]))
    if len(points) < 2:
        return None
    count = float(len(points))
    mean_t = sum(p[0] for p in points) / count
    mean_v = sum(p[1] for p in points) / count
    var_t = sum((p[0] - mean_t) ** 2 for p in points)
    if var_t <= 0:
        return None
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / var_t
    intercept = mean_v - slope * mean_t
    predicted = intercept + slope * (now + horizon_s)
    hours = None
    if slope < 0:
        hours = max(0.0, avail_now / -slope / 3600.0)
    return {"slope_bytes_per_s": slope, "predicted_avail_bytes": predicted, "hours_to_full": hours,
            "samples": len(points)}
