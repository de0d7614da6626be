"""compose/docker-compose.prod.yml and the role's stack_services describe the same stack (both backends of the role
use stack_services; people read and run the compose file)."""

import os

import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..")


def load(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return yaml.safe_load(handle)


COMPOSE = load("compose", "docker-compose.prod.yml")
DEFAULTS = load("roles", "stack", "defaults", "main.yml")
ROLE = dict((s["name"], s) for s in DEFAULTS["stack_services"])


def test_same_services_volumes_and_secrets():
    assert sorted(COMPOSE["services"]) == sorted(ROLE)
    assert sorted(COMPOSE["volumes"]) == sorted(DEFAULTS["stack_volumes"])
    assert sorted(COMPOSE["secrets"]) == sorted(DEFAULTS["stack_secrets"])
    assert all(spec["file"] == "./secrets/%s" % name for name, spec in COMPOSE["secrets"].items())


def test_each_service_is_defined_alike():
    for name, svc in COMPOSE["services"].items():
        role = ROLE[name]
        assert svc["image"] == role["image"], name
        assert svc.get("command", []) == role["command"], name
        assert str(svc["user"]) == str(role["user"]), name
        assert svc["healthcheck"] == role["healthcheck"], name
        assert (svc["read_only"], svc["restart"], svc["tmpfs"]) == (role["read_only"], role["restart"], role["tmpfs"]), name
        assert (svc["mem_limit"], svc["cpus"]) == (role["memory"], role["cpus"]), name
        assert svc["stop_signal"] == role["stop_signal"] and svc["stop_grace_period"] == role["stop_grace_period"], name
        assert sorted(svc.get("secrets", [])) == sorted(role["secrets"]), name
        volumes = ["%s:%s%s" % (v["source"], v["target"], ":ro" if v["read_only"] else "") for v in role["volumes"]]
        assert svc.get("volumes", []) == volumes, name
        assert sorted(svc.get("depends_on", {})) == sorted(role["depends_on"]), name
        assert all(d == {"condition": "service_healthy"} for d in svc.get("depends_on", {}).values()), name
        if name != "nginx":  # nginx: the page host and ports are interpolated (project name, bind address)
            assert svc.get("environment", {}) == role["environment"], name


def test_hardening_everywhere():
    for name, svc in COMPOSE["services"].items():
        assert svc["read_only"] is True and svc["restart"] == "unless-stopped", name
        assert svc["healthcheck"]["test"][0] == "CMD", name
        assert str(svc["user"]) not in ("root", "0"), name
        assert not any("PASSWORD" in key or "PASSPHRASE" in key for key in svc.get("environment", {})), name


def test_images_exist_in_compose_images():
    for svc in COMPOSE["services"].values():
        image = svc["image"].split("/")[1].split(":")[0].replace("stack-", "")
        assert os.path.exists(os.path.join(ROOT, "compose", "images", image, "Dockerfile")), image
