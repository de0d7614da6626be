"""Benchmark: ``ops_dashboard`` generation, cold and warm, against what ``backup_info`` needs to list the same destinations.

Seeds, in a temporary work directory (``wkbench_dashseed``): 50 jobs x 3 local destinations x 1 000 backups each,
20 hosts x 288 health snapshots, 200 maintenance windows, 40 drill reports and an integrity sweep record per job.
Then measures, in one run and round-robin, ``--runs`` times (median reported, every run in ``*_raw_s``):

* ``backup_info_list_s``: ``catalog.read(storage, job, validate=True, cache_dir=None)`` for every job x destination,
  in-process, one after the other (= 150 ``backup_info`` calls without Ansible's start-up: what the cold target
  compares with); ``backup_info_list_parallel_s``: the same with 8 threads (information);
* ``cold_s``: the dashboard generation in-process (the ``module_utils/dashboard`` entry point the module calls, with its
  default ``listing: newest``) with an empty manifest cache into an empty site directory;
* ``warm_s``: the same again with the cache and the site the cold run left;
* ``cold_full_s`` / ``warm_full_s``: the same two with ``listing: full`` (every backup checked, as ``backup_info``);
* ``module``: once cold and once warm through the real module and ``ansible-playbook`` (wall time, for reference).

Targets (reported, never asserted): ``cold_s / backup_info_list_s <= 2``; ``warm_s <= 3``.

    .venv/bin/python bench/dashboards.py [--runs 3] [--quick] [--jobs N --backups N --hosts N] [--json] [--profile]

The OS page cache is warm for every measurement (the seed has just written the files, and each run reads them
again): "cold" means an empty manifest cache, not a cold disk, for the listing and the dashboard alike.
"""

import argparse
import concurrent.futures
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time

from wkbench_env import RESULTS_DIR, code_state, log  # first: re-executes under the venv, makes the collection importable
from wkbench_profile import LoadMeter, Ours, wait_quiet

import ansible_run
from ansible_collections.watchkeeper.ops.plugins.module_utils import catalog
from ansible_collections.watchkeeper.ops.plugins.module_utils.dashboard import generate as dash_generate, model, pages, site, sources
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage
import wkbench_dashseed

COLD_TARGET_RATIO = 2.0
WARM_TARGET_S = 3.0


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else None


def raw_name(name):
    return name[:-len("_s")] + "_raw_s"


def module_params(jobs, site_dir, ops_state, cache_dir, listing="newest"):
    """The ``ops_dashboard`` options of the bench (health_dir: the default, ``<ops_state>/health_snapshots``)."""
    return {"dest": site_dir, "ops_state": ops_state, "jobs": jobs, "cache_dir": cache_dir, "title": "Bench operations",
            "listing": listing,
            "time_zone": "Europe/Berlin", "inventory": "inventories/production", "stale_after": "15m"}


def summary(result):
    return {"changed": result.get("changed"), "reason": result.get("reason"), "status": result.get("status"),
            "files": len(result.get("files") or []), "timings": result.get("timings")}


class PhaseTimer(object):
    """Wall time per step of one generation, by wrapping the functions ``generate`` calls (restored on exit)."""

    STEPS = ((sources, ("windows", "incidents", "drills", "runbooks", "list_backups", "sweeps", "health")),
             (model, ("build",)), (pages, ("render",)), (site, ("publish",)))

    def __init__(self):
        self.seconds, self.saved = {}, []

    def _wrap(self, name, func):
        def timed(*args, **kwargs):
            started = time.monotonic()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[name] = round(self.seconds.get(name, 0.0) + time.monotonic() - started, 3)
        return timed

    def __enter__(self):
        for module, names in self.STEPS:
            for name in names:
                func = getattr(module, name, None)
                if func is None:  # not (or no longer) a step of generate: nothing to time
                    continue
                self.saved.append((module, name, func))
                setattr(module, name, self._wrap("%s.%s" % (module.__name__.rsplit(".", 1)[-1], name), func))
        return self

    def __exit__(self, *exc):
        for module, name, func in self.saved:
            setattr(module, name, func)
        return False


def median_phases(runs):
    names = []
    for run in runs:
        names += [n for n in run if n not in names]
    return dict((name, median([run.get(name, 0.0) for run in runs])) for name in names)


def list_all(jobs, threads=1):
    """What ``backup_info`` does for every job and destination (uncached, validated); returns the backups listed."""
    def one(job, spec):
        storage = open_storage(dict(spec))
        try:
            return len(catalog.read(storage, job, validate=True, cache_dir=None).backups)
        finally:
            storage.close()
    tasks = [(job["name"], spec) for job in jobs for spec in job["destinations"]]
    if threads == 1:
        return sum(one(name, spec) for name, spec in tasks)
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(lambda task: one(*task), tasks))


class Runner(object):
    def __init__(self, args, work, jobs):
        self.args, self.work, self.jobs = args, work, jobs
        self.ours = Ours()
        self.raw, self.load, self.phases, self.notes = {}, [], {}, {}

    def timed(self, name, func):
        wait_quiet(self.args.quiet_wait, self.args.quiet_threshold)
        meter = LoadMeter(self.ours).start()
        started = time.monotonic()
        value = func()
        seconds = time.monotonic() - started
        load = meter.stop()
        self.raw.setdefault(name, []).append(round(seconds, 3))
        self.load.append(dict(load, measurement=name, seconds=round(seconds, 3)))
        log("%-28s %7.2f s  (bench CPU %.1f s, other processes %.0f %% of the machine)"
            % (name, seconds, load["bench_cpu_s"], load["foreign_pct"]))
        return value

    def dashboard(self, name, site_dir, cache, listing="newest"):
        timer = PhaseTimer()
        with timer:
            result = self.timed(name, lambda: dash_generate.generate(self.params(site_dir, cache, listing)))
        self.phases.setdefault(name, []).append(timer.seconds)
        self.notes.setdefault(name, []).append(summary(result))

    def params(self, site_dir, cache, listing="newest"):
        return module_params(self.jobs, site_dir, os.path.join(self.work, "ops_state"), cache, listing)

    def module_args(self, site_dir, cache):
        """The same for the module: the destinations once, each job naming none (= listed in every destination)."""
        args = self.params(site_dir, cache)
        specs = []
        for job in self.jobs:
            specs += [spec for spec in job["destinations"] if spec not in specs]
        args.update(destinations=specs, jobs=[dict((k, v) for k, v in job.items() if k != "destinations") for job in self.jobs])
        return args

    def run(self):
        for number in range(self.args.runs):
            log("run %d/%d" % (number + 1, self.args.runs))
            listed = self.timed("backup_info_list_s", lambda: list_all(self.jobs))
            self.notes["listed_backups"] = listed
            if not self.args.no_parallel:
                self.timed("backup_info_list_parallel_s", lambda: list_all(self.jobs, threads=8))
            site_dir, cache = tempfile.mkdtemp(prefix="site-", dir=self.work), tempfile.mkdtemp(prefix="cache-", dir=self.work)
            self.dashboard("cold_s", site_dir, cache)
            self.dashboard("warm_s", site_dir, cache)
            shutil.rmtree(site_dir)
            shutil.rmtree(cache)
            if not self.args.no_full:
                site_dir, cache = tempfile.mkdtemp(prefix="site-", dir=self.work), tempfile.mkdtemp(prefix="cache-", dir=self.work)
                self.dashboard("cold_full_s", site_dir, cache, "full")
                self.dashboard("warm_full_s", site_dir, cache, "full")
                shutil.rmtree(site_dir)
                shutil.rmtree(cache)

    def module(self):
        """Once cold, once warm through ansible-playbook (reference: Ansible's start-up and result handling included)."""
        site_dir, cache = tempfile.mkdtemp(prefix="site-", dir=self.work), tempfile.mkdtemp(prefix="cache-", dir=self.work)
        out = {}
        for name in ("cold", "warm"):
            started = time.monotonic()
            result = ansible_run.run_module("watchkeeper.ops.ops_dashboard", self.module_args(site_dir, cache))
            seconds = time.monotonic() - started
            if result.failed:
                raise SystemExit("ops_dashboard failed: %s" % result.get("msg"))
            out[name + "_s"] = round(seconds, 3)
            out[name + "_changed"] = result.get("changed")
            log("module through ansible-playbook, %s: %.2f s (changed: %s)" % (name, seconds, result.get("changed")))
        return out

    def profile(self):
        """cProfile of one cold and one warm generation (not timed): the functions with the most cumulative time."""
        site_dir, cache = tempfile.mkdtemp(prefix="site-", dir=self.work), tempfile.mkdtemp(prefix="cache-", dir=self.work)
        out = {}
        for name in ("cold", "warm"):
            prof = cProfile.Profile()
            prof.enable()
            dash_generate.generate(self.params(site_dir, cache))
            prof.disable()
            text = io.StringIO()
            pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(self.args.profile_lines)
            out[name] = text.getvalue()
        return out


def report(runner, counts, args):
    raw = runner.raw
    doc = {"scale": counts, "runs": args.runs, "code": code_state(),
           "machine": {"nproc": len(os.sched_getaffinity(0)), "python": sys.version.split()[0]}}
    for name, values in raw.items():
        doc[name] = median(values)
        doc[raw_name(name)] = values
    doc["listed_backups"] = runner.notes.get("listed_backups")
    doc["phases_s"] = dict((name, median_phases(values)) for name, values in runner.phases.items())
    doc["results"] = dict((name, runner.notes[name][-1]) for name in ("cold_s", "warm_s", "cold_full_s", "warm_full_s")
                          if name in runner.notes)
    cold, listing, warm = doc.get("cold_s"), doc.get("backup_info_list_s"), doc.get("warm_s")
    ratio = round(cold / listing, 3) if cold and listing else None
    cold_full = doc.get("cold_full_s")
    doc["ratios"] = {"cold_over_backup_info_list": ratio,
                     "cold_full_over_backup_info_list": round(cold_full / listing, 3) if cold_full and listing else None}
    doc["targets"] = {"cold_over_backup_info_list": {"value": ratio, "target": "<= %g" % COLD_TARGET_RATIO,
                                                     "met": ratio is not None and ratio <= COLD_TARGET_RATIO},
                      "warm_s": {"value": warm, "target": "<= %g" % WARM_TARGET_S, "met": warm is not None and warm <= WARM_TARGET_S}}
    doc["load"] = runner.load
    doc["contended"] = [row for row in runner.load if row["foreign_pct"] > args.max_foreign]
    return doc


def table(doc):
    lines = ["ops_dashboard: %(jobs)s jobs x %(destinations)s destinations x %(backups_per_job)s backups" % doc["scale"]
             + ", %(hosts)s hosts x %(snapshots_per_host)s snapshots, %(n_windows)s windows, %(drills)s drills" % doc["scale"],
             "%-32s %10s   %s" % ("measurement", "median s", "runs (s)")]
    for name in ("backup_info_list_s", "backup_info_list_parallel_s", "cold_s", "warm_s", "cold_full_s", "warm_full_s"):
        if name in doc:
            lines.append("%-32s %10.3f   %s" % (name, doc[name], " ".join("%.2f" % v for v in doc[raw_name(name)])))
    if doc.get("module"):
        lines.append("module through ansible-playbook: cold %(cold_s).2f s (changed: %(cold_changed)s), "
                     "warm %(warm_s).2f s (changed: %(warm_changed)s)" % doc["module"])
    for name, phases in doc["phases_s"].items():
        lines.append("phases of %s: %s" % (name, ", ".join("%s %.2f" % kv for kv in phases.items())))
    for name, target in doc["targets"].items():
        lines.append("target %-30s value %-8s %-8s met: %s" % (name, target["value"], target["target"], target["met"]))
    if doc["contended"]:
        lines.append("WARNING: %d measurements ran while other processes used > %s %% of the machine"
                     % (len(doc["contended"]), "%g" % doc.get("max_foreign", 10)))
    return "\n".join(lines)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--backups", type=int, default=1000, help="backups per job and destination")
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--snapshots", type=int, default=288, help="health snapshots per host")
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--drills", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 jobs x 100 backups, 5 hosts, 1 run")
    parser.add_argument("--work", help="seed into (or reuse a seed of the same scale in) this directory; kept afterwards")
    parser.add_argument("--no-module", action="store_true", help="skip the two ansible-playbook runs")
    parser.add_argument("--no-parallel", action="store_true", help="skip the 8-thread listing row")
    parser.add_argument("--no-full", action="store_true", help="skip the two generations with listing: full")
    parser.add_argument("--profile", action="store_true", help="add a cProfile of one cold and one warm generation")
    parser.add_argument("--profile-lines", type=int, default=30)
    parser.add_argument("--quiet-wait", type=float, default=30, help="wait at most this long for an idle machine")
    parser.add_argument("--quiet-threshold", type=float, default=25, help="idle: busy below this %% of all cores")
    parser.add_argument("--max-foreign", type=float, default=10, help="flag runs where others used more %% than this")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout (progress on stderr)")
    parser.add_argument("--save", default="auto", help="also write the JSON here (auto: bench/results/dashboards-<date>.json; none)")
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.backups, args.hosts, args.runs = 5, 100, 5, 1
    return args


def main():
    args = parse_args()
    work = args.work or tempfile.mkdtemp(prefix="wk-bench-dashboards-")
    os.makedirs(work, exist_ok=True)
    try:
        scale = {"jobs": args.jobs, "backups": args.backups, "hosts": args.hosts, "snapshots_per_host": args.snapshots,
                 "windows": args.windows, "drills": args.drills}
        seeded = wkbench_dashseed.load(work)
        if seeded and seeded[1].get("scale") == scale:
            now, counts, jobs = seeded
            log("reusing the seed in %s (%s)" % (work, time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(now))))
        else:
            if os.listdir(work):
                raise SystemExit("%s holds something else than a seed of this scale: give an empty or new --work" % work)
            log("seeding %s: %s" % (work, scale))
            seed = wkbench_dashseed.Seed(work, time.time(), jobs=args.jobs, backups=args.backups, hosts=args.hosts,
                                         snapshots_per_host=args.snapshots, windows=args.windows, drills=args.drills, log=log)
            counts = seed.run(scale)
            jobs = seed.jobs
        runner = Runner(args, work, jobs)
        runner.run()
        doc = report(runner, dict(counts, n_windows=args.windows), args)
        doc["max_foreign"] = args.max_foreign
        if not args.no_module:
            doc["module"] = runner.module()
        if args.profile:
            doc["profile"] = runner.profile()
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    if args.save != "none":
        path = args.save if args.save != "auto" else os.path.join(
            RESULTS_DIR, "dashboards-%s.json" % time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime()))
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as handle:
            json.dump(doc, handle, indent=2)
        log("saved %s" % path)
    if args.json:
        print(json.dumps(doc, indent=2))
        sys.stderr.write(table(doc) + "\n")
    else:
        print(table(doc))
        for name, text in (doc.get("profile") or {}).items():
            print("\n--- cProfile, %s generation ---\n%s" % (name, text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
