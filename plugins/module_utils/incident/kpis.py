# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Incident response KPIs over a period. Pure.

The period selects incidents by ``opened_at`` (``start <= opened_at < end``). Durations are measured from
``opened_at``; a milestone skipped by a jump ahead carries the time of the jump (see model), so an incident resolved
straight from ``open`` has its time to acknowledge equal to its time to resolve. Incidents still short of a milestone
are counted as ``pending`` for it, never averaged as zero.
"""

from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.model import iso, parse_time

TARGETS = {"sev1_response_s": 900, "mttr_s": 1800, "without_customer_impact_pct": 95.0}


def _seconds(doc, field):
    if not doc.get(field):
        return None
    return int((parse_time(doc[field]) - parse_time(doc["opened_at"])).total_seconds())


def _stats(values):
    values = sorted(values)
    if not values:
        return {"count": 0, "mean_s": None, "median_s": None, "max_s": None}
    mid = len(values) // 2
    median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2.0
    return {"count": len(values), "mean_s": round(sum(values) / float(len(values)), 1), "median_s": median,
            "max_s": values[-1]}


def _pct(part, whole):
    return round(100.0 * part / whole, 1) if whole else None


def in_period(docs, start, end):
    return [d for d in docs if start <= parse_time(d["opened_at"]) < end]


def kpis(docs, start, end, now, targets=None):
    """The KPIs of the incidents opened in ``[start, end)``, judged at ``now`` (an unacknowledged SEV1 older than
    its target at ``now`` is a breach already)."""
    targets = dict(TARGETS, **(targets or {}))
    selected = sorted(in_period(docs, start, end), key=lambda d: (d["opened_at"], d["id"]))
    out = {"period": {"start": iso(start), "end": iso(end)}, "targets": targets, "incidents": len(selected),
           "by_severity": {}, "by_status": {}}
    for doc in selected:
        out["by_severity"][doc["severity"]] = out["by_severity"].get(doc["severity"], 0) + 1
        out["by_status"][doc["status"]] = out["by_status"].get(doc["status"], 0) + 1
    for name, field in (("time_to_acknowledge", "acknowledged_at"), ("time_to_mitigate", "mitigated_at"),
                        ("time_to_resolve", "resolved_at")):
        values = [v for v in (_seconds(d, field) for d in selected) if v is not None]
        out[name] = dict(_stats(values), pending=len(selected) - len(values))
    resolved = [d for d in selected if d.get("resolved_at")]
    within = [d for d in resolved if _seconds(d, "resolved_at") <= targets["mttr_s"]]
    out["time_to_resolve"]["within_target"] = len(within)
    out["time_to_resolve"]["within_target_pct"] = _pct(len(within), len(resolved))
    out["mttr_s"] = out["time_to_resolve"]["mean_s"]
    out["mttr_met"] = None if out["mttr_s"] is None else out["mttr_s"] <= targets["mttr_s"]
    clean = [d for d in resolved if not d.get("customer_impact")]
    out["resolved_without_customer_impact"] = {"resolved": len(resolved), "without_impact": len(clean),
                                               "pct": _pct(len(clean), len(resolved))}
    pct = out["resolved_without_customer_impact"]["pct"]
    out["resolved_without_customer_impact"]["met"] = None if pct is None else pct >= targets["without_customer_impact_pct"]
    out["sev1_response"] = sev1_response(selected, now, targets["sev1_response_s"])
    return out


def sev1_response(docs, now, target_s):
    """SEV1 time to acknowledge against ``target_s``: met, breached (late, or unacknowledged and older than the
    target at ``now``), and pending (unacknowledged, still within the target)."""
    rows, met, breached, pending = [], 0, [], 0
    for doc in docs:
        if doc["severity"] != "SEV1":
            continue
        seconds = _seconds(doc, "acknowledged_at")
        if seconds is None:
            age = int((now - parse_time(doc["opened_at"])).total_seconds())
            if age > target_s:
                breached.append(doc["id"])
            else:
                pending += 1
        elif seconds <= target_s:
            met += 1
        else:
            breached.append(doc["id"])
        rows.append({"id": doc["id"], "response_s": seconds})
    judged = met + len(breached)
    return {"target_s": target_s, "count": len(rows), "met": met, "breached": breached, "pending": pending,
            "met_pct": _pct(met, judged), "all_met": None if not judged else not breached,
            "stats": _stats([r["response_s"] for r in rows if r["response_s"] is not None]), "incidents": rows}
