# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emergency runbooks ``service_restart.yml`` and ``rollback.yml`` on a fleet of three SSH hosts (issue 15,
acceptance 2 and 3): real systemd in the hosts, a real HTTP app, ``ansible-playbook`` over SSH, the incident
record in a directory on the controller (read from disk, without collection code).

Every host runs the toy app of ``emergency_helpers``: releases under ``/srv/erapp/releases/<name>/`` behind a
``current`` symlink, each release answering the status written in its ``status`` file (read when it starts), under
the systemd unit ``erapp``. A restart is seen in the unit's ``InvocationID``; which release runs is in the answer.

* service_restart on er1, er2, er3 (max_hosts 3) where er2's app answers 500 once restarted: er1 is restarted and
  healthy, er2 is restarted and does not recover, the run fails there, er3 is never restarted; the incident's
  timeline has each step with the health before, er1's recovery with its seconds and er2's failure with the reason.
* service_restart alone on er3 with a health command and service_restart_mitigate: healthy, incident mitigated.
* rollback from a broken release (500) goes to the previous one (200), the relative link style is kept, the
  incident is mitigated; when the previous one is broken too, ``current`` is the original again (absolute link kept,
  the app restarted on it) and the run fails saying both are unhealthy; a marker of an irreversible migration
  refuses (nothing switched, nothing restarted); a rollback_to that is no release refuses; max_hosts 1 refuses two
  hosts; incomplete inputs are refused on the controller before any host is contacted.
"""

import datetime
import json
import os
import re
import sys

import pytest

import emergency_helpers as eh

HOSTS = ("er1", "er2", "er3")


@pytest.fixture(scope="module")
def fleet(fleet_factory):
    return fleet_factory(["er1:ersvc", "er2:ersvc", "er3:erother"], suffix="rr")


@pytest.fixture
def ops_state(tmp_path):
    path = tmp_path / "ops_state"
    path.mkdir()
    return str(path)


def open_incident(ops_state, incident_id, title):
    """Open an incident in the controller's ops_state with the collection's own incident code (as the module does)."""
    from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import model
    from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.store import open_incidents
    now = datetime.datetime.now(datetime.timezone.utc)
    open_incidents(ops_state).create(model.new_incident({"title": title, "severity": "SEV2"}, now, incident_id))


def runbook_entries(ops_state, incident_id, author):
    return [e for e in eh.incident(ops_state, incident_id)["timeline"] if e.get("author") == author]


def restart_vars(ops_state, **extra):
    base = {"service_restart_name": eh.UNIT, "service_restart_health_url": eh.HEALTH_URL,
            "service_restart_health_timeout": 6, "emergency_ops_state": ops_state}
    base.update(extra)
    return base


def run_rollback(fleet, ops_state, **extra):
    return eh.runbook(fleet.inventory, "rollback.yml", rollback_vars(ops_state, **extra))


def rollback_vars(ops_state, **extra):
    base = {"rollback_path": eh.APP_DIR, "rollback_service": eh.UNIT, "rollback_health_url": eh.HEALTH_URL,
            "rollback_health_timeout": 6, "emergency_ops_state": ops_state}
    base.update(extra)
    return base


# --------------------------------------------------------------------------- service_restart.yml

def test_restart_stops_at_the_first_host_that_does_not_recover(fleet, ops_state):
    for host in HOSTS:
        eh.install_app(fleet, host, {"r1": 200}, "r1")
    eh.set_status(fleet, "er2", "r1", 500)  # er2 still answers 200 now; once restarted it answers 500
    open_incident(ops_state, "inc-er-restart", "erapp errors")
    before = dict((h, eh.invocation(fleet, h)) for h in HOSTS)

    code, data, stdout = eh.runbook(fleet.inventory, "service_restart.yml", restart_vars(
        ops_state, service_restart_hosts="er1,er2,er3", max_hosts=3, incident_id="inc-er-restart"))

    assert code != 0, stdout[-4000:]
    assert eh.invocation(fleet, "er1") != before["er1"] and eh.probe(fleet, "er1")[0] == "200", "er1 restarted, healthy"
    assert eh.invocation(fleet, "er2") != before["er2"] and eh.probe(fleet, "er2")[0] == "500", "er2 restarted, broken"
    assert eh.invocation(fleet, "er3") == before["er3"], "er3 (after the failed host) was never restarted"
    assert eh.hosts_with_task(data, "Restart the systemd unit") == ["er1", "er2"]
    failed = eh.failures(data)
    assert failed and set(h for h, _t, _m in failed) == {"er2"}, failed
    assert "did not recover within 6 s" in failed[-1][2] and "answered 500" in failed[-1][2], failed

    summary = eh.stats(data, "watchkeeper_service_restart")
    assert summary["status"] == "failed" and summary["service"] == eh.UNIT and summary["kind"] == "systemd"
    assert summary["restarted"] == ["er1", "er2"] and summary["recovered"] == ["er1"]
    assert summary["failed_host"] == "er2" and summary["not_reached"] == ["er3"]
    assert summary["hosts"]["er1"]["healthy"] is True and summary["hosts"]["er1"]["seconds_to_healthy"] > 0
    assert summary["hosts"]["er2"]["healthy_before"] is True and summary["hosts"]["er2"]["healthy"] is False
    assert "answered 500" in summary["error"]

    entries = runbook_entries(ops_state, "inc-er-restart", "service_restart.yml")
    texts = [e["text"] for e in entries]
    assert texts[0] == "restart of erapp on er1 started"
    assert texts[1].startswith("before the restart erapp on er1 was healthy: GET %s answered 200" % eh.HEALTH_URL)
    assert texts[2].startswith("erapp on er1 healthy again after ") and texts[2].endswith(" s")
    assert texts[3] == "restart of erapp on er2 started" and texts[4].startswith("before the restart erapp on er2 was healthy")
    assert texts[5].startswith("erapp on er2 did not recover within 6 s: GET %s answered 500" % eh.HEALTH_URL)
    assert texts[5].endswith("the run stops here, not touched: er3"), texts[5]
    assert len(texts) == 6 and not any("er3 started" in t for t in texts), texts
    assert all(e["source"] == "runbook" for e in entries)
    assert [e["data"]["host"] for e in entries] == ["er1"] * 3 + ["er2"] * 3
    assert entries[1]["data"]["health"]["healthy"] is True and entries[1]["data"]["health"]["phase"] == "before"
    assert entries[2]["data"]["seconds_to_healthy"] > 0 and entries[5]["data"]["restarted"] is True
    assert eh.incident(ops_state, "inc-er-restart")["status"] == "open", "a failed restart mitigates nothing"


def test_restart_with_a_health_command_mitigates_the_incident(fleet, ops_state):
    eh.install_app(fleet, "er3", {"r1": 200}, "r1")
    open_incident(ops_state, "inc-er-command", "erapp slow on er3")
    before = eh.invocation(fleet, "er3")
    command = "python3 -c \"import urllib.request; urllib.request.urlopen('%s', timeout=2)\"" % eh.HEALTH_URL

    code, data, stdout = eh.runbook(fleet.inventory, "service_restart.yml", restart_vars(
        ops_state, service_restart_hosts="erother", service_restart_health_url="",
        service_restart_health_command=command, incident_id="inc-er-command", service_restart_mitigate=True))

    assert code == 0, stdout[-4000:]
    assert eh.invocation(fleet, "er3") != before and eh.probe(fleet, "er3")[0] == "200"
    summary = eh.stats(data, "watchkeeper_service_restart")
    assert summary["status"] == "ok" and summary["restarted"] == ["er3"] and summary["not_reached"] == []
    assert summary["error"] is None and summary["hosts"]["er3"]["detail"].startswith("`python3 -c")
    doc = eh.incident(ops_state, "inc-er-command")
    assert doc["status"] == "mitigated" and doc["mitigated_at"]
    assert doc["timeline"][-1]["text"].startswith("erapp on er3 healthy again after ")


def test_restart_refuses_bad_input_before_touching_a_host(fleet, ops_state):
    code, data, _stdout = eh.runbook(fleet.inventory, "service_restart.yml", restart_vars(
        ops_state, service_restart_hosts="er1", service_restart_name="", service_restart_kind="upstart"))
    assert code != 0
    summary = eh.stats(data, "watchkeeper_service_restart")
    assert summary["status"] == "refused" and "service_restart_name" in summary["error"]
    assert 'kind="upstart"' in summary["error"]
    assert [h for h, _t, _m in eh.failures(data)] == ["localhost", "localhost"], "no host was contacted"

    code, data, _stdout = eh.runbook(fleet.inventory, "service_restart.yml", restart_vars(
        ops_state, service_restart_hosts="nosuchhost"))
    assert code != 0
    assert eh.stats(data, "watchkeeper_service_restart")["error"] == (
        'service_restart_hosts="nosuchhost" matches no host of the inventory; nothing was restarted')


def test_restart_waits_for_a_second_persons_approval(fleet, ops_state):
    eh.install_app(fleet, "er1", {"r1": 200}, "r1")
    before = eh.invocation(fleet, "er1")
    args = restart_vars(ops_state, service_restart_hosts="er1", require_approval=True)

    code, data, _stdout = eh.runbook(fleet.inventory, "service_restart.yml", args)
    assert code != 0 and eh.invocation(fleet, "er1") == before, "nothing restarted without an approval"
    summary = eh.stats(data, "watchkeeper_service_restart")
    assert summary["status"] == "refused" and summary["not_reached"] == ["er1"]
    request_id = re.search(r"-e approval_request_id=(ap-[0-9a-z-]+)", summary["error"]).group(1)
    sha = re.search(r"-e approval_parameters_sha256=([0-9a-f]{64})", summary["error"]).group(1)
    with open(os.path.join(ops_state, "approvals", "requests", request_id + ".json")) as handle:
        request = json.load(handle)
    assert request["runbook"] == "service_restart.yml"
    assert request["parameters"] == {"hosts": ["er1"], "service": eh.UNIT, "kind": "auto"}

    code, _data, stdout = eh.runbook(fleet.inventory, "approve.yml", {
        "approval_request_id": request_id, "approval_parameters_sha256": sha, "approval_decision": "approve",
        "approval_identity": "second-person-%d" % os.getpid(), "emergency_ops_state": ops_state})
    assert code == 0, stdout[-3000:]
    code, data, stdout = eh.runbook(fleet.inventory, "service_restart.yml", args)
    assert code == 0, stdout[-4000:]
    assert eh.invocation(fleet, "er1") != before and eh.stats(data, "watchkeeper_service_restart")["status"] == "ok"


@pytest.fixture
def app_container(fleet, fleet_image, tmp_path):
    """The toy app in a container of its own on the fleet's network of the test's Docker Engine, and an inventory
    with the controller as the host that restarts it (community.docker talks to DOCKER_HOST) and checks its health
    at the container's address."""
    import docker
    client = docker.DockerClient(base_url=fleet.docker_host)
    name = "wk-er-restart-%d" % os.getpid()
    for old in client.containers.list(all=True, filters={"name": name}):
        old.remove(force=True)
    container = client.containers.run(fleet_image, ["python3", "-c", eh.APP], name=name, detach=True,
                                      entrypoint=[], environment={"ERAPP_STATUS": "200", "ERAPP_BIND": "0.0.0.0"},
                                      network=fleet.network, labels={"wk.test": "emergency-runbooks"})
    container.reload()
    address = container.attrs["NetworkSettings"]["Networks"][fleet.network]["IPAddress"]
    inventory = tmp_path / "local.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    try:
        yield {"name": name, "container": container, "url": "http://%s:8080/" % address, "inventory": str(inventory)}
    finally:
        container.remove(force=True)


def started_at(container):
    container.reload()
    return container.attrs["State"]["StartedAt"]


def test_restart_of_a_docker_container(app_container, ops_state):
    eh.wait_url(app_container["url"])
    before = started_at(app_container["container"])

    code, data, stdout = eh.runbook(app_container["inventory"], "service_restart.yml", restart_vars(
        ops_state, service_restart_hosts="localhost", service_restart_name=app_container["name"],
        service_restart_kind="docker", service_restart_health_url=app_container["url"]))

    assert code == 0, stdout[-4000:]
    assert started_at(app_container["container"]) != before, "the container was restarted"
    assert app_container["container"].attrs["State"]["Running"]
    summary = eh.stats(data, "watchkeeper_service_restart")
    assert summary["status"] == "ok" and summary["kind"] == "docker" and summary["restarted"] == ["localhost"]
    assert summary["hosts"]["localhost"]["healthy_before"] is True and summary["hosts"]["localhost"]["healthy"] is True
    assert eh.hosts_with_task(data, "Restart the container") == ["localhost"]
    assert eh.hosts_with_task(data, "Restart the systemd unit") == []


# --------------------------------------------------------------------------- rollback.yml

def test_rollback_from_a_broken_release_to_the_previous_one(fleet, ops_state):
    eh.install_app(fleet, "er1", {"r1": 200, "r2": 200, "r3": 500}, "r3")
    assert eh.probe(fleet, "er1") == ("500", "erapp er1 r3 500")
    open_incident(ops_state, "inc-er-deploy", "bad deploy")

    code, data, stdout = run_rollback(fleet, ops_state, rollback_hosts="er1", incident_id="inc-er-deploy", rollback_mitigate=True)

    assert code == 0, stdout[-4000:]
    assert eh.current(fleet, "er1") == "releases/r2", "the link text keeps its relative style"
    status, body = eh.probe(fleet, "er1")
    assert status == "200" and body.split()[2] == "r2", body
    summary = eh.stats(data, "watchkeeper_rollback")
    assert summary["status"] == "rolled_back" and summary["rolled_back"] == ["er1"]
    host = summary["hosts"]["er1"]
    assert (host["from"], host["to"], host["healthy_before"], host["healthy"]) == ("r3", "r2", False, True)
    assert host["seconds_to_healthy"] > 0 and host["restored"] is False
    fleet.exec("er1", ["test", "!", "-e", "%s/.current.wk-rollback" % eh.APP_DIR])
    doc = eh.incident(ops_state, "inc-er-deploy")
    texts = [e["text"] for e in doc["timeline"] if e.get("author") == "rollback.yml"]
    assert texts[0] == ("rollback of /srv/erapp on er1 from r3 to r2 started (the database schema is not touched)")
    assert texts[-1].startswith("/srv/erapp on er1 rolled back from r3 to r2, healthy after ")
    assert doc["status"] == "mitigated"

    # The undo: rollback_to the release it switched away from (fixed meanwhile: it answers 200 from its next start).
    eh.set_status(fleet, "er1", "r3", 200)
    code, data, stdout = run_rollback(fleet, ops_state, rollback_hosts="er1", rollback_to="r3")
    assert code == 0, stdout[-4000:]
    assert eh.current(fleet, "er1") == "releases/r3" and eh.probe(fleet, "er1") == ("200", "erapp er1 r3 200")
    assert eh.stats(data, "watchkeeper_rollback")["hosts"]["er1"]["from"] == "r2"


def test_rollback_when_the_previous_release_is_broken_too(fleet, ops_state):
    eh.install_app(fleet, "er2", {"r1": 200, "r2": 500, "r3": 500}, "r3", relative=False)
    before = eh.invocation(fleet, "er2")
    open_incident(ops_state, "inc-er-both", "bad deploy, bad rollback")

    code, data, stdout = run_rollback(fleet, ops_state, rollback_hosts="er2", incident_id="inc-er-both", rollback_health_timeout=4)

    assert code != 0, stdout[-4000:]
    assert eh.current(fleet, "er2") == "/srv/erapp/releases/r3", "the original link (absolute) is back"
    status, body = eh.probe(fleet, "er2")
    assert status == "500" and body.split()[2] == "r3", "the app was restarted on the original release: %s" % body
    assert eh.invocation(fleet, "er2") != before
    assert eh.hosts_with_task(data, "Restart the service (previous release)") == ["er2"]
    assert eh.hosts_with_task(data, "Restart the service (original release)") == ["er2"]
    summary = eh.stats(data, "watchkeeper_rollback")
    assert summary["status"] == "original_restored" and summary["rolled_back"] == []
    host = summary["hosts"]["er2"]
    assert (host["from"], host["to"], host["restored"], host["restored_healthy"]) == ("r3", "r2", True, False)
    message = eh.failures(data)[-1][2]
    assert "the previous release r2 did not become healthy within 4 s" in message
    assert "both releases are unhealthy" in message and "current points to the original release r3 again" in message
    last = eh.incident(ops_state, "inc-er-both")["timeline"][-1]
    assert last["text"] == message and last["data"]["status"] == "original_restored"
    assert eh.incident(ops_state, "inc-er-both")["status"] == "open"


def test_rollback_refusals_change_nothing(fleet, ops_state):
    eh.install_app(fleet, "er3", {"r1": 200, "r2": 200, "r3": 500}, "r3")
    eh.mark_irreversible(fleet, "er3", "r3")
    before = eh.invocation(fleet, "er3")

    code, data, _stdout = run_rollback(fleet, ops_state, rollback_hosts="er3")
    assert code != 0
    message = eh.failures(data)[-1][2]
    assert "release r3 marks an irreversible database migration" in message, message
    assert "never touches the database schema" in message and "refused, nothing changed" in message
    assert eh.stats(data, "watchkeeper_rollback")["status"] == "refused"
    assert eh.current(fleet, "er3") == "releases/r3" and eh.invocation(fleet, "er3") == before

    # Two steps back over the marked release is refused too; a release that does not exist as well.
    fleet.exec("er3", ["mv", "%s/releases/r3/.irreversible_migration" % eh.APP_DIR,
                       "%s/releases/r2/.irreversible_migration" % eh.APP_DIR])
    code, data, _stdout = run_rollback(fleet, ops_state, rollback_hosts="er3", rollback_to="r1")
    assert code != 0 and "release r2 marks an irreversible" in eh.failures(data)[-1][2]
    code, data, _stdout = run_rollback(fleet, ops_state, rollback_hosts="er3", rollback_to="r9")
    assert code != 0 and "rollback_to=r9 is not a release in /srv/erapp/releases (r1, r2, r3)" in eh.failures(data)[-1][2]
    code, data, _stdout = run_rollback(fleet, ops_state, rollback_hosts="er3", rollback_to="r3")
    assert code != 0 and "rollback_to=r3 is the current release already" in eh.failures(data)[-1][2]
    assert eh.current(fleet, "er3") == "releases/r3" and eh.invocation(fleet, "er3") == before

    # max_hosts (default 1) refuses two hosts before anything is looked at.
    for host in ("er1", "er2"):
        eh.install_app(fleet, host, {"r1": 200, "r2": 500}, "r2")
    links = dict((h, eh.current(fleet, h)) for h in ("er1", "er2"))
    open_incident(ops_state, "inc-er-guard", "two hosts down")
    code, data, _stdout = run_rollback(fleet, ops_state, rollback_hosts="ersvc", incident_id="inc-er-guard")
    assert code != 0
    summary = eh.stats(data, "watchkeeper_rollback")
    assert summary["status"] == "refused" and summary["not_reached"] == ["er1", "er2"]
    assert "refuses to act on 2 hosts (er1, er2): its limit is max_hosts=1" in summary["error"]
    assert eh.failures(data)[-1][2] == summary["error"]
    assert runbook_entries(ops_state, "inc-er-guard", "rollback.yml")[-1]["text"] == (
        "rollback of /srv/erapp refused: " + summary["error"])
    assert eh.hosts_with_task(data, "Read the current symlink") == []
    assert dict((h, eh.current(fleet, h)) for h in ("er1", "er2")) == links

    code, data, _stdout = eh.runbook(fleet.inventory, "rollback.yml", {"rollback_hosts": "er3", "rollback_path": "srv/erapp"})
    assert code != 0
    error = eh.stats(data, "watchkeeper_rollback")["error"]
    assert "rollback_path (the absolute deploy directory" in error and 'path="srv/erapp"' in error
    assert [h for h, _t, _m in eh.failures(data)] == ["localhost", "localhost"]
