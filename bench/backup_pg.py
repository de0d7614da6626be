"""Benchmark: the ``backup`` module against bare ``pg_dump`` and the story's own pipeline.

Measures, on one >= 1 GB PostgreSQL database with realistic rows (pgbench tables plus a table of
JSON events with varied text), each repeated ``--runs`` times (median reported):

1. ``pg_dump``   bare ``pg_dump -Fc -Z0 DB > /dev/null`` (the pg_dump binary the module picks);
2. ``story``     ``pg_dump --compress=9 -Fc -f FILE`` then ``gpg --batch --symmetric --cipher-algo
                 AES256 --passphrase-file F --pinentry-mode loopback --output FILE.gpg FILE``;
3. ``backup``    the ``watchkeeper.ops.backup`` module through real ``ansible-playbook``: public-key
                 encryption, default compression (level auto: zstd 1 on <= 2 cores, 2 on 3, 3 from 4; threads 0), one local destination;
4. ``fanout3``   the same to three destinations (local, S3 on a moto server, GCS on the
                 gcp-storage-emulator; both started here on loopback, a fresh bucket per run);
5. ``shell``     (informational) ``pg_dump -Fc -Z0 | zstd -3 -T0 | gpg --encrypt > FILE``: the same
                 work as the module without the module, to separate module overhead from CPU limits.

Optional extra rows: ``--levels 1,3`` and/or ``--threads 0,1,2`` run the module (one local
destination) with those zstd settings. A profiled pass (``/proc/<pid>/stat`` sampling) afterwards
tells which stage uses the CPU. Nothing is asserted: the DESIGN section 8 targets are reported
with met true/false.

The database cluster is cached in ``.wk/bench/pg`` (reused when the data is there; ``--rebuild``
forces a rebuild); its server is stopped at the end. Every other thing it starts (servers, temp
dirs, gpg agents) is removed at the end, also on Ctrl-C / SIGTERM.

    .venv/bin/python bench/backup_pg.py                 # table
    .venv/bin/python bench/backup_pg.py --json          # one JSON object on stdout
    .venv/bin/python bench/backup_pg.py --levels 1,3 --threads 0,1,2

This file is the command line, the report and its table; the rest is in sibling modules:
``wkbench_env`` (venv, paths, logging, machine and code facts), ``wkbench_db`` (the cached database),
``wkbench_workspace`` (cluster, work dir, keys, object stores), ``wkbench_measure`` (the timed
variants), ``wkbench_profile`` (contention and the CPU sampler), ``wkbench_procs`` (/proc, signals,
cleanup of killed runs).
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time

# wkbench_env first: it re-executes this script under the venv and sets sys.path (see its docstring).
from wkbench_env import DB, RESULTS_DIR, code_state, log, machine_info
from wkbench_db import database_facts, db_size
from wkbench_measure import Bench
from wkbench_procs import install_signal_handlers

# Targets of DESIGN section 8, as (key, ratio name, comparison, bound, text).
TARGETS = [
    ("backup_le_1.5x_pg_dump", "backup_over_pg_dump", "<=", 1.5, "backup time <= 1.5x bare pg_dump -Fc -Z0"),
    ("story_ge_3x_backup", "story_over_backup", ">=", 3.0, "story pipeline time >= 3x backup time (backup >= 3x faster)"),
    ("backup_bytes_le_0.75x_story", "backup_bytes_over_story_bytes", "<=", 0.75, "backup stored bytes <= 0.75x story bytes"),
    ("fanout3_le_1.2x_backup", "fanout3_over_backup", "<=", 1.2, "3 destinations <= 1.2x the time of 1"),
]
# The fingerprint target (<= 10 % of the backup) is a cost in time: restore_pg.py measures it as the backup with
# minus without the fingerprint. Here only the tap's CPU time is known (it runs in the relay thread, partly on a
# core the pipeline leaves idle), so its share of the module's time is reported as information.


# --------------------------------------------------------------------------- report

def median(values):
    return round(statistics.median(values), 3) if values else None


def ok_times(bench, name):
    """Seconds of the runs of ``name`` that succeeded (a failed module run is reported, not averaged)."""
    return [secs for secs, extra in zip(bench.raw.get(name, []), bench.extra.get(name, [])) if not extra.get("failed")]


def _median_extra(items, key):
    values = [i[key] for i in items if i.get(key) is not None and not i.get("failed")]
    return median(values) if values else None


def _ratio(a, b):
    return round(a / float(b), 3) if a is not None and b else None


def build_report(bench, args, profile, db_facts, started_at, elapsed):
    raw, extra = bench.raw, bench.extra
    rep = {
        "bench": "backup_pg", "date": started_at, "elapsed_s": round(elapsed, 1), "runs": args.runs,
        "db_bytes": db_facts["db_bytes"],
        "pg_dump_s": median(ok_times(bench, "pg_dump")),
        "story_pipeline_s": median(ok_times(bench, "story")),
        "story_pg_dump_s": _median_extra(extra.get("story", []), "pg_dump_s"),
        "story_gpg_s": _median_extra(extra.get("story", []), "gpg_s"),
        "story_bytes": _median_extra(extra.get("story", []), "bytes"),
        "backup_s": median(ok_times(bench, "backup")),
        "backup_module_total_s": _median_extra(extra.get("backup", []), "module_total_s"),
        "backup_stored_bytes": _median_extra(extra.get("backup", []), "bytes"),
        "backup_raw_bytes": _median_extra(extra.get("backup", []), "raw_bytes"),
        "fanout3_s": median(ok_times(bench, "fanout3")),
        "fanout3_module_total_s": _median_extra(extra.get("fanout3", []), "module_total_s"),
        "fanout3_stored_bytes": _median_extra(extra.get("fanout3", []), "bytes"),
        # The content digests are taken in the dump's first hop (serial with the stream); the SQL row counts
        # run in the snapshot transaction at the same time, on the server.
        "fingerprint_content_s": _median_extra(extra.get("backup", []), "fingerprint_content_s"),
        "fingerprint_sql_s": _median_extra(extra.get("backup", []), "fingerprint_sql_s"),
        "backup_level": next((e.get("level") for e in extra.get("backup", []) if e.get("level") is not None), None),
    }
    if "shell" in raw:
        rep["shell_pipeline_s"] = median(ok_times(bench, "shell"))
        rep["shell_pipeline_bytes"] = _median_extra(extra["shell"], "bytes")
    rep["ratios"] = {
        "backup_over_pg_dump": _ratio(rep["backup_s"], rep["pg_dump_s"]),
        "story_over_backup": _ratio(rep["story_pipeline_s"], rep["backup_s"]),
        "backup_bytes_over_story_bytes": _ratio(rep["backup_stored_bytes"], rep["story_bytes"]),
        "fanout3_over_backup": _ratio(rep["fanout3_s"], rep["backup_s"]),
        "fingerprint_tap_cpu_over_backup": _ratio(rep["fingerprint_content_s"], rep["backup_module_total_s"]),
    }
    rep["ratios_module_total"] = {
        "backup_over_pg_dump": _ratio(rep["backup_module_total_s"], rep["pg_dump_s"]),
        "story_over_backup": _ratio(rep["story_pipeline_s"], rep["backup_module_total_s"]),
        "fanout3_over_backup": _ratio(rep["fanout3_module_total_s"], rep["backup_module_total_s"]),
    }
    if "shell" in raw:
        rep["ratios"]["shell_over_pg_dump"] = _ratio(rep["shell_pipeline_s"], rep["pg_dump_s"])
        rep["ratios"]["backup_over_shell"] = _ratio(rep["backup_s"], rep["shell_pipeline_s"])
    targets = {}
    for key, ratio, op, bound, text in TARGETS:
        value = rep["ratios"][ratio]
        met = None if value is None else (value <= bound if op == "<=" else value >= bound)
        entry = {"target": "%s %s %s" % (ratio, op, bound), "value": value, "met": met, "what": text}
        alt = rep["ratios_module_total"].get(ratio)
        if alt is not None:
            entry["value_module_total"] = alt
            entry["met_module_total"] = alt <= bound if op == "<=" else alt >= bound
        targets[key] = entry
    rep["targets"] = targets
    rep["all_targets_met"] = all(t["met"] for t in targets.values())
    variants = {}
    for name in raw:
        if name.startswith("backup_l") or name.startswith("shell_l"):
            items = extra[name]
            variants[name] = {"level": items[0].get("level"), "threads": items[0].get("threads"),
                              "median_s": median(ok_times(bench, name)),
                              "module_total_s": _median_extra(items, "module_total_s"),
                              "stored_bytes": _median_extra(items, "bytes"),
                              "over_pg_dump": _ratio(median(ok_times(bench, name)), rep["pg_dump_s"]),
                              "bytes_over_story": _ratio(_median_extra(items, "bytes"), rep["story_bytes"])}
    if variants:
        rep["variants"] = variants
    per = {}
    for name, items in extra.items():
        runs = [i["load"] for i in items if i.get("load")]
        if runs:
            per[name] = {"foreign_pct_runs": [r["foreign_pct"] for r in runs],
                         "machine_busy_pct_runs": [r["machine_busy_pct"] for r in runs],
                         "steal_pct_runs": [r.get("steal_pct") for r in runs],
                         "max_foreign_pct": max(r["foreign_pct"] for r in runs)}
    worst = max([v["max_foreign_pct"] for v in per.values()] or [0.0])
    rep["contention"] = {"threshold_foreign_pct": args.max_foreign, "max_foreign_pct_kept": worst,
                         "clean": worst <= args.max_foreign, "per_measurement": per,
                         "discarded_runs": [{"measurement": d["measurement"], "seconds": d["seconds"], "load": d["load"]}
                                            for d in bench.discarded]}
    rep["raw_s"] = raw
    rep["raw_details"] = dict(extra)
    rep["machine"] = machine_info(bench)
    rep["code"] = bench.code_before
    if code_state()["plugins_sha256"] != bench.code_before["plugins_sha256"]:
        rep["code"]["changed_during_run"] = True
    rep["database"] = db_facts
    if bench.build_s is not None:
        rep["database"]["build_s"] = round(bench.build_s, 1)
    if profile:
        rep["cpu_profile"] = profile
    if bench.errors:
        rep["errors"] = bench.errors
    rep["notes"] = [
        "backup_s / fanout3_s are wall times of a whole ansible-playbook run (fork, module transfer, result); "
        "*_module_total_s is the module's own timings.total_s; targets use the wall times, "
        "value_module_total shows the same ratio on the module's own time.",
        "every measurement runs --runs times round-robin after one warm-up pg_dump; medians reported.",
        "moto and the GCS emulator run on the same 2-core machine, so their CPU competes with the pipeline.",
    ]
    return rep


def fmt_s(v):
    return "%.2f" % v if v is not None else "-"


def fmt_b(v):
    return "{:,}".format(int(v)) if v is not None else "-"


def print_table(rep, stream):
    w = stream.write
    w("\nbackup_pg benchmark  %s  nproc=%s  PostgreSQL %s  db %s bytes  runs=%d (median)\n\n" % (
        rep["date"], rep["machine"]["nproc"], rep["machine"]["postgresql_server"], fmt_b(rep["db_bytes"]), rep["runs"]))
    rows = [("bare pg_dump -Fc -Z0 > /dev/null", rep["pg_dump_s"], None, rep["raw_s"].get("pg_dump")),
            ("story: pg_dump -Z9 -f, then gpg --symmetric", rep["story_pipeline_s"], rep["story_bytes"], rep["raw_s"].get("story")),
            ("  story pg_dump --compress=9 part", rep["story_pg_dump_s"], None, None),
            ("  story gpg part", rep["story_gpg_s"], None, None),
            ("backup module, 1 local dest (ansible-playbook)%s" % (
                ", zstd %s" % rep["backup_level"] if rep.get("backup_level") is not None else ""),
             rep["backup_s"], rep["backup_stored_bytes"], rep["raw_s"].get("backup")),
            ("  module timings.total_s", rep["backup_module_total_s"], None, None),
            ("  content fingerprint (dump stream tap)", rep["fingerprint_content_s"], None, None),
            ("  SQL row counts (concurrent, on the server)", rep["fingerprint_sql_s"], None, None),
            ("backup module, local+S3+GCS (ansible-playbook)", rep["fanout3_s"], rep["fanout3_stored_bytes"], rep["raw_s"].get("fanout3")),
            ("  module timings.total_s", rep["fanout3_module_total_s"], None, None)]
    if "shell_pipeline_s" in rep:
        rows.append(("shell: pg_dump|zstd -3 -T0|gpg -e > file", rep["shell_pipeline_s"], rep["shell_pipeline_bytes"],
                     rep["raw_s"].get("shell")))
    for name, var in sorted((rep.get("variants") or {}).items()):
        rows.append(("%s (level %s, threads %s)" % (name, var["level"], var["threads"]), var["median_s"],
                     var["stored_bytes"], rep["raw_s"].get(name)))
    w("%-50s %9s %15s  %-22s %s\n" % ("measurement", "seconds", "bytes", "runs (s)", "not-bench CPU % per run"))
    w("%s\n" % ("-" * 110))
    per = rep["contention"]["per_measurement"]
    keys = {"bare pg_dump": "pg_dump", "story:": "story", "backup module, 1": "backup", "backup module, local": "fanout3",
            "shell:": "shell"}
    for name, secs, size, runs in rows:
        key = next((v for k, v in keys.items() if name.startswith(k)), name.split(" ", maxsplit=1)[0])
        load = " ".join("%.0f" % x for x in per.get(key, {}).get("foreign_pct_runs", [])) if runs else ""
        cells = (name, fmt_s(secs), fmt_b(size) if size else "", " ".join(fmt_s(r) for r in runs or []), load)
        w("%-50s %9s %15s  %-22s %s\n" % cells)
    if rep["contention"]["discarded_runs"]:
        w("(%d runs discarded because other processes loaded the machine; see contention.discarded_runs)\n"
          % len(rep["contention"]["discarded_runs"]))
    if not rep["contention"]["clean"]:
        w("WARNING: some kept runs had other processes using up to %.0f%% of the machine: figures are pessimistic\n"
          % rep["contention"]["max_foreign_pct_kept"])
    w("\n%-32s %9s %14s  %-8s %s\n" % ("ratio", "value", "target", "met", "(on module total_s)"))
    w("%s\n" % ("-" * 100))
    for key, ratio, op, bound, _text in TARGETS:
        t = rep["targets"][key]
        alt = ("%s (met %s)" % (t["value_module_total"], t["met_module_total"])) if "value_module_total" in t else ""
        w("%-32s %9s %14s  %-8s %s\n" % (ratio, t["value"], "%s %s" % (op, bound), t["met"], alt))
    for ratio in ("shell_over_pg_dump", "backup_over_shell", "fingerprint_tap_cpu_over_backup"):
        if ratio in rep["ratios"]:
            w("%-32s %9s %14s\n" % (ratio, rep["ratios"][ratio], "(info)"))
    if rep.get("cpu_profile"):
        w("\nCPU profile (one extra pass each; cpu seconds and % of one core over the wall time)\n")
        for name, prof in rep["cpu_profile"].items():
            w("  %-8s wall %.1fs, machine busy %.0f%% of %d cores: %s\n" % (
                name, prof["wall_s"], prof["machine_busy_pct"], prof["cores"],
                ", ".join("%s %.1fs/%.0f%%" % (s["stage"], s["cpu_s"], s["pct_of_one_core"]) for s in prof["stages"])))
    if rep.get("codec_scan"):
        scan = rep["codec_scan"]
        w("\nCompression alone on one %s-byte dump file (story bytes %s):\n"
          % (fmt_b(scan["raw_bytes"]), fmt_b(rep["story_bytes"])))
        for row in scan["rows"]:
            w("  %-14s %7.2fs wall %7.2fs cpu %14s bytes  x%-6.2f %6s MB/cpu-s  %.2f of story bytes\n" % (
                row["codec"], row["seconds"], row["cpu_s"], fmt_b(row["bytes"]), row["ratio"], row["raw_mb_per_cpu_s"],
                row["bytes"] / float(rep["story_bytes"]) if rep["story_bytes"] else float("nan")))
    if rep.get("errors"):
        w("\nERRORS:\n")
        for err in rep["errors"]:
            w("  %s: %s\n" % (err["measurement"], err["msg"]))
    w("\n")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each measurement (median reported)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout (progress goes to stderr)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    parser.add_argument("--scale", type=int, default=30, help="pgbench scale when building (default 30)")
    parser.add_argument("--events", type=int, default=1500000, help="events rows when building (default 1.5 M)")
    parser.add_argument("--levels", default="", help="extra module rows with these zstd levels, e.g. 1,3")
    parser.add_argument("--threads", default="", help="extra module rows with these zstd thread counts, e.g. 0,1,2")
    parser.add_argument("--scan-levels", default="",
                        help="also compress one dump file with zstd at these levels (and gzip -9) alone, e.g. 1,3,6,9")
    parser.add_argument("--variant-shell", action="store_true", help="also run the shell pipeline for each variant")
    parser.add_argument("--no-shell", action="store_true", help="skip the informational shell pipeline row")
    parser.add_argument("--no-profile", action="store_true", help="skip the CPU-profiled extra pass")
    parser.add_argument("--quiet-wait", type=int, default=180,
                        help="before each measurement wait up to this many seconds for the machine to be idle "
                             "(other sessions' tests compete for the 2 cores); 0 disables")
    parser.add_argument("--quiet-threshold", type=float, default=15.0,
                        help="'idle' means busy below this %% of all cores over two 2-s windows")
    parser.add_argument("--max-foreign", type=float, default=10.0,
                        help="re-run a measurement when processes outside the bench used more than this %% of the "
                             "machine during it")
    parser.add_argument("--retries", type=int, default=2, help="re-runs of a contended measurement (then kept, flagged)")
    parser.add_argument("--build-only", action="store_true", help="build (or check) the cached database and stop")
    parser.add_argument("--save", default="auto", help="also write the JSON to this file ('auto': bench/results/, "
                                                       "'none': do not write)")
    args = parser.parse_args(argv)
    args.levels = [int(x) for x in args.levels.split(",") if x.strip()]
    args.threads = [int(x) for x in args.threads.split(",") if x.strip()]
    args.scan_levels = [int(x) for x in args.scan_levels.split(",") if x.strip()]
    if args.levels and not args.threads:
        args.threads = [0]
    if args.threads and not args.levels:
        args.levels = [3]
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    install_signal_handlers()
    started_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    t0 = time.monotonic()
    bench = Bench(args)
    try:
        bench.setup()
        if args.build_only:
            log("database ready: %d bytes" % db_size(bench.cluster))
            return 0
        db_facts = database_facts(bench.cluster)
        log("database %s: %d bytes, rows %s" % (DB, db_facts["db_bytes"], db_facts["rows"]))
        bench.start_object_stores()
        bench.measure()
        profile = None if args.no_profile else bench.profile()
        scan = bench.codec_scan() if args.scan_levels else None
        rep = build_report(bench, args, profile, db_facts, started_at, time.monotonic() - t0)
        if scan:
            rep["codec_scan"] = scan
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        return 130
    finally:
        try:
            bench.teardown()
        except KeyboardInterrupt:
            bench.teardown()
    if args.save != "none":
        path = args.save
        if path == "auto":
            os.makedirs(RESULTS_DIR, exist_ok=True)
            path = os.path.join(RESULTS_DIR, "backup_pg-%s.json" % started_at.replace(":", ""))
        with open(path, "w") as handle:
            json.dump(rep, handle, indent=2, sort_keys=True)
        log("JSON saved to %s" % path)
    if args.json:
        print_table(rep, sys.stderr)
        sys.stdout.write(json.dumps(rep, sort_keys=True) + "\n")
    else:
        print_table(rep, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
