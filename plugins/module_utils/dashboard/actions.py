# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dashboards' buttons: each is an AWX / Automation Controller launch link when a job template is configured for
it, otherwise the exact ``ansible-playbook`` command to copy. Pure."""

import json
import shlex

EMERGENCY_VARS = ["-e", "maintenance_emergency_title=TITLE", "-e", "maintenance_emergency_duration=1h"]
# key: (label, playbook, extra vars with {placeholders})
ACTIONS = {
    # quick actions (Operations)
    "schedule_maintenance": ("Schedule Maintenance", "maintenance_schedule.yml", ["-e", "@window.yml"]),
    "backup_now": ("Backup Now", "backup.yml", []),
    "scale_resources": ("Scale Resources", "scale.yml", ["-e", "scale_count=COUNT"]),
    "view_logs": ("View Logs", "troubleshoot.yml", ["-e", "troubleshoot_service=SERVICE"]),
    "security_audit": ("Security Audit", "security_audit.yml", []),
    "emergency_procedures": ("Emergency Procedures", "emergency_maintenance.yml", EMERGENCY_VARS),
    # a scheduled window (Maintenance)
    "edit_window": ("Edit", "maintenance_schedule.yml", ["-e", "maintenance_window_id={window}", "-e", "@window.yml"]),
    "cancel_window": ("Cancel", "maintenance_schedule.yml",
                      ["-e", "maintenance_window_id={window}", "-e", "maintenance_action=cancel"]),
    "notify_users": ("Notify Users", "maintenance_notify.yml", []),
    "start_early": ("Start Early", "maintenance_start.yml", ["-e", "maintenance_window_id={window}"]),
    # emergency runbooks (Maintenance)
    "service_restart": ("Service restart", "service_restart.yml",
                        ["-e", "service_restart_hosts=HOST", "-e", "service_restart_name=SERVICE"]),
    "rollback": ("Rollback", "rollback.yml", ["-e", "rollback_hosts=HOST"]),
    "security_patch": ("Critical security patch", "security_patch.yml", ["-e", "security_patch_hosts=HOST"]),
    "scale_down": ("Scale down / up", "scale.yml", ["-e", "scale_count=COUNT"]),
    "emergency_maintenance": ("Emergency maintenance", "emergency_maintenance.yml", EMERGENCY_VARS),
    "database_recovery": ("Database recovery", "database_recovery.yml",
                          ["-e", "recovery_job=JOB", "-e", "recovery_target=TARGET", "-e", "recovery_confirm=TARGET"]),
    # recovery procedures (Disaster Recovery)
    "drill": ("Test", "dr_drill.yml", ["-e", "{jobs_json}"]),
    "recovery": ("Execute", "database_recovery.yml",
                 ["-e", "recovery_job={job}", "-e", "recovery_target=TARGET", "-e", "recovery_confirm=TARGET"]),
}
QUICK = ("schedule_maintenance", "backup_now", "scale_resources", "view_logs", "security_audit", "emergency_procedures")
WINDOW = ("edit_window", "cancel_window", "notify_users", "start_early")
EMERGENCY = ("service_restart", "rollback", "security_patch", "scale_down", "emergency_maintenance", "database_recovery")
DEFAULT_API_PATH = "/api/v2/"


def launch_url(awx, template_id):
    """``<url><api_path>job_templates/<id>/launch/``: the Controller's launch endpoint (its browsable API shows the
    launch form, prompts and survey)."""
    base = str(awx["url"]).rstrip("/")
    path = "/" + str(awx.get("api_path") or DEFAULT_API_PATH).strip("/") + "/"
    return "%s%sjob_templates/%s/launch/" % (base, path, template_id)


def action(key, awx=None, inventory="inventory", playbook_dir="playbooks", **values):
    """``{"key", "label", "playbook", "url", "command", "vars"}``; ``url`` when AWX has a template for ``key``,
    else ``command``. ``values``: ``window``, ``job`` or ``jobs`` fill the placeholders."""
    label, playbook, extra = ACTIONS[key]
    jobs = values.get("jobs")
    fill = {"window": values.get("window") or "WINDOW_ID", "job": values.get("job") or "JOB",
            "jobs_json": json.dumps({"dr_drill_run_jobs": list(jobs)}, separators=(",", ":")) if jobs else ""}
    args = [a.format(**fill) for a in extra]
    while "" in args:  # "-e" followed by an empty value: drop both
        index = args.index("")
        del args[index - 1:index + 1]
    template = ((awx or {}).get("templates") or {}).get(key) if (awx or {}).get("url") else None
    out = {"key": key, "label": label, "playbook": playbook, "url": None, "command": None,
           "vars": [args[i + 1] for i in range(0, len(args), 2) if args[i] == "-e"]}
    if template not in (None, ""):
        out["url"] = launch_url(awx, template)
        out["template"] = template
    else:
        argv = ["ansible-playbook", "-i", inventory, "%s/%s" % (playbook_dir.rstrip("/"), playbook)] + args
        out["command"] = " ".join(shlex.quote(a) for a in argv)
    return out
