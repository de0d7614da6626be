"""Who ran it: AWX / Controller extra vars and environment, Semaphore's semaphore_vars; task record content."""

import json

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import context


def test_awx_new_and_legacy_names():
    awx = {"awx_job_id": 4711, "awx_job_template_name": "Backup nightly", "awx_user_name": "alice"}
    assert context.who(awx, {}, "awx")["awx"] == {"job_id": 4711, "job_template": "Backup nightly", "user": "alice"}
    tower = {"tower_job_id": "12", "tower_job_template_name": "T", "tower_user_name": "bob"}
    assert context.who(tower, {}, "awx")["awx"] == {"job_id": "12", "job_template": "T", "user": "bob"}


def test_awx_job_id_from_the_environment_only_under_awx():
    assert context.who({}, {"JOB_ID": "9", "AWX_HOST": "https://awx"}, "u")["awx"] == {"job_id": "9"}
    assert "awx" not in context.who({}, {"JOB_ID": "9"}, "u"), "JOB_ID alone is too common a name"
    assert context.who({}, {}, "u") == {"user": "u"}


def test_semaphore_task_details():
    extra = {"semaphore_vars": {"task_details": {"id": 31, "username": "carol", "message": "m"}}}
    assert context.who(extra, {}, "semaphore")["semaphore"] == {"task_id": 31, "user": "carol"}
    assert "semaphore" not in context.who({"semaphore_vars": "odd"}, {}, "u")


def test_project_commit_prefers_awx():
    assert context.project_commit({"PROJECT_REVISION": "abc"}, "def") == "abc"
    assert context.project_commit({}, "def") == "def"
    assert context.project_commit({}, None) is None


def test_no_log_task_keeps_name_host_and_outcome_only():
    data = context.task_data("r", "Set the password", "db1", "changed", True, action="user",
                             args={"password": "hunter2-secret"}, arg_key=b"k" * 32, diff={"after": "hunter2-secret"})
    assert data == {"event": "task", "run": "r", "task": "Set the password", "host": "db1", "outcome": "changed",
                    "changed": True, "failed": False, "skipped": False, "unreachable": False, "no_log": True}


def test_task_record_fingerprints_arguments():
    data = context.task_data("r", "copy", "h", "ok", False, action="ansible.builtin.copy",
                             args={"content": "hunter2-secret", "dest": "/etc/x"}, arg_key=b"k" * 32,
                             diff={"before": "a", "after": "b"}, args_source="invocation")
    assert sorted(data["args"]) == ["content", "dest"] and data["diff_bytes"] > 0
    assert "hunter2-secret" not in json.dumps(data)
