# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One health run: host facts, then service / endpoint / certificate / Redis / PostgreSQL checks in threads during
the CPU sample."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.watchkeeper.ops.plugins.module_utils.health import disks, host, http, postgres, redis, services, tls


def cert_targets(params):
    """``certificates`` entries plus one per https endpoint (host:port of its URL)."""
    targets = []
    for spec in params.get("certificates") or []:
        host_name, _sep, port = spec["target"].rpartition(":") if ":" in spec["target"] else (spec["target"], "", "443")
        targets.append({"host": host_name.strip("[]"), "port": int(port or 443), "server_name": spec.get("server_name"),
                        "verify": spec.get("verify", True), "timeout": spec.get("timeout") or 5})
    for spec in params.get("endpoints") or []:
        parts = urlsplit(spec["url"])
        if parts.scheme == "https" and parts.hostname:
            targets.append({"host": parts.hostname, "port": parts.port or 443, "server_name": None,
                            "verify": spec.get("validate_certs", True), "timeout": spec.get("timeout") or 5})
    unique = {}
    for target in targets:
        unique.setdefault((target["host"], target["port"]), target)
    return list(unique.values())


def run_checks(params):
    jobs = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for spec in params.get("services") or []:
            jobs.append(("services", pool.submit(services.check, spec)))
        for spec in params.get("endpoints") or []:
            jobs.append(("endpoints", pool.submit(http.check, spec)))
        for spec in cert_targets(params):
            jobs.append(("certificates", pool.submit(tls.check, spec["host"], spec["port"], spec["timeout"],
                                                     spec["server_name"], spec["verify"])))
        for spec in params.get("redis") or []:
            jobs.append(("redis", pool.submit(redis.check, spec)))
        for spec in params.get("postgres") or []:
            jobs.append(("postgres", pool.submit(postgres.check, spec)))
        checks = {"services": [], "endpoints": [], "certificates": [], "redis": [], "postgres": []}
        for kind, future in jobs:
            try:
                checks[kind].append(future.result())
            except Exception as exc:  # pylint: disable=broad-except
                checks[kind].append({"name": "?", "url": "?", "target": "?", "error": "check crashed: %r" % (exc,)})
    return checks


def collect(params):
    """``(host_facts, checks)``."""
    facts, errors = host.collect_static()
    mounts, mount_errors = disks.collect(params.get("mounts"))
    facts["mounts"] = mounts
    facts["errors"] = errors + mount_errors
    box = {}

    def during():
        box["checks"] = run_checks(params)
    try:
        facts["cpu_percent"] = host.sample_cpu(params.get("cpu_sample_s") or 0.5, during=during)
    except (IOError, OSError, ValueError, IndexError) as exc:
        facts["errors"].append({"name": "cpu", "kind": "host", "error": "cannot read /proc/stat: %s" % exc})
        if "checks" not in box:
            during()
    return facts, box["checks"]
