"""Benchmark: ``backup_info`` over 1 000 backups in one destination (target: < 2 s).

Writes N synthetic but valid backups (a small object, a schema-valid manifest and an index entry each, as the
backup module writes them) into a local directory, a moto S3 bucket and a GCS emulator bucket, then times, for
``listing: full`` and ``listing: index``:

* ``<listing>_module_s``: the whole ``backup_info`` task through real ``ansible-playbook``, warm (median of the
  calls after the first two; includes Ansible's own start-up and module transfer, over a second on its own);
* ``module_cold_s``: the first call with an empty cache (a full listing that reads every manifest);
* ``catalog_uncached_s``: the module's own work without cache (list + read and validate every manifest),
  in-process; ``<listing>_catalog_warm_s``: the same with a warm cache, in-process (no Ansible);
* ``ansible_noop_s``: the same playbook running ``ansible.builtin.ping``, to show Ansible's fixed cost.

Usage: .venv/bin/python bench/backup_info.py [--count 1000] [--runs 3] [--dests local,s3,gcs] [--json]
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import ansible_run  # noqa: E402  pylint: disable=wrong-import-position
import wk_services  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, ansible_run.collections_path())

from ansible_collections.watchkeeper.ops.plugins.module_utils import catalog  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage  # noqa: E402  pylint: disable=wrong-import-position
import wkbench_backups  # noqa: E402  pylint: disable=wrong-import-position

JOB = "bench-info"


def synthetic(count):
    """(key, bytes) pairs for ``count`` backups, one per hour going back from now."""
    return wkbench_backups.synthetic(JOB, count)


def fill(storage, count, workers=8):
    wkbench_backups.fill(storage, synthetic(count), workers)


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def timed_module(dest, runs, cache_dir, listing):
    """``(first call, median of the warm calls, listing used, count)``: the first call fills the cache (with the
    index listing the first call is a full listing, which the second makes use of)."""
    times, used, count = [], [], None
    for attempt in range(runs + 2):  # pylint: disable=unused-variable
        started = time.monotonic()
        result = ansible_run.run_module("watchkeeper.ops.backup_info", {"job": JOB, "destination": dest, "limit": 5,
                                                                        "cache_dir": cache_dir, "listing": listing})
        times.append(time.monotonic() - started)
        if result.failed:
            raise SystemExit("backup_info failed: %s" % result.get("msg"))
        used.append(result["listing"])
        count = result["count"]
    return times[0], median(times[2:]), used[-1], count


def timed_catalog(dest, runs, cache_dir=None, mode="full"):
    times = []
    for attempt in range(runs + (1 if cache_dir else 0)):  # pylint: disable=unused-variable
        storage = open_storage(dict(dest, name=dest["type"]))
        started = time.monotonic()
        found = catalog.read(storage, JOB, cache_dir=cache_dir, mode=mode)
        times.append(time.monotonic() - started)
        storage.close()
    if cache_dir:
        times = times[1:]
    return median(times), sum(1 for b in found.backups if b["valid"]), found.listing


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dests", default="local,s3,gcs", help="comma-separated subset of local,s3,gcs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="wk-bench-info-")
    servers = []
    report = {"count": args.count, "target_s": 2.0, "destinations": {}}
    try:
        os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret"})
        moto = wk_services.start_moto(os.path.join(work, "moto"))
        gcs = wk_services.start_gcs(os.path.join(work, "gcs"))
        servers += [moto, gcs]
        import boto3
        boto3.client("s3", endpoint_url=moto.info["endpoint"], region_name="us-east-1").create_bucket(Bucket="bench-info")
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage as gcs_storage
        gcs_storage.Client(project="bench", credentials=AnonymousCredentials(),
                           client_options={"api_endpoint": gcs.info["endpoint"]}).create_bucket("bench-info")
        os.makedirs(os.path.join(work, "local"))
        dests = {
            "local": {"type": "local", "path": os.path.join(work, "local")},
            "s3": {"type": "s3", "bucket": "bench-info", "endpoint_url": moto.info["endpoint"], "region": "us-east-1",
                   "access_key": "testing", "secret_key": "testing-secret"},
            "gcs": {"type": "gcs", "bucket": "bench-info", "endpoint_url": gcs.info["endpoint"], "anonymous": True, "project": "bench"},
        }
        started = time.monotonic()
        code, _data, _out, _err = ansible_run.run_playbook(_ping_playbook(work))
        noop = time.monotonic() - started
        report["ansible_noop_s"] = round(noop, 3)
        for name in args.dests.split(","):
            dest = dests[name]
            # The GCS emulator serves one request at a time: fill it sequentially.
            fill(open_storage(dict(dest, name=name)), args.count, 1 if name == "gcs" else 8)
            row = {}
            for listing in ("full", "index"):
                cache = os.path.join(work, "cache-%s-%s" % (name, listing))
                cold_s, module_s, used, count = timed_module(dest, args.runs, cache, listing)
                if used != listing:
                    raise SystemExit("listing %s used %s" % (listing, used))
                warm_s, valid, used = timed_catalog(dest, args.runs, os.path.join(work, "inproc-%s-%s" % (name, listing)),
                                                    listing)
                row.setdefault("module_cold_s", round(cold_s, 3))
                row.update({"%s_module_s" % listing: round(module_s, 3),
                            "%s_catalog_warm_s" % listing: round(warm_s, 3), "listed": count, "valid": valid})
            row["catalog_uncached_s"] = round(timed_catalog(dest, args.runs)[0], 3)
            row["met"] = row["index_module_s"] < 2.0
            report["destinations"][name] = row
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print("backup_info over %d backups (median of %d; target < 2 s; Ansible's own no-op play: %.2f s)"
              % (args.count, args.runs, report["ansible_noop_s"]))
        cols = ("module_cold_s", "full_module_s", "index_module_s", "catalog_uncached_s", "full_catalog_warm_s",
                "index_catalog_warm_s")
        print("%-6s %s %7s %5s" % ("dest", " ".join("%20s" % c for c in cols), "valid", "met"))
        for name, row in report["destinations"].items():
            print("%-6s %s %7d %5s" % (name, " ".join("%20.3f" % row[c] for c in cols), row["valid"], row["met"]))
    return 0


def _ping_playbook(work):
    path = os.path.join(work, "ping.yml")
    with open(path, "w") as handle:
        json.dump([{"hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
                    "tasks": [{"ansible.builtin.ping": {}}]}], handle)
    return path


if __name__ == "__main__":
    sys.exit(main())
