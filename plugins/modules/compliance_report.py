#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: compliance_report
short_description: Judge SOC 2 and ISO/IEC 27001 controls against the evidence in ops_state, listing every file by SHA-256
version_added: 1.0.0
description:
  - Reads what the collection wrote to O(ops_state) over a period (backup run history, restore verifications, drill
    reports, retention reports, maintenance windows, security audits) and, when O(audit_trail) is given, verifies the
    audit trail with the code of M(watchkeeper.ops.audit_verify).
  - Judges seven evidence checks against their KPIs and maps them to the controls SOC 2 CC6.1, CC6.6, CC7.1, CC7.2,
    CC7.4, CC8.1, A1.2, A1.3 and ISO/IEC 27001:2022 Annex A 5.30, 8.8, 8.13, 8.15, 8.16, 8.32 (see
    C(docs/compliance.md)). A control fails when one of its checks fails, is V(not_applicable) (with the reason)
    when none of its checks found its evidence source, and passes otherwise; a control never passes without evidence.
  - Every check lists the complete population it judged, the query that selected it, and every evidence file by
    path, SHA-256 and size (hashed from the bytes that were judged).
  - Writes C(<report_id>.json) (schema C(watchkeeper.ops/compliance-report) version 1) and a self-contained
    C(<report_id>.html) (inline CSS, no JavaScript, no external asset) to O(output_dir), and replaces
    C(<ops_state>/reports/compliance/latest.json) with a copy of the JSON. A report file is never overwritten.
  - Failed controls do not fail the task; read RV(passed) and RV(failed_controls). The task fails on bad input
    (period, KPIs, job names, a missing O(ops_state), an unreadable audit key) or when the report cannot be written.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Collects and judges everything but writes nothing; RV(written) is false and RV(report) holds the paths it
        would write. C(changed) is true, as in a real run, because every run writes a new report.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  ops_state:
    description: The collection's state directory (where backups, verifications and reports record their runs). It must exist.
    type: path
    default: /var/lib/watchkeeper
  period:
    description:
      - The period judged, in UTC. Either O(period.month) or O(period.start) and O(period.end).
      - Empty means the calendar month before now.
    type: dict
    default: {}
    suboptions:
      month:
        description: A calendar month as C(YYYY-MM), for example V(2026-11).
        type: str
      start:
        description: Start of the period (C(YYYY-MM-DD) or an ISO 8601 time; a date is midnight UTC).
        type: str
      end:
        description: End of the period, exclusive (C(YYYY-MM-DD) or an ISO 8601 time).
        type: str
  jobs:
    description:
      - Backup jobs the backup, verification and drill checks cover.
      - Empty covers every job found in C(<ops_state>/history/backup/) and C(<ops_state>/verified/).
    type: list
    elements: str
    default: []
  kpis:
    description: The KPI targets (percentages) and the maximum ages of verifications and drills.
    type: dict
    default: {}
    suboptions:
      backup_success_pct:
        description: Share of successful backup runs every job must reach in the period.
        type: float
        default: 100.0
      restore_verification_pct:
        description: Share of jobs that must have a passed restore verification within O(kpis.restore_verification_max_age_days).
        type: float
        default: 100.0
      restore_verification_max_age_days:
        description: How old the last passed restore verification may be at the end of the period (92 is a quarter).
        type: int
        default: 92
      dr_drill_pct:
        description: Share of jobs that must have been restored in a drill that met its RTO and RPO within O(kpis.dr_drill_max_age_days).
        type: float
        default: 100.0
      dr_drill_max_age_days:
        description: How old the last met drill of a job may be at the end of the period.
        type: int
        default: 92
      retention_pct:
        description: Share of the period's retention runs that must leave no data older than its policy and fail nowhere.
        type: float
        default: 100.0
      maintenance_within_window_pct:
        description: Share of the maintenance windows completed in the period that must finish within their window.
        type: float
        default: 95.0
  audit_trail:
    description:
      - The audit trail to verify (a directory, as M(watchkeeper.ops.audit_verify) reads it with a C(local)
        destination). Without it the audit trail check is not applicable.
    type: dict
    suboptions:
      path:
        description: The directory the callback ships to (C(ship_dir)), or its spool directory.
        type: path
        required: true
      prefix:
        description: Where the trail starts inside O(audit_trail.path); V(audit) for a C(ship_dir), the empty string for a spool.
        type: str
        default: audit
      hmac_key_files:
        description: HMAC key files whose checkpoints are trusted.
        type: list
        elements: path
        default: []
      gpg_home:
        description: GnuPG home whose public keys are trusted for checkpoints signed with GnuPG.
        type: path
      gpg_fingerprints:
        description: Trust only these GnuPG key fingerprints from O(audit_trail.gpg_home).
        type: list
        elements: str
        default: []
  output_dir:
    description: Directory of the report files. Default C(<ops_state>/reports/compliance/<period label>/).
    type: path
  formats:
    description: The files to write.
    type: list
    elements: str
    choices: [json, html]
    default: [json, html]
  title:
    description: Title of the report.
    type: str
    default: Compliance report
notes:
  - Backup runs come from the run history the backup module writes since this version
    (C(<ops_state>/history/backup/<job>/)); runs before it left no record and are not counted.
  - The security audit check judges the last audit generated in the period (C(reports/security_audit/<stamp>/)),
    not the moving C(latest.json) pointer.
seealso:
  - module: watchkeeper.ops.audit_verify
  - module: watchkeeper.ops.maintenance_history
  - module: watchkeeper.ops.drill_report
  - module: watchkeeper.ops.security_audit_report
"""

EXAMPLES = r"""
- name: Compliance report of last month (the default period)
  watchkeeper.ops.compliance_report:
    ops_state: /var/lib/watchkeeper
    audit_trail:
      path: /var/lib/watchkeeper/audit-trail
      hmac_key_files: [/etc/watchkeeper/audit-checkpoint.key]
  register: compliance

- name: Say which controls failed
  ansible.builtin.debug:
    msg: "{{ compliance.failed_controls }}"
  when: not compliance.passed

- name: A quarter, two jobs, a looser maintenance KPI, JSON only
  watchkeeper.ops.compliance_report:
    ops_state: /srv/nfs/watchkeeper
    period: {start: "2026-10-01", end: "2027-01-01"}
    jobs: [app-db, uploads]
    kpis: {maintenance_within_window_pct: 90}
    formats: [json]
"""

RETURN = r"""
passed:
  description: True when no control failed and at least one passed.
  returned: success
  type: bool
report_id:
  description: Id of this report (C(<UTC stamp>-<8 hex>)), the name of its files.
  returned: success
  type: str
  sample: 20261201T060000Z-1a2b3c4d
period:
  description: The period judged (C(kind), C(label), C(start), C(end) exclusive, UTC).
  returned: success
  type: dict
  sample: {kind: month, label: 2026-11, start: "2026-11-01T00:00:00Z", end: "2026-12-01T00:00:00Z"}
jobs:
  description: The backup jobs covered.
  returned: success
  type: list
  elements: str
summary:
  description: Counts of controls per status, C(failed_controls) and the number of evidence files.
  returned: success
  type: dict
  sample: {controls: 14, passed: 9, failed: 5, not_applicable: 0, evidence_files: 61,
           failed_controls: [SOC2-CC7.4, SOC2-A1.2, SOC2-A1.3, ISO27001-A.5.30, ISO27001-A.8.13]}
failed_controls:
  description: Ids of the controls that failed.
  returned: success
  type: list
  elements: str
controls:
  description: Per control C(id), C(status) (pass, fail, not_applicable), C(reason) and C(failed_checks).
  returned: success
  type: list
  elements: dict
checks:
  description: Per evidence check C(id), C(status), C(reason), C(kpi) (target, achieved), C(numbers) and C(problems).
  returned: success
  type: list
  elements: dict
written:
  description: Whether the files were written (false in check mode).
  returned: success
  type: bool
report:
  description: Paths of C(json), C(html) and C(latest) (written, or that would be written in check mode).
  returned: success
  type: dict
"""

import secrets
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import collect as cc
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import period as pr
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import sources_backup, store
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance.controls import KPI_DEFAULTS
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance.evaluate import kpi_values
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.manifest import COLLECTION_VERSION


def argument_spec():
    kpis = dict((k, dict(type="int" if k.endswith("_days") else "float", default=v)) for k, v in KPI_DEFAULTS.items())
    return dict(
        ops_state=dict(type="path", default="/var/lib/watchkeeper"),
        period=dict(type="dict", default={}, options=dict(month=dict(type="str"), start=dict(type="str"), end=dict(type="str"))),
        jobs=dict(type="list", elements="str", default=[]),
        kpis=dict(type="dict", default={}, options=kpis),
        audit_trail=dict(type="dict", options=dict(
            path=dict(type="path", required=True), prefix=dict(type="str", default="audit"),
            hmac_key_files=dict(type="list", elements="path", default=[], no_log=False), gpg_home=dict(type="path"),
            gpg_fingerprints=dict(type="list", elements="str", default=[]))),
        output_dir=dict(type="path"),
        formats=dict(type="list", elements="str", choices=["json", "html"], default=["json", "html"]),
        title=dict(type="str", default="Compliance report"),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    now = clock.now()
    ops_state = params["ops_state"]
    try:
        period = pr.parse(params["period"], now)
        kpis = kpi_values(params["kpis"])
        cc.check_inputs(ops_state, params["jobs"])
        if not params["formats"]:
            raise ValueError("formats is empty: give json, html or both")
    except ValueError as exc:
        module.fail_json(msg="bad input: %s" % exc, step="input")
    jobs = sorted(set(params["jobs"])) if params["jobs"] else sources_backup.discover_jobs(ops_state)
    try:
        facts = cc.collect(ops_state, period, jobs, kpis, params["audit_trail"])
    except WatchkeeperError as exc:
        module.fail_json(msg="audit_trail: %s" % exc.describe(), step=exc.step or "input")
    meta = {"report_id": "%s-%s" % (clock.compact(now), secrets.token_hex(4)), "title": params["title"],
            "generated_at": now, "ops_state": ops_state, "host": socket.gethostname(),
            "collection_version": COLLECTION_VERSION,
            "audit_trail": (params["audit_trail"] or {}).get("path")}
    doc = cc.document(facts, jobs, "jobs" if params["jobs"] else "discovered", kpis, period, meta)
    files = store.render(doc, params["formats"])
    output_dir = params["output_dir"] or store.default_dir(ops_state, period["label"])
    result = dict(changed=True, written=False, passed=doc["passed"], report_id=doc["report_id"], period=doc["period"],
                  jobs=jobs, summary=doc["summary"], failed_controls=doc["summary"]["failed_controls"],
                  controls=[dict((k, c[k]) for k in ("id", "status", "reason", "failed_checks")) for c in doc["controls"]],
                  checks=[dict((k, c[k]) for k in ("id", "status", "reason", "kpi", "numbers", "problems")) for c in doc["checks"]])
    if module.check_mode:
        result["report"] = store.planned(output_dir, ops_state, files)
        module.exit_json(**result)
    try:
        result["report"] = store.write(output_dir, ops_state, files)
    except (IOError, OSError) as exc:
        result["changed"] = False
        module.fail_json(msg="cannot write the compliance report to %s: %s" % (output_dir, getattr(exc, "strerror", None) or exc),
                         step="write report", **result)
    result["written"] = True
    module.exit_json(**result)


if __name__ == "__main__":
    main()
