# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    """Options of retention_purge with target backups: the twin of BACKUPS_OPTIONS in
    plugins/module_utils/retention/backups_args.py. ``destinations`` comes from the destination fragment, and
    ``ops_state`` and ``lock_timeout`` are documented by the module (they are shared by every target)."""

    DOCUMENTATION = r'''
options:
  job:
    description:
      - Required with O(target=backups). The backup job whose backups are purged (as given to M(watchkeeper.ops.backup)).
      - The purge holds the job's lock (the one M(watchkeeper.ops.backup) takes), so it never runs beside a backup
        of the job sharing the same O(ops_state).
    type: str
  policy:
    description:
      - Required with O(target=backups). Which backups to keep; a backup kept by any rule stays. Rules count only
        complete, valid backups.
      - "Safety rules that no policy overrides: the newest backup that passed a restore verification is kept (until
        one has, the newest complete backup); backups under a hold are kept; damaged backups are kept unless
        O(purge_damaged)."
    type: dict
    suboptions:
      keep_last:
        description: Keep the N newest backups.
        type: int
        default: 0
      keep_hourly:
        description: Keep the newest backup of each of the N most recent hours that have a backup.
        type: int
        default: 0
      keep_daily:
        description: Keep the newest backup of each of the N most recent days that have a backup.
        type: int
        default: 0
      keep_weekly:
        description: Keep the newest backup of each of the N most recent ISO weeks that have a backup.
        type: int
        default: 0
      keep_monthly:
        description: Keep the newest backup of each of the N most recent months that have a backup.
        type: int
        default: 0
      keep_yearly:
        description: Keep the newest backup of each of the N most recent years that have a backup.
        type: int
        default: 0
      keep_within:
        description: Keep every backup younger than this duration (V(36h), V(30d)).
        type: str
      min_keep:
        description: When the rules keep fewer backups than this, the newest others are kept too (at least 1).
        type: int
        default: 1
      timezone:
        description: IANA time zone whose calendar defines the hours, days, weeks, months and years.
        type: str
        default: UTC
  destination_policies:
    description:
      - Per destination name, policy options that override O(policy) for that destination (the others come from
        O(policy)), for example a longer history on the NAS than in the cloud.
      - Each merged policy is validated like O(policy); a name that is not a destination is an error.
    type: dict
    default: {}
  incomplete_grace:
    description:
      - Objects of incomplete runs (no manifest) are removed only when the run is older than this; a run that young may
        still be uploading. Unreferenced shared packs are removed only when older than this too (a backup on another
        host may have just uploaded one its manifest does not name yet).
      - A duration such as V(24h) or V(2d).
    type: str
    default: 24h
  purge_damaged:
    description:
      - Remove damaged backups (manifest unreadable, or objects missing or of the wrong size). By default they are kept
        for inspection and never counted by the rules.
    type: bool
    default: false
  provider_holds:
    description:
      - Before anything is deleted, ask the store for its own holds on every object about to go (S3 Object Lock legal
        hold and retention; GCS temporary and event-based holds, object retention and the bucket retention policy);
        a held backup, pack or incomplete run is kept and the reason names the hold.
      - With V(false) only hold markers protect backups. On an S3 bucket with versioning a plain delete of a locked
        object "succeeds" by adding a delete marker, which hides the backup from every reader; keep this on there.
    type: bool
    default: true
'''

    RETURN_DOC = r'''
backups:
  description:
    - With O(target=backups), per destination name, the outcome of the purge there.
  returned: when target is backups
  type: dict
  contains:
    status:
      description: V(ok), or V(failed) when the destination could not be read or a delete failed (see C(error)).
      type: str
    error:
      description: What failed, where and why (null when ok).
      type: str
    step:
      description: The step that failed (V(list), V(read), V(holds), V(delete), ...).
      type: str
    type:
      description: Destination type.
      type: str
    location:
      description: Where the destination is, without secrets.
      type: str
    policy:
      description: The policy applied there, for humans (after O(destination_policies)).
      type: str
    backups:
      description: Every backup, newest first, with its verdict.
      type: list
      elements: dict
      contains:
        backup_id:
          description: The backup id.
          type: str
        created_at:
          description: When the backup started (UTC).
          type: str
        verdict:
          description: V(keep); V(remove) (check mode); V(removed); V(failed) (a delete failed, see C(leftovers)).
          type: str
        reasons:
          description: Which rules or safety rules keep it, or why it goes.
          type: list
          elements: str
        bytes:
          description: Bytes of its manifest and own objects (shared packs are counted apart).
          type: int
        valid:
          description: Whether the backup is complete and undamaged.
          type: bool
        leftovers:
          description: Object keys left after a delete failed once the manifest was gone.
          type: list
          elements: str
    kept:
      description: Backups kept.
      type: int
    removed:
      description: Backups removed (their manifest is gone).
      type: int
    to_remove:
      description: Backups the plan removes (equal to C(removed) when every delete succeeded).
      type: int
    bytes_to_free:
      description: Bytes the plan frees (backups, packs and incomplete runs).
      type: int
    bytes_freed:
      description: Bytes really freed.
      type: int
    packs_to_remove:
      description: Keys of unreferenced shared packs, older than O(incomplete_grace) and not held, that the plan removes.
      type: list
      elements: str
    packs_removed:
      description: Shared packs removed.
      type: int
    packs_bytes_freed:
      description: Bytes of the removed packs.
      type: int
    packs_kept_young:
      description: Unreferenced packs kept because they are younger than O(incomplete_grace).
      type: list
      elements: str
    packs_sweep_blocked:
      description: Why no pack was swept (a remaining manifest cannot be read), or null.
      type: str
    incomplete:
      description: Incomplete runs (objects without a manifest) with C(backup_id), C(created_at), C(verdict),
        C(reasons), C(keys) and C(bytes).
      type: list
      elements: dict
    incomplete_to_remove:
      description: Ids of incomplete runs past the grace that the plan removes.
      type: list
      elements: str
    incomplete_removed:
      description: Incomplete runs removed.
      type: int
    leftovers:
      description:
        - Object keys of backups whose manifest was deleted but whose objects could not all be; they are an incomplete
          run now and a later purge removes them after O(incomplete_grace).
      type: list
      elements: str
    duration_s:
      description: Seconds spent on the destination.
      type: float
plan:
  description: In check mode, per destination the ids to C(remove) and to C(keep), C(packs), C(incomplete) and
    C(bytes_to_free). Nothing was deleted.
  returned: in check mode with target backups
  type: dict
job:
  description: The job purged.
  returned: when target is backups
  type: str
failed_destinations:
  description: Names of the destinations that failed.
  returned: when target is backups
  type: list
  elements: str
removed:
  description: Backups removed in all destinations (also C(kept), C(bytes_freed), C(bytes_to_free), C(packs_removed),
    C(incomplete_removed) as totals).
  returned: when target is backups
  type: int
'''
