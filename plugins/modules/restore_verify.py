#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: restore_verify
short_description: Prove that a backup restores and that the restored data is right, with measured RTO and RPO
version_added: 1.0.0
description:
  - Chooses a backup of a job (the newest, one by id, or the newest at or before a time) from the first destination in
    O(destinations) that can provide it. A destination that is unreachable, has no such backup, or whose copy fails its
    checksum is recorded in RV(attempts) and the next one is used.
  - Streams the backup down while checking its size and SHA-256 against the manifest, decrypts it with GnuPG and
    decompresses it with zstd into scratch space. Nothing counts unless every byte matched.
  - PostgreSQL dumps are restored with C(pg_restore -j) into a B(scratch database whose name the module generates)
    (C(wk_scratch_<job>_<random>)) on O(server), which may be the production server; no other database is written.
    SQLite backups go to a scratch file, file backups to a scratch directory.
  - Then checks the data. The manifest's fingerprint (every table's row count, the content digest of every table, and
    checksums of the tables the backup named) is recomputed on the restored data (see O(checks.content)), SQLite
    files get C(PRAGMA integrity_check), file trees are compared with the SHA-256 of every file in the backup's file
    list, and the user's SQL assertions run. Every mismatch is named (table or path, expected, found).
  - The scratch database, file or directory is B(always) removed, also when a check fails. What a killed run left
    behind is found and removed by the next run (scratch databases carry their owner run in a comment).
  - Returns the measured RTO by phase and the achieved RPO (the backup's age when the verification started).
  - The task fails when any check fails or no destination could provide a good copy.
  - With O(existing_database), nothing is downloaded or restored; the chosen backup's manifest is checked against that
    database as it is (for example one M(watchkeeper.ops.restore) restored earlier, or by hand).
options:
  existing_database:
    description:
      - Check this existing database on O(server) against the backup's fingerprint (row counts, content digests,
        checksums, assertions) instead of restoring the backup. Read-only; the database is kept.
      - No decryption keys are needed. The result's RV(status) is V(matches); no verification record is written, since
        the backup itself was not restored.
      - O(checks.content=dump) is refused (nothing is downloaded).
    type: str
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.destination
  - watchkeeper.ops.restore
attributes:
  check_mode:
    support: full
    details:
      - Chooses the backup and reads every object it needs, checking sizes and SHA-256 against the manifest (falling back
        across destinations as in a real run). Nothing is decrypted, restored or created.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Scratch restores skip owners, privileges, subscriptions and publications (C(pg_restore --no-owner --no-privileges
    --no-subscriptions --no-publications)), so a verification never starts replicating from production and needs no
    application roles on the scratch server.
  - Needs free space in O(scratch_dir) for the decoded dump and room on O(server) for one more copy of the database.
seealso:
  - module: watchkeeper.ops.restore
  - module: watchkeeper.ops.backup
  - module: watchkeeper.ops.backup_info
"""

EXAMPLES = r"""
- name: Prove last night's database backup restores, on the production server
  watchkeeper.ops.restore_verify:
    job: app-db
    destinations:
      - name: nas
        type: local
        path: /mnt/backups
      - name: offsite
        type: s3
        bucket: acme-backups
        prefix: prod
    decryption:
      private_keys: [/etc/watchkeeper/keys/restore-private.asc]
      private_key_passphrase_file: /etc/watchkeeper/keys/restore.pass
    server:
      login_host: db1.internal
      login_user: postgres
      passfile: /etc/watchkeeper/pgpass
    checks:
      assertions:
        - name: there are users
          sql: select count(*) from users
          op: ge
          value: 1
        - name: orders were still being written when the backup ran
          sql: select max(created_at) from orders
          op: within
          value: 1h
  register: verified

- name: The RTO and RPO measured
  ansible.builtin.debug:
    msg: "restored in {{ verified.rto.total_s }} s, data {{ verified.rpo.achieved_s }} s old"

- name: Check a database restored earlier against the newest backup (nothing restored, no keys needed)
  watchkeeper.ops.restore_verify:
    job: app-db
    destinations: [{type: local, path: /mnt/backups}]
    server: {login_host: db2.internal, login_user: postgres, passfile: /etc/watchkeeper/pgpass}
    existing_database: app_restored

- name: Verify the SQLite backup taken just before an incident
  watchkeeper.ops.restore_verify:
    job: app-sqlite
    at_or_before: "2026-11-27T09:00:00Z"
    destinations: [{type: local, path: /mnt/backups}]
    decryption:
      passphrase_file: /etc/watchkeeper/backup.pass

- name: Only check that the newest backup is complete and intact everywhere (reads, restores nothing)
  watchkeeper.ops.restore_verify:
    job: uploads
    destinations: [{type: gcs, bucket: acme-backups}]
  check_mode: true
"""

RETURN = r"""
passed:
  description: True when the backup was restored and every check passed.
  returned: always
  type: bool
status:
  description: V(verified), V(available) in check mode, V(matches) with O(existing_database).
  returned: success
  type: str
verified_record:
  description:
    - Path of the record of this passed verification, C(<ops_state>/verified/<job>/<backup_id>.json). Retention
      (M(watchkeeper.ops.retention_purge)) never removes the newest backup that has one.
    - V(null) when the record could not be written (the module log says why); the verification itself still passed.
  returned: success, not in check mode
  type: str
job:
  description: The job.
  returned: always
  type: str
kind:
  description: Kind of backup (V(postgres), V(sqlite), V(files)).
  returned: when a backup was found
  type: str
backup_id:
  description: The backup restored.
  returned: always
  type: str
created_at:
  description: When the backup was taken (UTC).
  returned: always
  type: str
backup:
  description: The backup's facts (objects with keys and SHA-256, encryption mode, source), as drill reports and runbooks use them.
  returned: when a backup was found
  type: dict
destination:
  description: The destination the backup was read from (name, type, location; never credentials).
  returned: when a backup was found
  type: dict
attempts:
  description: Every destination tried, in order, with V(ok) or V(failed) and the error.
  returned: always
  type: list
  elements: dict
  sample: [{destination: nas, status: failed, backup_id: 20261127T013000Z-1a2b3c4d,
            error: "step download, destination nas: SHA-256 of /mnt/backups/... is ..., the manifest says ..."},
           {destination: offsite, status: ok, backup_id: 20261127T013000Z-1a2b3c4d, error: null}]
rto:
  description:
    - Measured recovery time in seconds by phase. C(restore_s) is download through indexes; C(total_s) is
      everything until the data was known good (the RTO), without C(cleanup_s).
    - File backups are extracted while they stream, so their extraction is in C(download_decrypt_s).
  returned: always
  type: dict
  sample: {select_s: 0.2, download_decrypt_s: 3.1, restore_data_s: 19.8, indexes_constraints_s: 6.0, checks_s: 2.4,
           cleanup_s: 0.3, restore_s: 28.9, total_s: 31.5}
rpo:
  description: Achieved RPO, the backup's age in seconds when the verification started.
  returned: when a backup was found
  type: dict
  sample: {achieved_s: 5400.0, backup_created_at: "2026-11-27T01:30:00Z", verify_started_at: "2026-11-27T03:00:00Z"}
checks:
  description:
    - Every check with V(passed), V(expected), V(found) and, for failures, a V(detail) naming the table or path.
    - V(kind) is V(fingerprint) (row count), V(content) (a table's digest, or V(large objects)), V(checksum)
      (C(checksum_tables)), V(integrity), V(assertion) or V(files).
  returned: always
  type: list
  elements: dict
mismatches:
  description: One line per failed check.
  returned: always
  type: list
  elements: str
scratch:
  description: The scratch database, file or directory used, and whether it was removed.
  returned: always
  type: dict
  sample: {kind: database, name: wk_scratch_app_db_5f2c9e1a, server: "db1.internal:5432", removed: true}
cleaned_up:
  description: Leftovers of killed runs removed by this run.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.module import run_module
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore_args import restore_verify_spec


def main():
    run_module(AnsibleModule, restore_verify_spec(), "verify")


if __name__ == "__main__":
    main()
