# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AC-031.2 (issue 5, acceptance 5): the maintenance runbooks through real ansible-playbook, frozen clock.

A real nginx on loopback (installed by the role ``watchkeeper.ops.maintenance``: snippet, http include, reload
through its handler) proxies to an echo app; a real PostgreSQL holds the application's table; a real SMTP server and a
webhook receiver get the notices.

* ``maintenance_schedule.yml`` creates and announces the window; ``maintenance_start.yml`` takes the pre-maintenance
  backup (role ``backup``), switches nginx to full maintenance (503), runs ``VACUUM (ANALYZE)`` on the table (seen in
  ``pg_stat_user_tables``) and the next task; ``maintenance_end.yml`` 10 minutes after the window's end checks health,
  switches maintenance off (the app answers again), records the outcome "overran" by 600 s and publishes it on the
  status page.
* ``emergency_maintenance.yml`` opens a window that starts now, tells users at once and runs the start runbook.
* A window whose first task fails: the start stops there (the next task never runs), one alert reaches the webhook,
  maintenance mode stays on, and the play fails.
"""

import datetime
import glob
import json
import os
import shutil
import sys

import pytest

import maintenance_helpers as mh
from helpers import run_playbook
from notify_helpers import WebhookReceiver, mails

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(ROOT, "playbooks")
T0 = datetime.datetime(2026, 12, 1, 8, 0, tzinfo=datetime.timezone.utc)


def iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def site(nginx_factory, pg, pg_db, smtp, tmp_path):
    base = tmp_path / "site"
    for sub in ("snippets", "conf.d", "status", "uploads", "backups"):
        (base / sub).mkdir(parents=True)
    os.chmod(str(tmp_path), 0o755)
    os.chmod(str(base), 0o755)
    (base / "uploads" / "a.txt").write_text("upload\n")
    app = mh.EchoApp()
    ngx_dir = str(base / "nginx")
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = nginx_factory(ngx_dir, http="include %s/*.conf;" % (base / "conf.d"),
                         server="include %s/watchkeeper-maintenance*.conf;\nlocation / { proxy_pass http://127.0.0.1:%d; }"
                         % (base / "snippets", app.port))
    conf = os.path.join(ngx_dir, "nginx.conf")
    pg.psql("CREATE TABLE public.orders (id serial PRIMARY KEY, total int NOT NULL);"
            "INSERT INTO public.orders (total) SELECT g FROM generate_series(1, 2000) g;", dbname=pg_db)
    hook = WebhookReceiver()
    variables = {
        "ansible_python_interpreter": sys.executable,
        "maintenance_ops_state": str(tmp_path / "ops"),
        "maintenance_nginx_dir": str(base / "state"),
        "maintenance_nginx_snippet_dir": str(base / "snippets"),
        "maintenance_nginx_conf_dir": str(base / "conf.d"),
        "maintenance_nginx_test_command": [binary, "-p", ngx_dir, "-c", conf, "-t", "-q"],
        "maintenance_nginx_reload_command": [binary, "-p", ngx_dir, "-c", conf, "-s", "reload"],
        "maintenance_status_dir": str(base / "status"),
        "maintenance_components": ["API", "Web app"],
        "maintenance_smtp": {"host": "127.0.0.1", "port": smtp.port, "sender": "status@example.invalid", "secure": "never"},
        "maintenance_alert_webhooks": [{"url": hook.url}],
        "maintenance_database": {"login_host": pg.host, "login_port": pg.port, "login_user": "postgres",
                                 "login_password": pg.password, "database": pg_db},
        "backup_install_packages": False, "backup_install_python_packages": False,
        "backup_ops_state": str(tmp_path / "ops"),
        "backup_destinations": [{"name": "local", "type": "local", "path": str(base / "backups")}],
        "backup_encryption": {"mode": "none"},
        "backup_jobs": [{"name": "pre-maintenance", "source": {"type": "files", "paths": [str(base / "uploads")]}}],
    }
    inventory = str(tmp_path / "inventory.json")
    with open(inventory, "w") as handle:
        json.dump({"all": {"children": {"maintenance_hosts": {"hosts": {"localhost": {"ansible_connection": "local"}}}},
                           "vars": variables}}, handle)
    install = str(tmp_path / "install.yml")
    with open(install, "w") as handle:
        json.dump([{"name": "Install", "hosts": "maintenance_hosts", "gather_facts": False,
                    "roles": [{"role": "watchkeeper.ops.maintenance"}]}], handle)
    code, data, stdout, _err = run_playbook(install, inventory=inventory)
    assert code == 0, stdout[-4000:]
    yield {"port": proc.port, "inventory": inventory, "pg": pg, "db": pg_db, "hook": hook, "base": base,
           "ops": tmp_path / "ops", "tmp_path": tmp_path}
    hook.close()
    app.stop()


def play(site, name, when, extra=None):
    args = ("-e", json.dumps(extra)) if extra else ()
    code, data, stdout, stderr = run_playbook(os.path.join(PLAYBOOKS, name), inventory=site["inventory"], args=args,
                                              env={"WATCHKEEPER_NOW": iso(when), "ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    assert data is not None, "no JSON (rc %s)\n%s\n%s" % (code, stdout[-3000:], stderr[-3000:])
    return code, data, stdout


def schedule(site, window_id, tasks, start, duration="1h"):
    code, data, stdout = play(site, "maintenance_schedule.yml", T0, {"maintenance_window": {
        "id": window_id, "title": "Database maintenance", "description": "Vacuum and reindex.", "start": iso(start),
        "timezone": "Europe/Berlin", "duration": duration, "impact": "full_outage", "components": ["API"],
        "tasks": tasks, "audience": {"emails": ["users@example.invalid"]}, "owner": "owner@example.invalid"}})
    assert code == 0, stdout[-6000:]
    return data["global_custom_stats"]["watchkeeper_maintenance"]


def vacuumed(site):
    return site["pg"].psql("SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables "
                           "WHERE relname = 'orders'", dbname=site["db"]) == "t"


def has_table(site, name):
    return site["pg"].psql("SELECT to_regclass('public.%s') IS NOT NULL" % name, dbname=site["db"]) == "t"


def test_start_backs_up_switches_runs_tasks_and_end_records_the_overrun(site):
    start = T0 + datetime.timedelta(hours=2)
    stats = schedule(site, "db-vacuum", [
        {"name": "vacuum orders", "type": "vacuum_analyze", "tables": ["public.orders"]},
        {"name": "mark", "type": "sql", "sql": "CREATE TABLE public.maintenance_marker (id int)"}], start)
    assert stats["window"]["status"] == "scheduled" and stats["deliveries"]["sent"] >= 1
    assert mh.reaches_app(mh.request(site["port"]))
    assert not vacuumed(site)

    code, data, stdout = play(site, "maintenance_start.yml", start, {"maintenance_window_id": "db-vacuum"})
    assert code == 0, stdout[-8000:]
    manifests = glob.glob(str(site["base"] / "backups" / "pre-maintenance" / "*" / "*" / "*" / "*.manifest.json"))
    assert len(manifests) == 1, "the pre-maintenance backup"
    status, headers, body = mh.request(site["port"])
    assert status == 503 and headers.get("retry-after") == "300" and "Database maintenance" in body
    assert vacuumed(site) and has_table(site, "maintenance_marker")
    started = data["global_custom_stats"]["watchkeeper_maintenance"]
    assert [(t["name"], t["ok"]) for t in started["tasks"]] == [("vacuum orders", True), ("mark", True)]

    late = start + datetime.timedelta(hours=1, minutes=10)
    code, data, stdout = play(site, "maintenance_end.yml", late, {"maintenance_window_id": "db-vacuum"})
    assert code == 0, stdout[-8000:]
    assert mh.reaches_app(mh.request(site["port"]))
    outcome = data["global_custom_stats"]["watchkeeper_maintenance"]["outcome"]
    assert outcome["result"] == "overran" and outcome["overran_s"] == 600
    assert [t["name"] for t in outcome["tasks"]] == ["vacuum orders", "mark"]
    with open(str(site["base"] / "status" / "status.json")) as handle:
        page = json.load(handle)
    assert [(w["id"], w["outcome"]["result"]) for w in page["past_maintenances"]] == [("db-vacuum", "overran")]
    assert site["hook"].posts == []  # no alert


def test_a_failing_task_stops_the_run_alerts_and_leaves_maintenance_on(site):
    start = T0 + datetime.timedelta(hours=3)
    schedule(site, "db-broken", [
        {"name": "broken step", "type": "sql", "sql": "SELECT * FROM public.no_such_table"},
        {"name": "never runs", "type": "sql", "sql": "CREATE TABLE public.never_created (id int)"}], start)
    code, data, stdout = play(site, "maintenance_start.yml", start, {"maintenance_window_id": "db-broken"})
    assert code != 0
    assert not has_table(site, "never_created")
    assert mh.request(site["port"])[0] == 503
    assert len(site["hook"].posts) == 1
    alert = site["hook"].posts[0]["json"]
    assert alert["event"] == "watchkeeper.maintenance_failed" and alert["window"] == "db-broken"
    assert [(t["name"], t["ok"]) for t in alert["tasks"]] == [("broken step", False)]
    failed = data["global_custom_stats"]["watchkeeper_maintenance"]
    assert failed["status"] == "failed"


def test_emergency_maintenance_opens_starts_and_tells_users_at_once(site, smtp):
    before = set(mails(smtp))
    now = T0 + datetime.timedelta(hours=5)
    code, data, stdout = play(site, "emergency_maintenance.yml", now, {
        "maintenance_window_id": "db-failover", "maintenance_emergency_title": "Database failover",
        "maintenance_emergency_duration": "30m", "maintenance_emergency_impact": "full_outage",
        "maintenance_emergency_audience": {"emails": ["users@example.invalid"]},
        "maintenance_emergency_tasks": [
            {"name": "mark", "type": "sql", "sql": "CREATE TABLE public.failover_marker (id int)"}],
        "maintenance_pre_backup": False})
    assert code == 0, stdout[-8000:]
    assert mh.request(site["port"])[0] == 503 and has_table(site, "failover_marker")
    with open(str(site["ops"] / "maintenance" / "windows" / "db-failover.json")) as handle:
        window = json.load(handle)
    assert window["status"] == "in_progress" and window["start"].startswith(iso(now)[:16])
    new = [m for name, m in mails(smtp).items() if name not in before and "users@example.invalid" in m["To"]]
    assert len(new) >= 1, "the immediate notice"
