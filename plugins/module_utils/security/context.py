# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the checks reach the host: read files, stat them, run read-only commands (output cached per run).

Nothing here writes: the audit is check-only. Commands run with ``LC_ALL=C`` and a timeout; a command that is
not installed returns ``rc`` 127 rather than raising, so a rule can say "not applicable".
"""

import os
import subprocess

TIMEOUT_S = 60


class HostContext(object):
    """``params`` are the module's parameters; ``root`` prefixes every path (tests point it at a tree)."""

    def __init__(self, params, root="/", now=None):
        self.params = params
        self.root = root
        self.now = now
        self._runs = {}
        self.cache = {}

    def path(self, path):
        return path if self.root == "/" else os.path.join(self.root, path.lstrip("/"))

    def read(self, path, default=None):
        try:
            with open(self.path(path), "r", errors="replace") as handle:
                return handle.read()
        except (IOError, OSError):
            return default

    def stat(self, path):
        try:
            return os.stat(self.path(path))
        except OSError:
            return None

    def listdir(self, path):
        try:
            return sorted(os.listdir(self.path(path)))
        except OSError:
            return []

    def run(self, argv, timeout=TIMEOUT_S):
        """``(rc, stdout, stderr)`` of a read-only command; cached, so two rules reading ``sshd -T`` run it once."""
        key = tuple(argv)
        if key not in self._runs:
            env = dict(os.environ, LC_ALL="C", LANG="C")
            try:
                proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env,
                                      stdin=subprocess.DEVNULL, check=False, errors="replace")
                self._runs[key] = (proc.returncode, proc.stdout, proc.stderr)
            except OSError as exc:
                self._runs[key] = (127, "", str(exc))
            except subprocess.TimeoutExpired:
                self._runs[key] = (124, "", "timed out after %ss" % timeout)
        return self._runs[key]

    def in_container(self):
        if "container" in self.cache:
            return self.cache["container"]
        found = bool(self.read("/run/systemd/container")) or os.path.exists(self.path("/.dockerenv"))
        if not found:
            rc, out, _err = self.run(["systemd-detect-virt", "--container"])
            found = rc == 0 and out.strip() not in ("", "none")
        self.cache["container"] = found
        return found
