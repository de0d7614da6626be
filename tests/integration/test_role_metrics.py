"""The roles' metrics (their tasks/metrics.yml) through real ansible-playbook, without a backup or a restore:
each role's own task file is run with the results a good and then a failed run record (``backup_results``,
``backup_verify_report``...), and the textfile-collector file is read back line by line."""

import json
import os
import sys
import time

from prometheus_client.parser import text_string_to_metric_families

from helpers import run_playbook

JOB = "app-db"


def result(status, dests):
    return {"job": JOB, "status": status, "backup_id": "20261205T060000Z-1a2b3c4d" if status == "ok" else None,
            "stored_bytes": 1234567 if status == "ok" else None, "duration_s": 8.04 if status == "ok" else None,
            "error": None if status == "ok" else "s3: unreachable",
            "destinations": [{"name": name, "status": dstatus, "error": None} for name, dstatus in dests]}


def include(textdir, results, max_age):
    return {"name": "metrics", "ansible.builtin.include_role": {"name": "watchkeeper.ops.backup", "tasks_from": "metrics"},
            "vars": {"backup_metrics_dir": textdir, "backup_results": results,
                     "backup_jobs": [{"name": JOB, "source": {"type": "postgres", "database": "app"}}],
                     "backup_max_age": max_age}}


def local_play(tmp_path, tasks):
    """A playbook file running ``tasks`` on localhost with this Python; returns its path."""
    path = str(tmp_path / "play.yml")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump([{"hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
                    "tasks": tasks}], handle)
    return path


def checked(task):
    task["ansible.builtin.include_role"]["apply"] = {"check_mode": True}
    return task


def lines_of(path):
    """The file's lines, after Prometheus' own parser has read it without error."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert list(text_string_to_metric_families(text))
    return text.splitlines()


def values(lines, prefix):
    return [float(line.split()[-1]) for line in lines if line.startswith(prefix + "{")]


def test_a_good_run_then_a_failed_one(tmp_path):
    textdir = str(tmp_path / "collector")
    os.makedirs(textdir)
    good = [result("ok", [("local", "ok"), ("s3", "ok")])]
    bad = [result("failed", [("local", "ok"), ("s3", "failed")])]
    play = local_play(tmp_path, [include(textdir, good, "26h"), {"name": "pause", "ansible.builtin.pause": {"seconds": 1}},
                                 include(textdir, bad, "")])
    started = time.time()
    code, data, out, err = run_playbook(play)
    ended = time.time()
    assert code == 0, out[-3000:] + err[-3000:]
    lines = lines_of(os.path.join(textdir, "watchkeeper_backup_%s.prom" % JOB))

    # The failed run set status 0 and its failure time; the good run's success, bytes and duration stay.
    assert values(lines, "watchkeeper_backup_last_status") == [0]
    assert 'watchkeeper_backup_last_status{wk_job="%s"} 0' % JOB in lines  # not "job": Prometheus' own target label
    success = values(lines, "watchkeeper_backup_last_success_timestamp_seconds")
    failure = values(lines, "watchkeeper_backup_last_failure_timestamp_seconds")
    last_run = values(lines, "watchkeeper_backup_last_run_timestamp_seconds")
    assert len(success) == len(failure) == len(last_run) == 1
    assert started <= success[0] < failure[0] <= ended and last_run[0] == failure[0]
    assert values(lines, "watchkeeper_backup_stored_bytes") == [1234567]
    assert values(lines, "watchkeeper_backup_duration_seconds") == [8.04]
    # The RPO of the good run (26h); the failed run had none to write (empty max_age) and left it.
    assert values(lines, "watchkeeper_backup_max_age_seconds") == [93600]
    # Per destination: local received both runs' backups, s3 only the first.
    dests = dict((line.split('destination="')[1].split('"')[0], float(line.split()[-1]))
                 for line in lines if line.startswith("watchkeeper_backup_destination_last_success_timestamp_seconds{"))
    assert dests["s3"] == success[0] and dests["local"] > dests["s3"], dests
    assert '# HELP watchkeeper_backup_last_status 1 when the job\'s last backup reached every destination, 0 when it failed.' in lines


def test_check_mode_and_planned_runs_write_nothing(tmp_path):
    textdir = str(tmp_path / "collector")
    os.makedirs(textdir)
    play = local_play(tmp_path, [include(textdir, [result("planned", [("local", "planned")])], "26h"),
                                 checked(include(textdir, [result("ok", [("local", "ok")])], "26h"))])
    code, _data, out, err = run_playbook(play)
    assert code == 0, out[-3000:] + err[-3000:]
    assert os.listdir(textdir) == []


def verify_job(status, bad=0, rto=None):
    restore = None if rto is None else {"status": "passed" if status == "passed" else "failed", "rto_total_s": rto,
                                        "rpo_achieved_s": 3600.5}
    return {"job": JOB, "status": status, "sweep": {"bad_backups": ["b%d" % i for i in range(bad)]},
            "restore_verify": restore}


def verify_include(textdir, jobs, interval):
    return {"name": "verify metrics",
            "ansible.builtin.include_role": {"name": "watchkeeper.ops.backup_verify", "tasks_from": "metrics"},
            "vars": {"backup_verify_metrics_dir": textdir, "backup_verify_report": {"jobs": jobs},
                     "backup_verify_max_interval": interval}}


def test_verify_metrics_a_passed_then_a_failed_verification(tmp_path):
    textdir = str(tmp_path / "collector")
    os.makedirs(textdir)
    play = local_play(tmp_path, [verify_include(textdir, [verify_job("passed", rto=42.5)], "35d"),
                                 {"name": "pause", "ansible.builtin.pause": {"seconds": 1}},
                                 verify_include(textdir, [verify_job("failed", bad=2, rto=99)], "")])
    started = time.time()
    code, _data, out, err = run_playbook(play)
    ended = time.time()
    assert code == 0, out[-3000:] + err[-3000:]
    lines = lines_of(os.path.join(textdir, "watchkeeper_verify_%s.prom" % JOB))
    assert 'watchkeeper_verify_last_status{wk_job="%s"} 0' % JOB in lines
    assert values(lines, "watchkeeper_integrity_bad_backups") == [2]
    success = values(lines, "watchkeeper_verify_last_success_timestamp_seconds")
    failure = values(lines, "watchkeeper_verify_last_failure_timestamp_seconds")
    restored = values(lines, "watchkeeper_restore_verify_last_success_timestamp_seconds")
    assert len(success) == len(failure) == len(restored) == 1
    assert started <= success[0] == restored[0] < failure[0] <= ended
    # the failed restore did not replace the passed one's figures; the interval of the first run stays
    assert values(lines, "watchkeeper_restore_verify_rto_seconds") == [42.5]
    assert values(lines, "watchkeeper_restore_verify_rpo_seconds") == [3600.5]
    assert values(lines, "watchkeeper_verify_max_interval_seconds") == [35 * 86400]


def drill_job(verdict, status="passed", rto=None, rpo=None):
    return {"job": JOB, "verdict": verdict, "status": status, "rto_s": rto, "rpo_s": rpo}


def drill_include(textdir, jobs, interval):
    return {"name": "drill metrics", "ansible.builtin.include_role": {"name": "watchkeeper.ops.dr_drill", "tasks_from": "metrics"},
            "vars": {"dr_drill_metrics_dir": textdir, "dr_drill_report": {"jobs": jobs}, "dr_drill_max_interval": interval}}


def test_drill_metrics_met_then_missed_then_failed(tmp_path):
    textdir = str(tmp_path / "collector")
    os.makedirs(textdir)
    play = local_play(tmp_path, [drill_include(textdir, [drill_job("met", rto=120.5, rpo=3000)], "100d"),
                                 {"name": "pause", "ansible.builtin.pause": {"seconds": 1}},
                                 # the restore passed but the RTO objective was missed: measured figures are new
                                 drill_include(textdir, [drill_job("missed", rto=9000, rpo=3100)], "100d"),
                                 # the restore failed: nothing measured, the figures of the last passed restore stay
                                 drill_include(textdir, [drill_job("missed", status="failed")], "")])
    started = time.time()
    code, _data, out, err = run_playbook(play)
    ended = time.time()
    assert code == 0, out[-3000:] + err[-3000:]
    lines = lines_of(os.path.join(textdir, "watchkeeper_drill_%s.prom" % JOB))
    assert 'watchkeeper_drill_last_status{wk_job="%s"} 0' % JOB in lines
    success = values(lines, "watchkeeper_drill_last_success_timestamp_seconds")
    failure = values(lines, "watchkeeper_drill_last_failure_timestamp_seconds")
    assert len(success) == len(failure) == 1 and started <= success[0] < failure[0] <= ended
    assert values(lines, "watchkeeper_drill_rto_seconds") == [9000]
    assert values(lines, "watchkeeper_drill_rpo_seconds") == [3100]
    assert values(lines, "watchkeeper_drill_max_interval_seconds") == [100 * 86400]


def retention_report(status, removed, rows):
    return {"status": status,
            "jobs": [{"job": JOB, "destinations": {"local": {"removed": removed, "bytes_freed": removed * 1000, "kept": 5},
                                                   "s3": {"removed": removed, "bytes_freed": removed * 1000, "kept": 5}}}],
            "databases": [{"name": "app", "rows_deleted": rows, "backlog_rows": 10 if rows else None}]}


def retention_include(textdir, report):
    return {"name": "retention metrics",
            "ansible.builtin.include_role": {"name": "watchkeeper.ops.retention", "tasks_from": "metrics"},
            "vars": {"retention_metrics_dir": textdir, "retention_report": report}}


def test_retention_metrics_count_across_runs(tmp_path):
    textdir = str(tmp_path / "collector")
    os.makedirs(textdir)
    play = local_play(tmp_path, [retention_include(textdir, retention_report("ok", 2, 500)),
                                 {"name": "pause", "ansible.builtin.pause": {"seconds": 1}},
                                 retention_include(textdir, retention_report("failed", 1, 0))])
    code, _data, out, err = run_playbook(play)
    assert code == 0, out[-3000:] + err[-3000:]
    lines = lines_of(os.path.join(textdir, "watchkeeper_retention.prom"))
    assert "watchkeeper_retention_last_status 0" in lines
    assert values(lines, "watchkeeper_retention_removed_total") == [6]  # (2 + 2) then (1 + 1)
    assert values(lines, "watchkeeper_retention_bytes_freed_total") == [6000]
    assert values(lines, "watchkeeper_retention_backups_kept") == [10]
    assert values(lines, "watchkeeper_retention_rows_deleted_total") == [500]
    assert values(lines, "watchkeeper_retention_backlog_rows") == [10]  # the second run had none to report
    assert "# TYPE watchkeeper_retention_removed_total counter" in lines
    success = [float(x.split()[-1]) for x in lines if x.startswith("watchkeeper_retention_last_success_timestamp_seconds ")]
    failure = [float(x.split()[-1]) for x in lines if x.startswith("watchkeeper_retention_last_failure_timestamp_seconds ")]
    assert len(success) == len(failure) == 1 and success[0] < failure[0]


def switch_include(textdir, state, redis_port, ops_state, ends_at=None):
    variables = {"maintenance_metrics_dir": textdir, "maintenance_switch_state": state, "maintenance_ops_state": ops_state,
                 "maintenance_backends": [{"type": "redis", "port": redis_port, "key": "wk-metrics-test:maintenance"}]}
    if ends_at:
        variables["maintenance_switch_ends_at"] = ends_at
    return {"name": "switch %s" % state,
            "ansible.builtin.include_role": {"name": "watchkeeper.ops.maintenance", "tasks_from": "switch"},
            "vars": variables}


def test_maintenance_switch_metrics_with_a_real_backend(tmp_path, redis):
    textdir = str(tmp_path / "collector")
    os.makedirs(textdir)
    ops_state = str(tmp_path / "ops")
    prom = os.path.join(textdir, "watchkeeper_maintenance.prom")
    play = local_play(tmp_path, [switch_include(textdir, "enabled", redis.port, ops_state, "2026-12-05T08:30:00+01:00"),
                                 {"name": "keep the file", "ansible.builtin.copy": {"src": prom, "dest": prom + ".on", "mode": "0644"}},
                                 switch_include(textdir, "disabled", redis.port, ops_state)])
    code, _data, out, err = run_playbook(play)
    assert code == 0, out[-3000:] + err[-3000:]
    during = lines_of(prom + ".on")
    assert "watchkeeper_maintenance_in_progress 1" in during
    assert "watchkeeper_maintenance_ends_timestamp_seconds 1796455800" in during  # 07:30 UTC
    after = lines_of(prom)
    assert "watchkeeper_maintenance_in_progress 0" in after
    assert not any(line.startswith("watchkeeper_maintenance_ends_timestamp_seconds") for line in after)  # replaced
