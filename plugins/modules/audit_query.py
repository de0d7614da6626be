#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: audit_query
short_description: Search the audit trail of the watchkeeper.ops.audit callback and export the matching records
version_added: 1.0.0
description:
  - Reads the trail in O(destination) (spool, directory or bucket) and selects records by time, user, AWX job or
    Semaphore task id, playbook, host, action, outcome and event.
  - User, job id and playbook belong to a run (its C(play_start) record); task records of a matching run match.
  - Exports the complete population of matching records to O(export_path) as JSON (the records exactly as stored,
    with their hashes, plus the query) or CSV (one flat row per record), and returns the first O(limit) rows.
  - It does not verify the trail; run M(watchkeeper.ops.audit_verify) first when the result is evidence.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.destination.single
attributes:
  check_mode:
    support: full
    details: Searches the same way but writes no export file.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  prefix:
    description: Where the trail starts inside O(destination); V(audit) for shipped trails, the empty string for a spool.
    type: str
    default: audit
  chains:
    description: Search only these chain ids; empty searches all.
    type: list
    elements: str
    default: []
  since:
    description: Only records at or after this time (ISO 8601; without a zone it is UTC).
    type: str
  until:
    description: Only records at or before this time (ISO 8601; without a zone it is UTC).
    type: str
  users:
    description: Runs by any of these users (local user, AWX launching user or Semaphore user).
    type: list
    elements: str
    default: []
  job_ids:
    description: Runs of any of these AWX job ids or Semaphore task ids.
    type: list
    elements: str
    default: []
  playbooks:
    description: Runs of these playbooks (full path, or a path suffix such as V(playbooks/backup.yml)).
    type: list
    elements: str
    default: []
  hosts:
    description: Task results of these hosts.
    type: list
    elements: str
    default: []
  actions:
    description: Task results of these actions (V(ansible.builtin.copy), or just V(copy)).
    type: list
    elements: str
    default: []
  outcomes:
    description: Task results with these outcomes.
    type: list
    elements: str
    choices: [ok, changed, failed, skipped, unreachable]
    default: []
  events:
    description: Only these record types.
    type: list
    elements: str
    choices: [play_start, task, run_end, spool_repair]
    default: []
  export_path:
    description: Write every matching record to this file (replaced atomically, mode 0640).
    type: path
  format:
    description: Format of O(export_path).
    type: str
    choices: [json, csv]
    default: json
  limit:
    description: Return at most this many rows in RV(records) (the count and the export hold all). V(0) returns none.
    type: int
    default: 100
"""

EXAMPLES = r"""
- name: Every failed task of AWX job 4711, as CSV for the auditor
  watchkeeper.ops.audit_query:
    destination:
      type: s3
      bucket: audit-trail
    job_ids: ["4711"]
    outcomes: [failed]
    export_path: /srv/evidence/job-4711-failed.csv
    format: csv

- name: What ran on db1 in November
  watchkeeper.ops.audit_query:
    destination:
      type: local
      path: /var/lib/watchkeeper
    hosts: [db1]
    since: "2026-11-01T00:00:00Z"
    until: "2026-11-30T23:59:59Z"
  register: november
"""

RETURN = r"""
count:
  description: Number of matching records.
  returned: always
  type: int
records:
  description: The first O(limit) matching records as flat rows (chain, seq, ts, event, run, playbook, user, AWX and
    Semaphore ids, play, host, task, action, outcome, check_mode, hash).
  returned: always
  type: list
  elements: dict
query:
  description: The filters as applied (times normalised to UTC), to be kept with the export.
  returned: always
  type: dict
export_path:
  description: The file written, when O(export_path) was given and not in check mode.
  returned: when written
  type: str
export_sha256:
  description: SHA-256 of the export file.
  returned: when written
  type: str
"""

import hashlib
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import query
from ansible_collections.watchkeeper.ops.plugins.module_utils.common_args import DESTINATION_SPEC
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage


def write_export(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".wk-audit-export-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            destination=dict(DESTINATION_SPEC),
            prefix=dict(type="str", default="audit"),
            chains=dict(type="list", elements="str", default=[]),
            since=dict(type="str"),
            until=dict(type="str"),
            users=dict(type="list", elements="str", default=[]),
            job_ids=dict(type="list", elements="str", default=[]),
            playbooks=dict(type="list", elements="str", default=[]),
            hosts=dict(type="list", elements="str", default=[]),
            actions=dict(type="list", elements="str", default=[]),
            outcomes=dict(type="list", elements="str", default=[], choices=list(query.OUTCOMES)),
            events=dict(type="list", elements="str", default=[], choices=["play_start", "task", "run_end", "spool_repair"]),
            export_path=dict(type="path"),
            format=dict(type="str", choices=["json", "csv"], default="json"),
            limit=dict(type="int", default=100),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        filters = query.Filters(p["since"], p["until"], p["users"], p["playbooks"], p["hosts"], p["actions"], p["outcomes"],
                                p["events"], p["job_ids"])
    except ValueError as exc:
        module.fail_json(msg="since/until must be ISO 8601 times: %s" % exc)
    spec = dict(p["destination"])
    spec["name"] = spec.get("name") or spec["type"]
    storage = None
    try:
        storage = open_storage(spec)
        found = list(query.search(storage, p["prefix"], filters, chains=p["chains"]))
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.describe(), step=exc.step, destination=spec["name"])
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read the audit trail: %s" % exc)
    finally:
        if storage is not None:
            storage.close()
    rows = [query.flat(rec, run) for rec, run, _seg in found]
    result = {"changed": False, "count": len(found), "records": rows[:max(p["limit"], 0)], "query": filters.as_dict()}
    if p["export_path"]:
        if p["format"] == "csv":
            data = query.to_csv(rows)
        else:
            data = query.to_json([rec for rec, _run, _seg in found], filters.as_dict())
        if not module.check_mode:
            try:
                write_export(p["export_path"], data)
            except (IOError, OSError) as exc:
                module.fail_json(msg="cannot write the export %s: %s" % (p["export_path"], exc), **result)
            result.update(export_path=p["export_path"], export_sha256=hashlib.sha256(data).hexdigest())
        result["changed"] = True
    module.exit_json(**result)


if __name__ == "__main__":
    main()
