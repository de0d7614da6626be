# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup estate rules, from what the collection already records: the backup role's job definitions
(``backup_jobs``), the destinations' catalogs (manifests, as ``backup_info`` reads them), the restore verification
records (``<ops_state>/verified/<job>/``) and the newest drill report (``<ops_state>/reports/dr_drill/latest.json``)."""

import datetime
import json
import os

from ansible_collections.watchkeeper.ops.plugins.module_utils import catalog, clock, verified
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import freshness
from ansible_collections.watchkeeper.ops.plugins.module_utils.security.rules import ERROR, Rule, failed, not_applicable, outcome, passed
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

DEFAULT_MAX_AGE = "26h"


def _jobs(ctx):
    return [j for j in ctx.params.get("backup_jobs") or [] if isinstance(j, dict) and j.get("name")]


def _now(ctx):
    return ctx.now or datetime.datetime.now(datetime.timezone.utc)


def _each_job(ctx, judge):
    jobs = _jobs(ctx)
    if not jobs:
        return not_applicable("no backup job defined on this host (security_audit_backup_jobs is empty)")
    results = []
    for job in jobs:
        try:
            results.append(judge(job))
        except Exception as exc:  # pylint: disable=broad-except
            results.append(outcome(ERROR, "%s: %s" % (type(exc).__name__, exc), subject=job["name"]))
    return results


def check_encryption(ctx):
    default = ctx.params.get("backup_encryption") or {}

    def judge(job):
        enc = job.get("encryption") or default
        mode = enc.get("mode") or "none"
        line = "job %s: encryption mode %s" % (job["name"], mode)
        if mode == "public_key" and enc.get("public_keys"):
            return passed("%s, %d recipient key(s)" % (line, len(enc["public_keys"])), subject=job["name"])
        return failed(line + ("" if mode != "public_key" else " without recipients"), subject=job["name"])
    return _each_job(ctx, judge)


def newest_backup(job, destinations):
    """``(newest completed_at, destination name)`` over the job's destinations (valid backups only)."""
    best = (None, None)
    for spec in job.get("destinations") or destinations or []:
        storage = open_storage(spec)
        found = catalog.read(storage, job["name"])
        times = [clock.parse_time(b.get("completed_at") or b.get("created_at")) for b in found.backups if b.get("valid")]
        times = [t for t in times if t is not None]
        if times and (best[0] is None or max(times) > best[0]):
            best = (max(times), spec.get("name"))
    return best


def check_rpo(ctx):
    def judge(job):
        max_age = job.get("max_age") or ctx.params.get("backup_max_age") or DEFAULT_MAX_AGE
        newest, where = newest_backup(job, ctx.params.get("backup_destinations"))
        if newest is None:
            return failed("job %s: no valid backup in any destination" % job["name"], subject=job["name"])
        result = freshness.assess([newest], _now(ctx), freshness.parse_duration(max_age))
        line = "job %s: newest backup %s in %s, %s old (max_age %s)" % (
            job["name"], clock.isoformat(newest), where, freshness.human_duration(result["newest_age_s"]), max_age)
        return failed(line, subject=job["name"]) if result["stale"] else passed(line, subject=job["name"])
    return _each_job(ctx, judge)


def check_verification(ctx):
    period = ctx.params.get("verify_max_age") or "35d"

    def judge(job):
        records = verified.read(ctx.params["ops_state"], job["name"])
        times = sorted(r.get("verified_at") for r in records.values() if r.get("verified_at"))
        if not times:
            return failed("job %s: no restore verification recorded in %s" % (job["name"], verified.job_dir(ctx.params["ops_state"], job["name"])),
                          subject=job["name"])
        age = (_now(ctx) - clock.parse_time(times[-1])).total_seconds()
        line = "job %s: last passed restore verification %s (%s ago, period %s)" % (
            job["name"], times[-1], freshness.human_duration(age), period)
        return failed(line, subject=job["name"]) if age > freshness.parse_duration(period) else passed(line, subject=job["name"])
    return _each_job(ctx, judge)


def check_drill(ctx):
    if not _jobs(ctx):
        return not_applicable("no backup job defined on this host")
    period = ctx.params.get("drill_max_age") or "92d"
    path = os.path.join(ctx.params["ops_state"], "reports", "dr_drill", "latest.json")
    text = ctx.read(path)
    if text is None:
        return failed("no drill report: %s does not exist" % path)
    try:
        report = json.loads(text)
        finished = clock.parse_time(report["finished_at"])
    except (ValueError, KeyError, TypeError) as exc:
        return outcome(ERROR, "%s is not a drill report: %s" % (path, exc))
    age = (_now(ctx) - finished).total_seconds()
    line = "%s: drill %s finished %s (%s ago, period %s), verdict %s" % (
        path, report.get("drill_id"), report["finished_at"], freshness.human_duration(age), period, report.get("verdict"))
    if report.get("verdict") != "met" or age > freshness.parse_duration(period):
        return failed(line)
    return passed(line)


def check_retention(ctx):
    covered = set(ctx.params.get("retention_jobs") or [])

    def judge(job):
        policy = job.get("retention") or job.get("policy")
        if policy:
            return passed("job %s: retention %s" % (job["name"], json.dumps(policy, sort_keys=True)), subject=job["name"])
        if job["name"] in covered:
            return passed("job %s: in the retention role's jobs (retention_backup_jobs)" % job["name"], subject=job["name"])
        return failed("job %s: no retention policy (no retention key, not in retention_jobs)" % job["name"], subject=job["name"])
    return _each_job(ctx, judge)


RULES = [
    Rule("WK-BAK-001", "backup", "high", "Every backup job encrypts to public keys",
         "Set the job's encryption to mode public_key with recipient keys (docs/encryption.md); passphrase mode keeps "
         "the decryption secret on the host.", check_encryption, ["ISO 27001 8.24", "SOC 2 A1.2"]),
    Rule("WK-BAK-002", "backup", "critical", "Every backup job has a valid backup within its RPO (max_age)",
         "Find why the job stopped (playbooks/backup.yml output, backup_info) and run it.", check_rpo, ["SOC 2 A1.2", "ISO 27001 8.13"]),
    Rule("WK-BAK-003", "backup", "high", "Every backup job passed a restore verification within verify_max_age",
         "Run playbooks/verify.yml (restore_verify) for the job.", check_verification, ["SOC 2 A1.3"]),
    Rule("WK-BAK-004", "backup", "high", "The last DR drill met its objectives within drill_max_age",
         "Run playbooks/dr_drill.yml and fix what it reports.", check_drill, ["SOC 2 A1.3", "ISO 27001 5.30"]),
    Rule("WK-BAK-005", "backup", "medium", "Every backup job has a retention policy",
         "Give the job a retention key or add it to retention_backup_jobs (role watchkeeper.ops.retention).",
         check_retention, ["ISO 27001 8.10"]),
]
