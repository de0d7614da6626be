# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker backend of maintenance_mode: a maintenance-page container replaces the service containers.

Enable: check that every listed service container exists (before touching any), stop the running ones
(first: the page may publish the same port), then make sure the page container exists with the wanted
configuration (recreated when it differs) and runs. Disable: stop and remove the page container, then start
the listed services that were running when the maintenance began. Only ``mode: full`` (a page cannot serve
reads).

The page container gets the state as environment (``WK_MAINTENANCE_MODE``, ``_MESSAGE``, ``_ENDS_AT``,
``_RETRY_AFTER``) and the public state as the label ``io.watchkeeper.maintenance.state``, which is read
back as ``previous``; ``io.watchkeeper.maintenance.config`` is the SHA-256 of what it was created from, and
``io.watchkeeper.maintenance.kept_stopped`` lists the services that were already stopped when the maintenance
began (disable leaves them stopped; without the page container every listed service is started). A page
recreated during the maintenance (a new message) carries that list over.
Uses the Docker SDK (``docker`` package): calls ``/version``, ``/containers/{id}/json``, ``/containers/create``,
``/containers/{id}/start``, ``/containers/{id}/stop``, ``DELETE /containers/{id}``, ``/images/{name}/json``
and, when the image is missing and ``pull`` allows, ``/images/create``.
"""

import hashlib
import json
import os

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
KEPT_STOPPED_LABEL = "io.watchkeeper.maintenance.kept_stopped"
DEFAULT_PAGE_NAME = "wk-maintenance-page"


def validate(spec, desired):
    page = spec.get("page_container") or {}
    if not page.get("image"):
        raise ConfigError("the docker backend needs page_container.image", step="configure")
    command = page.get("command")
    if command is not None and not (isinstance(command, list) and command and
                                    all(isinstance(arg, str) for arg in command)):
        raise ConfigError("page_container.command must be a non-empty list of strings (argv)", step="configure")
    if not isinstance(page.get("labels") or {}, dict):
        raise ConfigError("page_container.labels must be a dict of strings", step="configure")
    if desired["state"] == "enabled" and desired["mode"] != "full":
        raise ConfigError("the docker backend serves only mode full (its page container replaces the services)",
                          step="configure", hint="use the nginx or redis backend for read_only")


class DockerBackend(object):
    kind = "docker"

    def __init__(self, spec, log=None):
        self.name = spec.get("name") or "docker"
        # As the docker CLI and community.docker: the option, else DOCKER_HOST, else the usual socket.
        self.base_url = spec.get("docker_host") or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        self.timeout = spec.get("timeout") or 30
        self.stop_timeout = spec.get("stop_timeout") if spec.get("stop_timeout") is not None else 10
        page = spec.get("page_container") or {}
        self.page_name = page.get("name") or DEFAULT_PAGE_NAME
        self.page_image = page.get("image")
        self.page_ports = page.get("ports") or {}
        self.page_env = page.get("environment") or {}
        self.pull = page.get("pull") or "missing"
        self.page_network = page.get("network") or None
        self.page_command = list(page.get("command") or []) or None
        self.page_labels = dict((str(k), str(v)) for k, v in (page.get("labels") or {}).items())
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
        config = {"image": self.page_image, "env": env, "ports": ports}
        # Only when set, so that pages created before these options existed keep their digest.
        for key, value in (("network", self.page_network), ("command", self.page_command),
                           ("labels", self.page_labels)):
            if value:
                config[key] = value
        digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
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
        changes = []
        try:
            return self._apply(desired, check_mode, changes)
        except docker_errors.DockerException as exc:
            done = "; done before the failure: %s" % ", ".join(changes[:-1]) if len(changes) > 1 else ""
            raise WatchkeeperError("the Docker engine at %s refused (%s): %s%s" % (
                self.base_url, changes[-1] if changes else "reading the containers", exc, done), step="docker",
                hint="nothing is undone automatically: fix the cause and run again, or switch back with "
                     "state disabled")
        finally:
            self.client.close()

    def _apply(self, desired, check_mode, changes):
        """Applies ``desired``; ``changes`` lists each step as it is attempted (the last one may have failed)."""
        previous, page = self.read_state()
        kept_stopped = self._kept_stopped(page)
        if desired["state"] == "enabled":
            missing = [name for name in self.services if previous["services"][name] == "missing"]
            if missing:
                raise WatchkeeperError("service container%s %s do%s not exist on the engine at %s; nothing was changed"
                                       % ("s" if len(missing) > 1 else "", ", ".join(missing),
                                          "" if len(missing) > 1 else "es", self.base_url),
                                       step="services", hint="check the names in services")
            env, ports, digest = self._page_config(desired)
            outdated = page is not None and page.labels.get(CONFIG_LABEL) != digest
            if page is None or outdated:
                self._ensure_image(check_mode, changes)  # before any service is stopped
            if page is None:
                # The maintenance begins now: remember which services were already stopped. (A page that
                # exists carries its list; one without the label means "start them all" on disable.)
                kept_stopped = [name for name in self.services if previous["services"][name] != "running"]
            for name in self.services:
                if previous["services"][name] == "running":
                    changes.append("stopped %s" % name)
                    if not check_mode:
                        self.client.containers.get(name).stop(timeout=self.stop_timeout)
            if outdated:
                changes.append("removed outdated %s" % self.page_name)
                if not check_mode:
                    page.remove(force=True)
                page = None
            if page is None:
                changes.append("created %s" % self.page_name)
                if not check_mode:
                    page = self._create_page(desired, env, ports, digest, kept_stopped)
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
                if previous["services"][name] not in ("running", "missing") and name not in (kept_stopped or []):
                    changes.append("started %s" % name)
                    if not check_mode:
                        self.client.containers.get(name).start()
        state = common.public_state(desired)
        if not check_mode:
            state = self.read_state()[0]
        else:
            state["services"] = dict(
                (n, s if s == "missing" or (desired["state"] == "disabled" and n in (kept_stopped or []))
                 else "exited" if desired["state"] == "enabled" else "running")
                for n, s in previous["services"].items())
        return {"changed": bool(changes), "previous": previous, "state": state, "changes": changes}

    @staticmethod
    def _kept_stopped(page):
        """The services that were already stopped when the maintenance began (the page's label), or None."""
        if page is None or KEPT_STOPPED_LABEL not in page.labels:
            return None
        try:
            names = json.loads(page.labels[KEPT_STOPPED_LABEL])
        except ValueError:
            return None
        return [str(name) for name in names] if isinstance(names, list) else None

    def _ensure_image(self, check_mode, changes):
        """The page image is on the engine, or pulled when ``pull`` allows (fails before anything changed)."""
        try:
            self.client.images.get(self.page_image)
            return
        except docker_errors.ImageNotFound:
            pass
        if self.pull == "never":
            raise WatchkeeperError("image %s is not on the engine and pull is never; nothing was changed"
                                   % self.page_image, step="page container")
        changes.append("pulled %s" % self.page_image)
        if not check_mode:
            repo, _sep, tag = self.page_image.rpartition(":") if ":" in self.page_image.split("/")[-1] else (
                self.page_image, "", "latest")
            self.client.images.pull(repo, tag=tag)

    def _create_page(self, desired, env, ports, digest, kept_stopped):
        labels = dict(self.page_labels)
        labels.update({STATE_LABEL: json.dumps(common.public_state(desired), sort_keys=True), CONFIG_LABEL: digest,
                       KEPT_STOPPED_LABEL: json.dumps(list(kept_stopped or [])),
                       "io.watchkeeper.managed-by": "watchkeeper.ops.maintenance_mode"})
        options = {"name": self.page_name, "environment": env, "ports": ports, "labels": labels, "detach": True,
                   "restart_policy": {"Name": "unless-stopped"}}
        if self.page_network:
            options["network"] = self.page_network
        if self.page_command:
            options["command"] = self.page_command
        return self.client.containers.create(self.page_image, **options)
