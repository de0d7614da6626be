"""What every throwaway peer service of ``wk_services`` shares: loopback ports, waiting for a listener, a
child process in its own process group with a log file, and an HTTP probe."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

LOOPBACK = "127.0.0.1"


def free_port(host=LOOPBACK):
    """Return a TCP port on ``host`` (loopback by default) that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_port(port, timeout=30.0, proc=None, name="service", log=None, host=LOOPBACK):
    """Wait until something accepts TCP connections on ``host:port`` (loopback by default)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            detail = _tail(log) if log else ""
            raise RuntimeError("%s exited with %s before listening on %d\n%s" % (name, proc.returncode, port, detail))
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("%s did not listen on %s:%d within %.0fs" % (name, host, port, timeout))


def _tail(path, lines=20):
    try:
        with open(path, "r", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def _venv_bin(name):
    """A console script next to the running interpreter (the venv), else from PATH."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else (shutil.which(name) or name)


class Process:
    """A child process with a log file; ``stop()`` terminates it and its process group."""

    def __init__(self, name, argv, log_path, env=None, port=None, **info):
        self.name = name
        self.port = port
        self.log_path = log_path
        self.info = info
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=env, start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def stop(self, timeout=10.0):
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)


def http_ok(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - loopback only
            return True
    except OSError:
        return False
