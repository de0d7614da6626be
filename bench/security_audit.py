"""Benchmark: a full ``playbooks/security_audit.yml`` of one fleet host (issue 14: target <= 30 s).

One host of the fleet image (a container with systemd and sshd) with its PostgreSQL started and an nginx TLS site,
audited with every area that applies to a host: SSH, accounts, the world-writable walk of the system paths, sockets,
``apt-get -s upgrade``, nginx, PostgreSQL (a read-only session), Redis, secret files. Reported (median of
``--runs``, never asserted): ``playbook_s`` the wall time of ``ansible-playbook`` (SSH connection, Ansible's start-up
and the report task included) and ``module_s`` the module's own ``elapsed_s``; plus the walk's entry count.

    .venv/bin/python bench/security_audit.py [--runs 3] [--json]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for sub in (("tests", "support"), ("tests", "integration"), ("scripts",)):
    sys.path.insert(0, os.path.join(ROOT, *sub))

import ansible_run  # noqa: E402  pylint: disable=wrong-import-position
import wk_engine  # noqa: E402  pylint: disable=wrong-import-position
import wk_fleet  # noqa: E402  pylint: disable=wrong-import-position
import wk_images  # noqa: E402  pylint: disable=wrong-import-position
import fleet_helpers as fh  # noqa: E402  pylint: disable=wrong-import-position
import security_audit_helpers as sh  # noqa: E402  pylint: disable=wrong-import-position

HOST = "audit1"
TARGET_S = 30.0


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def audit_once(fleet, work, password):
    vars_file = fh.write_vars(os.path.join(work, "vars.json"), {
        "security_audit_report_dir": os.path.join(work, "ops_state"), "security_audit_no_log": False,
        "security_audit_postgres": {"login_host": "127.0.0.1", "login_user": sh.PG_AUDITOR, "login_password": password,
                                    "database": "app"}})
    playbook = os.path.join(ansible_run.collections_path(), "ansible_collections", "watchkeeper", "ops", "playbooks",
                            "security_audit.yml")
    started = time.monotonic()
    code, data, out, err = ansible_run.run_playbook(playbook, inventory=fleet.inventory, args=("-e", "@%s" % vars_file),
                                                    env={"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(work, "cp")})
    seconds = time.monotonic() - started
    if code != 0 or data is None:
        raise RuntimeError("audit failed (rc %s): %s %s" % (code, out[-2000:], err[-2000:]))
    task = [t for t in data["plays"][0]["tasks"] if t["task"]["name"].endswith("Audit the host")][0]
    result = task["hosts"][HOST]
    walk = [f["evidence"] for f in result["findings"] if f["id"] == "WK-FILE-001"][0]
    return seconds, result["elapsed_s"], result["counts"], walk


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    docker_host = wk_engine.ensure()
    os.environ["DOCKER_HOST"] = docker_host
    image = os.environ.get("WK_FLEET_IMAGE") or wk_images.build(docker_host=docker_host)["fleet"]
    fleet = wk_fleet.up(wk_fleet.parse_hosts(["%s:audit" % HOST]), "bench-secaudit", owner_pid=os.getpid(), image=image,
                        docker_host=docker_host)
    work = tempfile.mkdtemp(prefix="wk-bench-secaudit-")
    try:
        password = uuid.uuid4().hex
        fh.start_postgres(fleet, HOST, "app", uuid.uuid4().hex, 10)
        sh.postgres_auditor(fleet, HOST, fh.psql, password)
        sh.nginx_site(fleet, HOST, "bench", 365, "0600", "TLSv1.2 TLSv1.3", "HIGH:!aNULL:!MD5")
        runs = []
        for number in range(args.runs):
            runs.append(audit_once(fleet, work, password))
            log("run %d: playbook %.1f s, module %.1f s, %s" % (number + 1, runs[-1][0], runs[-1][1], runs[-1][2]))
    finally:
        fleet.down()
    out = {"playbook_s": round(statistics.median(r[0] for r in runs), 2), "module_s": round(statistics.median(r[1] for r in runs), 2),
           "runs": args.runs, "target_s": TARGET_S, "counts": runs[-1][2], "walk": runs[-1][3], "load": os.getloadavg()[0]}
    out["met"] = out["playbook_s"] <= TARGET_S
    if args.json:
        print(json.dumps(out))
    else:
        print("full security audit of one host: playbook %.1f s (median of %d), module %.1f s; target <= %.0f s: %s"
              % (out["playbook_s"], args.runs, out["module_s"], TARGET_S, "met" if out["met"] else "NOT met"))
        print("walk: %s" % out["walk"])


if __name__ == "__main__":
    main()
