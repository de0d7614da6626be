# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retention of what the collection itself writes into the ``ops_state`` directory: run reports and audit segments.

Layout it understands:

* report directories (default ``reports``): one subdirectory per kind (``reports/dr_drill``, ``reports/verify``,
  ``reports/retention``), whose children are the entries (a file, or a directory such as one drill's report and
  runbooks);
* segment directories (default ``audit``): the children are the entries.

An entry's age is the newest modification time inside it. Entries older than ``keep_within`` go, except the
``min_keep`` newest of each directory and anything named ``latest*`` (pointers to the newest report). Nothing
outside these directories is touched: locks, indexes and verification records have their own life cycles.
"""

import datetime
import os
import shutil

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy.freshness import human_duration, parse_duration

STATE_OPTIONS = dict(
    keep_within=dict(type="str", default="365d"),
    min_keep=dict(type="int", default=3),
    report_dirs=dict(type="list", elements="str", default=["reports"]),
    segment_dirs=dict(type="list", elements="str", default=["audit"]),
)


def _newest_mtime(path):
    """A file's mtime; for a directory the newest mtime of the files in it (its own only when it has none: a
    directory's mtime moves whenever something is added or removed, so it says little about the run's age)."""
    own = os.lstat(path).st_mtime
    if not os.path.isdir(path) or os.path.islink(path):
        return own
    newest = None
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                mtime = os.lstat(os.path.join(root, name)).st_mtime
            except OSError:
                continue
            newest = mtime if newest is None else max(newest, mtime)
    return own if newest is None else newest


def _size(path):
    if os.path.isdir(path) and not os.path.islink(path):
        total = 0
        for root, _dirs, files in os.walk(path):
            for name in files:
                try:
                    total += os.lstat(os.path.join(root, name)).st_size
                except OSError:
                    pass
        return total
    return os.lstat(path).st_size


def _inside(ops_state, relative):
    base = os.path.realpath(ops_state)
    path = os.path.realpath(os.path.join(base, relative))
    if path != base and not path.startswith(base + os.sep):
        raise ValueError("%r is not inside ops_state" % relative)
    return path


def _collections(ops_state, options):
    """Directories whose children are entries: (relative name, absolute path)."""
    for relative in options["report_dirs"]:
        root = _inside(ops_state, relative)
        if os.path.isdir(root):
            for name in sorted(os.listdir(root)):
                path = os.path.join(root, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    yield os.path.join(relative, name), path
    for relative in options["segment_dirs"]:
        root = _inside(ops_state, relative)
        if os.path.isdir(root):
            yield relative, root


def plan(ops_state, options, now):
    """``[{"directory", "entries": [{"name", "modified_at", "keep", "reason", "bytes"}]}]``; pure reading."""
    horizon_s = parse_duration(options["keep_within"])
    if options["min_keep"] < 0:
        raise ValueError("min_keep must be >= 0")
    horizon = now - datetime.timedelta(seconds=horizon_s)
    out = []
    for relative, path in _collections(ops_state, options):
        entries = []
        for name in os.listdir(path):
            full = os.path.join(path, name)
            try:
                mtime = datetime.datetime.fromtimestamp(_newest_mtime(full), tz=datetime.timezone.utc)
            except OSError:
                continue
            entries.append({"name": name, "modified_at": mtime, "path": full})
        entries.sort(key=lambda e: (e["modified_at"], e["name"]), reverse=True)
        for index, entry in enumerate(entries):
            if entry["name"].startswith("latest"):
                entry.update(keep=True, reason="pointer to the newest report")
            elif index < options["min_keep"]:
                entry.update(keep=True, reason="min_keep: %d newest of the directory" % options["min_keep"])
            elif entry["modified_at"] >= horizon:
                entry.update(keep=True, reason="younger than %s" % human_duration(horizon_s))
            else:
                entry.update(keep=False, reason="older than %s" % human_duration(horizon_s))
            entry["bytes"] = 0 if entry["keep"] else _size(entry["path"])
        out.append({"directory": relative, "entries": entries})
    return out


def run(params, check_mode, now, log=None):
    """Purge old reports and segments; returns ``(result, failures)``."""
    options = params["state_retention"] or {}
    options = dict((k, options.get(k) if options.get(k) is not None else spec["default"])
                   for k, spec in STATE_OPTIONS.items())
    try:
        directories = plan(params["ops_state"], options, now)
    except (ValueError, OSError) as exc:
        return {"changed": False, "ops_state": {"status": "failed", "error": str(exc)}}, [
            "ops_state retention: %s" % exc]
    failures, removed, freed = [], 0, 0
    for directory in directories:
        for entry in directory["entries"]:
            path = entry.pop("path")
            entry["modified_at"] = clock.isoformat(entry["modified_at"])
            if entry["keep"] or check_mode:
                entry["verdict"] = "keep" if entry["keep"] else "remove"
                continue
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            except OSError as exc:
                entry.update(verdict="failed", error=str(exc))
                failures.append("ops_state retention: cannot remove %s/%s: %s" % (
                    directory["directory"], entry["name"], exc))
                continue
            entry["verdict"] = "removed"
            removed += 1
            freed += entry["bytes"]
            if log:
                log("retention: removed %s/%s (%s)" % (directory["directory"], entry["name"], entry["reason"]))
    to_remove = sum(1 for d in directories for e in d["entries"] if e["verdict"] == "remove")
    summary = {"status": "failed" if failures else "ok", "directories": directories, "removed": removed,
               "bytes_freed": freed, "kept": sum(1 for d in directories for e in d["entries"] if e["keep"]),
               "keep_within": options["keep_within"], "min_keep": options["min_keep"]}
    if check_mode:
        summary.update(to_remove=to_remove, bytes_to_free=sum(e["bytes"] for d in directories for e in d["entries"]
                                                              if e["verdict"] == "remove"))
    return {"changed": removed > 0, "ops_state": summary}, failures
