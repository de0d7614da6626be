"""Benchmark: ``log_search``'s engine against ``zgrep -E`` (and ``rg -z`` when /usr/bin/rg exists) on ~2 GB of logs.

The data (generated under a temp dir, removed at the end unless ``--keep``): 3 hosts x 4 programs (nginx access
lines, an app writing JSON, sshd, postgres), ``--days`` days each, in the collector's format; per stream the current
day is a plain ``.log``, the older days ``.log-YYYYMMDD-EPOCH.gz`` (gzip -6, mtime = last line, as logrotate
leaves them). ``--size-gb`` is the uncompressed volume (default 2). Generated fast from pre-built line shapes with
changing timestamps and numbers.

Measured in one run (median of ``--runs``), each tool over the same files, page cache warm for both:

* ``window_regex``: a regex over a one-hour window in the middle of the range (the engine prunes and bisects;
  ``zgrep -E`` has no notion of time and reads all files);
* ``whole_regex``: the same regex over the whole range;
* ``whole_literal``: a literal needle (a trace id) over the whole range;
* ``module_whole_regex``: ``whole_regex`` once through ``ansible-playbook`` (``watchkeeper.ops.log_search`` task,
  Ansible's start-up included).

The engine is ``module_utils.logs.search.run`` called directly (2 worker processes). ``zgrep -E -c`` is the bare
tool (counting: its cheapest form). For the whole-range queries the engine's total must equal ``zgrep``'s count, else
the bench fails. Targets (printed, never asserted): window <= 0.2 x zgrep, whole range <= 1.3 x zgrep.

    .venv/bin/python bench/logs.py [--size-gb 2] [--days 14] [--runs 1] [--json out.json] [--keep DIR]
"""

import argparse
import datetime
import glob
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

import ansible_run  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, ansible_run.collections_path())

from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import search  # noqa: E402  pylint: disable=wrong-import-position

HOSTS = ["web1", "web2", "db1"]
PROGRAMS = ["nginx", "shop", "sshd", "postgres"]
REGEX = r"Failed password for invalid user [a-z]+ from 203\.0\.113\.1[0-9]{2} port"
NEEDLE = "trace=7f3a9c2e41d0"
END = datetime.datetime(2026, 12, 5, 0, 0, tzinfo=datetime.timezone.utc)


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def shapes(program):
    """(pri, format with one %d, weight) of a program's lines."""
    if program == "nginx":
        return [(134, '10.0.3.17 - - "GET /api/v1/orders/%d HTTP/1.1" 200 5123 "-" "Mozilla/5.0 (X11; Linux x86_64)"', 9),
                (132, '10.0.3.18 - - "POST /api/v1/payments/%d HTTP/1.1" 502 157 "-" "okhttp/4.9.3"', 1)]
    if program == "shop":
        return [(134, '{"level":"info","msg":"order processed","order_id":%d,"duration_ms":41,"user":"u-1833"}', 8),
                (131, '{"level":"error","msg":"payment failed","order_id":%d,"code":"card_declined"}', 1),
                (135, '{"level":"debug","msg":"cache refresh","keys":%d,"region":"eu-west-1"}', 1)]
    if program == "sshd":
        return [(86, "Accepted publickey for deploy from 10.1.2.3 port %d ssh2: ED25519 SHA256:Jx0t1f2uyBvLr", 6),
                (84, "Failed password for invalid user admin from 203.0.113.1%d port 52144 ssh2", 1),
                (86, "pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=%d)", 3)]
    return [(134, "LOG:  duration: 12.%d ms  statement: SELECT id, total FROM orders WHERE customer_id = 42", 7),
            (131, "ERROR:  duplicate key value violates unique constraint \"orders_pkey\" (id=%d)", 1),
            (132, "WARNING:  there is no transaction in progress (xid=%d)", 2)]


def day_lines(host, program, day_start, count, rng, needle_every):
    table = []
    for pri, fmt, weight in shapes(program):
        table.extend([(pri, fmt)] * weight)
    step = 86400.0 / count
    base = day_start.timestamp()
    pid = 1000 + rng.randrange(30000)
    head_cache = {}
    out = []
    for i in range(count):
        sec = base + i * step
        whole = int(sec)
        stamp = head_cache.get(whole)
        if stamp is None:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
            head_cache = {whole: stamp}
        pri, fmt = table[(i * 7 + (i >> 3)) % len(table)]
        msg = fmt % (i % 97 if "203.0.113.1%d" in fmt else i)
        if needle_every and i % needle_every == 0:
            msg += " " + NEEDLE
        out.append("<%d>%s.%06d+00:00 %s %s[%d]: %s\n" % (pri, stamp, int((sec - whole) * 1e6), host, program, pid, msg))
    return "".join(out).encode()


def generate(root, size_gb, days):
    streams = len(HOSTS) * len(PROGRAMS)
    per_file = size_gb * 1e9 / streams / days
    lines_per_day = int(per_file / 150)
    rng = random.Random(13)
    total = 0
    jobs = []
    for host in HOSTS:
        os.makedirs(os.path.join(root, host), exist_ok=True)
        for program in PROGRAMS:
            for d in range(days):
                day_start = END - datetime.timedelta(days=days - d)
                data = day_lines(host, program, day_start, lines_per_day, rng, 50000)
                total += len(data)
                last = (day_start + datetime.timedelta(days=1)).timestamp() - 1
                base = os.path.join(root, host, program + ".log")
                if d == days - 1:
                    with open(base, "wb") as handle:
                        handle.write(data)
                    os.utime(base, (last, last))
                    continue
                rotated = day_start + datetime.timedelta(days=1)
                path = "%s-%s-%d" % (base, rotated.strftime("%Y%m%d"), int(rotated.timestamp()))
                with open(path, "wb") as handle:
                    handle.write(data)
                os.utime(path, (last, last))
                jobs.append(path)
            for start in range(0, len(jobs), 2):
                procs = [subprocess.Popen(["gzip", "-6", path]) for path in jobs[start:start + 2]]
                for proc in procs:
                    proc.wait()
            jobs = []
    files = all_files(root)
    return total, sum(os.path.getsize(p) for p in files), len(files)


def all_files(root):
    return sorted(glob.glob(os.path.join(root, "*", "*.log*")))


def timed(fn):
    started = time.monotonic()
    value = fn()
    return time.monotonic() - started, value


def zgrep_count(files, pattern, fixed=False):
    argv = ["zgrep", "-F" if fixed else "-E", "-c", "-H", "--", pattern] + files
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise RuntimeError("zgrep failed: %s" % proc.stderr[-2000:])
    return sum(int(line.rsplit(":", 1)[1]) for line in proc.stdout.splitlines() if line)


def rg_count(files, pattern, fixed=False):
    argv = ["/usr/bin/rg", "-z", "-c", "--no-filename"] + (["-F"] if fixed else []) + ["--", pattern] + files
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return sum(int(line) for line in proc.stdout.split())


def engine(root, pattern, regex, since=None, until=None):
    params = {"root": root, "pattern": pattern, "regex": regex, "since": since, "until": until, "timezone": "UTC",
              "limit": 100, "before": 2, "after": 2, "file_timeout": 120}
    result = search.run(params, now=END)
    return result["counts"]["total"], result


def module_run(root, pattern):
    args = {"root": root, "pattern": pattern, "regex": True, "until": END.isoformat(), "timezone": "UTC",
            "before": 2, "after": 2, "file_timeout": 120}
    res = ansible_run.run_module("watchkeeper.ops.log_search", args)
    if res.get("failed"):
        raise RuntimeError("module failed: %s" % res.get("msg"))
    return res["counts"]["total"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-gb", type=float, default=2.0)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--keep", help="generate into (or reuse) this directory and keep it")
    args = parser.parse_args()
    root = args.keep or tempfile.mkdtemp(prefix="wk-bench-logs-")
    report = {"size_gb": args.size_gb, "days": args.days, "runs": args.runs}
    try:
        if not all_files(root):
            log("generating %.1f GB into %s" % (args.size_gb, root))
            seconds, (raw, disk, count) = timed(lambda: generate(root, args.size_gb, args.days))
            report.update(generate_s=round(seconds, 1))
        files = all_files(root)
        report.update(files=len(files), disk_bytes=sum(os.path.getsize(p) for p in files))
        log("%d files, %.0f MB on disk" % (len(files), report["disk_bytes"] / 1e6))
        mid = END - datetime.timedelta(days=args.days / 2.0)
        since, until = mid.isoformat(), (mid + datetime.timedelta(hours=1)).isoformat()
        cases = [
            ("window_regex", lambda: engine(root, REGEX, True, since, until)[0], lambda: zgrep_count(files, REGEX), None),
            ("whole_regex", lambda: engine(root, REGEX, True)[0], lambda: zgrep_count(files, REGEX), REGEX),
            ("whole_literal", lambda: engine(root, NEEDLE, False)[0], lambda: zgrep_count(files, NEEDLE, True), NEEDLE),
        ]
        zgrep_count(files, NEEDLE, True)  # warm the page cache
        for name, run_engine, run_grep, check in cases:
            eng, grp, counts = [], [], {}
            for _run in range(args.runs):
                seconds, counts["engine"] = timed(run_engine)
                eng.append(seconds)
                seconds, counts["zgrep"] = timed(run_grep)
                grp.append(seconds)
            row = {"engine_s": round(statistics.median(eng), 2), "zgrep_s": round(statistics.median(grp), 2),
                   "engine_matches": counts["engine"], "zgrep_matches": counts["zgrep"]}
            row["ratio"] = round(row["engine_s"] / row["zgrep_s"], 3)
            if os.path.exists("/usr/bin/rg"):
                seconds, row["rg_matches"] = timed(lambda: rg_count(files, check or REGEX, check == NEEDLE))
                row["rg_s"] = round(seconds, 2)
            if check is not None and counts["engine"] != counts["zgrep"]:
                raise SystemExit("FAIL %s: engine found %d lines, zgrep %d" % (name, counts["engine"], counts["zgrep"]))
            report[name] = row
            log("%s: %s" % (name, json.dumps(row)))
        seconds, total = timed(lambda: module_run(root, REGEX))
        if total != report["whole_regex"]["zgrep_matches"]:
            raise SystemExit("FAIL module_whole_regex: %d lines, zgrep %d" % (total, report["whole_regex"]["zgrep_matches"]))
        report["module_whole_regex"] = {"ansible_s": round(seconds, 2), "matches": total,
                                        "ratio": round(seconds / report["whole_regex"]["zgrep_s"], 3)}
        report["targets"] = {"window_le_0.2": report["window_regex"]["ratio"] <= 0.2,
                             "whole_regex_le_1.3": report["whole_regex"]["ratio"] <= 1.3,
                             "whole_literal_le_1.3": report["whole_literal"]["ratio"] <= 1.3}
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(report, indent=1))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
