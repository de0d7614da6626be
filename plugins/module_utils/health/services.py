# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service states: systemd units, sysvinit scripts, Docker containers (with their health check)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

try:
    import docker
    HAS_DOCKER = True
except ImportError:
    HAS_DOCKER = False


def init_system():
    """``systemd`` when systemd is PID 1, else ``sysvinit`` when ``service`` exists, else None."""
    if os.path.isdir("/run/systemd/system") and shutil.which("systemctl"):
        return "systemd"
    if shutil.which("service") or os.path.isdir("/etc/init.d"):
        return "sysvinit"
    return None


def run(argv, timeout=10):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def systemd_state(name):
    code, out, err = run(["systemctl", "show", "--no-pager", "-p", "LoadState,ActiveState,SubState", name])
    if code != 0:
        return {"error": "systemctl show failed: %s" % (err.strip() or out.strip())}
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    if props.get("LoadState") == "not-found":
        return {"error": "unknown systemd unit"}
    active = props.get("ActiveState", "unknown")
    return {"state": "%s (%s)" % (active, props.get("SubState", "?")), "running": active in ("active", "reloading")}


def sysvinit_state(name):
    script = os.path.join("/etc/init.d", name)
    if "/" in name or not os.path.exists(script):
        return {"error": "unknown service (no %s)" % script}
    argv = ["service", name, "status"] if shutil.which("service") else [script, "status"]
    code, out, err = run(argv)
    text = (out.strip() or err.strip()).splitlines()
    detail = text[-1][:200] if text else ""
    # LSB: 0 running, 1-3 not running (dead with pid/lock file, or stopped), 4 unknown
    if code == 0:
        return {"state": "running", "running": True, "detail": detail}
    if code in (1, 2, 3):
        return {"state": "stopped", "running": False, "detail": detail, "rc": code}
    return {"error": "status unknown (rc %d): %s" % (code, detail)}


def docker_state(name, client_factory=None):
    if client_factory is None:
        if not HAS_DOCKER:
            return {"error": "the Docker SDK for Python (package 'docker') is not installed on this host"}
        client_factory = docker.from_env
    try:
        client = client_factory()
        container = client.containers.get(name)
        state = container.attrs.get("State") or {}
    except Exception as exc:  # pylint: disable=broad-except
        kind = type(exc).__name__
        if kind == "NotFound":
            return {"error": "no such container"}
        return {"error": "Docker: %s: %s" % (kind, str(exc)[:300])}
    health = (state.get("Health") or {}).get("Status")
    return {"state": state.get("Status", "unknown"), "running": bool(state.get("Running")), "health": health,
            "restart_count": container.attrs.get("RestartCount")}


def check(spec):
    """State of one ``services`` entry ``{name, type, expected}``; errors are in ``error``, never raised."""
    kind = spec.get("type") or "auto"
    if kind == "auto":
        kind = init_system() or "none"
    result = {"name": spec["name"], "type": kind, "expected": spec.get("expected") or "running"}
    try:
        if kind == "systemd":
            result.update(systemd_state(spec["name"]))
        elif kind == "sysvinit":
            result.update(sysvinit_state(spec["name"]))
        elif kind == "docker":
            result.update(docker_state(spec["name"]))
        else:
            result["error"] = "no init system found (neither systemd nor sysvinit); set type"
    except (OSError, subprocess.SubprocessError) as exc:
        result["error"] = "%s check failed: %s" % (kind, exc)
    return result
