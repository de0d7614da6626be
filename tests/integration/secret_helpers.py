# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Watching for secrets: every process's command line and our tools' environments while a module runs."""

import os
import stat
import threading

from helpers import descendants


class ProcSampler(threading.Thread):
    """Reads every /proc/<pid>/cmdline, and the environment of our pg_dump, pg_restore, gpg and zstd, until stopped."""

    WATCHED = (b"pg_dump", b"pg_dumpall", b"pg_restore", b"gpg", b"zstd")

    def __init__(self, secrets):
        super(ProcSampler, self).__init__(daemon=True)
        self.secrets = [s.encode() for s in secrets]
        self.stop = threading.Event()
        self.rounds = 0
        self.seen = set()
        self.leaks = []
        self.homedirs = set()
        self.passfiles = {}

    def run(self):
        while not self.stop.is_set():
            self.rounds += 1
            ours = set(descendants(os.getpid()))  # other sessions on this host may run pg_dump too
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    self.sample(int(entry), int(entry) in ours)

    def sample(self, pid, ours):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            return
        joined = b" ".join(argv)
        for secret in self.secrets:
            if secret in joined:
                self.leaks.append(("cmdline", pid, joined[:200]))
        name = os.path.basename(argv[0])
        if name not in self.WATCHED or not ours:
            return
        self.seen.add(name.decode())
        if name == b"gpg" and b"--homedir" in argv:
            self.homedirs.add(argv[argv.index(b"--homedir") + 1].decode())
        try:
            with open("/proc/%d/environ" % pid, "rb") as handle:
                environ = handle.read().split(b"\0")
        except OSError:
            return
        for item in environ:
            if item.startswith(b"PGPASSWORD="):
                self.leaks.append(("PGPASSWORD in environ", pid, name))
            if any(secret in item for secret in self.secrets):
                self.leaks.append(("environ", pid, name))
            if item.startswith(b"PGPASSFILE="):
                path = item.split(b"=", 1)[1].decode()
                try:
                    self.passfiles[path] = stat.S_IMODE(os.stat(path).st_mode)
                except OSError:
                    self.passfiles.setdefault(path, None)


def assert_no_secret(result, secrets):
    for secret in secrets:
        assert secret not in result["stdout"] and secret not in result["stderr"]
        assert secret not in repr({k: v for k, v in result.items() if k not in ("stdout", "stderr")})
