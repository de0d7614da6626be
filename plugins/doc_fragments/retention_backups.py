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
  shared_state:
    description:
      - Where the job lock and the restore verification records live when several controllers (AWX nodes) run jobs.
      - V(destination) (the default) also takes the job lock in every destination (C(_ops_state/<job>/job.lock),
        sorted by name; a destination whose lock cannot be taken is not purged and fails the task), and reads the
        verification records of every destination (C(_ops_state/<job>/verified/)) together with the local ones, so a
        verification run on another controller protects its backup here. See C(docs/several-controllers.md).
      - V(local) uses only O(ops_state), as with a single controller.
    type: str
    choices: [destination, local]
    default: destination
'''
