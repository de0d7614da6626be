"""Run collection modules and playbooks through real ``ansible-playbook`` and read their results.

Tests call modules the way users do (a play on localhost with the venv's interpreter), so the
argument spec, no_log masking and result handling are the real ones.
"""

import json
import os
import subprocess
import sys
import tempfile

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)
BIN = os.path.dirname(sys.executable)


def collections_path():
    """The collections root holding this tree as watchkeeper.ops: the workspace copy's own root, or
    ``.wk/dev`` with a symlink ``ansible_collections/watchkeeper/ops`` -> this tree (created once)."""
    parts = ROOT.split(os.sep)
    if parts[-3:] == ["ansible_collections", "watchkeeper", "ops"]:
        return os.sep.join(parts[:-3])
    dev = os.path.join(ROOT, ".wk", "dev")
    link = os.path.join(dev, "ansible_collections", "watchkeeper", "ops")
    if not os.path.lexists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    return dev


def ansible_env(extra=None):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": collections_path(),
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    env.update(extra or {})
    return env


class TaskResult(dict):
    """A task's result dict plus ``failed``/``changed`` helpers and the raw ``stdout`` of the run."""

    @property
    def failed(self):
        return bool(self.get("failed"))

    @property
    def changed(self):
        return bool(self.get("changed"))


def run_playbook(playbook, extra_vars=None, env=None, timeout=900, check=False, inventory=None, args=()):
    """Run a playbook file; returns (returncode, parsed json callback output, stdout, stderr)."""
    argv = [os.path.join(BIN, "ansible-playbook"), playbook]
    argv += ["-i", inventory] if inventory else ["-i", "localhost,", "-c", "local"]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    if check:
        argv.append("--check")
    argv += list(args)
    proc = subprocess.run(argv, env=ansible_env(env), capture_output=True, text=True, timeout=timeout, check=False)
    try:
        data = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        data = None
    return proc.returncode, data, proc.stdout, proc.stderr


def run_module(module, args, check_mode=False, env=None, timeout=900, no_log=False):
    """Run one module task on localhost; returns its ``TaskResult`` (with ``stdout`` attached)."""
    play = [{
        "hosts": "localhost", "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable},
        "tasks": [{"name": "under test", module: args, "check_mode": check_mode, "no_log": no_log,
                   "environment": env or {}, "register": "wk_result", "ignore_errors": True}],
    }]
    fd, path = tempfile.mkstemp(suffix=".yml", prefix="wk-play-")
    with os.fdopen(fd, "w") as handle:
        json.dump(play, handle)
    try:
        code, data, stdout, stderr = run_playbook(path, timeout=timeout)
    finally:
        os.unlink(path)
    if data is None:
        raise AssertionError("ansible-playbook produced no JSON (rc %s)\nstdout: %s\nstderr: %s" % (code, stdout[-3000:], stderr[-3000:]))
    host = data["plays"][0]["tasks"][0]["hosts"]["localhost"]
    result = TaskResult(host)
    result["stdout"] = stdout
    result["stderr"] = stderr
    return result
