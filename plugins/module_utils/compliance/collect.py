# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collect the facts of every check and assemble the report document (schema ``watchkeeper.ops/compliance-report``)."""

import os

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import controls as ct
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import period as pr
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import sources_backup, sources_ops
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance.evaluate import judge

SCHEMA = "watchkeeper.ops/compliance-report"
SCHEMA_VERSION = 1
GENERATOR = "watchkeeper.ops.compliance_report"


def check_inputs(ops_state, jobs):
    """Raises ValueError for an ops_state that is not a directory or a bad job name."""
    if not ops_state or not os.path.isdir(ops_state):
        raise ValueError("ops_state %s is not a directory: give the watchkeeper state directory the backups, "
                         "verifications and reports are written to" % ops_state)
    for job in jobs or []:
        if not mf.JOB_RE.match(job or ""):
            raise ValueError("job name %r must be 1-64 letters, digits, '.', '_' or '-'" % job)


def collect(ops_state, period, jobs, kpis, audit_spec):
    """``{check id: facts}`` of every evidence source."""
    return {
        ct.BACKUP_SUCCESS: sources_backup.backup_runs(ops_state, jobs, period),
        ct.RESTORE_VERIFICATION: sources_backup.verifications(ops_state, jobs, period, kpis["restore_verification_max_age_days"]),
        ct.DR_DRILL: sources_backup.drills(ops_state, jobs, period, kpis["dr_drill_max_age_days"]),
        ct.RETENTION: sources_ops.retention(ops_state, period),
        ct.MAINTENANCE: sources_ops.maintenance(ops_state, period, kpis["maintenance_within_window_pct"]),
        ct.AUDIT_TRAIL: sources_ops.audit_trail(audit_spec, period),
        ct.SECURITY_AUDIT: sources_ops.security(ops_state, period),
    }


def document(facts, jobs, jobs_source, kpis, period, meta):
    """The report (pure). ``meta``: ``report_id``, ``title``, ``generated_at`` (datetime), ``ops_state``, ``host``,
    ``collection_version``, ``audit_trail`` (its location or None)."""
    checks, controls, summary = judge(facts, jobs, kpis, period)
    return {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION, "report_id": meta["report_id"], "title": meta["title"],
        "period": pr.public(period), "generated_at": clock.isoformat(meta["generated_at"]),
        "generator": {"module": GENERATOR, "collection_version": meta.get("collection_version"), "host": meta.get("host")},
        "ops_state": meta["ops_state"], "audit_trail": meta.get("audit_trail"),
        "jobs": list(jobs), "jobs_source": jobs_source, "kpis": dict(kpis),
        "passed": summary["failed"] == 0 and summary["passed"] > 0, "summary": summary,
        "controls": controls, "checks": [checks[c] for c in ct.CHECK_ORDER],
    }
