# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dashboard document (``dashboard.json``, schema ``watchkeeper.ops/dashboard`` v1): every fact the three pages
show, computed from what ``sources`` read. Pure: the clock is an argument.

Levels are ``ok`` < ``warning`` < ``critical``; a destination is ``healthy``, ``warning`` or ``failed``. Every
non-ok state carries its reason in words. Only names, times, sizes, counts and verdicts are copied from the
inputs: never a destination's credentials, a backup's encryption details or an incident's private fields.
"""

import datetime

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.dashboard import actions as act
from ansible_collections.watchkeeper.ops.plugins.module_utils.dashboard import dr
from ansible_collections.watchkeeper.ops.plugins.module_utils.dashboard import maintenance as mview
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import freshness

SCHEMA = "watchkeeper.ops/dashboard"
SCHEMA_VERSION = 1
RANK = {"ok": 0, "warning": 1, "critical": 2}
LABEL = {"ok": "Operational", "warning": "Degraded", "critical": "Critical"}
DEST_LEVEL = {"healthy": "ok", "warning": "warning", "failed": "critical"}
DEFAULT_THRESHOLDS = {"cpu": {"warning": 80.0, "critical": 95.0}, "memory": {"warning": 85.0, "critical": 95.0},
                      "disk": {"warning": 85.0, "critical": 95.0}}
DEFAULT_RPO = "26h"
DEFAULT_RTO = "2h"
INCIDENT_LEVEL = {"SEV1": "critical", "SEV2": "warning", "SEV3": "warning"}
OPEN_INCIDENT = ("open", "acknowledged", "mitigated")


def worst(levels, default="ok"):
    levels = [lv for lv in levels if lv in RANK]
    return max(levels, key=RANK.get) if levels else default


def level_of(value, thresholds):
    if value is None:
        return "unknown"
    if value >= thresholds["critical"]:
        return "critical"
    if value >= thresholds["warning"]:
        return "warning"
    return "ok"


def _age(now, when):
    return max(0.0, (now - clock.parse_time(when)).total_seconds()) if when else None


def job_config(raw):
    """Normalise one entry of ``jobs`` (a backup role job works as it is). Raises ValueError."""
    if not isinstance(raw, dict) or not raw.get("name"):
        raise ValueError("every job needs a name, got %r" % (raw if not isinstance(raw, dict) else sorted(raw),))
    rpo = raw.get("rpo") or raw.get("max_age") or DEFAULT_RPO
    rto = raw.get("rto") or DEFAULT_RTO
    try:
        rpo_s, rto_s = freshness.parse_duration(rpo), freshness.parse_duration(rto)
    except ValueError as exc:
        raise ValueError("job %s: %s" % (raw["name"], exc))
    dests = raw.get("destinations") or []
    if not isinstance(dests, list) or not all(isinstance(d, dict) and d.get("type") for d in dests):
        raise ValueError("job %s: destinations must be a list of destinations, each with a type" % raw["name"])
    source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
    kind = raw.get("kind") or source.get("type") or source.get("kind")
    return {"name": str(raw["name"]), "rpo": str(rpo), "rpo_s": rpo_s, "rto": str(rto), "rto_s": rto_s,
            "kind": kind, "destinations": dests}


def _destination(job, listing, sweep, now):
    """One destination of one job: status, reason, newest valid copy."""
    valid = [b for b in listing["backups"] if b.get("valid")]
    newest = valid[0] if valid else None
    age = _age(now, newest["created_at"]) if newest else None
    full = listing.get("listing", "full") == "full"
    out = {"name": listing["name"], "type": listing["type"], "count": listing.get("count", len(listing["backups"])),
           "valid": len(valid) if full else None, "checked": len(listing["backups"]), "listing": listing.get("listing", "full"),
           "newest_at": newest["created_at"] if newest else None, "newest_age_s": age,
           "newest_age": freshness.human_duration(age) if age is not None else None, "status": "healthy",
           "reasons": [], "sweep": None}
    if sweep:
        out["sweep"] = {"checked_at": sweep.get("checked_at"), "status": sweep.get("status"),
                        "bad_count": sweep.get("bad_count", len(sweep.get("bad") or [])),
                        "bad": [b.get("backup_id") for b in sweep.get("bad") or []][:5]}
    failed, warning = [], []
    if not listing["reachable"]:
        failed.append("unreachable at the last check (%s): %s" % (clock.isoformat(now), listing["reason"]))
    elif newest is None and not full and out["count"] > out["checked"]:
        failed.append("none of the %d newest of its %d backups is valid" % (out["checked"], out["count"]))
    elif newest is None:
        failed.append("no valid backup in this destination")
    elif age > job["rpo_s"]:
        warning.append("newest copy is %s old, older than the RPO of %s" % (freshness.human_duration(age), job["rpo"]))
    orphans = listing.get("orphans") or []
    if orphans:
        warning.append("%d index entr%s without a manifest (the manifest went missing): %s" % (
            len(orphans), "y" if len(orphans) == 1 else "ies", ", ".join(orphans[:5])))
    if sweep and sweep.get("status") == "damaged":
        failed.append("the integrity sweep of %s found %d damaged backup%s: %s" % (
            sweep.get("checked_at"), out["sweep"]["bad_count"], "" if out["sweep"]["bad_count"] == 1 else "s",
            ", ".join(out["sweep"]["bad"])))
    elif sweep and sweep.get("status") == "failed":
        warning.append("the integrity sweep of %s could not check it: %s" % (sweep.get("checked_at"), sweep.get("reason")))
    out["status"] = "failed" if failed else "warning" if warning else "healthy"
    out["reasons"] = failed + warning
    return out


def backup_row(job, listings, sweep_doc, now):
    """The Operations page's row for one job: the newest valid backup in any destination against the RPO."""
    sweep_by_dest = (sweep_doc or {}).get("destinations") or {}
    dests = [_destination(job, listing, sweep_by_dest.get(listing["name"]), now) for listing in listings]
    newest = None
    for listing in listings:
        for backup in listing["backups"]:
            if backup.get("valid") and (newest is None or backup["created_at"] > newest["created_at"]):
                newest = backup
            if backup.get("valid"):
                break
    age = _age(now, newest["created_at"]) if newest else None
    within = age is not None and age <= job["rpo_s"]
    kind = job["kind"] or ((newest or {}).get("source") or {}).get("kind")
    reasons = []
    if newest is None:
        reasons.append("job %s has no valid backup in any destination" % job["name"])
    elif not within:
        reasons.append("job %s: the newest backup is %s old, older than its RPO of %s" % (
            job["name"], freshness.human_duration(age), job["rpo"]))
    for dest in dests:
        reasons.extend("job %s, destination %s: %s" % (job["name"], dest["name"], r) for r in dest["reasons"] if "RPO" not in r)
    level = "critical" if not within else worst([DEST_LEVEL[d["status"]] for d in dests])
    if level == "critical" and within:
        level = "warning"  # a failed destination while another copy is fresh: degraded, not lost
    sizes = (newest or {}).get("sizes") or {}
    return {"job": job["name"], "kind": kind, "rpo": job["rpo"], "rpo_s": job["rpo_s"], "rto": job["rto"],
            "rto_s": job["rto_s"], "status": level, "within_rpo": within,
            "rpo_status": "within RPO" if within else "older than RPO",
            "backup_id": (newest or {}).get("backup_id"),
            "completed_at": (newest or {}).get("completed_at") or (newest or {}).get("created_at"),
            "created_at": (newest or {}).get("created_at"), "age_s": age,
            "age": freshness.human_duration(age) if age is not None else "never",
            "size_bytes": sizes.get("stored_bytes"), "raw_bytes": sizes.get("raw_bytes"),
            "destinations": dests, "reasons": reasons}


def host_row(name, series, now, thresholds, stale_after_s):
    latest = series[-1]
    when = latest.get("time")
    at = datetime.datetime.fromtimestamp(when, tz=datetime.timezone.utc) if isinstance(when, (int, float)) else (clock.parse_time(when) if when else None)
    age = max(0.0, (now - at).total_seconds()) if at else None
    row = {"host": name, "checked_at": clock.isoformat(at) if at else None, "age_s": age,
           "stale": age is None or age > 3 * stale_after_s, "reasons": []}
    for metric in ("cpu", "memory", "disk"):
        value = latest.get(metric)
        level = level_of(value, thresholds[metric])
        row[metric] = {"value": value, "level": level, "trend": [p.get(metric) for p in series],
                       "warning": thresholds[metric]["warning"], "critical": thresholds[metric]["critical"]}
        if level in ("warning", "critical"):
            row["reasons"].append("host %s: %s %.1f %%%s (%s from %.0f %%)" % (
                name, metric, value, " on %s" % latest["disk_mount"] if metric == "disk" and latest.get("disk_mount") else "",
                level, thresholds[metric][level]))
    row["disk"]["mount"] = latest.get("disk_mount")
    if row["stale"]:
        row["reasons"].append("host %s: no health reading since %s" % (name, row["checked_at"] or "ever"))
    row["status"] = worst([row[m]["level"] for m in ("cpu", "memory", "disk")] + (["warning"] if row["stale"] else []))
    return row


ALERT_LEVEL = {"critical": "critical", "page": "critical"}


def alert_rows(alerts):
    rows = []
    for alert in sorted(alerts, key=lambda a: (ALERT_LEVEL.get(a["severity"], "warning") != "critical", a["name"], a["instance"] or "")):
        rows.append(dict(alert, level=ALERT_LEVEL.get(alert["severity"], "warning")))
    return rows


def build(config, jobs, listings, sweeps, windows, incidents, drills, health, now, alerts=(), alerts_error=None):
    """The dashboard document. ``config``: title, stale_after_s, thresholds, awx, inventory, playbook_dir,
    time_zone, drill_interval_s, kpi_target_pct, runbooks (job names with a by-hand runbook in the site)."""
    thresholds = config.get("thresholds") or DEFAULT_THRESHOLDS
    stale_after_s = config.get("stale_after_s") or 900

    def link(key, **values):
        return act.action(key, awx=config.get("awx"), inventory=config.get("inventory") or "inventory",
                          playbook_dir=config.get("playbook_dir") or "playbooks", **values)

    backups = [backup_row(job, listings.get(job["name"], []), sweeps.get(job["name"]), now) for job in jobs]
    hosts = [host_row(name, series, now, thresholds, stale_after_s) for name, series in sorted(health.items()) if series]
    maintenance = mview.build(windows, now, link, config.get("kpi_target_pct", 95.0))
    recovery = dr.build(jobs, backups, drills, now, link, config.get("drill_interval_s"), config.get("runbooks") or ())
    open_incidents = [i for i in incidents if i.get("status") in OPEN_INCIDENT]
    reasons, levels = [], []
    for row in backups:
        levels.append(row["status"])
        reasons.extend(row["reasons"])
    for row in hosts:
        levels.append(row["status"])
        reasons.extend(row["reasons"])
    for inc in sorted(open_incidents, key=lambda i: (i.get("severity") or "SEV9", i.get("opened_at") or "")):
        levels.append(INCIDENT_LEVEL.get(inc.get("severity"), "warning"))
        reasons.append("incident %s (%s, %s): %s" % (inc.get("id"), inc.get("severity"), inc.get("status"), inc.get("title")))
    firing = alert_rows(alerts)
    for alert in firing:
        levels.append(alert["level"])
        reasons.append("alert %s firing%s since %s (%s)%s" % (
            alert["name"], " on %s" % alert["instance"] if alert["instance"] else "", alert["since"], alert["severity"],
            ": %s" % alert["summary"] if alert["summary"] else ""))
    if alerts_error:
        levels.append("warning")
        reasons.append(alerts_error)
    levels.extend(maintenance["levels"])
    reasons.extend(maintenance["reasons"])
    levels.extend(recovery["levels"])
    reasons.extend(recovery["reasons"])
    level = worst(levels)
    return {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION, "title": config.get("title") or "Operations",
        "generated_at": clock.isoformat(now), "stale_after_s": stale_after_s, "time_zone": config.get("time_zone") or "UTC",
        "status": {"level": level, "label": LABEL[level], "reasons": reasons},
        "actions": [link(key) for key in act.QUICK],
        "hosts": hosts, "thresholds": thresholds, "backups": backups,
        "alerts": firing, "alerts_error": alerts_error,
        "incidents": [{"id": i.get("id"), "severity": i.get("severity"), "status": i.get("status"), "title": i.get("title"),
                       "opened_at": i.get("opened_at")} for i in open_incidents],
        "maintenance": dict((k, v) for k, v in maintenance.items() if k not in ("levels", "reasons")),
        "dr": dict((k, v) for k, v in recovery.items() if k not in ("levels", "reasons")),
        "counts": {"jobs": len(backups), "destinations": sum(len(b["destinations"]) for b in backups), "hosts": len(hosts),
                   "windows": len(windows), "drills": len(drills), "open_incidents": len(open_incidents),
                   "alerts": len(firing)},
    }
