# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which backup to restore (pure): the newest valid one, one by id, or the newest at or before a time."""

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock


def choose(backups, backup_id=None, at_or_before=None):
    """``(entry, reason)``: the chosen catalog entry (or None) and why nothing was chosen.

    ``backups``: catalog entries (``backup_id``, ``created_at`` ISO string, ``valid``) in any order.
    Invalid entries (missing objects, bad manifest) are never chosen.
    """
    valid = [b for b in backups if b.get("valid")]
    if backup_id:
        for entry in backups:
            if entry["backup_id"] == backup_id:
                if entry.get("valid"):
                    return entry, None
                return None, "backup %s is not usable here: %s" % (backup_id, "; ".join(entry.get("problems") or []))
        return None, "backup %s is not in this destination" % backup_id
    if at_or_before is not None:
        limit = clock.parse_time(at_or_before)
        valid = [b for b in valid if clock.parse_time(b["created_at"]) <= limit]
    if not valid:
        if at_or_before is not None:
            return None, "no valid backup taken at or before %s" % clock.isoformat(clock.parse_time(at_or_before))
        return None, "no valid backup"
    return max(valid, key=lambda b: (clock.parse_time(b["created_at"]), b["backup_id"])), None
