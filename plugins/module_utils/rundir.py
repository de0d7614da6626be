# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A private scratch directory per run, and the removal of those left by killed runs.

Everything a run keeps on local disk (the private GnuPG home, the temporary PostgreSQL password
file, SQLite copies) lives in ``<tmp_dir>/wk-run-<pid>-<random>`` (mode 0700). A normal run removes it
at the end; a run killed with ``kill -9`` cannot, so every run first removes the directories of runs
whose process is gone (the pid and its start time are recorded inside), so no password file or key
material outlives its run for long.
"""

import os
import shutil
import subprocess
import tempfile
import time

from ansible_collections.watchkeeper.ops.plugins.module_utils.lock import _proc_start

PREFIX = "wk-run-"
OWNER = ".owner"


def _alive(path):
    try:
        with open(os.path.join(path, OWNER), "r") as handle:
            pid, start = handle.read().split()
    except (OSError, ValueError):
        # No owner file yet (a run between mkdtemp and writing it): judge by age instead.
        try:
            return os.stat(path).st_mtime > time.time() - 3600
        except OSError:
            return False
    return _proc_start(int(pid)) == start


def remove(path):
    for entry in os.listdir(path) if os.path.isdir(path) else []:
        home = os.path.join(path, entry)
        if entry.startswith("wk-gpg-") and os.path.isdir(home):
            subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True, check=False)
    shutil.rmtree(path, ignore_errors=True)


def sweep(base):
    """Remove the run directories of dead processes under ``base``; returns what was removed."""
    removed = []
    try:
        names = os.listdir(base)
    except OSError:
        return removed
    for name in names:
        path = os.path.join(base, name)
        if name.startswith(PREFIX) and os.path.isdir(path) and not os.path.islink(path) and not _alive(path):
            remove(path)
            removed.append(path)
    return removed


def create(base=None, sweep_dead=True):
    """Sweep ``base`` (default: the system temporary directory), then create this run's directory."""
    base = base or tempfile.gettempdir()
    swept = sweep(base) if sweep_dead else []
    path = tempfile.mkdtemp(prefix="%s%d-" % (PREFIX, os.getpid()), dir=base)
    with open(os.path.join(path, OWNER), "w") as handle:
        handle.write("%d %s\n" % (os.getpid(), _proc_start(os.getpid())))
    return path, swept
