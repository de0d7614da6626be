# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an audit record says about a run and a task, from plain values (the callback gathers them).

Who ran it:
* the local user of the controller process;
* AWX / Automation Controller: the extra vars it injects, ``awx_job_id`` / ``tower_job_id``,
  ``awx_job_template_name`` / ``tower_job_template_name``, ``awx_user_name`` / ``tower_user_name`` (and
  ``awx_job_launch_type``, ``awx_project_revision`` when present), plus the ``JOB_ID`` and ``PROJECT_REVISION``
  environment variables AWX sets for the run;
* Semaphore: the extra var ``semaphore_vars.task_details`` (``id``, ``username``) it adds to every task.

Nothing else from the variables is kept: no value of any variable, only these identifiers.
"""

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.record import canonical, fingerprint_args

AWX_VARS = {
    "job_id": ("awx_job_id", "tower_job_id"),
    "job_template": ("awx_job_template_name", "tower_job_template_name"),
    "user": ("awx_user_name", "tower_user_name"),
    "launch_type": ("awx_job_launch_type", "tower_job_launch_type"),
    "project_revision": ("awx_project_revision", "tower_project_revision"),
}


def _scalar(value):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    return str(value)


def who(extra_vars, env, local_user):
    """``{"user": ..., "awx": {...}, "semaphore": {...}}`` (the last two only when present)."""
    extra_vars = extra_vars or {}
    out = {"user": local_user}
    awx = {}
    for field, names in AWX_VARS.items():
        for name in names:
            if extra_vars.get(name) not in (None, ""):
                awx[field] = _scalar(extra_vars[name])
                break
    if "job_id" not in awx and env.get("JOB_ID") and (awx or env.get("AWX_HOST")):
        awx["job_id"] = _scalar(env["JOB_ID"])
    if awx:
        out["awx"] = awx
    details = (extra_vars.get("semaphore_vars") or {}).get("task_details") if isinstance(extra_vars.get("semaphore_vars"), dict) else None
    if isinstance(details, dict) and details.get("id") is not None:
        out["semaphore"] = {"task_id": _scalar(details.get("id")), "user": _scalar(details.get("username"))}
    return out


def project_commit(env, git_commit):
    """AWX's ``PROJECT_REVISION`` when set, else the commit ``git`` found for the playbook's directory."""
    return env.get("PROJECT_REVISION") or git_commit or None


def diff_bytes(diff):
    if not diff:
        return 0
    try:
        return len(canonical(diff))
    except (TypeError, ValueError):
        return len(repr(diff))


def task_data(run_id, name, host, outcome, no_log, action=None, args=None, arg_key=None, check_mode=False,
              diff=None, ignored=False, args_source=None):
    """The ``data`` of a task record. A ``no_log`` task keeps only its name, host and outcome."""
    flags = {"changed": outcome == "changed", "failed": outcome == "failed", "skipped": outcome == "skipped",
             "unreachable": outcome == "unreachable"}
    data = {"event": "task", "run": run_id, "task": name, "host": host, "outcome": outcome}
    data.update(flags)
    if ignored:
        data["ignored"] = True
    if no_log:
        data["no_log"] = True
        return data
    data.update(action=action, check_mode=bool(check_mode), diff_bytes=diff_bytes(diff),
                args=fingerprint_args(arg_key, args or {}), args_source=args_source)
    return data
