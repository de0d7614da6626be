#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup
short_description: Streamed, compressed, encrypted and verified backups to local, S3 and GCS destinations
version_added: 1.0.0
description:
  - Backs up one PostgreSQL database, one SQLite database or a set of file trees in B(one streamed pass)
    (source, then zstd, then GnuPG, then SHA-256, then every destination at once); no full copy of the backup
    is written to local disk.
  - Each destination gets the backup's objects and then, B(last), a JSON manifest (see C(docs/manifest.md)).
    The manifest is written to a destination only after that destination confirmed every byte and the checksum;
    a backup without a manifest does not exist for M(watchkeeper.ops.backup_info) or any restore.
  - The task succeeds only when B(every) destination holds a confirmed copy and its manifest. Otherwise it fails
    with a message naming the step and the destination, and its result still lists each destination's outcome.
  - PostgreSQL backups are C(pg_dump -Fc -Z0) of an exported snapshot; the row count of every table (and a
    checksum of the tables named in O(source.checksum_tables)) is taken in the same snapshot and stored in the
    manifest as the data fingerprint that restore verification recomputes.
  - File backups are a tar stream (O(source.mode=full)) or content-addressed packs where unchanged data is never
    uploaded again (O(source.mode=incremental)).
  - Only one run of a job writes at a time. The run holds a lock in O(ops_state) and a second run waits up to
    O(lock_timeout) seconds, then fails naming the holder. A lock left by a killed run is broken automatically.
  - Every backup can be restored without this collection with C(gpg), C(zstd), C(pg_restore) and C(tar); the
    collection README shows the commands.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.destination
attributes:
  check_mode:
    support: full
    details:
      - Connects to the source and probes every destination read-only, then reports the plan (source facts and
        size estimate, each destination's reachability, free space where known, the keys that would be written).
        Nothing is written, not even the lock. Fails when the real run would fail.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  job:
    description:
      - Name of the backup job; part of every object key (C(<prefix>/<job>/YYYY/MM/DD/<timestamp>-<id>...)).
      - 1 to 64 letters, digits, C(.), C(_) or C(-).
    type: str
    required: true
  source:
    description: What to back up.
    type: dict
    required: true
    suboptions:
      type:
        description: Kind of source.
        type: str
        required: true
        choices: [postgres, sqlite, files]
      database:
        description: (postgres) Database to dump.
        type: str
        aliases: [db]
      login_host:
        description: (postgres) Host name, IP address or socket directory of the server.
        type: str
      login_port:
        description: (postgres) Port of the server.
        type: int
      login_user:
        description: (postgres) Role to connect as; it needs read access to every table (e.g. C(pg_read_all_data)).
        type: str
      login_password:
        description:
          - (postgres) Password. Prefer O(source.passfile) or an environment C(PGPASSWORD) set with C(no_log).
          - Never passed on a command line; C(pg_dump) reads it from a private temporary password file.
        type: str
      passfile:
        description: (postgres) A libpq password file (C(~/.pgpass) format).
        type: path
      conninfo:
        description:
          - (postgres) A libpq connection string or URI; explicit options above take precedence over its values.
          - Treated as a secret, because it may contain a password.
        type: str
      ssl_mode:
        description: (postgres) libpq C(sslmode).
        type: str
        choices: [disable, allow, prefer, require, verify-ca, verify-full]
      ca_cert:
        description: (postgres) CA certificate file for C(verify-ca) and C(verify-full).
        type: path
      connect_timeout:
        description: (postgres) Seconds to wait for a connection.
        type: int
        default: 10
      include_globals:
        description: (postgres) Also store C(pg_dumpall --globals-only) (roles, tablespaces) as a second object.
        type: bool
        default: false
      globals_no_role_passwords:
        description: (postgres) Pass C(--no-role-passwords) to C(pg_dumpall), so that a non-superuser can dump globals.
        type: bool
        default: false
      checksum_tables:
        description:
          - (postgres) Tables (C(schema.table), or C(table) for C(public)) whose content is also checksummed in SQL in the
            snapshot (md5 of every row's text, about one CPU-second per 50 MB), for data that must be checked
            independently of the dump. Every table already gets its row count and a content digest of the dump stream.
        type: list
        elements: str
        default: []
      fingerprint:
        description:
          - (postgres) Take the data fingerprint in the dump's snapshot, with every table's row count, the SHA-256 of every table's
            data as it streams through the dump (manifest fingerprint method C(copy-sha256-v2), with the session settings
            that shape C(COPY) text), and the checksums of O(source.checksum_tables). A dump whose archive version the
            collection cannot read keeps the row counts and says why (C(fingerprint.content.status=unavailable)); the
            backup does not fail for it. Turn it off only to measure what it costs;
            M(watchkeeper.ops.restore_verify) then can only check that the dump restores.
        type: bool
        default: true
      exclude_table_data:
        description: (postgres) Tables (exact C(schema.table) names) whose definition is dumped but not their rows.
        type: list
        elements: str
        default: []
      pg_bin_dir:
        description:
          - (postgres) Directory holding C(pg_dump) and C(pg_dumpall).
          - By default the tools matching the server's major version are used (Debian's C(/usr/lib/postgresql/<major>/bin)),
            else a newer one; a C(pg_dump) older than the server fails with the package to install.
        type: path
      path:
        description: (sqlite) The database file. It is copied with SQLite's online backup API into O(tmp_dir) first.
        type: path
      paths:
        description: (files) Files and directories to back up.
        type: list
        elements: path
      exclude:
        description:
          - (files) Shell-style patterns to leave out. A pattern with a C(/) is matched against the whole stored path
            (C(srv/app/uploads/tmp/*)); one without against every path component's name (C(*.tmp), C(cache)).
        type: list
        elements: str
        default: []
      mode:
        description:
          - (files) V(full) writes one tar stream; V(incremental) stores content-addressed chunks in shared packs and
            uploads only data that no earlier snapshot in every destination already holds.
        type: str
        choices: [full, incremental]
        default: full
      pack_size_mb:
        description: (files, incremental) Size of the uncompressed packs new data is grouped into.
        type: int
        default: 32
      skip_unreadable:
        description: (files) Skip files that cannot be read (counted in the result) instead of failing the backup.
        type: bool
        default: false
  encryption:
    description:
      - How the stream is encrypted with GnuPG. Required, so that an unencrypted backup is always a stated choice.
    type: dict
    required: true
    suboptions:
      mode:
        description:
          - V(public_key) (recommended) encrypts to the public keys in O(encryption.public_keys); the backup host needs
            no private key and cannot read its own backups. A key file that contains a private key is refused.
          - V(symmetric) encrypts with a passphrase from O(encryption.passphrase_file) (or O(encryption.passphrase)).
          - V(none) stores the compressed stream unencrypted.
        type: str
        choices: [public_key, symmetric, none]
        default: public_key
      public_keys:
        description: Public key files (armored or binary), or armored public key text, of every recipient.
        type: list
        elements: str
        default: []
      recipients:
        description: Fingerprints (or their ends) selecting recipients among O(encryption.public_keys); default all.
        type: list
        elements: str
        default: []
      passphrase_file:
        description: File holding the passphrase for V(symmetric) mode; its path is passed to gpg, never its content.
        type: path
      passphrase:
        description: Passphrase for V(symmetric) mode, given to gpg through an inherited pipe. Prefer O(encryption.passphrase_file).
        type: str
      cipher:
        description: Symmetric cipher gpg uses for the session key.
        type: str
        default: AES256
        choices: [AES256, AES192, AES, CAMELLIA256, TWOFISH]
  compression:
    description: zstd settings.
    type: dict
    default: {}
    suboptions:
      level:
        description:
          - zstd level, 1 (fastest) to 19 (20 to 22 use C(--ultra)), or V(auto).
          - V(auto) chooses from the cores the module may run on (its CPU affinity) - 1 on up to 2 cores, 2 on 3 cores,
            3 from 4 cores. A PostgreSQL backup is bound by the one server process that runs the dump's C(COPY); zstd
            gets the cores left. On 2 cores level 3 makes the backup about 1.7 times bare C(pg_dump), level 1 about
            1.5 times for about 10 % more bytes (bench/README.md). Level 3 compresses dumps about as well as
            C(gzip -9) at many times its speed.
          - The level used is recorded in the manifest (C(compression.level), with C(level_requested) and C(cores) for V(auto)).
        type: raw
        default: auto
      threads:
        description: zstd worker threads; V(0) uses one per core.
        type: int
        default: 0
  ops_state:
    description:
      - Directory for the job lock, progress file and the incremental file index. Must be shared (or the same host)
        for every runner that backs up the same job, so that two runs never write at once.
    type: path
    default: /var/lib/watchkeeper
  shared_state:
    description:
      - V(destination) (the default) also takes the job lock in every destination, as C(_ops_state/<job>/job.lock)
        (S3 C(If-None-Match)/C(If-Match), GCS generation preconditions, C(link)/C(flock) on a local or NAS path), in
        sorted order, after the lock in O(ops_state). Two controllers (AWX nodes) with separate disks then never both
        back up the same job. A destination whose lock cannot be taken (unreachable, or a store without conditional
        writes) gets no backup and fails the task; a lock held by another run fails the run naming the holder.
      - V(local) locks O(ops_state) only (one controller, or an O(ops_state) on shared storage).
      - See C(docs/several-controllers.md).
    type: str
    choices: [destination, local]
    default: destination
  lock_timeout:
    description: Seconds to wait for another run of the same job to finish before failing.
    type: int
    default: 60
  timeout:
    description: Seconds the whole backup may take; then every process is stopped and the run fails, leaving no manifest.
    type: int
    default: 21600
  tmp_dir:
    description: Scratch directory (SQLite copies, the private GnuPG home). Defaults to the system temporary directory.
    type: path
requirements:
  - gnupg (the C(gpg) command) and zstd on the host running the module
  - python-gnupg for public-key encryption
  - psycopg 3 and postgresql-client matching the server for PostgreSQL sources
  - boto3 for S3 destinations, google-cloud-storage for GCS destinations
notes:
  - Progress of a long run is written to C(<ops_state>/progress/<job>.json); run the task with C(async) to watch it.
  - Every run that is not in check mode, failed ones included, leaves a record in
    C(<ops_state>/history/backup/<job>/<UTC stamp>-<backup_id>.json) (schema C(watchkeeper.ops/backup-run), status
    V(ok), V(partial) or V(failed), per destination outcome, no parameters), the population of backup runs that
    M(watchkeeper.ops.compliance_report) counts. A record that cannot be written is a warning, never a failed backup.
  - Set C(WATCHKEEPER_NOW) in the task's environment to freeze the clock used for backup ids (tests).
seealso:
  - module: watchkeeper.ops.backup_info
  - name: Restoring a backup by hand
    description: The README section that restores every kind of backup with gpg, zstd, pg_restore and tar.
    link: https://github.com/watchkeeper/watchkeeper.ops#restoring-by-hand
"""

EXAMPLES = r"""
- name: Back up the application database to a NAS, S3 and GCS at once
  watchkeeper.ops.backup:
    job: app-db
    source:
      type: postgres
      database: app
      login_host: db1.internal
      login_user: backup
      passfile: /etc/watchkeeper/pgpass
      include_globals: true
      checksum_tables: [public.users, public.orders]
    encryption:
      mode: public_key
      public_keys: [/etc/watchkeeper/keys/backup-recipients.asc]
    destinations:
      - name: nas
        type: local
        path: /mnt/nas/backups
      - name: s3
        type: s3
        bucket: acme-backups
        prefix: prod
        region: eu-west-1
        storage_class: STANDARD_IA
      - name: gcs
        type: gcs
        bucket: acme-backups-eu
        prefix: prod
        credentials_file: /etc/watchkeeper/gcs.json
    ops_state: /var/lib/watchkeeper
  register: db_backup

- name: Back up user uploads incrementally (only changed files are uploaded)
  watchkeeper.ops.backup:
    job: uploads
    source:
      type: files
      mode: incremental
      paths: [/srv/app/uploads]
      exclude: ["*.tmp", "cache"]
    encryption:
      mode: symmetric
      passphrase_file: /etc/watchkeeper/backup.pass
    destinations:
      - name: s3
        type: s3
        bucket: acme-backups

- name: Back up an SQLite file while the app keeps writing
  watchkeeper.ops.backup:
    job: app-sqlite
    source:
      type: sqlite
      path: /srv/app/data/app.sqlite3
    encryption:
      public_keys: [/etc/watchkeeper/keys/backup-recipients.asc]
    destinations:
      - type: local
        path: /var/backups/watchkeeper

- name: Preflight in check mode (reports the plan, writes nothing)
  watchkeeper.ops.backup:
    job: app-db
    source: {type: postgres, database: app, login_host: db1.internal, login_user: backup}
    encryption: {public_keys: [/etc/watchkeeper/keys/backup-recipients.asc]}
    destinations: [{type: local, path: /mnt/nas/backups}]
  check_mode: true
"""

RETURN = r"""
job:
  description: The job name.
  returned: always
  type: str
  sample: app-db
backup_id:
  description: Id of this backup (C(<UTC timestamp>-<8 hex>)); part of every object key.
  returned: always
  type: str
  sample: 20261127T013000Z-3f9a1c2b
status:
  description: V(ok) when every destination holds the backup and its manifest, else V(failed).
  returned: always
  type: str
  sample: ok
destinations:
  description: One entry per destination, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Destination name.
      type: str
    type:
      description: V(local), V(s3) or V(gcs).
      type: str
    location:
      description: Where the destination is, without credentials.
      type: str
    status:
      description: V(ok) or V(failed).
      type: str
    key:
      description: Key of the main object (the dump, database file or tar) when V(ok).
      type: str
    manifest_key:
      description: Key of the manifest when V(ok).
      type: str
    stored_bytes:
      description: Bytes of this backup's own objects stored there.
      type: int
    objects:
      description: Number of objects confirmed (including new packs).
      type: int
    confirmed:
      description: What the destination confirmed per object (size, checksum, ETag, generation).
      type: list
      elements: dict
    error:
      description: Why it failed, naming the step, when V(failed).
      type: str
    step:
      description: The step that failed (connect, pg_dump, zstd, gpg, upload, commit, lock, ...) when V(failed).
      type: str
  sample:
    - {name: nas, type: local, status: ok, key: app-db/2026/11/27/20261127T013000Z-3f9a1c2b.pgdump.zst.gpg,
       manifest_key: app-db/2026/11/27/20261127T013000Z-3f9a1c2b.manifest.json, stored_bytes: 118020311}
    - {name: gcs, type: gcs, status: failed, step: upload, error: "step upload, destination gcs: connection refused"}
sizes:
  description: Bytes read from the source (C(raw_bytes)), after zstd (C(compressed_bytes)) and as stored (C(stored_bytes)).
  returned: always
  type: dict
  sample: {raw_bytes: 1331694080, compressed_bytes: 117990012, stored_bytes: 118020311}
sha256:
  description: SHA-256 of the main stored object, as in the manifest.
  returned: success
  type: str
manifest:
  description: The manifest written to every destination (see C(docs/manifest.md)); contains no secrets.
  returned: success
  type: dict
timings:
  description: Seconds per phase (prepare_s, lock_wait_s, cleanup_s, stream_s, commit_s, manifest_s) and total_s.
  returned: always
  type: dict
  sample: {prepare_s: 0.21, lock_wait_s: 0.0, cleanup_s: 0.01, stream_s: 9.8, commit_s: 0.4, manifest_s: 0.02, total_s: 10.45}
lock:
  description:
    - Lock file path, seconds waited, and the holders of stale locks that were broken.
    - With O(shared_state=destination), C(destinations) lists the lock taken in each destination (C(destination),
      C(key), C(waited_s), C(broke_stale)).
  returned: always
  type: dict
cleaned_incomplete:
  description: Leftovers of interrupted runs removed before this run (partial files, open multipart uploads).
  returned: always
  type: list
  elements: str
plan:
  description: In check mode, the plan (source facts and estimate, destinations with reachability and keys).
  returned: check mode
  type: dict
step:
  description: On failure, the step that failed.
  returned: failure
  type: str
destination:
  description: On failure, the destination involved, if any.
  returned: failure
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import run_history
from ansible_collections.watchkeeper.ops.plugins.module_utils.backup_args import backup_argument_spec
from ansible_collections.watchkeeper.ops.plugins.module_utils.backup_runner import BackupFailed, plan_backup, run_backup
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError


def main():
    module = AnsibleModule(argument_spec=backup_argument_spec(), supports_check_mode=True)
    params = module.params
    for key in (params.get("encryption") or {}).get("public_keys") or []:
        if "PRIVATE KEY" in key:  # pasted by mistake: refused below, and never echoed in the result
            module.no_log_values.add(key)
    started = run_history.start()
    try:
        if module.check_mode:
            plan, problems = plan_backup(params)
            if problems:
                module.fail_json(msg="check mode: the backup would fail: %s" % "; ".join(problems), plan=plan, changed=False)
            module.exit_json(changed=True, job=plan["job"], backup_id=plan["backup_id"], status="planned", plan=plan,
                             destinations=plan["destinations"])
        result = run_backup(params, log=module.log)
        run_history.record_run(module, params["ops_state"], params["job"], started, result=result)
        module.exit_json(**result)
    except BackupFailed as exc:
        result = dict(exc.result)
        run_history.record_run(module, params["ops_state"], params["job"], started, result=result, error=exc)
        module.fail_json(msg=exc.describe(), step=exc.step, destination=exc.destination, **result)
    except WatchkeeperError as exc:
        if not module.check_mode:
            run_history.record_run(module, params["ops_state"], params["job"], started, error=exc)
        module.fail_json(msg=exc.describe(), step=exc.step, destination=exc.destination, changed=False)


if __name__ == "__main__":
    main()
