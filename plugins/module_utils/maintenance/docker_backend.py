# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker backend of maintenance_mode: a maintenance-page container replaces the service containers.

Enable: stop the listed service containers (first: the page may publish the same port), then make sure the
page container exists with the wanted configuration (recreated when it differs) and runs. Disable: stop and
remove the page container, then start the listed services. Only ``mode: full`` (a page cannot serve reads).

The page container gets the state as environment (``WK_MAINTENANCE_MODE``, ``_MESSAGE``, ``_ENDS_AT``,
``_RETRY_AFTER``) and the public state as the label ``io.watchkeeper.maintenance.state``, which is read
back as ``previous``; ``io.watchkeeper.maintenance.config`` is the SHA-256 of what it was created from.
Uses the Docker SDK (``docker`` package): calls ``/version``, ``/containers/{id}/json``, ``/containers/create``,
``/containers/{id}/start``, ``/containers/{id}/stop``, ``DELETE /containers/{id}``, ``/images/{name}/json``
and, when the image is missing and ``pull`` allows, ``/images/create``.
"""

import hashlib
import json

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError, WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance import common

try:
    import docker
    from docker import errors as docker_errors
    HAS_DOCKER = True
except ImportError:  # pragma: no cover - reported when the backend is used
    docker = None
    docker_errors = None
    HAS_DOCKER = False

STATE_LABEL = "io.watchkeeper.maintenance.state"
CONFIG_LABEL = "io.watchkeeper.maintenance.config"
DEFAULT_PAGE_NAME = "wk-maintenance-page"


def validate(spec, desired):
    page = spec.get("page_container") or {}
    if not page.get("image"):
        raise ConfigError("the docker backend needs page_container.image", step="configure")
    if desired["state"] == "enabled" and desired["mode"] != "full":
        raise ConfigError("the docker backend serves only mode full (its page container replaces the services)",
                          step="configure", hint="use the nginx or redis backend for read_only")


class DockerBackend(object):
    kind = "docker"

    def __init__(self, spec, log=None):
        self.name = spec.get("name") or "docker"
        self.base_url = spec.get("docker_host") or "unix:///var/run/docker.sock"
        self.timeout = spec.get("timeout") or 30
        self.stop_timeout = spec.get("stop_timeout") if spec.get("stop_timeout") is not None else 10
        page = spec.get("page_container") or {}
        self.page_name = page.get("name") or DEFAULT_PAGE_NAME
        self.page_image = page.get("image")
        self.page_ports = page.get("ports") or {}
        self.page_env = page.get("environment") or {}
        self.pull = page.get("pull") or "missing"
        self.services = list(spec.get("services") or [])
        self.log = log or (lambda msg: None)
        self.client = None

    def _connect(self):
        if not HAS_DOCKER:
            raise WatchkeeperError("the docker backend needs the Python package docker (Docker SDK)", step="connect")
        try:
            self.client = docker.DockerClient(base_url=self.base_url, timeout=self.timeout)
            self.client.ping()
        except docker_errors.DockerException as exc:
            raise WatchkeeperError("cannot reach the Docker engine at %s: %s" % (self.base_url, exc), step="connect",
                                   hint="is dockerd running and docker_host right?")

    def _get(self, name):
        try:
            return self.client.containers.get(name)
        except docker_errors.NotFound:
            return None

    def _page_config(self, desired):
        env = dict((str(k), str(v)) for k, v in self.page_env.items())
        env.update({"WK_MAINTENANCE_MODE": desired["mode"], "WK_MAINTENANCE_MESSAGE": desired["message"],
                    "WK_MAINTENANCE_ENDS_AT": desired.get("ends_at") or "",
                    "WK_MAINTENANCE_RETRY_AFTER": str(desired["retry_after"])})
        ports = dict((str(k), v) for k, v in self.page_ports.items())
        digest = hashlib.sha256(json.dumps({"image": self.page_image, "env": env, "ports": ports},
                                           sort_keys=True).encode()).hexdigest()
        return env, ports, digest

    def read_state(self):
        page = self._get(self.page_name)
        services = {}
        for name in self.services:
            container = self._get(name)
            services[name] = container.status if container is not None else "missing"
        if page is None or page.status != "running":
            state = {"state": "disabled"}
        else:
            try:
                state = common.public_state(json.loads(page.labels.get(STATE_LABEL) or "{}"))
            except ValueError:
                state = {}
            state.update({"state": "enabled", "mode": "full"})
        state["services"] = services
        state["page_container"] = page.status if page is not None else "missing"
        return state, page

    def apply(self, desired, secret, check_mode):
        self._connect()
        try:
            return self._apply(desired, check_mode)
        except docker_errors.DockerException as exc:
            raise WatchkeeperError("the Docker engine at %s refused: %s" % (self.base_url, exc), step="docker")
        finally:
            self.client.close()

    def _apply(self, desired, check_mode):
        previous, page = self.read_state()
        changes = []
        if desired["state"] == "enabled":
            for name in self.services:
                if previous["services"][name] == "missing":
                    raise WatchkeeperError("service container %s does not exist" % name, step="services")
                if previous["services"][name] == "running":
                    changes.append("stopped %s" % name)
                    if not check_mode:
                        self.client.containers.get(name).stop(timeout=self.stop_timeout)
            env, ports, digest = self._page_config(desired)
            if page is not None and page.labels.get(CONFIG_LABEL) != digest:
                changes.append("removed outdated %s" % self.page_name)
                if not check_mode:
                    page.remove(force=True)
                page = None
            if page is None:
                changes.append("created %s" % self.page_name)
                if not check_mode:
                    page = self._create_page(desired, env, ports, digest)
            if page is None or page.status != "running":
                changes.append("started %s" % self.page_name)
                if not check_mode:
                    page.start()
        else:
            if page is not None:
                changes.append("removed %s" % self.page_name)
                if not check_mode:
                    page.remove(force=True)
            for name in self.services:
                if previous["services"][name] not in ("running", "missing"):
                    changes.append("started %s" % name)
                    if not check_mode:
                        self.client.containers.get(name).start()
        state = common.public_state(desired)
        if not check_mode:
            state = self.read_state()[0]
        else:
            state["services"] = dict((n, ("exited" if desired["state"] == "enabled" else "running")
                                      if s != "missing" else s) for n, s in previous["services"].items())
        return {"changed": bool(changes), "previous": previous, "state": state, "changes": changes}

    def _create_page(self, desired, env, ports, digest):
        try:
            self.client.images.get(self.page_image)
        except docker_errors.ImageNotFound:
            if self.pull == "never":
                raise WatchkeeperError("image %s is not on the engine and pull is never" % self.page_image,
                                       step="page container")
            repo, _sep, tag = self.page_image.rpartition(":") if ":" in self.page_image.split("/")[-1] else (
                self.page_image, "", "latest")
            self.client.images.pull(repo, tag=tag)
        labels = {STATE_LABEL: json.dumps(common.public_state(desired), sort_keys=True), CONFIG_LABEL: digest,
                  "io.watchkeeper.managed-by": "watchkeeper.ops.maintenance_mode"}
        return self.client.containers.create(self.page_image, name=self.page_name, environment=env, ports=ports,
                                             labels=labels, detach=True, restart_policy={"Name": "unless-stopped"})
