"""Benchmark: load management on nginx (role ``load_management``) in front of a toy upstream with a fixed capacity.

The toy upstream (``tests/integration/load_helpers.py``) serves ``--capacity`` requests at once, ``--service-ms``
each, the rest wait in its queue; it counts the requests it holds at once. ``wrk`` offers a load rising to 3x that
capacity (1x, 2x, 3x: that many connections, two thirds ``bulk`` (exports, search) and one third ``normal``), while
one more connection sends ``critical`` requests (``/health``, ``POST /login``) and measures their latency. A client
that gets a 429/503 waits one service time before its next request, so the offered load stays what the step says.

The same steps run twice, in one run: through a plain nginx proxy (``without``), then through the configuration the
role renders (``with``: the same module_utils as the role). Targets (reported, never asserted): with the role, the
critical p99 under load <= 2x its unloaded p99 (the lower of the two modes' idle runs) and 0 critical errors; bulk answered 429/503 with Retry-After; the
upstream never holds more than its capacity.

    .venv/bin/python bench/load.py [--capacity 6] [--service-ms 50] [--step-seconds 8] [--json]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in (os.path.join(ROOT, "tests", "support"), os.path.join(ROOT, "tests", "integration"), os.path.join(ROOT, "scripts")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import ansible_run  # noqa: E402  pylint: disable=wrong-import-position

if ansible_run.collections_path() not in sys.path:
    sys.path.insert(0, ansible_run.collections_path())

import load_helpers  # noqa: E402  pylint: disable=wrong-import-position
import wk_services  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.load.classes import plan  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.load.nginx_conf import render  # noqa: E402  pylint: disable=wrong-import-position

# Each connection alternates its paths; every 429/503 delays one next request of the thread by one service time (wrk's
# Lua cannot tell connections apart: one delay per refusal approximates a client that waits before retrying).
LUA = """
local paths = {%(paths)s}
local method = "%(method)s"
local threads = {}
local n = 0
local backoffs = 0
counts = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {}; n = 0 end
function request()
  n = n + 1
  return wrk.format(method, paths[(n %% #paths) + 1], nil, method == "POST" and "x=1" or nil)
end
function delay()
  if backoffs > 0 then backoffs = backoffs - 1; return %(backoff)d end
  return 0
end
function response(status, headers, body)
  local key = tostring(status)
  if status == 429 or status == 503 then
    backoffs = backoffs + 1
    if headers["Retry-After"] then key = key .. "+retry_after" end
  end
  counts[key] = (counts[key] or 0) + 1
end
function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("counts")) do merged[k] = (merged[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(merged) do table.insert(parts, string.format('"%%s":%%d', k, v)) end
  local e = summary.errors
  io.write(string.format('WKJSON {"requests":%%d,"p50_ms":%%.2f,"p99_ms":%%.2f,"max_ms":%%.2f,' ..
    '"socket_errors":%%d,"timeouts":%%d,"non_2xx":%%d,"statuses":{%%s}}\\n', summary.requests,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write, e.timeout, e.status, table.concat(parts, ",")))
end
"""

CLASSES = [
    {"name": "critical", "shed": False, "match": [{"prefix": "/health"}, {"exact": "/login", "methods": ["POST"]}]},
    {"name": "normal"},
    {"name": "bulk", "match": [{"prefix": "/export"}, {"prefix": "/search"}], "burst": 4},
]


def role_config(args, upstream_port, log):
    """The role's rendering for the bench's classes: normal and bulk share capacity - reserve, bulk half of it."""
    reserve = max(2, args.capacity // 4)  # the two critical connections always find a free slot
    shared = args.capacity - reserve
    classes = [dict(CLASSES[0]), dict(CLASSES[1], concurrency=shared),
               dict(CLASSES[2], concurrency=max(1, shared // 2), rate="%dr/s" % max(1, int(shared // 2 * 1000 / args.service_ms)))]
    checked = plan(classes, [{"address": "127.0.0.1:%d" % upstream_port, "max_conns": args.capacity}],
                   critical_reserve=reserve, retry_after_rate_limited={"min": 1, "max": 5},
                   retry_after_shed={"min": 5, "max": 15}, access_log=log)
    out = render(checked)
    return out["http"], out["server"], {"reserve": reserve, "shared_limit": shared, "classes": classes}


def plain_config(upstream_port, log):
    return "", "location / { access_log %s; proxy_pass http://127.0.0.1:%d; }" % (log, upstream_port), {}


def wrk(url, script_dir, name, paths, connections, seconds, backoff_ms, method="GET"):
    script = os.path.join(script_dir, name + ".lua")
    with open(script, "w") as handle:
        handle.write(LUA % {"paths": ", ".join('"%s"' % p for p in paths), "method": method, "backoff": backoff_ms})
    argv = ["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "10s", "-s", script, url]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(proc):
    out, err = proc.communicate()
    for line in out.splitlines():
        if line.startswith("WKJSON "):
            return json.loads(line[7:])
    raise RuntimeError("wrk gave no result: %s %s" % (out[-2000:], err[-2000:]))


def critical_paths():
    return ["/health", "/login"]


def run_mode(args, mode, upstream, work):
    log = os.path.join(work, "%s-access.log" % mode)
    http, server, info = role_config(args, upstream.port, log) if mode == "with" else plain_config(upstream.port, log)
    ngx = wk_services.start_nginx(os.path.join(work, "nginx-" + mode), http=http, server=server)
    url = "http://127.0.0.1:%d" % ngx.port
    steps = []
    try:
        upstream.wait_idle()
        crit = [wrk(url, work, "crit-idle", ["/health"], 1, args.step_seconds, args.service_ms),
                wrk(url, work, "login-idle", ["/login"], 1, args.step_seconds, args.service_ms, "POST")]
        unloaded = [result(p) for p in crit]
        idle = {"unloaded_critical": unloaded, "upstream_max": upstream.stats()["max_in_flight"]}
        for factor in (1, 2, 3):
            total = factor * args.capacity
            bulk_c = max(1, round(total * 2 / 3))
            normal_c = max(1, total - bulk_c)
            upstream.wait_idle()
            procs = {"bulk": wrk(url, work, "bulk", ["/export/report.csv", "/search?q=peak"], bulk_c, args.step_seconds,
                                 args.service_ms),
                     "normal": wrk(url, work, "normal", ["/orders", "/cart"], normal_c, args.step_seconds, args.service_ms),
                     "critical": wrk(url, work, "crit", ["/health"], 1, args.step_seconds, args.service_ms),
                     "login": wrk(url, work, "login", ["/login"], 1, args.step_seconds, args.service_ms, "POST")}
            out = dict((name, result(proc)) for name, proc in procs.items())
            out.update(factor=factor, connections={"bulk": bulk_c, "normal": normal_c, "critical": 2},
                       upstream_max=upstream.stats()["max_in_flight"])
            steps.append(out)
            print("  %s %dx: critical p99 %.1f ms, login p99 %.1f ms, bulk %s, normal %s, upstream max %d" % (
                mode, factor, out["critical"]["p99_ms"], out["login"]["p99_ms"], out["bulk"]["statuses"], out["normal"]["statuses"],
                out["upstream_max"]),
                file=sys.stderr)
    finally:
        ngx.stop()
    return dict(idle, steps=steps, config=info)


def summarise(mode, data, capacity, baseline):
    """``baseline``: the unloaded critical p99, the lower of the two modes' (idle, the configuration does not matter;
    the lower is the stricter target and the least disturbed by the other processes of a shared machine)."""
    unloaded = baseline
    own = max(c["p99_ms"] for c in data["unloaded_critical"])
    loaded = max(max(s["critical"]["p99_ms"], s["login"]["p99_ms"]) for s in data["steps"])
    crit_errors = sum(s[k]["non_2xx"] + s[k]["socket_errors"] + s[k]["timeouts"] for s in data["steps"] for k in ("critical", "login"))
    bulk = {}
    for step in data["steps"]:
        for key, count in step["bulk"]["statuses"].items():
            bulk[key] = bulk.get(key, 0) + count
    shed_with_retry = sum(v for k, v in bulk.items() if k.endswith("+retry_after"))
    shed_without = sum(v for k, v in bulk.items() if k in ("429", "503"))
    upstream_max = max(s["upstream_max"] for s in data["steps"])
    return {"mode": mode, "critical_p99_unloaded_ms": unloaded, "critical_p99_unloaded_this_mode_ms": own, "critical_p99_loaded_ms": loaded,
            "ratio": round(loaded / unloaded, 2) if unloaded else None, "critical_errors": crit_errors,
            "bulk_statuses": bulk, "bulk_429_503_with_retry_after": shed_with_retry, "bulk_429_503_without": shed_without,
            "upstream_max": upstream_max, "capacity": capacity,
            "targets": {"critical_p99_le_2x": bool(unloaded) and loaded <= 2 * unloaded, "critical_0_errors": crit_errors == 0,
                        "bulk_shed_with_retry_after": shed_with_retry > 0 and shed_without == 0,
                        "upstream_within_capacity": upstream_max <= capacity}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--capacity", type=int, default=6)
    parser.add_argument("--service-ms", type=int, default=50)
    parser.add_argument("--step-seconds", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    work = tempfile.mkdtemp(prefix="wk-bench-load-")
    os.chmod(work, 0o755)
    upstream = load_helpers.ToyUpstream(args.capacity, args.service_ms)
    try:
        raw = dict((mode, run_mode(args, mode, upstream, work)) for mode in ("without", "with"))
    finally:
        upstream.stop()
        shutil.rmtree(work, ignore_errors=True)
    baseline = min(max(c["p99_ms"] for c in raw[mode]["unloaded_critical"]) for mode in raw)
    report = {"capacity": args.capacity, "service_ms": args.service_ms, "step_seconds": args.step_seconds,
              "summary": [summarise(mode, raw[mode], args.capacity, baseline) for mode in ("without", "with")], "raw": raw}
    if args.json:
        print(json.dumps(report, indent=1))
        return
    heads = ("mode", "crit p99 0x", "crit p99 3x", "ratio", "crit err", "bulk statuses", "upstream", "targets")
    print("%-8s %12s %12s %6s %8s %28s %9s  %s" % heads)
    for row in report["summary"]:
        print("%-8s %10.1fms %10.1fms %6s %8d %28s %4d / %-3d  %s" % (
            row["mode"], row["critical_p99_unloaded_ms"], row["critical_p99_loaded_ms"], row["ratio"], row["critical_errors"],
            ",".join("%s=%d" % kv for kv in sorted(row["bulk_statuses"].items())), row["upstream_max"], row["capacity"],
            " ".join("%s=%s" % (k, "met" if v else "MISSED") for k, v in row["targets"].items())))


if __name__ == "__main__":
    main()
