"""Benchmark: ``health_facts`` against ``ansible.builtin.setup``, and ``pg_insights`` on the 1.4 GB database.

Each measurement is one task through real ``ansible-playbook`` on localhost (wall time, Ansible's start-up
included), run ``--runs`` times round-robin (median reported):

* ``setup_s``: ``ansible.builtin.setup`` (all facts), the module every play runs first;
* ``health_s``: ``watchkeeper.ops.health_facts`` with its defaults (a 0.5 s CPU sample, every mount);
* ``health_pg_s``: ``health_facts`` and then ``pg_insights`` (all sections) on the benchmark's database, one play;
* ``insights_s``: ``pg_insights`` alone; ``insights_module_s`` its own ``duration_s``;
* ``ping_s``: ``ansible.builtin.ping``: Ansible's fixed cost.

Targets (reported, never asserted): ``health_s / setup_s <= 1.5``; ``insights_module_s <= 2`` on the cached
1.4 GB database (``bench/backup_pg.py --build-only`` builds it). The cluster ``.wk/bench/pg`` is started and stopped
again at the end.

    .venv/bin/python bench/health.py [--runs 5] [--json]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

import ansible_run  # noqa: E402  pylint: disable=wrong-import-position

PG_DIR = os.path.join(ROOT, ".wk", "bench", "pg")
SERVICES = [sys.executable, os.path.join(ROOT, "scripts", "wk_services.py"), "postgres"]


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def play(tasks):
    """Run ``tasks`` on localhost in one ansible-playbook; returns (wall seconds, [task results])."""
    body = [{"hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": [dict(task, register="r%d" % i) for i, task in enumerate(tasks)]}]
    fd, path = tempfile.mkstemp(suffix=".yml", prefix="wk-bench-health-")
    with os.fdopen(fd, "w") as handle:
        json.dump(body, handle)
    try:
        started = time.monotonic()
        code, data, out, err = ansible_run.run_playbook(path)
        seconds = time.monotonic() - started
    finally:
        os.unlink(path)
    if code != 0 or data is None:
        raise RuntimeError("play failed (rc %s): %s %s" % (code, out[-2000:], err[-2000:]))
    return seconds, [task["hosts"]["localhost"] for task in data["plays"][0]["tasks"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(PG_DIR, "data")):
        sys.exit("no cached benchmark database in %s: run bench/backup_pg.py --build-only first" % PG_DIR)
    subprocess.run(SERVICES + ["start", "--dir", PG_DIR], check=True, stdout=subprocess.DEVNULL)
    try:
        with open(os.path.join(PG_DIR, "cluster.json"), encoding="utf-8") as handle:
            cluster = json.load(handle)
        connection = {"login_host": "127.0.0.1", "login_port": cluster["port"], "login_user": "postgres",
                      "passfile": os.path.join(PG_DIR, "pgpass"), "database": "wkbench"}
        health = {"name": "health", "watchkeeper.ops.health_facts": {}}
        insights = {"name": "insights", "watchkeeper.ops.pg_insights": {"connection": connection}}
        plan = [("ping", [{"name": "ping", "ansible.builtin.ping": {}}]),
                ("setup", [{"name": "setup", "ansible.builtin.setup": {}}]),
                ("health", [health]), ("insights", [insights]), ("health_pg", [health, insights])]
        raw = dict((name, []) for name, _tasks in plan)
        module = {"health": [], "insights": []}
        play([{"name": "warm-up", "ansible.builtin.ping": {}}])
        for index in range(args.runs):
            for name, tasks in plan:
                seconds, results = play(tasks)
                raw[name].append(round(seconds, 3))
                for res in results:
                    if "health" in res:
                        module["health"].append(res["health"]["elapsed_s"])
                    if "insights" in res:
                        module["insights"].append(res["insights"]["duration_s"])
                log("round %d/%d: %s %.2fs" % (index + 1, args.runs, name, seconds))
    finally:
        subprocess.run(SERVICES + ["stop", "--dir", PG_DIR], check=False, stdout=subprocess.DEVNULL)
    med = dict(("%s_s" % name, statistics.median(values)) for name, values in raw.items())
    med["health_module_s"] = statistics.median(module["health"])
    med["insights_module_s"] = statistics.median(module["insights"])
    rep = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": args.runs, "nproc": os.cpu_count(),
           "medians": med, "raw_s": raw,
           "ratios": {"health_over_setup": round(med["health_s"] / med["setup_s"], 3),
                      "health_pg_over_setup": round(med["health_pg_s"] / med["setup_s"], 3)},
           "targets": {"health_le_1.5x_setup": med["health_s"] / med["setup_s"] <= 1.5,
                       "insights_module_le_2s": med["insights_module_s"] <= 2.0}}
    if args.json:
        print(json.dumps(rep, indent=1))
        return
    print("\nhealth benchmark %s  nproc=%s  runs=%d (median, ansible-playbook wall)\n" % (rep["date"], rep["nproc"], args.runs))
    for key in ("ping_s", "setup_s", "health_s", "insights_s", "health_pg_s", "health_module_s", "insights_module_s"):
        print("%-20s %7.3f  %s" % (key, med[key], " ".join("%.2f" % v for v in raw.get(key[:-2], []))))
    ratios, targets = rep["ratios"], rep["targets"]
    print("\nhealth / setup        %.3f  (target <= 1.5: %s)" % (ratios["health_over_setup"], targets["health_le_1.5x_setup"]))
    print("health+pg / setup     %.3f" % rep["ratios"]["health_pg_over_setup"])
    print("insights module       %.3f s (target <= 2 s: %s)" % (med["insights_module_s"], targets["insights_module_le_2s"]))


if __name__ == "__main__":
    main()
