"""Benchmark: ``restore_verify`` against bare ``pg_restore``, and what the data checks and the fingerprint cost.

On the ``backup_pg`` bench's cached database (>= 1 GB, reused), each repeated ``--runs`` times in one
run, round-robin (median reported):

1. ``pg_restore``       bare ``pg_restore -j <cores> --no-owner -d <fresh db> FILE`` from a plain dump file
                        (``pg_dump -Fc -Z0 -f``, made once), with the pg_restore the module picks; the
                        database is created from template0 before and dropped after each run (untimed);
2. ``restore``          ``watchkeeper.ops.restore_verify`` through real ``ansible-playbook`` from a local
                        destination holding one backup (public-key encryption, default compression,
                        content fingerprint of every table; ``--checksum-tables`` adds the SQL md5 of the two
                        biggest tables, as before issue 11), ``checks: {fingerprint: false}``:
                        the module's ``rto.restore_s`` (download+decrypt+restore+indexes) and the wall time;
3. ``restore_verify``   the same with data checks (row counts and the content digest of every table,
                        ``checks.content`` = ``--content``, default ``database``; two cheap SQL assertions):
                        ``rto.total_s`` and the wall time;
4. ``backup_fp`` / ``backup_nofp``   the ``backup`` module (one local destination) with
                        ``source.fingerprint`` true / false: ``fingerprint_backup_overhead_s`` is the
                        difference of the medians of the module's ``timings.total_s``.

Informational rows (``--no-info`` skips them): ``pg_restore_module_way`` (bare pg_restore run as the module
runs it: one pass, its flags and PGOPTIONS, on the decoded backup file, which has no data offsets) and
``decode`` (``gpg -d | zstd -d > file`` on the stored object); ``--split`` adds ``pg_restore_2pass`` (two
passes on the ``pg_dump -f`` file, as the module ran it until 2026-11-27). A profiled pass (``/proc``
sampling) follows.
Targets (reported, never asserted): restore <= 1.15x bare pg_restore; restore_verify <= 1.3x restore.

    .venv/bin/python bench/restore_pg.py [--runs 3] [--json] [--no-info] [--split] [--no-profile]

Everything it starts (the cached cluster's server, work dir, gpg agents, databases, /tmp dirs) is stopped or
removed at the end, also on Ctrl-C / SIGTERM. The measurements live in ``wkbench_restore``.
"""

import argparse
import datetime
import json
import os
import sys
import time

# wkbench_env first: it re-executes this script under the venv and sets sys.path (see its docstring).
from wkbench_env import DB, RESULTS_DIR, code_state, log, machine_info
from wkbench_db import database_facts
from wkbench_procs import install_signal_handlers
from wkbench_restore import PHASES, RestoreBench
from backup_pg import _median_extra, _ratio, fmt_b, fmt_s, median, ok_times

# (key, ratio name, bound, text)
TARGETS = [
    ("restore_le_1.15x_pg_restore", "restore_over_pg_restore", 1.15,
     "restore (download, decrypt, restore, indexes) <= 1.15x bare pg_restore -j <cores>"),
    ("restore_verify_le_1.3x_restore", "restore_verify_over_restore", 1.3,
     "restore_verify with data checks <= 1.3x the restore"),
]


def _phases(items):
    return dict((k, _median_extra([i.get("rto") or {} for i in items if not i.get("failed")], k)) for k in PHASES)


def _diff(a, b):
    return round(a - b, 3) if a is not None and b is not None else None


def build_report(bench, args, profile, db_facts, started_at, elapsed):
    extra = bench.extra
    wall = dict((name, median(ok_times(bench, name))) for name in bench.raw)
    rep = {
        "bench": "restore_pg", "date": started_at, "elapsed_s": round(elapsed, 1), "runs": args.runs,
        "jobs": bench.jobs, "db_bytes": db_facts["db_bytes"], "dump_bytes": os.path.getsize(bench.dump_file),
        "checksum_tables": bench.checksum_tables, "backup": bench.backup_facts,
        "pg_restore_s": wall.get("pg_restore"),
        "restore_s": _median_extra(extra.get("restore", []), "restore_s"),
        "restore_module_total_s": _median_extra(extra.get("restore", []), "module_total_s"),
        "restore_wall_s": wall.get("restore"),
        "restore_verify_s": _median_extra(extra.get("restore_verify", []), "module_total_s"),
        "restore_verify_wall_s": wall.get("restore_verify"),
        "backup_fingerprint_s": _median_extra(extra.get("backup_fp", []), "module_total_s"),
        "backup_fingerprint_wall_s": wall.get("backup_fp"),
        "backup_no_fingerprint_s": _median_extra(extra.get("backup_nofp", []), "module_total_s"),
        "backup_no_fingerprint_wall_s": wall.get("backup_nofp"),
        "fingerprint_query_s": _median_extra(extra.get("backup_fp", []), "fingerprint_s"),
        "fingerprint_content_s": _median_extra(extra.get("backup_fp", []), "fingerprint_content_s"),
        "content_checks": _median_extra(extra.get("restore_verify", []), "content_checks"),
        "content_method": args.content,
        "phases": {"restore": _phases(extra.get("restore", [])),
                   "restore_verify": _phases(extra.get("restore_verify", []))},
    }
    rep["fingerprint_backup_overhead_s"] = _diff(rep["backup_fingerprint_s"], rep["backup_no_fingerprint_s"])
    rep["fingerprint_backup_overhead_wall_s"] = _diff(rep["backup_fingerprint_wall_s"],
                                                      rep["backup_no_fingerprint_wall_s"])
    info = {}
    for name in ("pg_restore_module_way", "pg_restore_2pass", "decode"):
        if name in bench.raw:
            info[name + "_s"] = wall[name]
            ok = [i["passes_s"] for i in extra[name] if not i.get("failed") and len(i.get("passes_s") or []) == 2]
            if ok:
                info[name + "_data_s"] = median([p[0] for p in ok])
                info[name + "_post_data_s"] = median([p[1] for p in ok])
    if info:
        rep["info"] = info
    own = [i["rto"]["total_s"] / i["rto"]["restore_s"] for i in extra.get("restore_verify", [])
           if not i.get("failed") and (i.get("rto") or {}).get("restore_s")]
    rep["ratios"] = {
        "restore_over_pg_restore": _ratio(rep["restore_s"], rep["pg_restore_s"]),
        "restore_verify_over_restore": _ratio(rep["restore_verify_s"], rep["restore_s"]),
    }
    rep["ratios_wall"] = {
        "restore_over_pg_restore": _ratio(rep["restore_wall_s"], rep["pg_restore_s"]),
        "restore_verify_over_restore": _ratio(rep["restore_verify_wall_s"], rep["restore_wall_s"]),
    }
    rep["ratios"]["restore_verify_over_own_restore"] = median(own)  # same run: checks vs the restore before them
    for name in ("pg_restore_module_way", "pg_restore_2pass"):
        if name + "_s" in info:
            rep["ratios"][name.replace("pg_restore_", "") + "_over_pg_restore"] = _ratio(info[name + "_s"],
                                                                                         rep["pg_restore_s"])
    targets = {}
    for key, ratio, bound, text in TARGETS:
        value, value_wall = rep["ratios"][ratio], rep["ratios_wall"][ratio]
        targets[key] = {"target": "%s <= %s" % (ratio, bound), "what": text, "bound": bound,
                        "value": value, "met": None if value is None else value <= bound,
                        "value_wall": value_wall, "met_wall": None if value_wall is None else value_wall <= bound}
    rep["targets"] = targets
    rep["all_targets_met"] = all(t["met"] for t in targets.values())
    rep["all_targets_met_wall"] = all(t["met_wall"] for t in targets.values())
    per = {}
    for name, items in extra.items():
        loads = [i["load"] for i in items if i.get("load")]
        if loads:
            per[name] = {"foreign_pct_runs": [r["foreign_pct"] for r in loads],
                         "machine_busy_pct_runs": [r["machine_busy_pct"] for r in loads],
                         "steal_pct_runs": [r.get("steal_pct") for r in loads],
                         "max_foreign_pct": max(r["foreign_pct"] for r in loads)}
    worst = max([v["max_foreign_pct"] for v in per.values()] or [0.0])
    rep["contention"] = {"threshold_foreign_pct": args.max_foreign, "max_foreign_pct_kept": worst,
                         "clean": worst <= args.max_foreign, "per_measurement": per,
                         "discarded_runs": [{"measurement": d["measurement"], "seconds": d["seconds"], "load": d["load"]}
                                            for d in bench.discarded]}
    rep["raw_s"] = bench.raw
    rep["raw_details"] = dict(extra)
    rep["machine"] = machine_info(bench)
    rep["machine"]["pg_restore"] = "%s (%s)" % (bench.pg_restore, bench.pg_restore_version)
    rep["code"] = bench.code_before
    if code_state()["plugins_sha256"] != bench.code_before["plugins_sha256"]:
        rep["code"]["changed_during_run"] = True
    rep["database"] = db_facts
    if profile:
        rep["cpu_profile"] = profile
    if bench.errors:
        rep["errors"] = bench.errors
    rep["notes"] = [
        "restore_s, restore_verify_s and backup_*_s are the module's own times (rto.restore_s, rto.total_s, "
        "timings.total_s); *_wall_s are whole ansible-playbook runs. targets.*.met uses the module's times, "
        "met_wall the wall times.",
        "restore_verify_over_restore = restore_verify rto.total_s / restore rto.restore_s (wall: wall / wall).",
        "before each measurement: CHECKPOINT and sync (untimed), then a wait for an idle machine.",
    ]
    return rep


def print_table(rep, stream):
    w = stream.write
    w("\nrestore_pg benchmark  %s  nproc=%s  -j %d  PostgreSQL %s  db %s bytes, dump %s bytes  runs=%d (median)\n\n"
      % (rep["date"], rep["machine"]["nproc"], rep["jobs"], rep["machine"]["postgresql_server"], fmt_b(rep["db_bytes"]),
         fmt_b(rep["dump_bytes"]), rep["runs"]))
    raw, per = rep["raw_s"], rep["contention"]["per_measurement"]
    info = rep.get("info") or {}
    rows = [("bare pg_restore -j%d --no-owner (file)" % rep["jobs"], rep["pg_restore_s"], "pg_restore"),
            ("  info: bare, the module's way (decoded file)", info.get("pg_restore_module_way_s"), "pg_restore_module_way"),
            ("  info: bare, 2 passes on the pg_dump -f file", info.get("pg_restore_2pass_s"), "pg_restore_2pass"),
            ("  info: bare gpg -d | zstd -d > file", info.get("decode_s"), "decode"),
            ("restore (fingerprint off): rto.restore_s", rep["restore_s"], None),
            ("  ansible-playbook wall", rep["restore_wall_s"], "restore"),
            ("restore_verify (checks): rto.total_s", rep["restore_verify_s"], None),
            ("  ansible-playbook wall", rep["restore_verify_wall_s"], "restore_verify"),
            ("backup, fingerprint on: timings.total_s", rep["backup_fingerprint_s"], None),
            ("  ansible-playbook wall", rep["backup_fingerprint_wall_s"], "backup_fp"),
            ("backup, fingerprint off: timings.total_s", rep["backup_no_fingerprint_s"], None),
            ("  ansible-playbook wall", rep["backup_no_fingerprint_wall_s"], "backup_nofp"),
            ("fingerprint_backup_overhead_s (wall)", rep["fingerprint_backup_overhead_s"], None),
            ("  of which content digests (dump stream tap)", rep.get("fingerprint_content_s"), None),
            ("  of which SQL counts (concurrent, server)", rep.get("fingerprint_query_s"), None)]
    w("%-46s %9s  %-26s %s\n" % ("measurement", "median s", "runs (s)", "not-bench CPU % per run"))
    w("%s\n" % ("-" * 104))
    for label, secs, key in rows:
        if secs is None and label.startswith("  info"):
            continue
        if label.startswith("fingerprint_backup"):
            label = label.replace("(wall)", "(wall %s)" % fmt_s(rep["fingerprint_backup_overhead_wall_s"]))
        runs = " ".join(fmt_s(r) for r in raw.get(key, [])) if key else ""
        load = " ".join("%.0f" % x for x in per.get(key, {}).get("foreign_pct_runs", [])) if key else ""
        w("%-46s %9s  %-26s %s\n" % (label, fmt_s(secs), runs, load))
    for name in ("pg_restore_module_way", "pg_restore_2pass"):
        if name + "_data_s" in info:
            w("  (%s: pre-data+data %s s, post-data %s s)\n"
              % (name, fmt_s(info[name + "_data_s"]), fmt_s(info[name + "_post_data_s"])))
    if rep["contention"]["discarded_runs"]:
        w("(%d runs discarded because other processes loaded the machine; see contention.discarded_runs)\n"
          % len(rep["contention"]["discarded_runs"]))
    if not rep["contention"]["clean"]:
        w("WARNING: some kept runs had other processes using up to %.0f%% of the machine: figures are pessimistic\n"
          % rep["contention"]["max_foreign_pct_kept"])
    w("\n%-24s %10s %16s\n" % ("phase (median s)", "restore", "restore_verify"))
    w("%s\n" % ("-" * 52))
    for phase in PHASES:
        w("%-24s %10s %16s\n" % (phase, fmt_s(rep["phases"]["restore"].get(phase)),
                                 fmt_s(rep["phases"]["restore_verify"].get(phase))))
    w("\n%-30s %14s %10s %8s %10s %9s\n" % ("ratio", "module time", "met", "target", "wall", "met wall"))
    w("%s\n" % ("-" * 88))
    for key, ratio, bound, _text in TARGETS:
        t = rep["targets"][key]
        w("%-30s %14s %10s %8s %10s %9s\n" % (ratio, t["value"], t["met"], "<= %s" % bound, t["value_wall"],
                                              t["met_wall"]))
    for ratio in ("restore_verify_over_own_restore", "module_way_over_pg_restore", "2pass_over_pg_restore"):
        if rep["ratios"].get(ratio) is not None:
            w("%-30s %14s %10s\n" % (ratio, rep["ratios"][ratio], "(info)"))
    if rep.get("cpu_profile"):
        w("\nCPU profile (one extra pass each; cpu seconds and % of one core over the wall time)\n")
        for name, prof in rep["cpu_profile"].items():
            w("  %-14s wall %.1fs, machine busy %.0f%% of %d cores: %s\n" % (
                name, prof["wall_s"], prof["machine_busy_pct"], prof["cores"],
                ", ".join("%s %.1fs/%.0f%%" % (s["stage"], s["cpu_s"], s["pct_of_one_core"]) for s in prof["stages"])))
    if rep.get("errors"):
        w("\nERRORS:\n")
        for err in rep["errors"]:
            w("  %s: %s\n" % (err["measurement"], err["msg"]))
    w("\n")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each measurement (median reported)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout (progress goes to stderr)")
    parser.add_argument("--no-info", action="store_true", help="skip the informational bare rows (module way, decode)")
    parser.add_argument("--split", action="store_true",
                        help="one more bare row: 2 passes on the pg_dump -f file (the module's way until 2026-11-27)")
    parser.add_argument("--no-profile", action="store_true", help="skip the CPU-profiled extra pass")
    parser.add_argument("--content", default="database", choices=["database", "dump", "none"],
                        help="checks.content of the restore_verify with checks (default database)")
    parser.add_argument("--checksum-tables", action="store_true",
                        help="also checksum the two biggest tables in SQL (checksum_tables), as before issue 11")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    parser.add_argument("--scale", type=int, default=30, help="pgbench scale when building (default 30)")
    parser.add_argument("--events", type=int, default=1500000, help="events rows when building (default 1.5 M)")
    parser.add_argument("--quiet-wait", type=int, default=180,
                        help="before each measurement wait up to this many seconds for the machine to be idle; 0 disables")
    parser.add_argument("--quiet-threshold", type=float, default=15.0,
                        help="'idle' means busy below this %% of all cores over two 2-s windows")
    parser.add_argument("--max-foreign", type=float, default=10.0,
                        help="re-run a measurement when processes outside the bench used more than this %% of the machine")
    parser.add_argument("--retries", type=int, default=2, help="re-runs of a contended measurement (then kept, flagged)")
    parser.add_argument("--save", default="auto", help="also write the JSON to this file ('auto': bench/results/, "
                                                       "'none': do not write)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    install_signal_handlers()
    started_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    t0 = time.monotonic()
    bench = RestoreBench(args)
    try:
        bench.setup()
        db_facts = database_facts(bench.cluster)
        log("database %s: %d bytes, rows %s" % (DB, db_facts["db_bytes"], db_facts["rows"]))
        bench.measure()
        profile = None if args.no_profile else bench.profile()
        rep = build_report(bench, args, profile, db_facts, started_at, time.monotonic() - t0)
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
            path = os.path.join(RESULTS_DIR, "restore_pg-%s.json" % started_at.replace(":", ""))
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
