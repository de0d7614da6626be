# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maintenance_mode, docker backend, against a real Docker Engine (the ``docker_host`` fixture: a running Engine or
the project's own ``dockerd``).

The module runs the way users run it (``ansible-playbook`` on localhost, ``DOCKER_HOST`` in the task's environment).
Each test gets its own service containers on a network this module creates (a free ``/24`` of 172.30.208.0/20):
the fleet image running a small HTTP app that answers 200 ``app <name>`` on port 8080 at a fixed address. The page
container is the fleet image running a small page that answers 503 with ``Retry-After`` and the message from the
module's ``WK_MAINTENANCE_*`` environment. Everything carries the label ``wk.test=maintdocker`` (plus the run, the
test case and the owning process, so a killed run's leftovers are removed by the next one) and is removed afterwards.

What is checked, through the Docker SDK, the Engine's event stream and HTTP requests to the containers' addresses:

* on stops the services, then creates and starts the page (on the network, published on a loopback port): the page
  answers 503 + ``Retry-After`` + the message, the apps do not answer; the result names what was found;
* a second identical on is ok (nothing recreated), a new message recreates the page only;
* off restores exactly what was found: the same containers (ids), running, at the same addresses, answering 200,
  no page; a service that was already stopped before the maintenance stays stopped;
* check mode reports the changes and the Engine sees no event at all (the same query sees the real run's events);
* a missing service container fails, naming it, before anything is touched; so does a page image that is not on the
  Engine with ``pull: never``;
* a page that the Engine cannot start fails half-way with the Engine's message and the steps done before it, and
  ``state: disabled`` recovers;
* an unreachable Engine, and the failure policy over nginx + docker + redis (needs no Engine at all).

Only pulling an image needs a registry, which no test here may reach: that path stays in
``test_maintenance_mode_docker.py`` against the fake Engine API.
"""

import calendar
import http.client
import ipaddress
import json
import os
import socket
import time
import uuid

import docker
import pytest
from docker import errors as docker_errors

import helpers
import wk_fleet


MODULE = "watchkeeper.ops.maintenance_mode"
LABEL = "wk.test"
LABEL_VALUE = "maintdocker"
POOL = "172.30.208.0/20"
PORT = 8080

# A service: 200 "app <name>" on :8080; exits at once on SIGTERM (PID 1 would otherwise ignore it for 10 s).
APP = r"""
import http.server, signal, sys
name = sys.argv[1]
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("app %s\n" % name).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("", 8080), H).serve_forever()
"""

# The maintenance page: 503, Retry-After and the message from the environment the module gives it.
PAGE = r"""
import http.server, os, signal, sys
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("maintenance: %s (until %s)\n" % (os.environ["WK_MAINTENANCE_MESSAGE"],
                                                  os.environ["WK_MAINTENANCE_ENDS_AT"])).encode()
        self.send_response(503)
        self.send_header("Retry-After", os.environ["WK_MAINTENANCE_RETRY_AFTER"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("", 8080), H).serve_forever()
"""


class Engine(object):
    def __init__(self, client, docker_host, image, network, subnet, labels):
        self.client = client
        self.docker_host = docker_host
        self.image = image
        self.network = network
        self.subnet = subnet
        self.labels = labels


def _reap(client):
    """Remove what killed runs of this file left behind (their owner process is gone)."""
    flt = {"label": "%s=%s" % (LABEL, LABEL_VALUE)}
    for container in client.containers.list(all=True, filters=flt):
        if not wk_fleet.owner_alive(container.labels.get(LABEL + ".owner")):
            container.remove(force=True)
    for network in client.networks.list(filters=flt):
        if not wk_fleet.owner_alive((network.attrs.get("Labels") or {}).get(LABEL + ".owner")):
            network.remove()


def _create_network(client, name, labels):
    """A network of our own on the first free /24 of POOL (the Engine refuses overlapping subnets)."""
    for subnet in ipaddress.ip_network(POOL).subnets(new_prefix=24):
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(
            subnet=str(subnet), gateway=str(subnet.network_address + 1))])
        try:
            return client.networks.create(name, driver="bridge", ipam=ipam, labels=labels), subnet
        except docker_errors.APIError as exc:
            if "overlap" not in str(exc):
                raise
    raise AssertionError("no free /24 left in %s" % POOL)


@pytest.fixture(scope="module")
def engine(docker_host, fleet_image):
    client = docker.DockerClient(base_url=docker_host, timeout=120)
    _reap(client)
    run = "%s-%d" % (os.environ.get("PYTEST_XDIST_WORKER", "gw"), os.getpid())
    labels = {LABEL: LABEL_VALUE, LABEL + ".run": run, LABEL + ".owner": wk_fleet.owner_token(os.getpid())}
    network, subnet = _create_network(client, "wkt-maintdocker-%s" % run, labels)
    yield Engine(client, docker_host, fleet_image, network.name, subnet, labels)
    for container in client.containers.list(all=True, filters={"label": "%s.run=%s" % (LABEL, run)}):
        container.remove(force=True)
    network.remove()
    client.close()


@pytest.fixture
def stack(engine, tmp_path):
    """Two running service containers at fixed addresses; the names of the page and of a missing container."""
    case = uuid.uuid4().hex[:8]
    labels = dict(engine.labels, **{LABEL + ".case": case})
    prefix = "wkt-md-%s" % case
    services = {"%s-web" % prefix: str(engine.subnet.network_address + 200),
                "%s-worker" % prefix: str(engine.subnet.network_address + 201)}
    api = engine.client.api
    for name, ip in services.items():
        created = api.create_container(
            # The image's stop signal is systemd's (SIGRTMIN+3); this app is PID 1 and exits on SIGTERM.
            engine.image, command=["python3", "-c", APP, name], name=name, labels=labels, stop_signal="SIGTERM",
            host_config=api.create_host_config(), networking_config=api.create_networking_config(
                {engine.network: api.create_endpoint_config(ipv4_address=ip)}))
        api.start(created["Id"])
    for name, ip in services.items():
        helpers.wait_for(lambda ip=ip: answer(ip) is not None, timeout=60, what="service %s answering" % name)
    yield {"case": case, "labels": labels, "ops": str(tmp_path / "ops"), "services": services, "web": "%s-web" % prefix,
           "worker": "%s-worker" % prefix, "page": "%s-page" % prefix, "ghost": "%s-ghost" % prefix}
    for container in engine.client.containers.list(all=True, filters={"label": "%s.case=%s" % (LABEL, case)}):
        container.remove(force=True)


# --------------------------------------------------------------------------- helpers

def answer(ip, port=PORT, timeout=2):
    """(status, retry-after, body) of GET / at ip:port, or None when nothing answers."""
    conn = http.client.HTTPConnection(ip, port, timeout=timeout)
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        return resp.status, resp.getheader("Retry-After"), resp.read().decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        conn.close()


def free_loopback_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def page_spec(stack, engine, **extra):
    spec = {"image": engine.image, "name": stack["page"], "network": engine.network, "pull": "never",
            "command": ["python3", "-c", PAGE], "labels": stack["labels"]}
    spec.update(extra)
    return spec


def run(engine, stack, check_mode=False, services=None, page=None, **options):
    backend = {"type": "docker", "timeout": 60, "stop_timeout": 20,
               "services": services if services is not None else [stack["web"], stack["worker"]],
               "page_container": page or page_spec(stack, engine)}
    args = {"backends": [backend], "ops_state": stack["ops"]}
    args.update(options)
    return helpers.run_module(MODULE, args, check_mode=check_mode, env={"DOCKER_HOST": engine.docker_host})


def container(engine, name):
    try:
        return engine.client.containers.get(name)
    except docker_errors.NotFound:
        return None


def snapshot(engine, stack):
    """Per container of the test: id, status, image and the networks with the live address; None when missing."""
    out = {}
    for name in (stack["web"], stack["worker"], stack["page"]):
        found = container(engine, name)
        out[name] = None if found is None else {
            "id": found.id, "status": found.status, "image": found.attrs["Config"]["Image"],
            "networks": dict((net, info.get("IPAddress")) for net, info in
                             found.attrs["NetworkSettings"]["Networks"].items())}
    return out


def status(engine, name):
    found = container(engine, name)
    return found.status if found is not None else "missing"


def engine_events(engine, stack, since_ns):
    """(action, container name) of the Engine's container events of this test since ``since_ns``."""
    stream = engine.client.events(since=since_ns // 10 ** 9, until=int(time.time()) + 1, decode=True,
                                  filters={"type": "container", "label": "%s.case=%s" % (LABEL, stack["case"])})
    return [(e["Action"], e["Actor"]["Attributes"].get("name")) for e in stream if e.get("timeNano", 0) >= since_ns]


def nanos(stamp):
    """An Engine timestamp (RFC 3339 UTC with up to 9 fraction digits, trailing zeros trimmed) in ns."""
    whole, _dot, fraction = stamp.rstrip("Z").partition(".")
    seconds = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    return seconds * 10 ** 9 + int((fraction or "0").ljust(9, "0")[:9])


def ok(result):
    assert not result.failed, result.get("msg")
    return result


# --------------------------------------------------------------------------- tests

def test_on_then_off_restores_exactly_what_was_found(engine, stack):
    web, worker, page = stack["web"], stack["worker"], stack["page"]
    before = snapshot(engine, stack)
    assert before[page] is None
    assert [before[n]["status"] for n in (web, worker)] == ["running", "running"]
    for name, ip in stack["services"].items():
        assert answer(ip)[0::2] == (200, "app %s\n" % name)
    port = free_loopback_port()
    spec = page_spec(stack, engine, ports={"%d/tcp" % PORT: [{"HostIp": "127.0.0.1", "HostPort": port}]})
    message, ends_at = "Moving to new hardware", "2026-12-05T03:00:00Z"

    on = ok(run(engine, stack, page=spec, state="enabled", maintenance_message=message, retry_after=120,
                ends_at=ends_at))
    assert on.changed and on["previous"] == {"state": "disabled"}
    found = on["backends"][0]["previous"]
    assert found["services"] == {web: "running", worker: "running"} and found["page_container"] == "missing"
    assert on["backends"][0]["changes"] == ["stopped %s" % web, "stopped %s" % worker, "created %s" % page,
                                            "started %s" % page]
    assert on["state"]["state"] == "enabled" and on["state"]["message"] == message
    assert (status(engine, web), status(engine, worker), status(engine, page)) == ("exited", "exited", "running")
    page_box = container(engine, page)
    assert page_box.labels[LABEL] == LABEL_VALUE and page_box.labels[LABEL + ".case"] == stack["case"]
    assert "WK_MAINTENANCE_MESSAGE=%s" % message in page_box.attrs["Config"]["Env"]
    assert list(page_box.attrs["NetworkSettings"]["Networks"]) == [engine.network]
    # The services stopped before the page container was created (it may take over their port).
    stopped_at = max(nanos(container(engine, n).attrs["State"]["FinishedAt"]) for n in (web, worker))
    assert nanos(page_box.attrs["Created"]) > stopped_at
    page_ip = page_box.attrs["NetworkSettings"]["Networks"][engine.network]["IPAddress"]
    helpers.wait_for(lambda: answer(page_ip) is not None, timeout=60, what="the page answering")
    assert answer(page_ip) == (503, "120", "maintenance: %s (until %s)\n" % (message, ends_at))
    assert answer("127.0.0.1", port=port)[0:2] == (503, "120"), "published on the loopback port"
    for ip in stack["services"].values():
        assert answer(ip, timeout=1) is None, "a stopped service must not answer"

    again = ok(run(engine, stack, page=spec, state="enabled", maintenance_message=message, retry_after=120,
                   ends_at=ends_at))
    assert not again.changed and again["backends"][0]["changes"] == []
    assert again["previous"]["state"] == "enabled" and again["previous"]["message"] == message
    assert container(engine, page).id == page_box.id, "an identical run recreates nothing"

    newer = ok(run(engine, stack, page=spec, state="enabled", maintenance_message="Almost done", retry_after=120,
                   ends_at=ends_at))
    assert newer.changed and newer["backends"][0]["changes"] == ["removed outdated %s" % page, "created %s" % page,
                                                                 "started %s" % page]
    new_page = container(engine, page)
    assert new_page.id != page_box.id and (status(engine, web), status(engine, worker)) == ("exited", "exited")
    new_ip = new_page.attrs["NetworkSettings"]["Networks"][engine.network]["IPAddress"]
    helpers.wait_for(lambda: answer(new_ip) is not None, timeout=60, what="the new page answering")
    assert answer(new_ip)[2] == "maintenance: Almost done (until %s)\n" % ends_at

    off = ok(run(engine, stack, page=spec, state="disabled"))
    assert off.changed and off["previous"]["state"] == "enabled" and off["previous"]["message"] == "Almost done"
    assert off["backends"][0]["changes"] == ["removed %s" % page, "started %s" % web, "started %s" % worker]
    assert snapshot(engine, stack) == before, "the same containers, running, at the same addresses, no page"
    for name, ip in stack["services"].items():
        helpers.wait_for(lambda ip=ip: answer(ip) is not None, timeout=60, what="%s answering again" % name)
        assert answer(ip)[0::2] == (200, "app %s\n" % name)
    assert answer("127.0.0.1", port=port, timeout=1) is None, "the published port is gone with the page"
    assert not ok(run(engine, stack, page=spec, state="disabled")).changed


def test_a_service_stopped_before_the_maintenance_stays_stopped(engine, stack):
    web, worker, page = stack["web"], stack["worker"], stack["page"]
    container(engine, worker).stop(timeout=20)
    before = snapshot(engine, stack)
    on = ok(run(engine, stack, state="enabled", maintenance_message="First"))
    assert on["backends"][0]["previous"]["services"] == {web: "running", worker: "exited"}
    assert on["backends"][0]["changes"] == ["stopped %s" % web, "created %s" % page, "started %s" % page]
    assert json.loads(container(engine, page).labels["io.watchkeeper.maintenance.kept_stopped"]) == [worker]
    # A new message recreates the page; the list of services to leave stopped goes with it.
    ok(run(engine, stack, state="enabled", maintenance_message="Second"))
    assert json.loads(container(engine, page).labels["io.watchkeeper.maintenance.kept_stopped"]) == [worker]

    off = ok(run(engine, stack, state="disabled"))
    assert off["backends"][0]["changes"] == ["removed %s" % page, "started %s" % web]
    assert off["backends"][0]["state"]["services"] == {web: "running", worker: "exited"}
    after = snapshot(engine, stack)
    assert after[worker] == before[worker] and after[page] is None
    assert after[web]["id"] == before[web]["id"] and after[web]["status"] == "running"
    assert answer(stack["services"][worker], timeout=1) is None


def test_check_mode_changes_nothing(engine, stack):
    web, worker, page = stack["web"], stack["worker"], stack["page"]
    before = snapshot(engine, stack)
    since = time.time_ns()
    res = ok(run(engine, stack, check_mode=True, state="enabled"))
    assert res.changed and res["check_mode"]
    assert res["backends"][0]["changes"] == ["stopped %s" % web, "stopped %s" % worker, "created %s" % page,
                                             "started %s" % page]
    assert res["backends"][0]["state"]["services"] == {web: "exited", worker: "exited"}
    assert snapshot(engine, stack) == before
    assert engine_events(engine, stack, since) == [], "check mode asked the Engine for no change"

    # The same query sees what a real run does, and check mode of the way back changes nothing either.
    since = time.time_ns()
    ok(run(engine, stack, state="enabled"))
    seen = engine_events(engine, stack, since)
    for event in [("stop", web), ("stop", worker), ("create", page), ("start", page)]:
        assert event in seen, (event, seen)
    during = snapshot(engine, stack)
    since = time.time_ns()
    back = ok(run(engine, stack, check_mode=True, state="disabled"))
    assert back["backends"][0]["changes"] == ["removed %s" % page, "started %s" % web, "started %s" % worker]
    assert snapshot(engine, stack) == during and engine_events(engine, stack, since) == []
    ok(run(engine, stack, state="disabled"))
    assert snapshot(engine, stack) == before


def test_a_missing_service_fails_naming_it_before_anything_changes(engine, stack):
    web, worker, ghost = stack["web"], stack["worker"], stack["ghost"]
    before = snapshot(engine, stack)
    since = time.time_ns()
    res = run(engine, stack, services=[web, ghost, worker], state="enabled")
    assert res.failed and res["failed_backend"] == "docker" and res["switched"] == []
    assert "service container %s does not exist on the engine at %s; nothing was changed" % (
        ghost, engine.docker_host) in res["msg"]
    assert web not in res["msg"].replace(ghost, "") and worker not in res["msg"], "names only the missing one"
    assert snapshot(engine, stack) == before and engine_events(engine, stack, since) == []
    assert answer(stack["services"][web])[0] == 200


def test_a_page_image_missing_with_pull_never_fails_before_anything_changes(engine, stack):
    before = snapshot(engine, stack)
    image = "watchkeeper/no-such-page:%s" % stack["case"]
    res = run(engine, stack, page=page_spec(stack, engine, image=image), state="enabled")
    assert res.failed and "image %s is not on the engine and pull is never; nothing was changed" % image in res["msg"]
    assert snapshot(engine, stack) == before


def test_a_page_that_cannot_start_fails_half_way_and_disabled_recovers(engine, stack):
    web, worker, page = stack["web"], stack["worker"], stack["page"]
    before = snapshot(engine, stack)
    broken = page_spec(stack, engine, command=["/nonexistent/wk-page"])
    res = run(engine, stack, page=broken, state="enabled")
    assert res.failed and res["failed_backend"] == "docker"
    msg = res["msg"]
    assert "refused (started %s)" % page in msg and "/nonexistent/wk-page" in msg, msg
    assert "done before the failure: stopped %s, stopped %s, created %s" % (web, worker, page) in msg, msg
    assert (status(engine, web), status(engine, worker), status(engine, page)) == ("exited", "exited", "created")

    back = ok(run(engine, stack, page=broken, state="disabled"))
    assert back["backends"][0]["changes"] == ["removed %s" % page, "started %s" % web, "started %s" % worker]
    assert snapshot(engine, stack) == before
    for ip in stack["services"].values():
        helpers.wait_for(lambda ip=ip: answer(ip) is not None, timeout=60, what="services answering again")


def test_read_only_is_refused_before_the_engine_is_asked(engine, stack):
    before = snapshot(engine, stack)
    res = run(engine, stack, state="enabled", mode="read_only")
    assert res.failed and "only mode full" in res["msg"]
    assert snapshot(engine, stack) == before


def test_unreachable_engine_and_the_failure_policy(tmp_path):
    nowhere = "unix://%s" % (tmp_path / "no-engine.sock")
    page = {"image": "watchkeeper/fleet:bookworm"}
    res = helpers.run_module(MODULE, {"state": "enabled", "ops_state": str(tmp_path / "ops"), "backends": [
        {"type": "docker", "docker_host": nowhere, "page_container": page}]})
    assert res.failed and res["failed_backend"] == "docker" and res["switched"] == []
    assert "cannot reach the Docker engine at %s" % nowhere in res["msg"]

    state_dir = str(tmp_path / "nginx")
    backends = [{"type": "nginx", "dir": state_dir}, {"type": "docker", "docker_host": nowhere, "page_container": page},
                {"type": "redis", "port": helpers.closed_port()}]
    res = helpers.run_module(MODULE, {"state": "enabled", "backends": backends, "ops_state": str(tmp_path / "ops")})
    assert res.failed and res["failed_backend"] == "docker"
    assert res["switched"] == ["nginx"] and res["not_run"] == ["redis"]
    assert "already switched: nginx" in res["msg"] and "not attempted: redis" in res["msg"]
    assert [b["status"] for b in res["backends"]] == ["ok", "failed", "not_run"]
    assert os.path.exists(os.path.join(state_dir, "full.flag"))
