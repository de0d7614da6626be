"""Where the ``backup_pg`` bench runs: the project's venv, import paths, fixed names, logging, and facts
about the machine and the code being measured.

Importing this module has effects, in this order (they were the top of ``backup_pg.py``): it re-executes
the running script under the project's venv (``.venv/bin/python``; ansible-playbook, boto3,
google-cloud-storage and moto live there) unless it already runs there or ``WK_BENCH_NO_REEXEC`` is set,
then makes the collection importable as ``ansible_collections.watchkeeper.ops`` (through a symlink in
``.wk/dev`` when the tree is not already in an ``ansible_collections/watchkeeper/ops`` directory) and puts
``scripts/`` and ``tests/support/`` on ``sys.path`` (``wk_services``, ``ansible_run``).
"""

import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")

# Run under the project's venv (ansible-playbook, boto3, google-cloud-storage, moto live there).
if (os.path.realpath(sys.prefix) != os.path.realpath(VENV) and os.path.exists(os.path.join(VENV, "bin", "python"))
        and not os.environ.get("WK_BENCH_NO_REEXEC")):
    os.execv(os.path.join(VENV, "bin", "python"), [os.path.join(VENV, "bin", "python")] + sys.argv)


for _p in (os.path.join(ROOT, "scripts"), os.path.join(ROOT, "tests", "support")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import ansible_run  # noqa: E402  pylint: disable=wrong-import-position

COLLECTIONS_ROOT = ansible_run.collections_path()
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)

BENCH_DIR = os.path.join(ROOT, ".wk", "bench")
PG_DIR = os.path.join(BENCH_DIR, "pg")
RESULTS_DIR = os.path.join(ROOT, "bench", "results")
DB = "wkbench"
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret", "AWS_DEFAULT_REGION": "us-east-1"}


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def run(argv, check=True, **kwargs):
    """``subprocess.run`` that raises on a non-zero exit unless told otherwise."""
    return subprocess.run(argv, check=check, **kwargs)


def tool_version(argv, pick=None):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return None
    first = out.splitlines()[0] if out else ""
    return pick(out) if pick else first


def machine_info(bench):
    def first_field(path, key):
        try:
            with open(path) as handle:
                for line in handle:
                    if line.startswith(key):
                        return line.split(":", 1)[1].strip()
        except OSError:
            return None
        return None
    try:
        from ansible.release import __version__ as ansible_version
    except ImportError:
        ansible_version = None
    mem = first_field("/proc/meminfo", "MemTotal")
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": first_field("/proc/cpuinfo", "model name"),
        "mem_total": mem,
        "kernel": platform.release(),
        "debian_version": open("/etc/debian_version").read().strip() if os.path.exists("/etc/debian_version") else None,
        "python": platform.python_version(),
        "ansible_core": ansible_version,
        "postgresql_server": bench.cluster.psql("SHOW server_version"),
        "pg_dump": "%s (%s)" % (bench.pg_dump, bench.pg_dump_version),
        "zstd": tool_version(["zstd", "--version"]),
        "gpg": tool_version(["gpg", "--version"]),
        "libgcrypt": tool_version(["gpg", "--version"],
                                  lambda out: ([line for line in out.splitlines() if "libgcrypt" in line] or [None])[0]),
    }


def code_state():
    """Which code was measured: git HEAD, the changed files, and a hash of plugins/ as it is on disk."""
    import hashlib
    state = {}
    try:
        state["git_head"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True,
                                           check=False).stdout.strip() or None
        state["changed_files"] = [line[3:] for line in subprocess.run(
            ["git", "-C", ROOT, "status", "--porcelain", "--", "plugins"], capture_output=True, text=True,
            check=False).stdout.splitlines()]
    except OSError:
        pass
    digest = hashlib.sha256()
    for base, dirs, files in os.walk(os.path.join(ROOT, "plugins")):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                full = os.path.join(base, name)
                digest.update(os.path.relpath(full, ROOT).encode())
                with open(full, "rb") as handle:
                    digest.update(handle.read())
    state["plugins_sha256"] = digest.hexdigest()
    return state
