# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Maintenance page's facts: scheduled windows with their buttons, active and overrunning windows, the
history with outcomes and the within-window KPI (``policy.maintenance.kpi``), the emergency runbooks. Pure."""

import datetime

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.dashboard import actions as act
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import freshness
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as policy

HISTORY_DAYS = 90
IMPACT_LABEL = {"none": "No impact expected", "degraded": "Degraded performance", "read_only": "Read-only mode",
                "full_outage": "Service unavailable"}
OUTCOME_LABEL = {"on_time": "on time", "overran": "overran", "failed": "failed", "cancelled": "cancelled"}


def _failed_tasks(tasks):
    return [t for t in tasks or [] if isinstance(t, dict) and (t.get("failed") or t.get("status") in ("failed", "error"))]


def _window(window, now):
    start, end = policy.start_utc(window), policy.end_utc(window)
    return {"id": window["id"], "title": window.get("title"), "status": window.get("status"),
            "start_utc": clock.isoformat(start), "end_utc": clock.isoformat(end), "timezone": window.get("timezone") or "UTC",
            "start_local": _local(start, window.get("timezone")),
            "duration_s": int((end - start).total_seconds()), "duration": freshness.human_duration((end - start).total_seconds()),
            "impact": window.get("impact"), "impact_label": IMPACT_LABEL.get(window.get("impact"), window.get("impact")),
            "starts_in_s": int((start - now).total_seconds()), "components": list(window.get("components") or [])}


def _local(when, zone):
    try:
        tz = policy.get_zone(zone or "UTC")
    except Exception:  # pylint: disable=broad-except  # an unknown zone shows UTC
        return clock.isoformat(when)
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def build(windows, now, link, target_pct=policy.KPI_TARGET_PCT):
    """``{"scheduled", "active", "history", "kpi", "last", "next", "emergency", "levels", "reasons"}``."""
    scheduled, active, levels, reasons = [], [], [], []
    for window in windows:
        status = window.get("status")
        if status == "scheduled":
            row = _window(window, now)
            row["actions"] = [link(key, window=window["id"]) for key in act.WINDOW]
            scheduled.append(row)
        elif status in policy.ACTIVE:
            row = _window(window, now)
            row["overrun_s"] = max(0, int((now - policy.end_utc(window)).total_seconds()))
            active.append(row)
            if row["overrun_s"]:
                levels.append("warning")
                reasons.append("maintenance window %s (%s) runs %s past its end" % (
                    row["id"], row["title"], freshness.human_duration(row["overrun_s"])))
            elif window.get("impact") not in (None, "none"):
                levels.append("warning")
                reasons.append("maintenance window %s (%s) in progress: %s" % (row["id"], row["title"], row["impact_label"]))
    scheduled.sort(key=lambda r: r["start_utc"])
    active.sort(key=lambda r: r["start_utc"])
    report = policy.kpi(windows, now - datetime.timedelta(days=HISTORY_DAYS), now + datetime.timedelta(seconds=1),
                        target=target_pct)
    history = []
    for row in reversed(report["windows"]):  # newest first
        result = "failed" if row["result"] != "cancelled" and _failed_tasks(row.get("tasks")) else row["result"]
        history.append({"id": row["id"], "title": row["title"], "start_utc": clock.isoformat(clock.parse_time(row["start"])),
                        "end_utc": clock.isoformat(clock.parse_time(row["end"])),
                        "finished_at": clock.isoformat(clock.parse_time(row["finished_at"])),
                        "outcome": result, "outcome_label": OUTCOME_LABEL.get(result, result),
                        "overran_s": row.get("overran_s") or 0,
                        "overran": freshness.human_duration(row["overran_s"]) if row.get("overran_s") else None,
                        "failed_tasks": len(_failed_tasks(row.get("tasks")))})
    kpi = dict((k, report[k]) for k in ("within_window_pct", "target_pct", "meets_target", "counts", "since", "until"))
    done = [h for h in history if h["outcome"] != "cancelled"]
    return {"scheduled": scheduled, "active": active, "history": history, "kpi": kpi,
            "last": done[0] if done else None, "next": (active or scheduled or [None])[0],
            "emergency": [link(key) for key in act.EMERGENCY], "levels": levels, "reasons": reasons}
