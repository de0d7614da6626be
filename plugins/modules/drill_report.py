#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drill_report
short_description: Write the disaster-recovery drill report and the restore runbooks of every job
version_added: 1.0.0
description:
  - Turns the registered results of M(watchkeeper.ops.restore_verify) (one per job, passed or failed) into the drill
    report a quarterly disaster-recovery test must leave behind; who ran it and when, what was restored (backup,
    destination, fallbacks), how long each phase took (RTO), how old the restored data was (RPO), every check, and
    whether each job and the drill met the RPO and RTO objectives.
  - Writes C(report.json) (schema C(watchkeeper.ops/drill-report) version 1, see C(docs/dr-drills.md)), a self-contained
    C(report.html) (inline CSS, no JavaScript, no external assets) and one Markdown runbook per job
    (C(runbooks/<job>.md)) to C(<ops_state>/reports/dr_drill/<drill_id>/), or to the same keys in O(report_destination),
    and replaces C(reports/dr_drill/latest.json) with a copy of the new C(report.json).
  - Each runbook gives the exact steps to restore that job's backup with the collection and by hand with standard tools
    only (cp, aws or gcloud, sha256sum, gpg, zstd, pg_restore, sqlite3, tar, jq), with the backup's literal keys and
    checksums.
  - A missed objective or a failed restore does not fail the task; read RV(objectives_met) and RV(missed). The task fails
    on bad input or when the report cannot be written.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Builds and renders the whole report but writes nothing; RV(written) is false and RV(report) holds the paths it
        would write. C(changed) is true, as in a real run, because every run writes a new report.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  results:
    description:
      - The registered results of M(watchkeeper.ops.restore_verify), one per job (the C(results) of a loop, for example).
      - Failed results (C(failed), C(skipped), or C(passed) not true) are reported as failed restores with their message;
        missing fields are reported as not measured, never as met.
    type: list
    elements: dict
    required: true
  objectives:
    description: The objectives every job is judged against.
    type: dict
    default: {}
    suboptions:
      rpo:
        description:
          - Recovery point objective, the maximum age of the restored backup when its verification started, as seconds or
            a duration such as V(4h), V(90m), V(7200s), V(1d).
        type: str
        default: 4h
      rto:
        description: Recovery time objective, the maximum time of a whole restore (C(rto.total_s) of restore_verify).
        type: str
        default: 2h
  ops_state:
    description: Directory that receives the report under C(reports/dr_drill/) when O(report_destination) is not set.
    type: path
    default: /var/lib/watchkeeper
  report_destination:
    description:
      - Write the report to this destination instead of O(ops_state), under the keys C(reports/dr_drill/...) (after the
        bucket's O(report_destination.prefix)), for example when several controllers share one C(ops_state) bucket.
      - The same options as a destination of M(watchkeeper.ops.backup); the writer needs no delete rights.
    type: dict
    suboptions:
      name:
        description: Label of the destination in messages.
        type: str
      type:
        description: V(local) (a directory), V(s3) (S3 or S3-compatible) or V(gcs).
        type: str
        required: true
        choices: [local, s3, gcs]
      path:
        description: Only for V(local). Root directory; it must exist.
        type: path
      verify_readback:
        description: Only for V(local). Read files back before publishing them.
        type: bool
        default: true
      bucket:
        description: For V(s3) and V(gcs), required. The bucket.
        type: str
      prefix:
        description: For V(s3) and V(gcs). Key prefix inside the bucket.
        type: str
        default: ""
      endpoint_url:
        description: For V(s3) and V(gcs). Endpoint of an S3-compatible service or a GCS emulator.
        type: str
      timeout:
        description: For V(s3) and V(gcs). Seconds to wait to connect and for each answer.
        type: int
        default: 60
      retries:
        description: For V(s3) and V(gcs). Retries of a failed request.
        type: int
        default: 3
      part_size_mb:
        description: For V(s3) and V(gcs). Upload piece size in MiB.
        type: int
        default: 16
      region:
        description: Only for V(s3). Region of the bucket.
        type: str
      profile:
        description: Only for V(s3). Named AWS profile.
        type: str
      access_key:
        description: Only for V(s3). Access key ID (secret, never logged).
        type: str
      secret_key:
        description: Only for V(s3). Secret access key (never logged).
        type: str
      session_token:
        description: Only for V(s3). STS session token (never logged).
        type: str
      storage_class:
        description: Only for V(s3). Storage class of the report objects.
        type: str
      server_side_encryption:
        description: Only for V(s3). Server-side encryption.
        type: str
        choices: [AES256, "aws:kms"]
      kms_key_id:
        description: Only for V(s3). KMS key for V(aws:kms).
        type: str
      upload_concurrency:
        description: Only for V(s3). Parallel parts of an upload.
        type: int
        default: 4
      project:
        description: Only for V(gcs). Google Cloud project.
        type: str
      credentials_file:
        description: Only for V(gcs). Service account JSON key file.
        type: path
      anonymous:
        description: Only for V(gcs). Unauthenticated requests (emulators).
        type: bool
        default: false
  title:
    description: Title of the report.
    type: str
    default: Disaster-recovery drill
  operator:
    description:
      - Who ran the drill, for example the AWX user (the C(awx_user_name) variable of an AWX job), see the examples.
      - Defaults to the user running the module on the managed host.
    type: str
  started_at:
    description:
      - When the drill began (ISO 8601). Defaults to the earliest C(rpo.verify_started_at) of O(results), else now.
    type: str
requirements:
  - boto3 for an S3 O(report_destination), google-cloud-storage for GCS
notes:
  - Set C(WATCHKEEPER_NOW) in the task's environment to freeze the clock (tests, reports for a past date).
  - The report and the runbooks hold no secrets; O(results) are read field by field, never copied whole.
seealso:
  - module: watchkeeper.ops.backup
  - module: watchkeeper.ops.backup_info
"""

EXAMPLES = r"""
- name: Write the quarterly drill report
  watchkeeper.ops.drill_report:
    results: "{{ drill_verify.results }}"
    objectives: {rpo: 4h, rto: 2h}
    operator: "{{ awx_user_name | default(lookup('ansible.builtin.env', 'USER')) }}"
  register: drill

- name: Keep the report in the shared ops_state bucket
  watchkeeper.ops.drill_report:
    results: "{{ drill_verify.results }}"
    report_destination: {type: s3, bucket: acme-ops-state, prefix: prod}

- name: Fail the play when an objective was missed
  ansible.builtin.assert:
    that: drill.objectives_met
    fail_msg: "{{ drill.missed | map(attribute='detail') | join('; ') }}"
"""

RETURN = r"""
drill_id:
  description: Id of the drill, C(<YYYYMMDDTHHMMSSZ>-<8 hex>) (start time, UTC).
  returned: always
  type: str
  sample: 20261127T120000Z-3f9a1c2b
report:
  description: Where the files are (paths, or URLs such as C(s3://bucket/prefix/...) for O(report_destination)).
  returned: always
  type: dict
  contains:
    json:
      description: The JSON report.
      type: str
    html:
      description: The HTML page.
      type: str
    latest:
      description: C(latest.json), a copy of the newest JSON report.
      type: str
    runbooks:
      description: Markdown runbook of each job (by job id), for jobs whose result names a backup and a destination.
      type: dict
written:
  description: Whether the files were written (false in check mode).
  returned: always
  type: bool
objectives_met:
  description: True when every job was restored and met both objectives.
  returned: always
  type: bool
objectives:
  description: Per objective (C(rpo), C(rto)) C(target), C(target_s), C(worst_s), C(worst_job), C(met), C(jobs_met),
    C(jobs_missed); C(rto) adds C(not_recovered).
  returned: always
  type: dict
missed:
  description: Every missed objective; C(objective) is C(rpo), C(rto) or C(restore) (the restore failed, which also
    misses the RTO). C(achieved_s) is null when not measured.
  returned: always
  type: list
  elements: dict
  sample: [{job: app-db, objective: rto, target_s: 7200, achieved_s: 9012.5, detail: RTO 2h 30m exceeds the target 2h 00m}]
jobs:
  description: One entry per result - C(id), C(job), C(kind), C(status) (passed or failed), C(verdict) (met or missed),
    C(backup_id), C(destination), C(rto_s), C(rto), C(rpo_s), C(rpo), C(checks_passed), C(checks_failed), C(error).
  returned: always
  type: list
  elements: dict
operator:
  description: Who ran the drill.
  returned: always
  type: str
started_at:
  description: Start of the drill (UTC).
  returned: always
  type: str
finished_at:
  description: When the report was built (UTC).
  returned: always
  type: str
"""

import os
import pwd
import secrets
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.common_args import DESTINATION_OPTIONS
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.manifest import COLLECTION_VERSION
from ansible_collections.watchkeeper.ops.plugins.module_utils.report import drill, store
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage


def current_user():
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            results=dict(type="list", elements="dict", required=True),
            objectives=dict(type="dict", default={}, options=dict(rpo=dict(type="str", default="4h"),
                                                                  rto=dict(type="str", default="2h"))),
            ops_state=dict(type="path", default="/var/lib/watchkeeper"),
            report_destination=dict(type="dict", options=DESTINATION_OPTIONS),
            title=dict(type="str", default="Disaster-recovery drill"),
            operator=dict(type="str"),
            started_at=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        try:
            started = clock.parse_time(params["started_at"]) if params["started_at"] else None
        except ValueError as exc:
            raise ValueError("started_at %r is not an ISO 8601 time: %s" % (params["started_at"], exc))
        doc = drill.build_report(params["results"], params["objectives"], params["operator"] or current_user(), started,
                                 clock.now(), secrets.token_hex(4), params["title"], host=socket.gethostname(),
                                 collection_version=COLLECTION_VERSION)
    except ValueError as exc:
        module.fail_json(msg="bad input: %s" % exc, step="input")
    files = store.render_files(doc)
    latest = files[-1][1]
    result = dict(changed=True, written=False, drill_id=doc["drill_id"], objectives_met=doc["objectives_met"],
                  objectives=doc["objectives"], missed=doc["missed"], jobs=drill.compact_jobs(doc),
                  operator=doc["operator"], started_at=doc["started_at"], finished_at=doc["finished_at"])
    spec = dict(params["report_destination"]) if params["report_destination"] else None
    storage = None
    try:
        if spec:
            spec["name"] = spec.get("name") or spec["type"]
            storage = open_storage(spec)
        if module.check_mode:
            where = store.planned(doc["drill_id"], files, ops_state=params["ops_state"], storage=storage)
        elif storage is not None:
            where = store.write_storage(storage, doc["drill_id"], files, latest)
        else:
            where = store.write_directory(params["ops_state"], doc["drill_id"], files, latest)
    except WatchkeeperError as exc:
        result["changed"] = False
        module.fail_json(msg="cannot write the drill report: %s" % exc.describe(), step=exc.step,
                         destination=spec["name"] if spec else None, **result)
    finally:
        if storage is not None:
            storage.close()
    result["written"] = not module.check_mode
    result["report"] = {"json": where["report.json"], "html": where["report.html"], "latest": where["latest"],
                        "runbooks": dict((j["id"], where[j["runbook_file"]]) for j in doc["jobs"] if j.get("runbook_file"))}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
