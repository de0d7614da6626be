# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""File rules: world-writable files in system paths (a bounded walk), modes of the collection's secrets."""

import os
import stat as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.security.rules import ERROR, Rule, failed, not_applicable, outcome, passed

SYSTEM_PATHS = ["/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/opt"]
MAX_ENTRIES = 300000
SHOWN = 20


def world_writable(mode):
    """True for a world-writable regular file, or a world-writable directory without the sticky bit."""
    if st.S_ISLNK(mode) or not mode & st.S_IWOTH:
        return False
    if st.S_ISDIR(mode):
        return not mode & st.S_ISVTX
    return st.S_ISREG(mode)


def walk(ctx, paths, max_entries):
    """(world-writable paths, entries seen, complete) of a walk that stays on each top's filesystem."""
    found, seen = [], 0
    for top in paths:
        top_stat = ctx.stat(top)
        if top_stat is None:
            continue
        stack = [top]
        while stack:
            directory = stack.pop()
            try:
                entries = list(os.scandir(ctx.path(directory)))
            except OSError:
                continue
            for entry in entries:
                seen += 1
                if seen > max_entries:
                    return found, seen - 1, False
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                rel = directory.rstrip("/") + "/" + entry.name
                if world_writable(info.st_mode):
                    found.append("%s %04o" % (rel, st.S_IMODE(info.st_mode)))
                if st.S_ISDIR(info.st_mode) and info.st_dev == top_stat.st_dev:
                    stack.append(rel)
    return sorted(found), seen, True


def check_world_writable(ctx):
    paths = ctx.params.get("system_paths") or SYSTEM_PATHS
    found, seen, complete = walk(ctx, paths, ctx.params.get("max_walk_entries") or MAX_ENTRIES)
    shown = ", ".join(found[:SHOWN]) + (" and %d more" % (len(found) - SHOWN) if len(found) > SHOWN else "")
    if found:
        return failed("%d world-writable: %s" % (len(found), shown))
    if not complete:
        return outcome(ERROR, "walk stopped after %d entries (max_walk_entries) with none found" % seen)
    return passed("%d entries under %s, none world-writable" % (seen, " ".join(paths)))


def secret_mode_problem(mode, uid, allowed_uids=(0,)):
    """Why a secret file's mode or owner is wrong, or None: no permission for others, no group write,
    owned by root (or an allowed service user)."""
    problems = []
    if mode & 0o007:
        problems.append("readable or writable by others")
    if mode & 0o020:
        problems.append("group-writable")
    if uid not in allowed_uids:
        problems.append("owner uid %d" % uid)
    return ", ".join(problems) or None


def secret_files(ctx):
    """The existing secret files named by ``secret_paths`` (a directory stands for the files in it)."""
    out = []
    for path in ctx.params.get("secret_paths") or []:
        info = ctx.stat(path)
        if info is None:
            continue
        if st.S_ISDIR(info.st_mode):
            out += [(p, ctx.stat(p)) for p in ("%s/%s" % (path.rstrip("/"), n) for n in ctx.listdir(path))]
        else:
            out.append((path, info))
    return [(p, i) for p, i in out if i is not None and st.S_ISREG(i.st_mode)]


def check_secret_modes(ctx):
    files = secret_files(ctx)
    if not files:
        return not_applicable("none of %s exists" % (ctx.params.get("secret_paths") or "the secret paths"))
    allowed = [0] + list(ctx.params.get("secret_owner_uids") or [])
    results = []
    for path, info in files:
        problem = secret_mode_problem(st.S_IMODE(info.st_mode), info.st_uid, allowed)
        line = "%s mode %04o uid %d" % (path, st.S_IMODE(info.st_mode), info.st_uid)
        results.append(failed("%s: %s" % (line, problem), subject=path) if problem else passed(line, subject=path))
    return results


RULES = [
    Rule("WK-FILE-001", "files", "high", "No world-writable files in system paths",
         "Remove the write bit for others (chmod o-w PATH) or set the sticky bit on shared directories.",
         check_world_writable, ["Lynis FILE-7524", "CIS Debian 6.1.10"]),
    Rule("WK-FILE-002", "files", "high", "The collection's keys, passphrase and credential files are private",
         "chmod 0600 (or 0640 with a dedicated group) and chown root the file; rotate the secret if others could read it.",
         check_secret_modes, ["ISO 27001 8.24"]),
]
