# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controls of the compliance report and the evidence checks each one rests on (data only).

A *check* judges one evidence source the collection writes (backup run history, restore verifications, drill
reports, retention reports, maintenance windows, the audit trail, security audits) against a KPI. A *control*
(SOC 2 Trust Services Criteria 2017, ISO/IEC 27001:2022 Annex A) maps to one or more checks: it fails when one of
them fails, is not applicable when none of them had evidence, and passes otherwise. docs/compliance.md shows this
table; tests/unit checks that the two agree.
"""

BACKUP_SUCCESS = "backup_success"
RESTORE_VERIFICATION = "restore_verification"
DR_DRILL = "dr_drill"
RETENTION = "retention"
MAINTENANCE = "maintenance"
AUDIT_TRAIL = "audit_trail"
SECURITY_AUDIT = "security_audit"

# check id -> (title, KPI text, the KPI option it reads)
CHECKS = {
    BACKUP_SUCCESS: ("Backup runs of every job succeeded", "successful runs / all runs of the period, per job",
                     "backup_success_pct"),
    RESTORE_VERIFICATION: ("Every job has a passed restore verification recent enough",
                           "jobs verified within max age at the period's end / jobs", "restore_verification_pct"),
    DR_DRILL: ("Every job was restored in a disaster-recovery drill that met its RTO and RPO recently enough",
               "jobs with a met drill within max age at the period's end / jobs", "dr_drill_pct"),
    RETENTION: ("No data older than its retention policy was left behind",
                "retention runs of the period with no backlog and no failure / runs", "retention_pct"),
    MAINTENANCE: ("Changes in maintenance windows finished within their window",
                  "windows completed on time / windows completed in the period", "maintenance_within_window_pct"),
    AUDIT_TRAIL: ("The audit trail of every run is intact and covers the period",
                  "no break, no gap in the period, coverage from the period's start", None),
    SECURITY_AUDIT: ("No high or critical security finding is open",
                     "failed high/critical findings of the last audit of the period = 0", None),
}

CHECK_ORDER = (BACKUP_SUCCESS, RESTORE_VERIFICATION, DR_DRILL, RETENTION, MAINTENANCE, AUDIT_TRAIL, SECURITY_AUDIT)

KPI_DEFAULTS = {
    "backup_success_pct": 100.0,
    "restore_verification_pct": 100.0,
    "restore_verification_max_age_days": 92,
    "dr_drill_pct": 100.0,
    "dr_drill_max_age_days": 92,
    "retention_pct": 100.0,
    "maintenance_within_window_pct": 95.0,
}

SOC2 = "SOC 2 (TSC 2017)"
ISO = "ISO/IEC 27001:2022 Annex A"

# (id, framework, reference, title, checks)
CONTROLS = (
    ("SOC2-CC6.1", SOC2, "CC6.1", "Logical access security over protected information assets", (SECURITY_AUDIT,)),
    ("SOC2-CC6.6", SOC2, "CC6.6", "Security measures against threats from outside the system boundaries", (SECURITY_AUDIT,)),
    ("SOC2-CC7.1", SOC2, "CC7.1", "Detection of configuration changes and new vulnerabilities", (SECURITY_AUDIT,)),
    ("SOC2-CC7.2", SOC2, "CC7.2", "Monitoring of system components for anomalies", (AUDIT_TRAIL,)),
    ("SOC2-CC7.4", SOC2, "CC7.4", "Response to incidents, including restoring operations", (RESTORE_VERIFICATION, DR_DRILL)),
    ("SOC2-CC8.1", SOC2, "CC8.1", "Changes are authorized, tested and implemented in a controlled way", (MAINTENANCE,)),
    ("SOC2-A1.2", SOC2, "A1.2", "Data backup and recovery infrastructure", (BACKUP_SUCCESS, RETENTION)),
    ("SOC2-A1.3", SOC2, "A1.3", "Recovery plan procedures are tested", (RESTORE_VERIFICATION, DR_DRILL)),
    ("ISO27001-A.5.30", ISO, "5.30", "ICT readiness for business continuity", (RESTORE_VERIFICATION, DR_DRILL)),
    ("ISO27001-A.8.8", ISO, "8.8", "Management of technical vulnerabilities", (SECURITY_AUDIT,)),
    ("ISO27001-A.8.13", ISO, "8.13", "Information backup", (BACKUP_SUCCESS, RETENTION)),
    ("ISO27001-A.8.15", ISO, "8.15", "Logging", (AUDIT_TRAIL,)),
    ("ISO27001-A.8.16", ISO, "8.16", "Monitoring activities", (AUDIT_TRAIL,)),
    ("ISO27001-A.8.32", ISO, "8.32", "Change management", (MAINTENANCE,)),
)

CONTROL_IDS = tuple(c[0] for c in CONTROLS)


def controls_of(check):
    """Ids of the controls that rest on ``check``."""
    return [c[0] for c in CONTROLS if check in c[4]]
