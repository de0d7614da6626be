"""The Docker Engine the tests use: a reachable one, or a project-owned ``dockerd`` started here.

Machines without systemd as PID 1 have Debian's ``docker.io`` installed but no running daemon.
``ensure()`` answers the ``DOCKER_HOST`` of an Engine that answers (``$DOCKER_HOST``, then
``/var/run/docker.sock``); when none does, it starts one of the project's own:

    dockerd --iptables=false --ip6tables=false --bridge=none
            --data-root .wk/docker/data --exec-root <short dir> -H unix://.wk/docker/docker.sock
            --pidfile .wk/docker/dockerd.pid --default-address-pool base=172.30.0.0/16,size=24

No NAT (``--iptables=false``) and no default bridge: containers live on user-defined networks
(one ``/24`` each out of the pool, allocated by the Engine so two fleets never collide), reach
each other and the machine's address on their network, and nothing beyond it. ``stop()`` stops
only a daemon this project started (its pid file says so). Both are safe to call concurrently
(a file lock), so two pytest-xdist workers may each call ``ensure()``.

    python scripts/wk_engine.py start      # prints DOCKER_HOST=unix://...
    python scripts/wk_engine.py status
    python scripts/wk_engine.py stop
"""

import argparse
import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.path.join(os.environ.get("WK_DOCKER_DIR") or os.path.join(ROOT, ".wk", "docker"))
ADDRESS_POOL = "base=172.30.0.0/16,size=24"
SYSTEM_SOCKET = "/var/run/docker.sock"


def docker_cli():
    """The docker client: Debian's (it matches the packaged Engine) before any other on PATH."""
    return "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else (shutil.which("docker") or "docker")


def _short_dir():
    """A short directory for sockets (a Unix socket path has a 107-byte limit), unique per checkout."""
    tag = hashlib.sha1(STATE.encode()).hexdigest()[:10]
    return os.path.join(tempfile.gettempdir(), "wk-docker-%s" % tag)


def _socket_path():
    path = os.path.join(STATE, "docker.sock")
    return path if len(path) < 90 else os.path.join(_short_dir(), "docker.sock")


def _pidfile():
    return os.path.join(STATE, "dockerd.pid")


def run_docker(args, docker_host, env_extra=None, **kwargs):
    """The docker CLI against ``docker_host``; returns the CompletedProcess (the caller judges its status)."""
    env = dict(os.environ, DOCKER_HOST=docker_host)
    env.update(env_extra or {})
    return subprocess.run([docker_cli()] + list(args), env=env, check=False, **kwargs)


def answers(host, timeout=5):
    """Whether the Engine at ``host`` (a DOCKER_HOST value) answers ``docker version``."""
    try:
        res = run_docker(["version", "--format", "{{.Server.Version}}"], host, capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0


def _candidates():
    """The Engines to try, in order: $DOCKER_HOST, the system socket, the project's own."""
    return [h for h in (os.environ.get("DOCKER_HOST"), "unix://" + SYSTEM_SOCKET, "unix://" + _socket_path()) if h]


@contextlib.contextmanager
def _locked():
    os.makedirs(STATE, exist_ok=True)
    with open(os.path.join(STATE, "engine.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _own_pid():
    """The pid of the dockerd this project started, if it still runs."""
    try:
        with open(_pidfile()) as handle:
            pid = int(handle.read().strip())
        with open("/proc/%d/comm" % pid) as handle:
            return pid if handle.read().strip() == "dockerd" else None
    except (OSError, ValueError):
        return None


def ensure(timeout=60):
    """Return the DOCKER_HOST of an Engine that answers, starting the project's own if needed."""
    with _locked():
        for host in _candidates():
            if answers(host):
                return host
        dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
        if not os.path.exists(dockerd):
            raise RuntimeError("no Docker Engine answers and dockerd is not installed: install the Debian "
                               "package docker.io (scripts/setup.sh does)")
        pid = _own_pid()
        if pid:  # ours, but not answering: stuck; replace it
            _kill(pid)
        sock = _socket_path()
        os.makedirs(os.path.dirname(sock), exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(sock)
        log = open(os.path.join(STATE, "dockerd.log"), "ab")
        argv = [dockerd, "--iptables=false", "--ip6tables=false", "--bridge=none",
                "--data-root", os.path.join(STATE, "data"), "--exec-root", os.path.join(_short_dir(), "exec"),
                "-H", "unix://" + sock, "--pidfile", _pidfile(), "--default-address-pool", ADDRESS_POOL]
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        host = "unix://" + sock
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("dockerd exited with %s; see %s" % (proc.returncode, log.name))
            if answers(host):
                return host
            time.sleep(0.3)
        raise RuntimeError("dockerd did not answer within %ds; see %s" % (timeout, log.name))


def _kill(pid, timeout=30):
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists("/proc/%d" % pid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def stop():
    """Stop the dockerd this project started (never another one). Returns whether one was stopped."""
    with _locked():
        pid = _own_pid()
        if not pid:
            return False
        _kill(pid)
        _unmount_leftovers(os.path.join(_short_dir(), "exec"))
        return True


def _unmount_leftovers(exec_root):
    """dockerd leaves the namespace mounts of its exec root (netns/default) behind when it stops."""
    try:
        with open("/proc/self/mounts") as handle:
            points = [line.split()[1] for line in handle]
    except OSError:
        return
    for point in sorted((p for p in points if p.startswith(exec_root + "/")), reverse=True):
        subprocess.run(["umount", point], capture_output=True, check=False)


def status():
    pid = _own_pid()
    for host in _candidates():
        if answers(host):
            return {"docker_host": host, "project_owned": host == "unix://" + _socket_path() and bool(pid), "pid": pid}
    return {"docker_host": None, "project_owned": False, "pid": pid}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("action", choices=["start", "stop", "status"])
    args = parser.parse_args(argv)
    if args.action == "start":
        print("DOCKER_HOST=%s" % ensure())
    elif args.action == "stop":
        print("stopped" if stop() else "no project-owned dockerd runs")
    else:
        info = status()
        print("DOCKER_HOST=%s project_owned=%s pid=%s" % (info["docker_host"], info["project_owned"], info["pid"]))
        return 0 if info["docker_host"] else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
