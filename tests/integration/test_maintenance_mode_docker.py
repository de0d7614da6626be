# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maintenance_mode, docker backend, against a fake Engine API on a Unix socket (no Docker engine runs here).

The backend uses the real Docker SDK; the fake (tests/support/fake_docker.py) answers the Engine API
endpoints it calls and keeps the containers in memory, so the tests check what the engine was asked to do.
"""

import copy
import os
import tempfile

import pytest

import helpers
from fake_docker import FakeDocker

MODULE = "watchkeeper.ops.maintenance_mode"
IMAGE = "acme/maintenance-page:1"


@pytest.fixture
def engine():
    base = tempfile.mkdtemp(prefix="wk-mm-docker-")
    fake = FakeDocker(os.path.join(base, "docker.sock")).start()
    fake.engine.add_container("app-web", running=True)
    fake.engine.add_container("app-worker", running=True)
    fake.engine.add_image(IMAGE)
    yield fake
    fake.stop()


def run(fake, check_mode=False, **options):
    backend = {"type": "docker", "docker_host": fake.url, "timeout": 10, "services": ["app-web", "app-worker"],
               "page_container": {"image": IMAGE, "ports": {"8080/tcp": 80}}}
    args = {"backends": [backend], "ops_state": os.path.join(os.path.dirname(fake.path), "ops")}
    args.update(options)
    return helpers.run_module(MODULE, args, check_mode=check_mode)


def statuses(fake):
    return dict((name, doc["State"]["Status"]) for name, doc in fake.engine.by_name().items())


def test_enable_disable_idempotent(engine):
    res = run(engine, state="enabled", maintenance_message="Moving to new hardware", retry_after=600)
    assert not res.failed, res.get("msg")
    assert res.changed and res["previous"]["state"] == "disabled"
    assert res["backends"][0]["previous"]["services"] == {"app-web": "running", "app-worker": "running"}
    assert statuses(engine) == {"app-web": "exited", "app-worker": "exited", "wk-maintenance-page": "running"}
    page = engine.engine.by_name()["wk-maintenance-page"]
    assert "WK_MAINTENANCE_MESSAGE=Moving to new hardware" in page["Config"]["Env"]
    assert "WK_MAINTENANCE_RETRY_AFTER=600" in page["Config"]["Env"]
    assert page["HostConfig"]["PortBindings"]["8080/tcp"][0]["HostPort"] == "80"
    # The services stop before the page starts (the page may take over their port).
    calls = [(m, p) for m, p, _q in engine.engine.calls if m == "POST"]
    assert calls.index(("POST", "/containers/create")) > max(i for i, c in enumerate(calls) if c[1].endswith("/stop"))

    again = run(engine, state="enabled", maintenance_message="Moving to new hardware", retry_after=600)
    assert not again.changed and again["backends"][0]["changes"] == []
    assert again["previous"]["message"] == "Moving to new hardware"

    new_message = run(engine, state="enabled", maintenance_message="Almost done", retry_after=600)
    assert new_message.changed and "removed outdated wk-maintenance-page" in new_message["backends"][0]["changes"]
    assert "WK_MAINTENANCE_MESSAGE=Almost done" in engine.engine.by_name()["wk-maintenance-page"]["Config"]["Env"]

    off = run(engine, state="disabled")
    assert off.changed and off["previous"]["message"] == "Almost done"
    assert statuses(engine) == {"app-web": "running", "app-worker": "running"}
    assert not run(engine, state="disabled").changed


def test_check_mode_changes_nothing(engine):
    before = copy.deepcopy(engine.engine.containers)
    res = run(engine, check_mode=True, state="enabled")
    assert not res.failed, res.get("msg")
    assert res.changed and res["backends"][0]["changes"] == [
        "stopped app-web", "stopped app-worker", "created wk-maintenance-page", "started wk-maintenance-page"]
    assert engine.engine.containers == before
    assert not [c for c in engine.engine.calls if c[0] in ("POST", "DELETE")]


def test_missing_image_is_pulled_and_read_only_is_refused(engine):
    del engine.engine.images[IMAGE]
    res = run(engine, state="enabled")
    assert not res.failed, res.get("msg")
    assert ("POST", "/images/create", {"fromImage": "acme/maintenance-page", "tag": "1"}) in engine.engine.calls
    refused = run(engine, state="enabled", mode="read_only")
    assert refused.failed and "only mode full" in refused["msg"]


def test_engine_down_is_a_clear_error(engine):
    engine.stop()
    res = run(engine, state="enabled")
    assert res.failed and res["failed_backend"] == "docker"
    assert "cannot reach the Docker engine at unix://%s" % engine.path in res["msg"]
    assert res["switched"] == [] and res["backends"][0]["status"] == "failed"


def test_first_failure_stops_the_run_and_names_what_was_switched(engine, tmp_path):
    engine.stop()
    state_dir = str(tmp_path / "nginx")
    backends = [{"type": "nginx", "dir": state_dir},
                {"type": "docker", "docker_host": engine.url, "page_container": {"image": IMAGE}},
                {"type": "redis", "port": helpers.closed_port()}]
    res = helpers.run_module(MODULE, {"state": "enabled", "backends": backends, "ops_state": str(tmp_path / "ops")})
    assert res.failed and res["failed_backend"] == "docker"
    assert res["switched"] == ["nginx"] and res["not_run"] == ["redis"]
    assert "already switched: nginx" in res["msg"] and "not attempted: redis" in res["msg"]
    assert [b["status"] for b in res["backends"]] == ["ok", "failed", "not_run"]
    assert os.path.exists(os.path.join(state_dir, "full.flag"))
