#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: retention_purge
short_description: Apply retention policies to backups in every destination, to application tables and to run reports
version_added: 1.0.0
description:
  - "O(target=backups): applies a retention policy (O(policy), with per-destination overrides) to the backups of a job
    in every destination. Every backup gets a verdict and the reasons for it: which rule keeps it, or why it goes."
  - "Safety rules that no policy overrides: the newest backup that passed M(watchkeeper.ops.restore_verify) (its record
    in C(<ops_state>/verified/)) is kept, and until one has, the newest complete backup; a backup under hold (a hold
    marker written by M(watchkeeper.ops.backup_hold), an S3 Object Lock legal hold or retention, a GCS object hold) is
    kept; objects of incomplete runs are removed only after O(incomplete_grace)."
  - "Deletion keeps the catalog consistent: the manifest goes first, so the backup disappears for every reader at once,
    then its objects; shared packs of incremental file backups go only when no remaining manifest references them."
  - "O(target=database): deletes rows older than a horizon from application tables in short batches by primary-key
    ranges with lock and statement timeouts, excluding rows under legal hold; whole partitions past the horizon are
    detached and dropped instead. O(max_runtime) bounds the run and the remaining backlog is reported."
  - "O(target=ops_state): removes old run reports and audit segments from the O(ops_state) directory
    (O(state_retention))."
  - Each destination and each table is handled on its own; one failing does not stop the others, and the task fails
    when any failed.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.destination
  - watchkeeper.ops.retention_backups
  - watchkeeper.ops.retention_database
attributes:
  check_mode:
    support: full
    details:
      - A true dry run. Backups - the plan with every backup, its verdict, reasons and the bytes that would be freed.
        Database - rows per table that would go, rows excluded by holds, partitions that would be dropped. Nothing is
        deleted or locked.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  target:
    description: What to purge.
    type: str
    required: true
    choices: [backups, database, ops_state]
  destinations:
    description:
      - Required with O(target=backups). Where the job's backups are; each is purged on its own.
    required: false
  ops_state:
    description:
      - Directory for locks and state shared by every run of the collection. The backup target reads verification
        records from C(verified/) there; O(target=ops_state) purges its C(reports/) and C(audit/) directories.
    type: path
    default: /var/lib/watchkeeper
  lock_timeout:
    description:
      - Seconds to wait for the lock of what is purged (the job's lock for backups, which the M(watchkeeper.ops.backup)
        module also takes; one lock per database; one for O(ops_state)) before failing with the holder named.
    type: int
    default: 60
  state_retention:
    description: With O(target=ops_state), what to keep.
    type: dict
    default: {}
    suboptions:
      keep_within:
        description: Entries younger than this are kept (a duration such as V(365d), V(26w)).
        type: str
        default: 365d
      min_keep:
        description: The newest entries of each directory kept whatever their age.
        type: int
        default: 3
      report_dirs:
        description:
          - Directories (relative to O(ops_state)) with one subdirectory per report kind, whose children (a file, or a
            directory of one run's files) are the entries. Entries named C(latest*) are always kept.
        type: list
        elements: str
        default: [reports]
      segment_dirs:
        description: Directories (relative to O(ops_state)) whose children are the entries, for example audit segments.
        type: list
        elements: str
        default: [audit]
requirements:
  - boto3 for S3 destinations, google-cloud-storage for GCS destinations, psycopg 3 for O(target=database)
notes:
  - Set C(WATCHKEEPER_NOW) in the task's environment to freeze the clock (tests, or previewing a future purge).
  - The role M(watchkeeper.ops.retention) (C(playbooks/retention.yml)) runs all three targets daily from inventory
    policies and writes a summary report.
seealso:
  - module: watchkeeper.ops.backup_hold
  - module: watchkeeper.ops.restore_verify
  - module: watchkeeper.ops.backup_info
"""

EXAMPLES = r"""
- name: Preview what the policy would remove (nothing is deleted)
  watchkeeper.ops.retention_purge:
    target: backups
    job: app-db
    destinations:
      - name: nas
        type: local
        path: /mnt/nas/backups
      - name: offsite
        type: s3
        bucket: acme-backups
    policy:
      keep_daily: 7
      keep_weekly: 4
      keep_monthly: 12
      timezone: Europe/Berlin
    destination_policies:
      nas:
        keep_daily: 7
  check_mode: true
  register: plan

- name: Purge events older than 90 days, except rows of accounts under legal hold
  watchkeeper.ops.retention_purge:
    target: database
    server:
      login_host: db.internal
      login_user: retention
      passfile: /etc/watchkeeper/pgpass
      database: app
    tables:
      - table: public.events
        column: created_at
        older_than: 90d
        hold_condition: account_id IN (SELECT account_id FROM legal_holds WHERE released_at IS NULL)
        batch_size: 10000
    max_runtime: 20m

- name: Keep one year of run reports
  watchkeeper.ops.retention_purge:
    target: ops_state
    ops_state: /var/lib/watchkeeper
    state_retention:
      keep_within: 365d
"""

RETURN = r"""
target:
  description: The target purged.
  returned: always
  type: str
  sample: backups
purged_at:
  description: When the run started (ISO 8601, UTC); the horizons were computed from this instant.
  returned: always
  type: str
failures:
  description:
    - One message per destination, table or directory that failed (empty when everything succeeded). The task fails
      when it is not empty; roles that run with C(failed_when=false) read it to report every failure.
  returned: always
  type: list
  elements: str
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
    orphans:
      description:
        - Index entries (C(<job>/_index/<backup_id>.json)) whose manifest is missing or unreadable, each with
          C(backup_id), C(index_key) and C(problem). They are never backups; each belongs to the incomplete run of its
          backup id and goes with it after O(incomplete_grace).
      type: list
      elements: dict
    unindexed:
      description: Ids of backups with a manifest but no index entry (written before index entries existed); they
        are backups like any other.
      type: list
      elements: str
    index_to_write:
      description: Ids of kept, valid backups without an index entry; the purge writes their index entry (not in
        check mode) so that C(watchkeeper.ops.backup_info) with C(listing=index) no longer lists in full.
      type: list
      elements: str
    index_written:
      description: Index entries written.
      type: int
    index_errors:
      description: Index entries that could not be written (the purge does not fail for them), with the reason.
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
database:
  description: Outcome of O(target=database); in check mode the counts of what would go, nothing written.
  returned: target is database
  type: dict
  contains:
    name:
      description: The database.
      type: str
    server:
      description: C(host:port) of the server.
      type: str
    check_mode:
      description: Whether this was a dry run.
      type: bool
    rows_deleted:
      description: Rows deleted in all tables (in dropped partitions included). Not in check mode results.
      type: int
    rows_to_delete:
      description: Check mode only, rows that would be deleted in all tables (exact counts).
      type: int
    backlog_rows:
      description: Rows still matching the predicates after the run (exact counts, all tables).
      type: int
    stopped_by_max_runtime:
      description: True when O(max_runtime) stopped the work before every table was done.
      type: bool
    duration_s:
      description: Wall time of the database purge.
      type: float
    rows_per_s:
      description: RV(database.rows_deleted) per second of RV(database.duration_s). Not in check mode results.
      type: float
    error:
      description: Why nothing could be done (database unreachable), when so.
      type: str
    tables:
      description: One entry per table of O(tables), in order.
      type: list
      elements: dict
      contains:
        table:
          description: "The table as given."
          type: str
        cutoff:
          description: "The cutoff, C(now - older_than), ISO 8601 UTC."
          type: str
        mode:
          description: "V(batches) or V(partitions) (partitions past the horizon are dropped)."
          type: str
        rows_deleted:
          description: "Rows deleted (batches and dropped partitions)."
          type: int
        rows_to_delete:
          description: "Check mode only, rows that would be deleted (exact count)."
          type: int
        rows_held:
          description: "Rows past the horizon kept by O(tables[].hold_condition) (exact count)."
          type: int
        partitions_dropped:
          description: "Partitions detached and dropped (C(schema.name))."
          type: list
          elements: str
        partitions_to_drop:
          description: "Check mode only, partitions that would be dropped."
          type: list
          elements: str
        partitions_kept:
          description: Partitions past the horizon that are kept, with the reason (held rows, rows not matching the
            condition, a detach pending that this purge did not start).
          type: list
          elements: dict
        partitions_finalized:
          description: Partitions whose interrupted C(DETACH ... CONCURRENTLY) (by an earlier run, or this one after a
            timeout) was finished with C(DETACH PARTITION ... FINALIZE); present when there were any.
          type: list
          elements: str
        partitions_to_finalize:
          description: Check mode only, partitions left "detach pending" that a run would finish; present when any.
          type: list
          elements: str
        detach:
          description: How partitions are detached when not concurrently, and why; present only then.
          type: str
        note:
          description: Present when a partitioned table is purged by batches although O(tables[].partitions=auto).
          type: str
        batches:
          description: "Batches that deleted rows."
          type: int
        lock_timeouts:
          description: "Lock timeouts met (each retried after a pause)."
          type: int
        duration_s:
          description: "Wall time for this table."
          type: float
        backlog_rows:
          description: Rows still matching the predicate after the run (exact count); null when it could not be counted.
          type: int
        status:
          description: "V(ok), V(failed) or V(stopped) (by O(max_runtime))"
          type: str
        error:
          description: "When failed: the step and PostgreSQL's message."
          type: str
ops_state:
  description:
    - With O(target=ops_state), every directory with its entries (C(name), C(modified_at), C(verdict) keep, remove,
      removed or failed, C(reason), C(bytes)) and the totals C(removed), C(bytes_freed), C(kept) (and C(to_remove),
      C(bytes_to_free) in check mode).
  returned: when target is ops_state
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.retention import dispatch


def main():
    module = AnsibleModule(argument_spec=dispatch.argument_spec(), required_if=dispatch.REQUIRED_IF,
                           supports_check_mode=True)
    now = clock.now()
    result, failures = dispatch.run(module.params, module.check_mode, now, log=module.log)
    result.update(target=module.params["target"], purged_at=clock.isoformat(now), failures=failures)
    result.setdefault("changed", False)
    if failures:
        module.fail_json(msg="retention (%s) failed: %s" % (module.params["target"], " | ".join(failures)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
