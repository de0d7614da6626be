# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mark and sweep of the shared packs of incremental file backups. Pure: no I/O.

Packs (``<job>/packs/<aa>/<pack_id>...``) are shared by every snapshot that reuses their chunks. A pack may be
removed only when no remaining manifest references it: the *mark* is the union of the packs of every manifest
that stays (kept, held and damaged ones included; one that cannot be read stops the sweep, since what it
references is unknown). The *sweep* takes the unreferenced packs that are older than the grace period: a backup
running on another host may have just uploaded a pack its manifest does not name yet.
"""

import collections
import datetime

Sweep = collections.namedtuple("Sweep", ["remove", "young", "referenced", "blocked"])
"""``remove``: pack keys to delete; ``young``: unreferenced but within the grace period; ``referenced``: the
mark; ``blocked``: why nothing may be swept (None when the sweep may run)."""


def pack_keys(manifest):
    """Keys of the shared packs one manifest references."""
    files = manifest.get("files") if isinstance(manifest, dict) else None
    packs = files.get("packs") if isinstance(files, dict) else None
    return set(p["key"] for p in packs or [] if isinstance(p, dict) and isinstance(p.get("key"), str))


def mark(remaining):
    """Union of the packs of the remaining manifests. ``remaining`` maps backup id -> manifest dict, or None for a
    manifest that could not be read. Returns ``(referenced keys, blocked reason or None)``."""
    referenced = set()
    unreadable = sorted(backup_id for backup_id, manifest in remaining.items() if manifest is None)
    for manifest in remaining.values():
        if manifest is not None:
            referenced |= pack_keys(manifest)
    if unreadable:
        return referenced, "the manifest of %s cannot be read, so the packs it references are unknown" % ", ".join(unreadable)
    return referenced, None


def sweep(packs, remaining, now, grace_s):
    """Which packs to remove. ``packs`` maps pack key -> mtime (aware datetime or None)."""
    referenced, blocked = mark(remaining)
    if blocked:
        return Sweep([], [], referenced, blocked)
    horizon = now - datetime.timedelta(seconds=grace_s)
    remove, young = [], []
    for key in sorted(packs):
        if key in referenced:
            continue
        mtime = packs[key]
        if mtime is not None and mtime <= horizon:
            remove.append(key)
        else:
            young.append(key)  # unknown age counts as young: never guess a pack is old
    return Sweep(remove, young, referenced, None)
