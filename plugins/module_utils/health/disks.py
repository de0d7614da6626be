# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Space and inodes per real mount (statvfs over /proc/self/mounts), node_exporter's exclusions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

# node_exporter's default --collector.filesystem.fs-types-exclude and mount-points-exclude
PSEUDO_FS = re.compile(r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|"
                       r"overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs|nfsd|ramfs)$")
PSEUDO_MOUNT = re.compile(r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)")


def unescape(field):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def real_mounts(text):
    """``[(device, mount, fstype, readonly)]`` without pseudo filesystems; a root overlay (containers) is kept."""
    seen = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        device, mount, fstype, opts = unescape(parts[0]), unescape(parts[1]), parts[2], parts[3].split(",")
        if PSEUDO_MOUNT.match(mount) or (PSEUDO_FS.match(fstype) and mount != "/"):
            continue
        seen[mount] = (device, mount, fstype, "ro" in opts)
    return sorted(seen.values(), key=lambda entry: entry[1])


def measure(device, mount, fstype, readonly):
    st = os.statvfs(mount)
    size = st.f_blocks * st.f_frsize
    avail = st.f_bavail * st.f_frsize
    free = st.f_bfree * st.f_frsize
    result = {"mount": mount, "device": device, "fstype": fstype, "readonly": readonly, "size_bytes": size,
              "avail_bytes": avail, "used_bytes": size - free,
              "free_percent": round(100.0 * avail / size, 3) if size else None,
              "used_percent": round(100.0 * (size - avail) / size, 3) if size else None,
              "inodes_total": st.f_files, "inodes_free": st.f_favail,
              "inode_free_percent": round(100.0 * st.f_favail / st.f_files, 3) if st.f_files else None}
    return result


def collect(only=None, mounts_file="/proc/self/mounts"):
    """``(mounts, errors)``; ``only`` restricts to those mount points (each must exist)."""
    with open(mounts_file) as handle:
        entries = real_mounts(handle.read())
    errors = []
    if only:
        known = dict((entry[1], entry) for entry in entries)
        wanted = []
        for mount in only:
            if mount in known:
                wanted.append(known[mount])
            else:
                errors.append({"name": "disk %s" % mount, "kind": "disk", "error": "not a mounted filesystem"})
        entries = wanted
    result = []
    for entry in entries:
        try:
            data = measure(*entry)
        except OSError as exc:
            errors.append({"name": "disk %s" % entry[1], "kind": "disk", "error": "statvfs failed: %s" % exc})
            continue
        if data["size_bytes"]:
            result.append(data)
    return result, errors
