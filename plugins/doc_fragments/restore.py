# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    """Options shared by restore_verify and restore: the twin of common_spec() in
    plugins/module_utils/restore_args.py."""

    DOCUMENTATION = r'''
options:
  job:
    description: Name of the backup job whose backup is restored (as given to M(watchkeeper.ops.backup)).
    type: str
    required: true
  backup_id:
    description:
      - Restore this backup (C(20261127T013000Z-1a2b3c4d)). Mutually exclusive with O(at_or_before).
      - Default is the newest valid backup of the job.
    type: str
  at_or_before:
    description:
      - Restore the newest valid backup taken at or before this time (ISO 8601; without a zone, UTC), for example the
        last backup before an incident.
    type: str
  decryption:
    description:
      - Keys to decrypt the backup. They are imported into a private, throwaway GnuPG home; the host's keyrings are never
        read or changed.
      - The backup's manifest names its recipients, so a key that cannot decrypt it fails before anything is downloaded.
    type: dict
    default: {}
    suboptions:
      private_keys:
        description: Private key files, or armored private key text, for backups encrypted in V(public_key) mode.
        type: list
        elements: str
        default: []
      private_key_passphrase_file:
        description: File holding the passphrase that protects O(decryption.private_keys); its path is given to gpg.
        type: path
      passphrase_file:
        description: File holding the passphrase of V(symmetric) backups; its path is given to gpg, never its content.
        type: path
      passphrase:
        description: Passphrase of V(symmetric) backups, given to gpg through a pipe. Prefer O(decryption.passphrase_file).
        type: str
  server:
    description:
      - The PostgreSQL server the database is restored to. Required for PostgreSQL backups.
      - It may be the source server; the module creates databases under names it generates (or the target's), and
        never writes into any other database.
      - The login needs C(CREATEDB) (and ownership of the objects it restores; a superuser is simplest).
    type: dict
    suboptions:
      login_host:
        description: Host name or IP address; default the local socket.
        type: str
      login_port:
        description: Port; default 5432.
        type: int
      login_user:
        description: Role to connect as.
        type: str
      login_password:
        description: Password. Prefer O(server.passfile). It reaches C(pg_restore) through a private password file.
        type: str
      passfile:
        description: A libpq password file.
        type: path
      ssl_mode:
        description: libpq C(sslmode).
        type: str
        choices: [disable, allow, prefer, require, verify-ca, verify-full]
      ca_cert:
        description: CA certificate for V(verify-ca) and V(verify-full).
        type: path
      connect_timeout:
        description: Seconds to wait for a connection.
        type: int
        default: 10
      maintenance_db:
        description: Database to connect to for creating, renaming and dropping databases.
        type: str
        default: postgres
      pg_bin_dir:
        description:
          - Directory holding C(pg_restore). By default the one matching the newer of the server's and the dump's major
            version (Debian's C(/usr/lib/postgresql/<major>/bin)).
        type: path
  checks:
    description: Data checks run on the restored data before it counts (and, for M(watchkeeper.ops.restore), before it replaces anything).
    type: dict
    default: {}
    suboptions:
      fingerprint:
        description:
          - Recompute the backup's data fingerprint (row count of every table, checksum of the tables the backup named in
            C(checksum_tables), and the content digest of every table as O(checks.content) says) and compare it with the
            manifest; every difference names the table, expected and found.
          - SQLite backups also get C(PRAGMA integrity_check); file backups are always compared with their file list
            (every file's SHA-256).
        type: bool
        default: true
      content:
        description:
          - (postgres) How the content digest of every table (SHA-256 of its C(COPY) data, taken from the dump stream by
            the backup; manifests of fingerprint method C(copy-sha256-v2)) is checked. A changed, deleted or added row in
            any table fails naming the table.
          - V(database) dumps the restored database again (C(pg_dump --data-only), in O(jobs) parallel processes, with the
            session settings the backup recorded) and compares every table. Proves that the restored database holds
            exactly the backed-up rows. Costs about one C(pg_dump) of the data. A table whose digest matches is not
            counted again with C(count(*)); one whose digest differs is, so the failure says how many rows differ.
          - V(dump) digests the decoded dump file before C(pg_restore) reads it. Cheaper (one read of a local file);
            proves that the dump holds exactly what was fingerprinted, so an object altered and re-checksummed is a bad
            copy (the next destination is tried). It does not read the restored database (row counts still do).
          - V(none) checks row counts (and C(checksum_tables)) only.
          - Backups whose manifest has no digests (older ones, or a dump the backup could not read) get row counts only.
        type: str
        choices: [database, dump, none]
        default: database
      assertions:
        description:
          - SQL checks on the restored database. Each query returns one value (first column of the first row), which is
            compared with O(checks.assertions[].value).
          - Queries run in read-only transactions with a statement timeout.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Label in results and reports; default the SQL.
            type: str
          sql:
            description: The query, for example C(select count(*) from users).
            type: str
            required: true
          op:
            description:
              - Comparison; numbers compare as numbers, other values as text.
              - V(within) expects a timestamp no older than O(checks.assertions[].value) (a duration such as C(1h)) before
                the backup was taken, for example the newest C(orders.created_at).
            type: str
            choices: [eq, ne, lt, le, gt, ge, within]
            default: eq
          value:
            description: The expected value (or the duration for V(within)).
            type: raw
  jobs:
    description: Parallel C(pg_restore) jobs and checking connections; default the number of CPU cores.
    type: int
  scratch_dir:
    description:
      - Where decoded dumps, SQLite files and file trees are written during the run (a private, mode 0700 directory per
        run, removed at the end; those of killed runs are removed by the next run). Needs space for the plaintext of the
        backup. Default O(tmp_dir).
    type: path
  scratch_max_age:
    description:
      - Scratch databases left by a killed run on this host are dropped by the next run at once; those created from
        other hosts are dropped when older than this (C(24h), C(90m)).
    type: str
    default: 24h
  ops_state:
    description:
      - Directory for locks and state shared by every run of the collection.
      - A passed run writes C(verified/<job>/<backup_id>.json) there, which retention reads to keep the newest proven
        backup.
    type: path
    default: /var/lib/watchkeeper
  shared_state:
    description:
      - V(destination) (the default) also writes the record of a passed verification to the destination the backup
        was read from, as C(_ops_state/<job>/verified/<backup_id>.json) (conditional create; a newer verification
        replaces an older record), so M(watchkeeper.ops.retention_purge) on any controller sees it. A record that
        cannot be written there is logged; the local record is always written.
      - V(local) writes the record to O(ops_state) only. See C(docs/several-controllers.md).
    type: str
    choices: [destination, local]
    default: destination
  timeout:
    description: Seconds the whole run may take; stages still running are stopped and everything is cleaned up.
    type: int
    default: 21600
  tmp_dir:
    description: Temporary directory (private GnuPG homes, password files); default the system's.
    type: path
'''
