# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test fleet itself (scripts/wk_fleet.py): SSH hosts with systemd, isolation, cut/crash/heal,
and ``down`` that leaves nothing behind, also after the process that ran ``up`` was killed."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

import ansible_run
import wk_fleet


SCRIPT = os.path.join(ansible_run.ROOT, "scripts", "wk_fleet.py")


def _ansible(fleet, pattern, module, args=None, timeout=120):
    """An ad-hoc ``ansible`` run over SSH; returns {host: result} from the json callback."""
    argv = [os.path.join(ansible_run.BIN, "ansible"), pattern, "-i", fleet.inventory, "-m", module]
    if args:
        argv += ["-a", args]
    proc = subprocess.run(argv, env=ansible_run.ansible_env({"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"}),
                          capture_output=True, text=True, timeout=timeout, check=False)
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    return {host: res for play in data["plays"] for task in play["tasks"] for host, res in task["hosts"].items()}


def _owned(docker_host, name, kind):
    listing = ["ps", "-a"] if kind == "container" else ["network", "ls"]
    return wk_fleet.docker(*listing, "-q", "--filter", "label=wk.fleet=%s" % name, docker_host=docker_host).stdout.split()


@pytest.fixture(scope="module")
def three(fleet_factory):
    return fleet_factory(["h1:web", "h2:web", "h3:db"])


def test_three_hosts_answer_over_ssh_with_systemd_running(three):
    results = _ansible(three, "all", "ansible.builtin.setup", "gather_subset=min")
    assert sorted(results) == ["h1", "h2", "h3"]
    assert all(not r.get("unreachable") and not r.get("failed") for r in results.values()), results
    hostnames = {h: r["ansible_facts"]["ansible_hostname"] for h, r in results.items()}
    assert hostnames == {"h1": "h1", "h2": "h2", "h3": "h3"}
    assert {r["ansible_facts"]["ansible_service_mgr"] for r in results.values()} == {"systemd"}
    for host in three.hosts:
        assert three.exec(host, ["systemctl", "is-system-running"], check=False).stdout.strip() == "running"
    # The groups of the spec are inventory groups.
    web = _ansible(three, "web", "ansible.builtin.ping")
    assert sorted(web) == ["h1", "h2"]


def test_hosts_do_not_share_files_with_each_other_or_the_machine(three):
    marker = "/root/wk-marker-%s" % uuid.uuid4().hex
    results = _ansible(three, "h1", "ansible.builtin.copy", "dest=%s content=h1-only mode=0600" % marker)
    assert results["h1"]["changed"]
    assert three.exec("h1", ["cat", marker]).stdout == "h1-only"
    for other in ("h2", "h3"):
        assert three.exec(other, ["test", "-e", marker], check=False).returncode == 1
    assert not os.path.exists(marker)


def test_hosts_reach_each_other_by_name_and_the_machine_at_the_gateway(three):
    assert three.exec("h1", ["ping", "-c", "1", "-W", "2", "h2"], check=False).returncode == 0
    assert three.exec("h3", ["ping", "-c", "1", "-W", "2", three.gateway], check=False).returncode == 0


def test_cut_makes_a_host_unreachable_and_heal_brings_it_back(three):
    three.cut("h2")
    try:
        results = _ansible(three, "all", "ansible.builtin.ping")
        assert results["h2"].get("unreachable"), results["h2"]
        assert not results["h1"].get("unreachable") and not results["h3"].get("unreachable")
        assert three.state()["h2"] == dict(three.state()["h2"], running=True, connected=False)
    finally:
        three.heal("h2")
    results = _ansible(three, "all", "ansible.builtin.ping")
    assert all(not r.get("unreachable") for r in results.values()), results


def test_crash_kills_a_host_and_heal_boots_it_again(three):
    three.crash("h3")
    try:
        assert three.state()["h3"]["running"] is False
        assert _ansible(three, "h3", "ansible.builtin.ping")["h3"].get("unreachable")
    finally:
        three.heal("h3")
    state = three.state()["h3"]
    assert state["running"] and state["connected"] and state["systemd"] == "running"
    assert not _ansible(three, "h3", "ansible.builtin.ping")["h3"].get("unreachable")


def _cli(*args, **kwargs):
    return subprocess.Popen([sys.executable, SCRIPT] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)


def test_down_after_the_up_process_was_killed_leaves_nothing(docker_host, fleet_image):
    name = "k%s" % uuid.uuid4().hex[:8]
    proc = _cli("up", "--name", name, "--count", "3", "--image", fleet_image)
    deadline = time.monotonic() + 60
    while not _owned(docker_host, name, "container") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _owned(docker_host, name, "container"), "up never created a container"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    res = subprocess.run([sys.executable, SCRIPT, "down", "--name", name], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["networks"] == 1
    assert _owned(docker_host, name, "container") == []
    assert _owned(docker_host, name, "network") == []
    assert not os.path.exists(os.path.join(wk_fleet.FLEETS, name))


def test_a_fleet_whose_owner_died_is_reaped(docker_host, fleet_image):
    name = "o%s" % uuid.uuid4().hex[:8]
    owner = subprocess.Popen(["sleep", "300"])
    try:
        res = subprocess.run([sys.executable, SCRIPT, "up", "--name", name, "--count", "1", "--image", fleet_image,
                              "--owner-pid", str(owner.pid)], capture_output=True, text=True, check=False, timeout=180)
        assert res.returncode == 0, res.stderr
        # The owner lives: reaping leaves the fleet alone.
        wk_fleet.reap(docker_host=docker_host)
        assert len(_owned(docker_host, name, "container")) == 1
    finally:
        owner.kill()
        owner.wait()
    assert name in wk_fleet.reap(docker_host=docker_host)
    assert _owned(docker_host, name, "container") == [] and _owned(docker_host, name, "network") == []


def test_two_fleets_started_at_once_do_not_interfere(docker_host, fleet_image):
    """What two pytest-xdist workers do: two ``up`` at the same moment, then one ``down``."""
    names = ["p%s" % uuid.uuid4().hex[:8], "q%s" % uuid.uuid4().hex[:8]]
    procs = [_cli("up", "--name", n, "--count", "2", "--image", fleet_image) for n in names]
    outs = [p.communicate(timeout=240) for p in procs]
    try:
        assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
        fleets = [wk_fleet.load(n) for n in names]
        assert fleets[0].subnet != fleets[1].subnet
        assert not {h["ip"] for h in fleets[0].hosts.values()} & {h["ip"] for h in fleets[1].hosts.values()}
        fleets[0].exec("h1", "echo a > /root/which")
        assert fleets[1].exec("h1", ["test", "-e", "/root/which"], check=False).returncode == 1
        # Names resolve inside each fleet's own network (the Engine's DNS per network).
        for fleet in fleets:
            assert fleet.exec("h1", ["getent", "hosts", "h2"]).stdout.split()[0] == fleet.ip("h2")
        wk_fleet.down(names[0], docker_host=docker_host)
        results = _ansible(fleets[1], "all", "ansible.builtin.ping")
        assert sorted(results) == ["h1", "h2"] and not any(r.get("unreachable") for r in results.values()), results
        assert fleets[1].exec("h2", ["systemctl", "is-system-running"]).stdout.strip() == "running"
    finally:
        for n in names:
            wk_fleet.down(n, docker_host=docker_host)
    assert all(_owned(docker_host, n, "container") == [] for n in names)
