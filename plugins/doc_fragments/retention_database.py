# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    """Options of ``retention_purge`` with O(target=database): the twin of DATABASE_OPTIONS in
    plugins/module_utils/retention/database_args.py."""

    DOCUMENTATION = r'''
options:
  server:
    description:
      - "O(target=database): the PostgreSQL server and database whose tables are purged."
      - Passwords reach libpq in the connection parameters (or from O(server.passfile)), never on a command line.
    type: dict
    suboptions:
      database:
        description: The database holding O(tables).
        type: str
        required: true
      login_host:
        description: Host name or IP address; default the local socket.
        type: str
      login_port:
        description: Port; default 5432.
        type: int
      login_user:
        description: Role to connect as; it needs C(DELETE) on the tables, and ownership of partitioned tables whose
          partitions are detached and dropped.
        type: str
      login_password:
        description: Password. Prefer O(server.passfile).
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
        description: Not used by the database purge (shared with the restore modules' server options).
        type: str
        default: postgres
      pg_bin_dir:
        description: Not used by the database purge (shared with the restore modules' server options).
        type: path
  tables:
    description:
      - "O(target=database): the tables to purge, in this order. Each table is handled on its own: one that fails
        (missing, no single-column primary key, bad SQL) is reported with the step and PostgreSQL's message, the
        others still run, and the task fails at the end."
      - A row is deleted when C(column < cutoff AND (condition) AND NOT COALESCE((hold_condition), false)), with
        C(cutoff = now - older_than) computed once at the start of the run and reported.
      - Plain tables are purged in batches by ranges of their single-column primary key, each batch a short
        transaction of its own with C(SET LOCAL lock_timeout) and C(statement_timeout); a lock timeout is retried a
        few times after a pause and counted in RV(database.tables[].lock_timeouts).
      - "Tables range-partitioned on O(tables[].column) (with O(tables[].partitions=auto)): partitions entirely
        older than the cutoff are detached (C(DETACH PARTITION ... CONCURRENTLY) on PostgreSQL 14 and later, unless
        the table has a DEFAULT partition) and dropped; one holding rows that must stay (held, or not matching
        O(tables[].condition)) is kept, reported with the reason, and only its other rows are deleted. Partitions
        that straddle the cutoff and the DEFAULT partition are purged in batches. A concurrent detach interrupted
        half-way is finished with C(DETACH PARTITION ... FINALIZE) by the next run."
      - An index on O(tables[].column) is needed, or every batch scans the table.
    type: list
    elements: dict
    suboptions:
      table:
        description: The table, C(table) (schema C(public)) or C(schema.table); double quotes protect dots in names.
        type: str
        required: true
      column:
        description: The timestamp (or date) column compared with the cutoff. C(timestamp without time zone) values
          are read as UTC.
        type: str
        required: true
      older_than:
        description: Rows older than this are purged, a duration such as C(90d), C(26h), C(1d 12h), C(3600) (seconds).
        type: str
        required: true
      condition:
        description:
          - Extra SQL boolean expression a row must also match to be deleted, for example C(status = 'closed').
          - Trusted SQL from the inventory, inserted as written (wrapped in parentheses), like any SQL a playbook
            runs; never build it from untrusted input.
        type: str
      hold_condition:
        description:
          - SQL boolean expression for rows that are never deleted (legal hold), for example
            C(legal_hold OR account_id IN (SELECT account_id FROM legal_holds WHERE released_at IS NULL)).
          - A NULL result counts as not held. Trusted SQL, like O(tables[].condition).
          - Held rows past the horizon are counted in RV(database.tables[].rows_held).
        type: str
      batch_size:
        description: Rows per batch (per transaction).
        type: int
        default: 10000
      lock_timeout:
        description: C(lock_timeout) of each batch, detach and drop, for example C(100ms), C(2s).
        type: str
        default: 100ms
      statement_timeout:
        description: C(statement_timeout) of each batch and count; a batch that exceeds it fails the table (lower
          O(tables[].batch_size)).
        type: str
        default: 30s
      partitions:
        description:
          - V(auto) drops whole partitions of range-partitioned tables when they are past the horizon; V(never)
            deletes rows in batches only (partitions stay).
        type: str
        choices: [auto, never]
        default: auto
  max_runtime:
    description:
      - "O(target=database): upper bound of the whole run, checked between batches (a duration: C(30m), C(2h)). When
        it stops the work, the task still succeeds; RV(database.stopped_by_max_runtime) is true and
        RV(database.backlog_rows) says how many rows still match, so a purge that falls behind is visible."
    type: str
    default: 30m
  pause:
    description:
      - "O(target=database): pause between batches, in seconds or a duration (C(0.2), C(0.5s), C(2s)), to leave room
        for the application's own writes and for replicas to keep up. Lock timeouts are retried after at least this
        pause."
    type: str
    default: 0s
'''
