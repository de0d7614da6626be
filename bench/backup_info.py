"""Benchmark: ``backup_info`` over 1 000 backups in one destination (target: < 2 s).

Writes N synthetic but valid backups (a small object plus a schema-valid manifest each) into a local
directory, a moto S3 bucket and a GCS emulator bucket, then times:

* ``module_s``: the whole ``backup_info`` task through real ``ansible-playbook``, warm (median of the calls after
  the first; includes Ansible's own start-up and module transfer, about a second on its own);
* ``module_cold_s``: the first call, which reads every manifest (and fills the manifest cache);
* ``catalog_uncached_s``: the module's own work without cache (list + read and validate every manifest),
  measured in-process;
* ``ansible_noop_s``: the same playbook running ``ansible.builtin.ping``, to show Ansible's fixed cost.

Usage: .venv/bin/python bench/backup_info.py [--count 1000] [--json]
"""

import argparse
import concurrent.futures
import datetime
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import ansible_run  # noqa: E402  pylint: disable=wrong-import-position
import wk_services  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, ansible_run.collections_path())

from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.catalog import read_catalog  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage  # noqa: E402  pylint: disable=wrong-import-position

JOB = "bench-info"


def synthetic(count):
    """(key, bytes) pairs for ``count`` backups, one per hour going back from now."""
    now = time.time()
    payload = os.urandom(2048)
    digest = hashlib.sha256(payload).hexdigest()
    for index in range(count):
        when = datetime.datetime.fromtimestamp(now - 3600 * index, datetime.timezone.utc)
        backup_id = "%s-%s" % (when.strftime("%Y%m%dT%H%M%SZ"), uuid.uuid4().hex[:8])
        key = mf.object_key(JOB, backup_id, "dump", ".pgdump.zst.gpg")
        doc = {"schema": mf.SCHEMA, "schema_version": 1, "backup_id": backup_id, "job": JOB, "status": "complete",
               "created_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "completed_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "source": {"kind": "postgres", "database": "app"}, "sizes": {"stored_bytes": len(payload)},
               "compression": {"algorithm": "zstd"}, "encryption": {"mode": "public_key"},
               "objects": [{"role": "dump", "key": key, "stored_bytes": len(payload), "sha256": digest}]}
        yield key, payload
        yield mf.manifest_key(JOB, backup_id), mf.dumps(doc)


def fill(storage, count, workers=8):
    items = list(synthetic(count))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda item: storage.put_bytes(item[0], item[1]), items))


def timed_module(dest, runs, cache_dir):
    """Median over ``runs`` warm calls (the first call, which fills the manifest cache, is reported apart)."""
    times, inner = [], []
    for attempt in range(runs + 1):  # pylint: disable=unused-variable
        started = time.monotonic()
        result = ansible_run.run_module("watchkeeper.ops.backup_info", {"job": JOB, "destination": dest, "limit": 5,
                                                                        "cache_dir": cache_dir})
        times.append(time.monotonic() - started)
        if result.failed:
            raise SystemExit("backup_info failed: %s" % result.get("msg"))
        inner.append(result["count"])
    warm = sorted(times[1:])
    return times[0], warm[len(warm) // 2], inner[0]


def timed_catalog(dest, runs):
    times = []
    for attempt in range(runs):  # pylint: disable=unused-variable
        storage = open_storage(dict(dest, name=dest["type"]))
        started = time.monotonic()
        backups, _incomplete = read_catalog(storage, JOB)
        times.append(time.monotonic() - started)
        storage.close()
    return sorted(times)[len(times) // 2], sum(1 for b in backups if b["valid"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
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
        for name, dest in dests.items():
            # The GCS emulator serves one request at a time: fill it sequentially.
            fill(open_storage(dict(dest, name=name)), args.count, 1 if name == "gcs" else 8)
            cold_s, module_s, count = timed_module(dest, args.runs, os.path.join(work, "cache-%s" % name))
            catalog_s, valid = timed_catalog(dest, args.runs)
            report["destinations"][name] = {"module_cold_s": round(cold_s, 3), "module_s": round(module_s, 3),
                                            "catalog_uncached_s": round(catalog_s, 3), "listed": count, "valid": valid,
                                            "met": module_s < 2.0}
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print("backup_info over %d backups (median of %d; target < 2 s; Ansible's own no-op play: %.2f s)"
              % (args.count, args.runs, report["ansible_noop_s"]))
        print("%-6s %14s %10s %19s %7s %5s" % ("dest", "module_cold_s", "module_s", "catalog_uncached_s", "valid", "met"))
        for name, row in report["destinations"].items():
            print("%-6s %14.3f %10.3f %19.3f %7d %5s" % (
                name, row["module_cold_s"], row["module_s"], row["catalog_uncached_s"], row["valid"], row["met"]))
    return 0


def _ping_playbook(work):
    path = os.path.join(work, "ping.yml")
    with open(path, "w") as handle:
        json.dump([{"hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
                    "tasks": [{"ansible.builtin.ping": {}}]}], handle)
    return path


if __name__ == "__main__":
    sys.exit(main())
