#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: pg_insights
short_description: Read-only PostgreSQL performance insights with maintenance recommendations
version_added: 1.0.0
description:
  - Reads PostgreSQL's statistics views and catalogs and turns them into findings, each with a severity
    (V(info), V(warning), V(critical)) and, where one applies, a recommendation that is a task of the
    C(watchkeeper.ops.maintenance) role (V(vacuum_analyze), V(reindex), or V(sql) such as C(DROP INDEX CONCURRENTLY)).
  - "Sections: connections by state against C(max_connections); the oldest idle-in-transaction sessions and longest
    running queries (pid, age, query start, application, truncated query); lock waits with the blocking pid chain;
    cache hit ratio; replication lag (bytes and seconds) and replication slot retention; transaction-ID age against
    wraparound; dead tuples, last (auto)vacuum/analyze and estimated bloat per table; unused, duplicate and bloated
    indexes; large tables read by sequential scans; top statements of C(pg_stat_statements) when the extension is
    installed in the database."
  - Read-only. Every query runs in a C(READ ONLY) transaction under C(statement_timeout) and C(lock_timeout)
    (O(timeouts)); the strongest lock taken is C(AccessShareLock). A section that reaches a timeout is reported as
    skipped (RV(insights.facts)) and the other sections still run.
  - Thresholds and the meaning of every finding are in C(docs/monitoring.md), section "PostgreSQL insights".
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads only; behaves the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  connection:
    description:
      - How to reach the server, in the shape of the maintenance role's C(maintenance_database).
      - Unset keys fall back to libpq's defaults and C(PG*) environment variables.
    type: dict
    default: {}
    suboptions:
      login_host:
        description: Host name, address or socket directory.
        type: str
      login_port:
        description: Port.
        type: int
      login_user:
        description: Role to log in as (a member of C(pg_monitor) sees every session and statement).
        type: str
      login_password:
        description: Password. Never logged nor returned.
        type: str
      passfile:
        description: A libpq password file.
        type: path
      database:
        description: Database to inspect when O(database) is not set.
        type: str
      ssl_mode:
        description: libpq C(sslmode).
        type: str
      ca_cert:
        description: libpq C(sslrootcert).
        type: path
      connect_timeout:
        description: Seconds to wait for the connection.
        type: int
        default: 10
  database:
    description:
      - The database whose tables, indexes and statements are inspected (server-wide sections see all databases).
      - Defaults to O(connection.database), then V(postgres).
    type: str
  sections:
    description: Sections to run (all by default).
    type: list
    elements: str
    choices: [connections, activity, locks, cache, replication, wraparound, tables, indexes, statements]
  thresholds:
    description:
      - Overrides of the thresholds (numbers), e.g. C(idle_in_transaction_s), C(dead_tuples_min), C(unused_index_min_bytes),
        C(seq_scan_table_bytes); the full list and defaults are in C(docs/monitoring.md). An unknown key fails the task.
    type: dict
    default: {}
  timeouts:
    description: Limits of every query.
    type: dict
    default: {}
    suboptions:
      statement:
        description: C(statement_timeout), seconds or a duration such as V(500ms), V(5s), V(2m); must be more than 0.
        type: str
        default: 5s
      lock:
        description: C(lock_timeout), seconds or a duration; must be more than 0.
        type: str
        default: 1s
requirements:
  - psycopg (3.x)
seealso:
  - module: watchkeeper.ops.maintenance_window
"""

EXAMPLES = r"""
- name: Insights of the application database
  watchkeeper.ops.pg_insights:
    connection:
      login_host: 127.0.0.1
      login_user: monitor
      passfile: /etc/watchkeeper/pgpass
    database: app
  register: pg

- name: Only the indexes and tables, with a smaller unused-index threshold
  watchkeeper.ops.pg_insights:
    connection: "{{ maintenance_database }}"
    sections: [tables, indexes]
    thresholds:
      unused_index_min_bytes: 65536
    timeouts:
      statement: 10s
      lock: 500ms

- name: Put the recommended tasks in the next maintenance window
  ansible.builtin.set_fact:
    maintenance_tasks: "{{ pg.insights.recommendations }}"
"""

RETURN = r"""
insights:
  description: The assessment.
  returned: always
  type: dict
  contains:
    status:
      description: Worst severity of the findings, V(ok), V(warning) or V(critical) (V(info) counts as ok).
      type: str
    database:
      description: The database inspected.
      type: str
    findings:
      description:
        - "C({kind, severity, object, detail, recommendation}); kind is one of connections, idle_in_transaction,
          long_query, lock_wait, cache_hit_ratio, replication_lag, slot_retention, xid_wraparound, dead_tuples,
          stale_statistics, table_bloat, index_bloat, seq_scans, unused_index, duplicate_index, top_statement,
          section_skipped, section_error; recommendation is a maintenance task or null (advice only, in detail)."
      type: list
      elements: dict
    recommendations:
      description: The maintenance tasks of the findings, deduplicated (one V(vacuum_analyze) per database).
      type: list
      elements: dict
      sample: [{name: vacuum analyze "public"."orders", type: vacuum_analyze, database: app, tables: ['"public"."orders"']}]
    facts:
      description: The collected facts per section, each with C(status) (V(ok), V(skipped), V(error)), C(reason) and C(duration_s).
      type: dict
    duration_s:
      description: Time of the whole run in seconds.
      type: float
"""

import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.pg_insights.collect import SECTION_NAMES, run
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy.freshness import parse_duration
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy.pg_insights import thresholds


def timeout_ms(value):
    """Milliseconds from ``500ms``, ``5s``, ``2m`` or seconds; 0 is refused (it would disable the timeout)."""
    text = str(value).strip().lower()
    try:
        millis = int(float(text[:-2])) if text.endswith("ms") else int(parse_duration(text) * 1000)
    except ValueError:
        raise ValueError("not a duration: %r (use e.g. 500ms, 5s, 2m)" % value)
    if millis <= 0:
        raise ValueError("%r would disable the timeout; every query must have one" % value)
    return millis


def main():
    module = AnsibleModule(
        argument_spec=dict(
            connection=dict(type="dict", default={}, options=dict(
                login_host=dict(type="str"), login_port=dict(type="int"), login_user=dict(type="str"),
                login_password=dict(type="str", no_log=True), passfile=dict(type="path", no_log=False), database=dict(type="str"),
                ssl_mode=dict(type="str"), ca_cert=dict(type="path"), connect_timeout=dict(type="int", default=10))),
            database=dict(type="str"),
            sections=dict(type="list", elements="str", choices=SECTION_NAMES),
            thresholds=dict(type="dict", default={}),
            timeouts=dict(type="dict", default={}, options=dict(statement=dict(type="str", default="5s"),
                                                                lock=dict(type="str", default="1s"))),
        ),
        supports_check_mode=True,
    )
    params = module.params
    connection = dict((k, v) for k, v in (params["connection"] or {}).items() if v is not None)
    try:
        statement = timeout_ms(params["timeouts"]["statement"])
        lock = timeout_ms(params["timeouts"]["lock"])
    except ValueError as exc:
        module.fail_json(msg="invalid timeouts: %s" % exc, step="check")
    try:
        thresholds(params["thresholds"])
    except ValueError as exc:
        module.fail_json(msg="invalid thresholds: %s" % exc, step="check")
    try:
        insights = run(connection, params["database"], params["sections"], params["thresholds"], statement, lock)
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.describe(), step=exc.step, host=connection.get("login_host", "local socket"),
                         port=connection.get("login_port", 5432))
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg="pg_insights failed: %s" % exc, step="collect", exception=traceback.format_exc())
    module.exit_json(changed=False, insights=insights)


if __name__ == "__main__":
    main()
