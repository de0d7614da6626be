#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: restore
short_description: Restore a backup into a named database, file or directory, checked before it replaces anything
version_added: 1.0.0
description:
  - Restores a backup of a job (the newest, one by id, or the newest at or before a time) into O(target), choosing and
    falling back across O(destinations) exactly like M(watchkeeper.ops.restore_verify).
  - A target that exists and is not empty is B(refused) unless O(force=true); nothing is downloaded or changed then.
  - With O(force=true), a B(safety backup) of what will be replaced is taken first through the backup module's code
    (job C(<job>-safety) by default, to the first destination, encrypted for the same keys); its id and location are
    returned in RV(safety_backup). If it fails, nothing is restored.
  - The backup is restored under a staging name (a scratch database, a hidden sibling file or directory), its data
    checks run (fingerprint, integrity, file hashes, O(checks.assertions)), and only then it B(replaces) the target
    (databases are renamed after their connections are closed; files and directories are renamed). A failed restore or
    check leaves the target as it was.
  - Database restores keep owners and privileges (the roles must exist; C(pg_dumpall --globals-only) backups from
    C(include_globals) restore them, see O(restore_globals)), unless O(no_owner=true).
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
      - Reads and checksums every object of the chosen backup and inspects the target; reports whether the real run would
        refuse the target and whether it would take a safety backup. Nothing is written.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  target:
    description: Where to restore.
    type: dict
    required: true
    suboptions:
      database:
        description: (PostgreSQL backups) Name of the database on O(server); created if it does not exist.
        type: str
      path:
        description: (SQLite backups) the database file; (file backups) the directory the stored paths are restored under.
        type: path
      owner:
        description: (PostgreSQL) Role that owns the restored database; default the login role.
        type: str
  force:
    description: Replace a target that exists and is not empty, after a safety backup of it.
    type: bool
    default: false
  keep_replaced:
    description:
      - Keep what the restore replaced (renamed to C(<database>_wk_replaced_<time>), or a hidden sibling C(.<name>.wk-replaced-<id>))
        instead of dropping it once the new data is in place. The safety backup is taken either way.
    type: bool
    default: false
  no_owner:
    description: (PostgreSQL) Restore without owners (C(pg_restore --no-owner)); every object then belongs to the login role.
    type: bool
    default: false
  restore_globals:
    description:
      - (PostgreSQL) Before the database is restored, replay the backup's C(pg_dumpall --globals-only) object (taken with
        the backup's C(source.include_globals)) on O(server), for a new server that lacks the roles.
      - Roles that do not exist are created with their attributes, password hashes, settings, comments and memberships,
        all in one transaction (all or none). A role that already exists is B(never altered) -- every statement about it
        (C(CREATE)/C(ALTER ROLE), C(COMMENT), a membership granted to it) is skipped and listed in RV(globals).
      - Tablespaces are not replayed (each needs a directory on the server's host); they are listed with a warning.
      - A backup without a globals object fails before anything is downloaded.
      - The login role needs C(CREATEROLE), or C(SUPERUSER) when the backup has superuser roles.
    type: bool
    default: false
  restore_globals_existing:
    description:
      - What O(restore_globals=true) does when a role of the backup already exists on the server.
      - V(skip) leaves it untouched and reports it; V(fail) fails the task before any statement runs.
    type: str
    default: skip
    choices: [skip, fail]
  lock_timeout:
    description: Seconds to wait when another restore into the same target holds its lock in O(ops_state).
    type: int
    default: 60
  safety_backup:
    description: Where and how the safety backup of a replaced target is stored.
    type: dict
    default: {}
    suboptions:
      job:
        description: Job name of the safety backup; default C(<job>-safety).
        type: str
      destinations:
        description:
          - Names of entries in O(destinations) that receive the safety backup; default the first of O(destinations).
        type: list
        elements: str
      public_keys:
        description:
          - Public key files (or armored text) to encrypt the safety backup for.
          - Default the public halves of O(decryption.private_keys), or the same passphrase for symmetric backups.
        type: list
        elements: str
seealso:
  - module: watchkeeper.ops.restore_verify
  - module: watchkeeper.ops.backup
"""

EXAMPLES = r"""
- name: Restore the newest backup of app-db into a new database
  watchkeeper.ops.restore:
    job: app-db
    destinations: [{name: nas, type: local, path: /mnt/backups}, {name: offsite, type: s3, bucket: acme-backups}]
    decryption:
      private_keys: [/etc/watchkeeper/keys/restore-private.asc]
    server: {login_host: db1.internal, login_user: postgres, passfile: /etc/watchkeeper/pgpass}
    target:
      database: app_restored

- name: Put the production database back as it was before the incident (safety backup first)
  watchkeeper.ops.restore:
    job: app-db
    at_or_before: "2026-11-27T09:00:00Z"
    destinations: [{name: nas, type: local, path: /mnt/backups}]
    decryption:
      private_keys: [/etc/watchkeeper/keys/restore-private.asc]
    server: {login_host: db1.internal, login_user: postgres, passfile: /etc/watchkeeper/pgpass}
    target:
      database: app
      owner: app
    force: true
  register: restored

- name: Rebuild on a new server, roles first (existing roles are left untouched and reported)
  watchkeeper.ops.restore:
    job: app-db
    destinations: [{name: nas, type: local, path: /mnt/backups}]
    decryption:
      private_keys: [/etc/watchkeeper/keys/restore-private.asc]
    server: {login_host: db2.internal, login_user: postgres, passfile: /etc/watchkeeper/pgpass}
    target:
      database: app
    restore_globals: true

- name: Restore an upload tree next to the live one
  watchkeeper.ops.restore:
    job: uploads
    destinations: [{type: local, path: /mnt/backups}]
    decryption: {passphrase_file: /etc/watchkeeper/backup.pass}
    target:
      path: /srv/restore/uploads
"""

RETURN = r"""
passed:
  description: True when the backup was restored, checked and swapped into the target.
  returned: always
  type: bool
status:
  description: V(restored), or V(available) in check mode.
  returned: success
  type: str
verified_record:
  description:
    - Path of the record of this passed verification, C(<ops_state>/verified/<job>/<backup_id>.json). Retention
      (M(watchkeeper.ops.retention_purge)) never removes the newest backup that has one.
    - V(null) when the record could not be written (the module log says why); the verification itself still passed.
  returned: success, not in check mode
  type: str
backup_id:
  description: The backup restored.
  returned: always
  type: str
target:
  description:
    - The target, whether it existed and was not empty, and what was replaced (C(name), C(kept)).
    - In check mode also C(would_refuse) (the reason, or null) and C(safety_backup) (whether one would be taken).
  returned: always
  type: dict
globals:
  description:
    - With O(restore_globals=true), what the replay of the globals object did. C(object) (its key),
      C(roles_created) (C(would_create) in check mode), C(roles_existing) (left untouched), C(skipped) (each statement
      not run, named by kind and role, never by its text, with the reason), C(warnings), and C(statements) (C(total),
      C(applied), C(skipped)).
  returned: when restore_globals is true and the backup is a PostgreSQL backup
  type: dict
  sample:
    object: app-db/2026/11/27/20261127T090000Z-1a2b.globals.sql.zst.gpg
    roles_created: [app, app_readonly]
    roles_existing: [postgres]
    skipped:
      - {statement: ALTER ROLE postgres, reason: "role postgres exists on the server: left untouched"}
    warnings: []
    statements: {total: 12, applied: 8, skipped: 2}
safety_backup:
  description: The safety backup taken before the target was replaced (job, backup_id, destinations with their manifest keys).
  returned: when a non-empty target was replaced
  type: dict
attempts:
  description: Every destination tried, as in M(watchkeeper.ops.restore_verify).
  returned: always
  type: list
  elements: dict
rto:
  description: Measured time in seconds by phase, as in M(watchkeeper.ops.restore_verify).
  returned: always
  type: dict
rpo:
  description: The backup's age when the restore started (data lost since, unless replayed from elsewhere).
  returned: when a backup was found
  type: dict
checks:
  description: Every check run on the staged data before it replaced the target.
  returned: always
  type: list
  elements: dict
backup:
  description: The backup's facts (objects, encryption, source).
  returned: when a backup was found
  type: dict
destination:
  description: The destination the backup was read from.
  returned: when a backup was found
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.module import run_module
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore_args import restore_spec


def main():
    run_module(AnsibleModule, restore_spec(), "restore")


if __name__ == "__main__":
    main()
