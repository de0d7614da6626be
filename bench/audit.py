"""Benchmark of the audit trail (issue 14): the callback's cost on a run, and audit_verify against sha256sum.

* ``playbook``: a 500-task play over 3 hosts (``local`` connection aliases ``h1``..``h3``) of controller-side
  tasks (``debug`` and ``set_fact`` alternating: the cheapest tasks there are, so the callback's share is as large
  as it can be), run by real ``ansible-playbook`` without and with ``watchkeeper.ops.audit`` (spool, HMAC
  checkpoint at the end, shipping to a directory), round-robin, ``--runs`` times each (median reported). Every
  run with the callback appends 1 + 1500 + 1 records with an fsync each.
  ``overhead_pct = (median_with / median_without - 1) * 100``; target <= 3 %.
* ``verify``: a trail of ``--records`` records (default 1 000 000) of the size of real task records, written in
  segments of 10 000 records sealed by the real spool; then ``sha256sum`` over every segment file, the chain walk
  in-process (``verify()``), and the ``audit_verify`` module through ``ansible-playbook`` (wall time, Ansible's
  start-up included), each ``--runs`` times (median, warm page cache). Targets: module <= 10 s and <= 2 x
  ``sha256sum``.

Targets are reported, never asserted. Work files go to ``.wk/bench/audit-<pid>`` and are removed at the end.

    .venv/bin/python bench/audit.py [--runs 5] [--records 1000000] [--tasks 500] [--skip-playbook] [--skip-verify] [--json]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

import ansible_run  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, ansible_run.collections_path())

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import record  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.sign import HmacSigner, Verifier  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.spool import Spool, seg_name  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.verify import verify  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.local import LocalStorage  # noqa: E402  pylint: disable=wrong-import-position

KEY = b"wk-bench-audit-checkpoint-key-32"
SEGMENT = 10000


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def write_playbook(work, tasks):
    body = []
    for i in range(tasks):
        if i % 2:
            body.append({"name": "fact %d" % i, "ansible.builtin.set_fact": {"wk_fact_%d" % (i % 10): "{{ inventory_hostname }}-%d" % i}})
        else:
            body.append({"name": "debug %d" % i, "ansible.builtin.debug": {"msg": "task %d on {{ inventory_hostname }}" % i}, "changed_when": False})
    path = os.path.join(work, "play.yml")
    with open(path, "w") as handle:
        json.dump([{"hosts": "all", "gather_facts": False, "tasks": body}], handle)
    inventory = os.path.join(work, "hosts.ini")
    with open(inventory, "w") as handle:
        for host in ("h1", "h2", "h3"):
            handle.write("%s ansible_connection=local ansible_python_interpreter=%s\n" % (host, sys.executable))
    return path, inventory


def run_play(path, inventory, work, audited, number):
    env = ansible_run.ansible_env({"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.null", "ANSIBLE_FORKS": "5"})
    if audited:
        env.update({"ANSIBLE_CALLBACKS_ENABLED": "watchkeeper.ops.audit", "WATCHKEEPER_AUDIT_SPOOL": os.path.join(work, "spool"),
                    "WATCHKEEPER_AUDIT_HMAC_KEY_FILE": os.path.join(work, "ck.key"),
                    "WATCHKEEPER_AUDIT_SHIP_DIR": os.path.join(work, "shipped")})
    started = time.monotonic()
    proc = subprocess.run([os.path.join(ansible_run.BIN, "ansible-playbook"), "-i", inventory, path], env=env,
                          capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode:
        raise SystemExit("run %d failed: %s" % (number, (proc.stdout + proc.stderr)[-2000:]))
    return elapsed


def bench_playbook(work, runs, tasks):
    with open(os.path.join(work, "ck.key"), "w") as handle:
        handle.write(KEY.hex() + "\n")
    path, inventory = write_playbook(work, tasks)
    run_play(path, inventory, work, False, 0)  # warm-up: imports, page cache
    plain, audited = [], []
    for number in range(runs):
        plain.append(run_play(path, inventory, work, False, number))
        audited.append(run_play(path, inventory, work, True, number))
        log("playbook run %d: without %.2f s, with %.2f s" % (number + 1, plain[-1], audited[-1]))
    without, with_cb = statistics.median(plain), statistics.median(audited)
    storage = LocalStorage({"type": "local", "path": os.path.join(work, "shipped")})
    check = verify(storage, "audit", Verifier([KEY]), sealed_only=True)
    return {"tasks": tasks, "hosts": 3, "runs": runs, "without_s": round(without, 3), "with_s": round(with_cb, 3),
            "overhead_pct": round((with_cb / without - 1) * 100, 2), "raw_without_s": [round(x, 3) for x in plain],
            "raw_with_s": [round(x, 3) for x in audited], "records_written": check["records"], "trail_ok": check["ok"],
            "target_overhead_pct": 3}


def task_data(i):
    """A record of the size and shape of a real task result record."""
    return {"event": "task", "run": "2bf8dba8-4553-44dd-9e2a-cab31598de04", "task": "watchkeeper.ops.backup : Back up job %d" % i,
            "host": "db%d.example.internal" % (i % 50), "outcome": "changed" if i % 7 else "ok", "changed": bool(i % 7),
            "failed": False, "skipped": False, "unreachable": False, "action": "watchkeeper.ops.backup", "check_mode": False,
            "diff_bytes": 0, "args_source": "invocation",
            "args": {name: "hmac-sha256:%064x" % (i * 31 + n) for n, name in enumerate(("job", "source", "destinations", "encryption", "ops_state"))}}


def build_trail(spool_dir, records):
    spool = Spool(spool_dir, hostname="bench-controller")
    chain = spool.open()
    signer = HmacSigner(KEY)
    prev, seq, ts = record.GENESIS, 0, record.fmt_ts(record.utc_now())
    size = 0
    while seq < records:
        first = seq + 1
        lines = []
        for _number in range(min(SEGMENT, records - seq)):
            seq += 1
            line, prev = record.make_record(chain, seq, prev, task_data(seq), ts)
            lines.append(line)
        data = b"".join(lines)
        size += len(data)
        with open(spool.path(seg_name(first)), "wb") as handle:
            handle.write(data)
        spool.seal(signer, "bench")
    spool.close()
    return chain, size


def bench_verify(work, runs, records):
    spool_dir = os.path.join(work, "trail")
    log("writing a trail of %d records" % records)
    chain, size = build_trail(spool_dir, records)
    seg_dir = os.path.join(spool_dir, chain, "segments")
    files = sorted(os.path.join(seg_dir, n) for n in os.listdir(seg_dir))
    storage = LocalStorage({"type": "local", "path": spool_dir})
    args = {"destination": {"type": "local", "path": spool_dir}, "prefix": "", "hmac_key_files": [os.path.join(work, "ck.key")]}
    with open(os.path.join(work, "ck.key"), "w") as handle:
        handle.write(KEY.hex() + "\n")
    subprocess.run(["cat"] + files, stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    sums, walks, modules = [], [], []
    for number in range(runs):
        started = time.monotonic()
        subprocess.run(["sha256sum"] + files, stdout=subprocess.DEVNULL, check=True)
        sums.append(time.monotonic() - started)
        started = time.monotonic()
        result = verify(storage, "", Verifier([KEY]))
        walks.append(time.monotonic() - started)
        assert result["ok"] and result["records"] == records, result["first_break"]
        started = time.monotonic()
        out = ansible_run.run_module("watchkeeper.ops.audit_verify", args)
        modules.append(time.monotonic() - started)
        assert out.get("ok") and out.get("records") == records, out.get("msg")
        log("verify run %d: sha256sum %.2f s, walk %.2f s, module %.2f s" % (number + 1, sums[-1], walks[-1], modules[-1]))
    sha, walk, module = statistics.median(sums), statistics.median(walks), statistics.median(modules)
    return {"records": records, "bytes": size, "segments": len(files), "sha256sum_s": round(sha, 3), "walk_s": round(walk, 3),
            "module_s": round(module, 3), "module_vs_sha256sum": round(module / sha, 2), "walk_vs_sha256sum": round(walk / sha, 2),
            "raw_sha256sum_s": [round(x, 3) for x in sums], "raw_walk_s": [round(x, 3) for x in walks],
            "raw_module_s": [round(x, 3) for x in modules], "target_module_s": 10, "target_ratio": 2}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--records", type=int, default=1000000)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--skip-playbook", action="store_true")
    parser.add_argument("--skip-verify", action="store_true")
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    work = os.path.join(ROOT, ".wk", "bench", "audit-%d" % os.getpid())
    os.makedirs(work)
    out = {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    try:
        if not opts.skip_playbook:
            out["playbook"] = bench_playbook(work, opts.runs, opts.tasks)
        if not opts.skip_verify:
            out["verify"] = bench_verify(work, opts.runs, opts.records)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["load_after"] = os.getloadavg()[0]
    if opts.json:
        print(json.dumps(out, indent=1))
        return
    if "playbook" in out:
        p = out["playbook"]
        print("playbook %d tasks x %d hosts: without %.2f s, with callback %.2f s: overhead %.2f %% (target <= 3 %%)"
              % (p["tasks"], p["hosts"], p["without_s"], p["with_s"], p["overhead_pct"]))
    if "verify" in out:
        v = out["verify"]
        print("verify %d records (%.0f MB): sha256sum %.2f s, walk %.2f s (%.2fx), audit_verify module %.2f s (%.2fx); "
              "targets <= 10 s and <= 2x" % (v["records"], v["bytes"] / 1e6, v["sha256sum_s"], v["walk_s"], v["walk_vs_sha256sum"],
                                             v["module_s"], v["module_vs_sha256sum"]))


if __name__ == "__main__":
    main()
