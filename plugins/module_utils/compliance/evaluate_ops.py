# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the operations' facts (pure): retention, maintenance windows, the audit trail, security audits.

Each function fills the check ``evaluate.new_check`` made and returns it (see ``evaluate``)."""

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance.rules import (
    FAIL, PASS, by_rate, finish, not_applicable)


def check_retention(check, facts, kpis):
    """A retention run of the period is clean when it failed nowhere and left no table with rows past their
    policy (``backlog_rows`` > 0). Runs in check mode deleted nothing: listed, not judged."""
    if not facts.get("present"):
        return not_applicable(check, "no retention report in %s" % facts.get("source"))
    reports = facts.get("reports") or []
    judged = [r for r in reports if not r.get("check_mode")]
    clean = 0
    for report in judged:
        if report.get("unreadable"):
            check["problems"].append("%s: %s" % (report["file"], report["unreadable"]))
            continue
        for row in report["backlog"]:
            check["problems"].append("%s (%s): database %s table %s: %d rows older than its retention policy left" % (
                report["host"], report["finished_at"], row["database"], row["table"], row["backlog_rows"]))
        for failure in report["failures"]:
            check["problems"].append("%s (%s): %s" % (report["host"], report["finished_at"], failure))
        clean += 0 if report["backlog"] or report["failures"] else 1
        check["items"].append({"file": report["file"], "host": report["host"], "finished_at": report["finished_at"],
                               "status": report["status"], "backlog_rows": sum(r["backlog_rows"] for r in report["backlog"]),
                               "failures": len(report["failures"])})
    check["numbers"] = {"reports": len(reports), "judged": len(judged), "check_mode": len(reports) - len(judged),
                        "clean": clean, "backlog_rows": sum(i["backlog_rows"] for i in check["items"])}
    if not judged:
        check["kpi"]["achieved"] = None
        return finish(check, FAIL, "no retention run (outside check mode) in the period")
    return by_rate(check, clean, len(judged), kpis["retention_pct"], "retention runs with no backlog and no failure")


def check_maintenance(check, facts, kpis):
    if not facts.get("present"):
        return not_applicable(check, "no maintenance window in %s" % facts.get("source"))
    if facts.get("error"):
        check["problems"].append(facts["error"])
        return finish(check, FAIL, facts["error"])
    kpi = facts.get("kpi") or {}
    counts = kpi.get("counts") or {}
    check["items"] = list(facts.get("windows") or [])
    check["numbers"] = dict(counts)
    for window in check["items"]:
        if window["result"] == "overran":
            check["problems"].append("window %s overran its end by %s s" % (window["id"], window["overran_s"]))
    judged = counts.get("on_time", 0) + counts.get("overran", 0)
    if not judged:
        return not_applicable(check, "no maintenance window was completed in the period")
    return by_rate(check, counts["on_time"], judged, kpis["maintenance_within_window_pct"],
                   "maintenance windows completed within their window")


def _t(value):
    return clock.parse_time(value) if value else None


def check_audit_trail(check, facts, period):
    """Intact (no break), no gap touching the period, and verified records from the period's start on."""
    if not facts.get("present"):
        return not_applicable(check, facts.get("reason") or "no audit trail")
    if facts.get("error"):
        check["problems"].append(facts["error"])
        return finish(check, FAIL, facts["error"])
    start, end = period["start"], period["end"]
    inside = [c for c in facts.get("coverage") or [] if _t(c["from"]) < end and _t(c["to"]) >= start]
    gaps = [g for g in facts.get("gaps") or []
            if (g.get("after") is None or _t(g["after"]) < end) and (g.get("before") is None or _t(g["before"]) >= start)]
    if facts.get("first_break"):
        brk = facts["first_break"]
        check["problems"].append("broken at chain %s, %s: %s" % (brk.get("chain"), brk.get("where"), brk.get("reason")))
    for gap in gaps:
        check["problems"].append("chain %s: records %s..%s missing (after %s, before %s)" % (
            gap.get("chain"), gap.get("from_seq"), gap.get("to_seq"), gap.get("after"), gap.get("before")))
    first = min((_t(c["from"]) for c in inside), default=None)
    last = max((_t(c["to"]) for c in inside), default=None)
    if not inside:
        check["problems"].append("no verified record in the period")
    elif min(_t(c["from"]) for c in facts["coverage"]) > start:
        check["problems"].append("the trail's verified records start at %s, after the period's start: runs before "
                                 "then are not recorded" % clock.isoformat(first))
    check["items"] = inside
    check["numbers"] = {"records": facts.get("records"), "chains": facts.get("chains"), "breaks": facts.get("breaks"),
                        "gaps_in_period": len(gaps), "covered_from": clock.isoformat(first) if first else None,
                        "covered_to": clock.isoformat(last) if last else None}
    check["kpi"]["achieved"] = "intact" if not check["problems"] else "not intact"
    if check["problems"]:
        return finish(check, FAIL, "; ".join(check["problems"][:3]))
    return finish(check, PASS, "intact: %s records in %s chain(s), verified from %s to %s, no gap" % (
        facts.get("records"), facts.get("chains"), check["numbers"]["covered_from"], check["numbers"]["covered_to"]))


def check_security(check, facts):
    if not facts.get("present"):
        return not_applicable(check, "no security audit in %s" % facts.get("source"))
    audits = facts.get("audits") or []
    check["items"] = list(facts.get("findings") or [])
    for finding in check["items"]:
        check["problems"].append("%s: %s (%s) failed%s: %s" % (
            finding["host"], finding["id"], finding["severity"],
            " for %s" % finding["subject"] if finding.get("subject") else "", finding.get("title")))
    for err in facts.get("host_errors") or []:
        check["problems"].append("%s: the audit failed: %s" % (err["host"], err["error"]))
    for path in facts.get("unreadable") or []:
        check["problems"].append("unreadable audit file: %s" % path)
    check["numbers"] = {"audits": len(audits), "last_audit": facts.get("last"), "failed_high_critical": len(check["items"]),
                        "host_errors": len(facts.get("host_errors") or [])}
    check["kpi"]["target"] = 0
    check["kpi"]["achieved"] = len(check["items"])
    if not audits:
        return finish(check, FAIL, "no security audit in the period")
    if check["problems"]:
        return finish(check, FAIL, "%d failed high/critical finding(s), %d host error(s) in audit %s" % (
            len(check["items"]), len(facts.get("host_errors") or []), facts.get("last")))
    return finish(check, PASS, "%d audit(s) in the period; the last (%s) has no failed high or critical finding"
                  % (len(audits), facts.get("last")))
