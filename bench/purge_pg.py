"""Benchmark: ``retention_purge`` (target database) under a live workload, against one bare ``DELETE``.

On a throwaway PostgreSQL cluster (``.wk/bench/purge-<pid>-*``, removed at the end, also on Ctrl-C/SIGTERM):

1. builds ``events`` (``--rows``, default 5 M: id bigserial PK, created_at timestamptz indexed, ~100-byte payload),
   created_at spread over 100 days so that the 40-day horizon covers 60 % of the rows (ids follow time, as with a
   bigserial), plus pgbench's own tables (scale 5), and a copy of ``events`` for the baseline;
2. runs the workload while the module purges: ``pgbench -n -c 2 -j 1 -T 5 --max-tries 3 -l`` rounds, back to back,
   each on pgbench's tpcb-like script AND a custom script that inserts a young ``events`` row, locks and updates a
   random young row (``SELECT ... FOR UPDATE``) and reads the newest rows; every round's exit status and failed
   transactions are counted. A probe session does ``SELECT ... FOR UPDATE`` on a young row plus an insert into
   ``events`` every 50 ms, and records each latency (a lock wait shows up there);
3. purges with ``watchkeeper.ops.retention_purge`` (``target: database``, ``older_than: 40d``, frozen clock) through
   real ``ansible-playbook`` from this tree;
4. the bare baseline: ``DELETE FROM events_copy WHERE created_at < cutoff`` in one statement, no workload.

``--json`` prints one JSON object: ``rows_deleted``, ``rows_per_s`` (module's own), ``max_lock_wait_ms`` (the longest
lock wait of any workload session, from the server log: ``log_lock_waits`` with ``deadlock_timeout`` 10 ms),
``probe_max_ms``, ``workload_errors``, ``bare_delete_s``, ``purge_over_bare`` and details. Targets are reported, never
asserted: >= 50 000 rows/s, no workload errors, no lock wait > 200 ms.

    /work/main/.venv/bin/python bench/purge_pg.py [--rows 200000] [--batch-size 10000] [--json]
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# wkbench_env first: it re-executes this script under the venv and sets sys.path (see its docstring).
from wkbench_env import BENCH_DIR, code_state, log

import ansible_run
import wk_services

NOW = "2026-06-01T00:00:00Z"
CUTOFF = "2026-04-22 00:00:00+00"  # NOW - 40 days; rows span 2026-02-21 .. 2026-06-01 (100 days)
EVENTS_SCRIPT = """\\set young random({lo}, {hi})
INSERT INTO events (created_at, payload) VALUES ('2026-05-31 12:00:00+00', repeat(md5(:young::text), 3));
BEGIN;
SELECT payload FROM events WHERE id = :young FOR UPDATE;
UPDATE events SET payload = repeat(md5((:young + 1)::text), 3) WHERE id = :young;
END;
SELECT count(*) FROM (SELECT id FROM events WHERE created_at > '2026-05-31 00:00:00+00' ORDER BY created_at DESC
  LIMIT 10) t;
"""


def build(cluster, db, rows):
    started = time.monotonic()
    cluster.psql("CREATE DATABASE %s" % db)
    cluster.psql("""
        CREATE TABLE events (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, payload text);
        INSERT INTO events (created_at, payload)
        SELECT timestamptz '2026-02-21 00:00:00+00' + (g::float8 / %d) * interval '100 days', repeat(md5(g::text), 3)
        FROM generate_series(1, %d) g;
        CREATE INDEX events_created_at ON events (created_at);
        CREATE TABLE events_copy (LIKE events INCLUDING ALL);
        INSERT INTO events_copy SELECT * FROM events;
    """ % (rows, rows), dbname=db)
    for table in ("events", "events_copy"):
        cluster.psql("VACUUM ANALYZE %s" % table, dbname=db)
    subprocess.run([os.path.join(cluster.bindir, "pgbench"), "-i", "-q", "-s", "5", db], env=cluster.env(), check=True,
                   capture_output=True)
    return round(time.monotonic() - started, 1)


class Workload(object):
    """pgbench rounds back to back until stopped, and a probe session; both record what they saw."""

    def __init__(self, cluster, db, work, rows):
        self.cluster, self.db, self.work = cluster, db, work
        self.script = os.path.join(work, "events.sql")
        with open(self.script, "w") as handle:
            handle.write(EVENTS_SCRIPT.format(lo=int(rows * 0.7), hi=rows))
        self.stop = threading.Event()
        self.rounds, self.errors, self.probe_ms, self.probe_errors = [], [], [], []
        self.threads = [threading.Thread(target=self._pgbench, daemon=True), threading.Thread(target=self._probe,
                                                                                              daemon=True)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def _pgbench(self):
        index = 0
        while not self.stop.is_set():
            index += 1
            prefix = os.path.join(self.work, "round%03d" % index)
            proc = subprocess.run([os.path.join(self.cluster.bindir, "pgbench"), "-n", "-c", "2", "-j", "1", "-T", "5",
                                   "--max-tries", "3", "-l", "--log-prefix", prefix, "-b", "tpcb-like@1",
                                   "-f", "%s@1" % self.script, self.db], env=self.cluster.env(), capture_output=True,
                                  text=True, check=False)
            failed = [line for line in proc.stdout.splitlines() if line.startswith("number of failed transactions")]
            self.rounds.append({"rc": proc.returncode, "failed": failed[0] if failed else None, "logs": prefix})
            if proc.returncode != 0 or (failed and not failed[0].split(":")[1].strip().startswith("0 ")):
                self.errors.append("round %d rc %d: %s %s" % (index, proc.returncode, failed, proc.stderr[-500:]))

    def _probe(self):
        import psycopg
        conn = psycopg.connect(self.cluster.conninfo(self.db), autocommit=True)
        top = int(conn.execute("SELECT max(id) FROM events").fetchone()[0])
        step = 0
        while not self.stop.is_set():
            step += 1
            started = time.monotonic()
            try:
                with conn.transaction():
                    conn.execute("SELECT id FROM events WHERE id = %s FOR UPDATE", (top - step % 1000,))
                    conn.execute("INSERT INTO events (created_at, payload) VALUES ('2026-05-31 18:00:00+00', 'probe')")
                self.probe_ms.append((time.monotonic() - started) * 1000.0)
            except psycopg.Error as exc:
                self.probe_errors.append(str(exc).splitlines()[0])
            time.sleep(max(0.0, 0.05 - (time.monotonic() - started)))
        conn.close()

    def latencies(self):
        """Per-script max and p99 latency (ms) from pgbench's per-transaction logs (script 0 tpcb, 1 events)."""
        per = {0: [], 1: []}
        for rnd in self.rounds:
            for path in glob.glob(rnd["logs"] + ".*"):
                with open(path) as handle:
                    for line in handle:
                        fields = line.split()
                        if len(fields) >= 6 and fields[2] not in ("failed", "skipped"):
                            per.setdefault(int(fields[3]), []).append(int(fields[2]) / 1000.0)
        out = {}
        for script, name in ((0, "tpcb_like"), (1, "events")):
            values = sorted(per.get(script) or [0.0])
            out[name] = {"transactions": len(per.get(script) or []), "max_ms": round(values[-1], 1),
                         "p99_ms": round(values[int(len(values) * 0.99) - 1 if len(values) > 1 else 0], 1)}
        return out


WAIT_RE = re.compile(r"\] (?P<app>\S*) LOG:  process \d+ (?P<what>acquired|still waiting for) (?P<lock>.+?) after "
                     r"(?P<ms>[\d.]+) ms")


def log_lock_waits(cluster):
    """Every lock wait longer than 10 ms goes to the server log with its duration (``log_lock_waits`` fires after
    ``deadlock_timeout``, lowered to 10 ms for the bench) and the waiting session's application name."""
    for setting in ("log_lock_waits = on", "deadlock_timeout = '10ms'", "log_line_prefix = '%m [%p] %a '"):
        cluster.psql("ALTER SYSTEM SET %s" % setting)
    cluster.psql("SELECT pg_reload_conf()")
    with open(cluster.log_path, "rb") as handle:
        return handle.seek(0, os.SEEK_END)


def lock_waits(cluster, offset):
    """``{"max_ms", "waits", "by_lock"}`` of the workload's sessions (the purge's own waits apart) since ``offset``."""
    out = {"max_ms": 0.0, "waits_over_10ms": 0, "purge_max_ms": 0.0, "examples": []}
    with open(cluster.log_path, "rb") as handle:
        handle.seek(offset)
        text = handle.read().decode("utf-8", "replace")
    for match in WAIT_RE.finditer(text):
        ms = float(match.group("ms"))
        if match.group("app") == "watchkeeper-retention":
            out["purge_max_ms"] = max(out["purge_max_ms"], ms)
            continue
        if match.group("what") == "acquired":
            out["waits_over_10ms"] += 1
        out["max_ms"] = max(out["max_ms"], ms)
        if len(out["examples"]) < 5:
            out["examples"].append("%s %s %s after %.1f ms" % (
                match.group("app"), match.group("what"), match.group("lock"), ms))
    return out


def purge(cluster, db, work, batch_size):
    args = {"target": "database", "ops_state": os.path.join(work, "state"), "max_runtime": "2h",
            "server": {"login_host": cluster.host, "login_port": cluster.port, "login_user": "postgres",
                       "login_password": cluster.password, "database": db},
            "tables": [{"table": "events", "column": "created_at", "older_than": "40d", "batch_size": batch_size}]}
    started = time.monotonic()
    result = ansible_run.run_module("watchkeeper.ops.retention_purge", args, env={"WATCHKEEPER_NOW": NOW},
                                    timeout=7200)
    wall = time.monotonic() - started
    if result.failed:
        raise RuntimeError("the purge failed: %s" % result.get("msg"))
    return result, wall


def bare_delete(cluster, db):
    import psycopg
    with psycopg.connect(cluster.conninfo(db), autocommit=True) as conn:
        started = time.monotonic()
        rows = conn.execute("DELETE FROM events_copy WHERE created_at < %s", (CUTOFF,)).rowcount
        return rows, round(time.monotonic() - started, 3)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--rows", type=int, default=5000000)
    parser.add_argument("--batch-size", type=int, default=10000)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    os.makedirs(BENCH_DIR, exist_ok=True)
    work = tempfile.mkdtemp(prefix="purge-%d-" % os.getpid(), dir=BENCH_DIR)
    os.chmod(work, 0o755)
    cluster = None
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))
    try:
        cluster = wk_services.start_postgres(os.path.join(work, "pg"))
        db = "wkpurge"
        log("PostgreSQL %s on port %d, building %d rows" % (cluster.psql("SHOW server_version"), cluster.port, args.rows))
        build_s = build(cluster, db, args.rows)
        expected = int(cluster.psql("SELECT count(*) FROM events WHERE created_at < '%s'" % CUTOFF, dbname=db))
        log("built in %.1f s; %d rows past the horizon" % (build_s, expected))
        offset = log_lock_waits(cluster)
        workload = Workload(cluster, db, work, args.rows)
        workload.start()
        time.sleep(2)  # the workload's first round is running before the purge starts
        try:
            result, wall = purge(cluster, db, work, args.batch_size)
        finally:
            workload.finish()
        waits = lock_waits(cluster, offset)
        left = int(cluster.psql("SELECT count(*) FROM events WHERE created_at < '%s'" % CUTOFF, dbname=db))
        log("purge done in %.1f s (wall); bare DELETE on the copy ..." % wall)
        bare_rows, bare_s = bare_delete(cluster, db)
        table = result["database"]["tables"][0]
        probe = sorted(workload.probe_ms) or [0.0]
        report = {
            "rows": args.rows, "batch_size": args.batch_size, "build_s": build_s,
            "rows_deleted": result["database"]["rows_deleted"], "rows_expected": expected, "rows_left": left,
            "rows_per_s": result["database"]["rows_per_s"], "purge_s": result["database"]["duration_s"],
            "purge_wall_s": round(wall, 2), "batches": table["batches"], "lock_timeouts": table["lock_timeouts"],
            "max_lock_wait_ms": waits["max_ms"], "lock_waits_over_10ms": waits["waits_over_10ms"],
            "lock_wait_examples": waits["examples"], "purge_max_lock_wait_ms": waits["purge_max_ms"],
            "probe_max_ms": round(probe[-1], 1), "probe_p99_ms": round(probe[int(len(probe) * 0.99) - 1], 1),
            "probe_samples": len(workload.probe_ms), "probe_errors": workload.probe_errors[:5],
            "workload_errors": len(workload.errors) + len(workload.probe_errors),
            "workload_error_lines": workload.errors[:5], "pgbench_rounds": len(workload.rounds),
            "pgbench_latency": workload.latencies(),
            "bare_delete_rows": bare_rows, "bare_delete_s": bare_s,
            "bare_rows_per_s": round(bare_rows / bare_s, 1) if bare_s else None,
            "purge_over_bare": round(result["database"]["duration_s"] / bare_s, 2) if bare_s else None,
            "code": code_state(),
        }
        report["targets"] = {
            "rows_per_s_ge_50000": {"value": report["rows_per_s"], "met": (report["rows_per_s"] or 0) >= 50000},
            "no_workload_errors": {"value": report["workload_errors"], "met": report["workload_errors"] == 0},
            "max_lock_wait_le_200ms": {"value": report["max_lock_wait_ms"], "met": report["max_lock_wait_ms"] <= 200},
        }
        if args.json:
            print(json.dumps(report, indent=1))
        else:
            for key in ("rows_deleted", "rows_per_s", "purge_s", "purge_wall_s", "batches", "lock_timeouts",
                        "max_lock_wait_ms", "lock_waits_over_10ms", "probe_max_ms", "probe_p99_ms", "workload_errors",
                        "bare_delete_s", "bare_rows_per_s", "purge_over_bare"):
                print("%-20s %s" % (key, report[key]))
            print("pgbench latency      %s" % json.dumps(report["pgbench_latency"]))
            print("targets              %s" % json.dumps(report["targets"]))
        return 0
    finally:
        if cluster is not None:
            cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
