# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maintenance_mode, docker backend: the one path the real Engine cannot take here, against a fake Engine API.

Everything else of the docker backend runs against a real Docker Engine in
``test_maintenance_mode_docker_engine.py``. What remains here is pulling the page image: a real pull needs a
registry, and no test may reach one (the machines have no route to the Internet and run no registry). The fake
(tests/support/fake_docker.py) answers the Engine API endpoints the Docker SDK calls and records every request,
so the test checks that a missing image is pulled with the right ``fromImage`` and ``tag``, before any service is
stopped, and that the page then runs.
"""

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


def test_a_missing_page_image_is_pulled_before_any_service_stops(engine):
    assert IMAGE not in engine.engine.images
    checked = run(engine, check_mode=True, state="enabled")
    assert not checked.failed, checked.get("msg")
    assert checked["backends"][0]["changes"][0] == "pulled %s" % IMAGE
    assert not [c for c in engine.engine.calls if c[0] in ("POST", "DELETE")], "check mode pulls nothing"

    res = run(engine, state="enabled")
    assert not res.failed, res.get("msg")
    assert res["backends"][0]["changes"] == ["pulled %s" % IMAGE, "stopped app-web", "stopped app-worker",
                                             "created wk-maintenance-page", "started wk-maintenance-page"]
    posts = [(m, p, q) for m, p, q in engine.engine.calls if m == "POST"]
    pull = ("POST", "/images/create", {"fromImage": "acme/maintenance-page", "tag": "1"})
    assert pull in posts
    assert posts.index(pull) < min(i for i, c in enumerate(posts) if c[1].endswith("/stop")), "pulled first"
    assert IMAGE in engine.engine.images
    assert statuses(engine) == {"app-web": "exited", "app-worker": "exited", "wk-maintenance-page": "running"}
