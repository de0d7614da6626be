# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the collected facts (pure: no I/O, the caller passes the facts, KPIs and period).

Every ``check_*`` returns one check: ``status`` (pass, fail, not_applicable), ``reason``, the KPI with its
``target`` and ``achieved`` value, ``numbers`` (counts of the population), ``problems`` (one line per deviation),
``items`` (the rows judged), and the ``query``, ``source`` and ``evidence`` of the facts. ``judge`` adds the
controls (controls.py) and the summary.
"""

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import controls as ct
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance.evaluate_ops import (
    check_audit_trail, check_maintenance, check_retention, check_security)
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance.rules import (
    FAIL, NOT_APPLICABLE, PASS, by_rate, check_target, control_status, finish, meets, not_applicable, rate)


def new_check(check_id, facts, target=None):
    title, kpi_text, _name = ct.CHECKS[check_id]
    return {"id": check_id, "title": title, "status": None, "reason": None,
            "kpi": {"rule": kpi_text, "target": target, "achieved": None},
            "numbers": {}, "problems": [], "items": [], "query": facts.get("query"), "source": facts.get("source"),
            "evidence": list(facts.get("evidence") or [])}


def check_backup_success(facts, jobs, kpis):
    target = kpis["backup_success_pct"]
    check = new_check(ct.BACKUP_SUCCESS, facts, target)
    if not facts.get("present"):
        return not_applicable(check, "no backup run history in %s" % facts.get("source"))
    if not jobs:
        return not_applicable(check, "no backup job to cover")
    totals = {"runs": 0, "ok": 0, "partial": 0, "failed": 0, "unreadable": 0}
    jobs_ok = 0
    for job in jobs:
        runs = (facts.get("jobs") or {}).get(job) or []
        counts = dict((s, sum(1 for r in runs if r["status"] == s)) for s in ("ok", "partial", "failed", "unreadable"))
        for key, value in counts.items():
            totals[key] += value
        totals["runs"] += len(runs)
        job_pct = rate(counts["ok"], len(runs))
        good = meets(counts["ok"], len(runs), target)
        jobs_ok += 1 if good else 0
        check["items"].append(dict(counts, job=job, runs=len(runs), success_pct=job_pct, meets_target=good))
        if not runs:
            check["problems"].append("job %s: no backup run recorded in the period" % job)
        for run in runs:
            if run["status"] != "ok":
                detail = run.get("msg") or ""
                if detail and run.get("step"):
                    detail = "step %s: %s" % (run["step"], detail)
                what = run["backup_id"] or run["file"]
                check["problems"].append("job %s: run %s %s%s" % (job, what, run["status"], " (%s)" % detail if detail else ""))
    check["numbers"] = dict(totals, jobs=len(jobs), jobs_meeting_target=jobs_ok)
    check["kpi"]["achieved"] = rate(totals["ok"], totals["runs"])
    status = PASS if jobs_ok == len(jobs) else FAIL
    return finish(check, status, "%d of %d runs succeeded (%s %%); %d of %d jobs at or above %s %%" % (
        totals["ok"], totals["runs"], check["kpi"]["achieved"], jobs_ok, len(jobs), target))


def _age_days(later, earlier):
    return round((clock.parse_time(later) - clock.parse_time(earlier)).total_seconds() / 86400.0, 1)


def _restore_proof_check(check_id, facts, jobs, kpis, prefix, what):
    """A recency check of restore proofs: ``(check, decided)``; decided when there is no job or no proof at all
    (backups without any proof of restore: the control is not met, not inapplicable)."""
    target, max_age = kpis[prefix + "_pct"], kpis[prefix + "_max_age_days"]
    check = new_check(check_id, facts, target)
    check["kpi"]["max_age_days"] = max_age
    if not jobs:
        return not_applicable(check, "no backup job to cover"), True
    if not facts.get("present"):
        return finish(check, FAIL, "%d backup job(s) and no %s in %s" % (len(jobs), what, facts.get("source"))), True
    return check, False


def check_restore_verification(facts, jobs, kpis, period_end):
    check, decided = _restore_proof_check(ct.RESTORE_VERIFICATION, facts, jobs, kpis, "restore_verification",
                                          "restore verification record")
    if decided:
        return check
    target, max_age = kpis["restore_verification_pct"], kpis["restore_verification_max_age_days"]
    good = 0
    for job in jobs:
        entry = (facts.get("jobs") or {}).get(job) or {}
        newest, recent = entry.get("newest"), entry.get("in_window") or []
        for path in entry.get("unreadable") or []:
            check["problems"].append("job %s: unreadable verification record %s" % (job, path))
        ok = bool(recent)
        good += 1 if ok else 0
        check["items"].append({"job": job, "verified": ok, "verifications_in_window": len(recent),
                               "last_verified_at": newest["verified_at"] if newest else None,
                               "last_backup_id": newest["backup_id"] if newest else None,
                               "age_days": _age_days(period_end, newest["verified_at"]) if newest else None})
        if not recent:
            check["problems"].append("job %s: %s" % (job, (
                "overdue: last passed restore verification on %s, %s days before the period's end (at most %s)"
                % (newest["verified_at"], _age_days(period_end, newest["verified_at"]), max_age))
                if newest else "never passed a restore verification"))
    check["numbers"] = {"jobs": len(jobs), "jobs_verified": good, "since": facts.get("since")}
    by_rate(check, good, len(jobs), target, "jobs with a passed restore verification in the %s days before the "
            "period's end" % max_age)
    unreadable = sum(len(e.get("unreadable") or []) for e in (facts.get("jobs") or {}).values())
    if unreadable:
        finish(check, FAIL, "%s; %d verification record(s) unreadable" % (check["reason"], unreadable))
    return check


def check_dr_drill(facts, jobs, kpis, period_end):
    check, decided = _restore_proof_check(ct.DR_DRILL, facts, jobs, kpis, "dr_drill", "drill report")
    if decided:
        return check
    target, max_age = kpis["dr_drill_pct"], kpis["dr_drill_max_age_days"]
    drills = facts.get("drills") or []
    for path in facts.get("unreadable") or []:
        check["problems"].append("unreadable drill report %s" % path)
    good = 0
    for job in jobs:
        runs = [(d, d["jobs"][job]) for d in drills if job in d["jobs"]]
        met = [d for d, j in runs if j.get("verdict") == "met"]
        good += 1 if met else 0
        last = (runs[-1] if runs else None)
        check["items"].append({
            "job": job, "met": bool(met), "drills_in_window": len(runs), "last_met_drill": met[-1]["drill_id"] if met else None,
            "last_met_at": met[-1]["finished_at"] if met else None,
            "last_drill": last[0]["drill_id"] if last else None, "last_verdict": last[1].get("verdict") if last else None,
            "rto_s": last[1].get("rto_s") if last else None, "rpo_s": last[1].get("rpo_s") if last else None})
        if met:
            continue
        older = (facts.get("older") or {}).get(job)
        if runs:
            why = "the drills in the window missed their objectives (last %s: RTO %s, RPO %s)" % (
                last[0]["drill_id"], last[1].get("rto"), last[1].get("rpo"))
        elif older:
            why = "overdue: last drill %s on %s (%s, %s days before the period's end, at most %s)" % (
                older["drill_id"], older["finished_at"], older["jobs"][job].get("verdict"),
                _age_days(period_end, older["finished_at"]), max_age)
        else:
            why = "never restored in a drill"
        check["problems"].append("job %s: %s" % (job, why))
    check["numbers"] = {"jobs": len(jobs), "jobs_met": good, "drills_in_window": len(drills), "since": facts.get("since")}
    by_rate(check, good, len(jobs), target, "jobs restored in a drill that met RTO and RPO in the %s days "
            "before the period's end" % max_age)
    if facts.get("unreadable"):
        finish(check, FAIL, "%s; %d drill report(s) unreadable" % (check["reason"], len(facts["unreadable"])))
    return check


def kpi_values(kpis):
    """The KPI options with defaults filled in; raises ValueError for a value out of range."""
    out = dict(ct.KPI_DEFAULTS)
    for key, value in (kpis or {}).items():
        if value is None:
            continue
        if key not in out:
            raise ValueError("kpis.%s is not a KPI (known: %s)" % (key, ", ".join(sorted(out))))
        if key.endswith("_days"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError("kpis.%s %r must be a whole number of days, at least 1" % (key, value))
            out[key] = value
        else:
            out[key] = check_target(value, key)
    return out


def judge(facts, jobs, kpis, period):
    """``(checks, controls, summary)`` from the facts of every source (``{check id: facts}``)."""
    checks = {
        ct.BACKUP_SUCCESS: check_backup_success(facts[ct.BACKUP_SUCCESS], jobs, kpis),
        ct.RESTORE_VERIFICATION: check_restore_verification(facts[ct.RESTORE_VERIFICATION], jobs, kpis, period["end"]),
        ct.DR_DRILL: check_dr_drill(facts[ct.DR_DRILL], jobs, kpis, period["end"]),
        ct.RETENTION: check_retention(new_check(ct.RETENTION, facts[ct.RETENTION], kpis["retention_pct"]),
                                      facts[ct.RETENTION], kpis),
        ct.MAINTENANCE: check_maintenance(new_check(ct.MAINTENANCE, facts[ct.MAINTENANCE],
                                                    kpis["maintenance_within_window_pct"]), facts[ct.MAINTENANCE], kpis),
        ct.AUDIT_TRAIL: check_audit_trail(new_check(ct.AUDIT_TRAIL, facts[ct.AUDIT_TRAIL]), facts[ct.AUDIT_TRAIL], period),
        ct.SECURITY_AUDIT: check_security(new_check(ct.SECURITY_AUDIT, facts[ct.SECURITY_AUDIT]), facts[ct.SECURITY_AUDIT]),
    }
    controls = []
    for control_id, framework, ref, title, check_ids in ct.CONTROLS:
        statuses = [checks[c]["status"] for c in check_ids]
        status = control_status(statuses)
        failed = [c for c in check_ids if checks[c]["status"] == FAIL]
        missing = [c for c in check_ids if checks[c]["status"] == NOT_APPLICABLE]
        if status == FAIL:
            reason = "failed check(s): %s" % ", ".join(failed)
        elif status == NOT_APPLICABLE:
            reason = "no evidence: %s" % "; ".join("%s: %s" % (c, checks[c]["reason"]) for c in check_ids)
        else:
            reason = "every check with evidence passed" + (" (not applicable: %s)" % ", ".join(missing) if missing else "")
        evidence, seen = [], set()
        for c in check_ids:
            for item in checks[c]["evidence"]:
                if item["path"] not in seen:
                    seen.add(item["path"])
                    evidence.append(dict(item, check=c))
        controls.append({"id": control_id, "framework": framework, "ref": ref, "title": title, "status": status,
                         "reason": reason, "checks": list(check_ids), "failed_checks": failed, "evidence": evidence})
    counts = dict((s, sum(1 for c in controls if c["status"] == s)) for s in (PASS, FAIL, NOT_APPLICABLE))
    summary = {"controls": len(controls), "passed": counts[PASS], "failed": counts[FAIL],
               "not_applicable": counts[NOT_APPLICABLE], "failed_controls": [c["id"] for c in controls if c["status"] == FAIL],
               "evidence_files": len(set(e["path"] for c in checks.values() for e in c["evidence"]))}
    return checks, controls, summary
