# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""health_facts snapshots in a directory: atomic JSON files, earlier ones read back for the disk fill trend."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

PREFIX = "health-"
SUFFIX = ".json"
WINDOW_S = 6 * 3600  # the mixin's predict_linear window


def name_for(timestamp):
    return "%s%017.6f%s" % (PREFIX, timestamp, SUFFIX)


def list_snapshots(directory):
    if not os.path.isdir(directory):
        return []
    return sorted(n for n in os.listdir(directory) if n.startswith(PREFIX) and n.endswith(SUFFIX))


def mount_samples(directory, now, window_s=WINDOW_S):
    """``{mount: [(time, avail_bytes), ...]}`` from snapshots of the last ``window_s``; unreadable files skipped."""
    samples = {}
    for name in list_snapshots(directory):
        try:
            stamp = float(name[len(PREFIX):-len(SUFFIX)])
        except ValueError:
            continue
        if stamp < now - window_s or stamp >= now:
            continue
        try:
            with open(os.path.join(directory, name)) as handle:
                data = json.load(handle)
        except (IOError, OSError, ValueError):
            continue
        for mount in (data.get("host") or {}).get("mounts") or []:
            if mount.get("avail_bytes") is not None:
                samples.setdefault(mount["mount"], []).append((stamp, mount["avail_bytes"]))
    return samples


def write(directory, timestamp, data, keep=288):
    """Write ``data`` atomically as a new snapshot and keep the newest ``keep``; returns the path."""
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        path = os.path.join(directory, name_for(timestamp))
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    names = list_snapshots(directory)
    for old in names[:max(0, len(names) - keep)]:
        os.unlink(os.path.join(directory, old))
    return path
