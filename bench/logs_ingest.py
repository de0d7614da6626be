"""Benchmark: central-log ingest through the logging role (rsyslog, RELP, disk-assisted queues) on a fleet.

A fleet of one collector and three clients (containers with systemd; the fleet image's Debian rsyslog and
rsyslog-relp), configured by ``playbooks/logging.yml``. Each client sends ``--count`` numbered messages as fast as
it can the way an application does: datagrams to ``/dev/log`` (journald; the role's default ``imjournal`` input reads
them from the journal), three clients at once. Two rounds:

* ``steady``: the collector runs throughout;
* ``outage``: the collector's rsyslog is stopped ``--outage`` seconds after the senders start, for ``--outage-s``
  seconds (default 60), then started again.

For each round: the send rate per client (what the application saw), the end-to-end throughput (all messages from
the first send to the last line written on the collector, messages/s), and the collector's counts per client (lines,
distinct numbers, duplicates). Target (reported, never asserted): exactly ``3 x count`` distinct numbers and no
duplicates in both rounds. journald's rate limit is off and the clients' queues keep 10 000 messages in memory.

    .venv/bin/python bench/logs_ingest.py [--count 100000] [--outage-s 60] [--json out.json]
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for sub in (("scripts",), ("tests", "support"), ("tests", "integration")):
    sys.path.insert(0, os.path.join(ROOT, *sub))

import ansible_run  # noqa: E402  pylint: disable=wrong-import-position
import logging_helpers as lh  # noqa: E402  pylint: disable=wrong-import-position
import wk_engine  # noqa: E402  pylint: disable=wrong-import-position
import wk_fleet  # noqa: E402  pylint: disable=wrong-import-position
import wk_images  # noqa: E402  pylint: disable=wrong-import-position

COLLECTOR = "col1"
CLIENTS = ("app1", "app2", "app3")
VARS = {"logging_install_packages": False, "logging_journald_ratelimit_burst": 0, "logging_queue_size": 10000,
        "logging_queue_resume_interval": 2}


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def configure(fleet, work):
    path = os.path.join(work, "vars.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(VARS, handle)
    playbook = os.path.join(ROOT, "playbooks", "logging.yml")
    env = {"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(work, "cp"), "ANSIBLE_ROLES_PATH": os.path.join(ROOT, "roles")}
    code, _data, out, err = ansible_run.run_playbook(playbook, inventory=fleet.inventory, env=env, args=("-e", "@" + path))
    if code != 0:
        raise SystemExit("playbooks/logging.yml failed:\n%s\n%s" % (out[-3000:], err[-2000:]))


def last_line_time(fleet, host, run):
    """Modification time of the collector's file for host (when its last line was written)."""
    out = fleet.exec(COLLECTOR, ["stat", "-c", "%.6Y", "%s/%s/wkbench.log" % (lh.ROOT, host)], check=False).stdout
    return float(out.strip().replace(",", ".")) if out.strip() else 0.0


def one_round(fleet, count, outage_s, timeout):
    run = uuid.uuid4().hex[:8]
    rates, threads = {}, []

    def send(host):
        rates[host] = float(fleet.exec(host, lh.send_argv("wkbench", run, 1, count), timeout=timeout).stdout)
    start = time.time()
    for host in CLIENTS:
        threads.append(threading.Thread(target=send, args=(host,)))
        threads[-1].start()
    if outage_s:
        time.sleep(1)
        lh.stop_collector(fleet, COLLECTOR)
        log("collector stopped for %ds" % outage_s)
        time.sleep(outage_s)
        lh.start_collector(fleet, COLLECTOR)
    for thread in threads:
        thread.join()
    deadline, counts = time.time() + timeout, {}
    while time.time() < deadline:
        counts = {host: lh.numbers(fleet, COLLECTOR, host, "wkbench", run) for host in CLIENTS}
        if all(distinct >= count for _total, distinct in counts.values()):
            break
        time.sleep(2)
    time.sleep(3)  # late duplicates
    counts = {host: lh.numbers(fleet, COLLECTOR, host, "wkbench", run) for host in CLIENTS}
    end = max(last_line_time(fleet, host, run) for host in CLIENTS)
    total = sum(t for t, _d in counts.values())
    distinct = sum(d for _t, d in counts.values())
    return {"run": run, "outage_s": outage_s, "send_rate_per_client": {h: round(r) for h, r in rates.items()},
            "end_to_end_s": round(end - start, 2), "throughput_msgs_per_s": round(len(CLIENTS) * count / (end - start)),
            "counts": {h: {"lines": t, "distinct": d, "duplicates": t - d} for h, (t, d) in counts.items()},
            "expected": len(CLIENTS) * count, "lines": total, "distinct": distinct, "duplicates": total - distinct,
            "exact": distinct == len(CLIENTS) * count and total == distinct}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--count", type=int, default=100000, help="messages per client")
    parser.add_argument("--outage-s", type=int, default=60, help="seconds the collector is stopped in round two")
    parser.add_argument("--timeout", type=int, default=900, help="seconds to wait for a round's messages")
    parser.add_argument("--json", help="write the report as JSON to this file")
    args = parser.parse_args()
    docker_host = wk_engine.ensure()
    os.environ["DOCKER_HOST"] = docker_host
    image = os.environ.get("WK_FLEET_IMAGE") or wk_images.build(docker_host=docker_host)["fleet"]
    fleet = wk_fleet.up(wk_fleet.parse_hosts(["%s:log_collector" % COLLECTOR] + ["%s:app" % h for h in CLIENTS]),
                        "bench-logs", owner_pid=os.getpid(), image=image, docker_host=docker_host)
    try:
        with tempfile.TemporaryDirectory(prefix="wk-bench-logs-") as work:
            log("configuring the fleet")
            configure(fleet, work)
            for host in CLIENTS:
                lh.install_sender(fleet, host)
            rounds = []
            for outage in (0, args.outage_s):
                log("round: %d messages x %d clients, outage %ds" % (args.count, len(CLIENTS), outage))
                rounds.append(one_round(fleet, args.count, outage, args.timeout))
                log(json.dumps(rounds[-1]))
    finally:
        fleet.down()
    report = {"bench": "logs_ingest", "at": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()), "cpus": os.cpu_count(),
              "count_per_client": args.count, "clients": len(CLIENTS), "rounds": rounds}
    print("%-8s %10s %12s %10s %10s %10s %8s" % ("round", "expected", "distinct", "lines", "dups", "msgs/s", "e2e s"))
    for r in rounds:
        print("%-8s %10d %12d %10d %10d %10d %8.1f" % ("outage" if r["outage_s"] else "steady", r["expected"], r["distinct"],
                                                       r["lines"], r["duplicates"], r["throughput_msgs_per_s"],
                                                       r["end_to_end_s"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)
    return 0 if all(r["exact"] for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
