"""Benchmark: incremental file backups of a 20 000-file tree (DESIGN §8: after 1 % of the files change,
the next backup takes <= 20 % of the first and stores only what changed).

Builds a tree of small files of varied sizes (plus two 8 MiB files) once under a temp dir, then, through
real ``ansible-playbook``:

1. ``first_s``: the first incremental backup (everything read, hashed, packed, compressed, encrypted);
2. changes 1 % of the files (half rewritten, half new);
3. ``second_s``: the next backup (unchanged files are not read; only new chunks are packed);
4. ``unchanged_s``: one more backup with nothing changed.

Also reports the module's own ``timings.total_s`` for each, the bytes and objects each run added to the
destination, and ``full_s``: the same tree in ``mode: full`` (one tar), for comparison.

Usage: .venv/bin/python bench/backup_files.py [--files 20000] [--json]
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

import ansible_run  # noqa: E402  pylint: disable=wrong-import-position

WORDS = ("invoice customer upload report photo contract avatar export backup ledger receipt note "
         "draft summary order shipment refund coupon profile session").split()


def build_tree(top, count, seed=7):
    rng = random.Random(seed)
    paths = []
    for index in range(count):
        path = os.path.join(top, "u%03d" % (index % 200), "d%02d" % (index % 7), "f%05d.txt" % index)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        size = int(rng.paretovariate(1.2) * 800) % 60000 + 64
        text = " ".join(rng.choice(WORDS) for _word in range(size // 7 + 1))[:size]
        with open(path, "w") as handle:
            handle.write(text)
        paths.append(path)
    for name in ("video-a.bin", "video-b.bin"):
        with open(os.path.join(top, name), "wb") as handle:
            handle.write(os.urandom(8 * 1024 * 1024))
    return paths


def change(top, paths, fraction, seed=11):
    rng = random.Random(seed)
    count = max(1, int(len(paths) * fraction))
    changed = rng.sample(paths, count // 2)
    for path in changed:
        with open(path, "a") as handle:
            handle.write(" changed %d" % rng.randint(0, 10 ** 9))
    for index in range(count - len(changed)):
        path = os.path.join(top, "new", "n%05d.txt" % index)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write("new upload %d %s" % (index, " ".join(rng.choice(WORDS) for _word in range(200))))
    return count


def destination_state(dest):
    files = []
    for base, _dirs, names in os.walk(dest):
        files += [os.path.join(base, n) for n in names]
    return len(files), sum(os.path.getsize(f) for f in files)


def backup(job, tree, dest, state, pubkey, mode):
    args = {"job": job, "source": {"type": "files", "paths": [tree], "mode": mode},
            "encryption": {"mode": "public_key", "public_keys": [pubkey]},
            "destinations": [{"name": "local", "type": "local", "path": dest}], "ops_state": state}
    started = time.monotonic()
    result = ansible_run.run_module("watchkeeper.ops.backup", args)
    wall = time.monotonic() - started
    if result.failed:
        raise SystemExit("backup failed: %s" % result.get("msg"))
    return wall, result


def make_key(work):
    home = os.path.join(work, "gnupg")
    os.makedirs(home, mode=0o700)
    base = ["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(base + ["--quick-gen-key", "bench <bench@example.invalid>", "future-default", "default", "never"],
                   check=True, capture_output=True)
    pubkey = os.path.join(work, "pub.asc")
    with open(pubkey, "wb") as handle:
        handle.write(subprocess.run(base + ["--armor", "--export"], check=True, capture_output=True).stdout)
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], check=False, capture_output=True)
    return pubkey


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--fraction", type=float, default=0.01)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="wk-bench-files-")
    try:
        tree, dest, state = (os.path.join(work, n) for n in ("tree", "dest", "state"))
        os.makedirs(dest)
        paths = build_tree(tree, args.files)
        pubkey = make_key(work)
        report = {"files": args.files + 2, "fraction": args.fraction, "runs": {}}
        before = destination_state(dest)
        for label, mode in (("first", "incremental"), ("second", "incremental"), ("unchanged", "incremental"), ("full", "full")):
            if label == "second":
                report["changed_files"] = change(tree, paths, args.fraction)
            wall, result = backup("files-%s" % mode, tree, dest, state, pubkey, mode)
            after = destination_state(dest)
            files = result["manifest"].get("files", {})
            report["runs"][label] = {"wall_s": round(wall, 3), "module_total_s": result["timings"]["total_s"],
                                     "objects_added": after[0] - before[0], "bytes_added": after[1] - before[1],
                                     "read_bytes": files.get("read_bytes"), "new_bytes": files.get("new_bytes"),
                                     "new_packs": files.get("new_packs")}
            before = after
        runs = report["runs"]
        report["second_over_first"] = round(runs["second"]["wall_s"] / runs["first"]["wall_s"], 3)
        report["second_over_first_module"] = round(runs["second"]["module_total_s"] / runs["first"]["module_total_s"], 3)
        report["target"] = {"what": "second backup <= 0.2 x first", "met": report["second_over_first"] <= 0.2,
                            "met_module_total": report["second_over_first_module"] <= 0.2}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print("incremental file backups: %d files, %d changed (%.0f %%)"
              % (report["files"], report["changed_files"], args.fraction * 100))
        print("%-10s %8s %10s %8s %12s %12s" % ("run", "wall_s", "module_s", "objects", "bytes_added", "read_bytes"))
        for label, row in runs.items():
            print("%-10s %8.2f %10.2f %8d %12d %12s"
                  % (label, row["wall_s"], row["module_total_s"], row["objects_added"],
                     row["bytes_added"], row["read_bytes"]))
        print("second/first: %.3f wall, %.3f module (target <= 0.2)"
              % (report["second_over_first"], report["second_over_first_module"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
