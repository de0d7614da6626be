# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``playbooks/monitoring.yml`` over a fleet (issue 12): a database host and a monitoring host (containers with
systemd and sshd), Debian's Prometheus, Alertmanager and exporters (in the fleet image: no registry), alerts
delivered to a webhook receiver and an SMTP server on the fleet network's gateway.

Short intervals (scrape and evaluation 2 s, group_wait 1 s) keep the module under a few minutes; the rules keep
their own ``for:`` (PostgresDown: 1 minute)."""

import json
import os
import shutil
import tempfile
import time
import urllib.request
import uuid

import pytest

import wk_services

import fleet_helpers as fh
import helpers
import notify_helpers as nh

DBNAME = "app"
JOB = "app-db"
STALE = "app-db-stale"
PROM = "/var/lib/prometheus/node-exporter"


@pytest.fixture(scope="module")
def work():
    path = tempfile.mkdtemp(prefix="wk-fleetmon-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def fleet(fleet_factory):
    made = fleet_factory(["db1:db", "mon1:monitoring"])
    made.pg_password = uuid.uuid4().hex
    fh.start_postgres(made, "db1", DBNAME, made.pg_password, 10)
    return made


@pytest.fixture(scope="module")
def receivers(fleet, work):
    hook = nh.WebhookReceiver(host=fleet.gateway)
    smtp = wk_services.start_smtp(os.path.join(work, "smtp"), host=fleet.gateway)
    yield hook, smtp
    hook.close()
    smtp.stop()


@pytest.fixture(scope="module")
def monitored(fleet, receivers, work):
    """The runbook, once for the module; returns the Prometheus API base URL."""
    hook, smtp = receivers
    dsn = "host=127.0.0.1 port=%d user=%s password=%s dbname=%s sslmode=disable" % (
        fh.PG_PORT, fh.PG_USER, fleet.pg_password, DBNAME)
    vars_file = fh.write_vars(os.path.join(work, "vars.json"), {
        "monitoring_install_packages": False,
        "monitoring_scrape_interval": "2s", "monitoring_evaluation_interval": "2s",
        "monitoring_group_wait": "1s", "monitoring_group_interval": "2s", "monitoring_repeat_interval": "1h",
        "monitoring_exporter_groups": {"node": "all", "postgres": "db"},
        "monitoring_postgres_dsn": dsn,
        "monitoring_alert_webhooks": [{"url": hook.url}],
        "monitoring_alert_email": {"host": fleet.gateway, "port": smtp.port, "sender": "alerts@example.invalid",
                                   "to": ["ops@example.invalid"], "secure": "never"},
    })
    playbook = os.path.join(helpers.collections_path(), "ansible_collections", "watchkeeper", "ops", "playbooks",
                            "monitoring.yml")
    env = {"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(work, "cp")}
    code, data, out, err = helpers.run_playbook(playbook, inventory=fleet.inventory, env=env, args=("-e", "@%s" % vars_file))
    assert code == 0, fh.describe(code, data, out, err)
    assert fleet.pg_password not in out and fleet.pg_password not in err
    return {"api": "http://%s:9090/api/v1" % fleet.ip("mon1"), "out": out, "data": data}


def record(name, value):
    """Information for the closing notes (never asserted): written to $WK_MEASUREMENTS_DIR/fleet_monitoring.json."""
    directory = os.environ.get("WK_MEASUREMENTS_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "fleet_monitoring.json"), "a", encoding="utf-8") as handle:
            handle.write(json.dumps({name: round(value, 3), "at": time.time()}) + "\n")


def api(monitored, path):
    with urllib.request.urlopen(monitored["api"] + path, timeout=10) as resp:
        return json.loads(resp.read().decode("utf-8"))["data"]


def try_api(monitored, path, default):
    try:
        return api(monitored, path)
    except (OSError, ValueError):  # Prometheus starting or reloading
        return default


def targets_up(monitored):
    active = try_api(monitored, "/targets", {"activeTargets": []})["activeTargets"]
    return {(t["labels"]["job"], t["labels"]["instance"]): t["health"] for t in active}


def write_stale_backup(fleet):
    """A job whose last good backup is two hours old against a one-hour RPO (written first: the rule's for: 5m runs
    while the other tests do; the last test waits for the notification)."""
    old = int(time.time()) - 7200
    fleet.exec("db1", ["sh", "-c", "printf '%%s\\n' 'watchkeeper_backup_last_success_timestamp_seconds{wk_job=\"%s\"} %d' "
                       "'watchkeeper_backup_max_age_seconds{wk_job=\"%s\"} 3600' > %s/watchkeeper_backup_stale.prom"
                       % (STALE, old, STALE, PROM)])


def test_every_scrape_target_is_up(fleet, monitored):
    write_stale_backup(fleet)
    expected = {("prometheus", "mon1"), ("alertmanager", "mon1"), ("node", "db1"), ("node", "mon1"), ("postgres", "db1")}
    helpers.wait_for(lambda: set(k for k, v in targets_up(monitored).items() if v == "up") >= expected, timeout=90,
                     interval=1, what="every scrape target up")
    assert set(targets_up(monitored)) == expected
    rules = api(monitored, "/rules")["groups"]
    names = set(rule["name"] for group in rules for rule in group["rules"])
    assert {"WatchkeeperBackupStale", "PostgresDown", "NodeFilesystemAlmostOutOfSpace", "PostgresWraparoundRisk"} <= names
    # the PostgreSQL exporter runs the role's extra queries (wraparound, replication lag)
    ages = helpers.wait_for(lambda: try_api(monitored, "/query?query=pg_wraparound_age", {"result": []})["result"],
                            timeout=60, interval=1, what="pg_wraparound_age in Prometheus")
    assert {r["metric"]["datname"] for r in ages} >= {DBNAME, "postgres"}, ages


def test_the_runbook_is_idempotent(fleet, monitored, work):
    changed = sum(stats["changed"] for stats in monitored["data"]["stats"].values())
    assert changed > 0  # the first run configured everything
    vars_file = os.path.join(work, "vars.json")
    playbook = os.path.join(helpers.collections_path(), "ansible_collections", "watchkeeper", "ops", "playbooks",
                            "monitoring.yml")
    code, data, out, err = helpers.run_playbook(playbook, inventory=fleet.inventory,
                                                env={"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(work, "cp")},
                                                args=("-e", "@%s" % vars_file))
    assert code == 0, fh.describe(code, data, out, err)
    assert all(stats["changed"] == 0 for stats in data["stats"].values()), data["stats"]


def alerts_named(hook, name, status):
    return [alert for post in hook.posts for alert in post["json"]["alerts"]
            if alert["labels"]["alertname"] == name and alert["status"] == status]


def test_a_failed_backup_reaches_the_webhook_and_names_the_job(fleet, monitored, receivers):
    hook, _smtp = receivers
    written = time.time()
    fleet.exec("db1", ["sh", "-c", "printf '%s\\n' '# TYPE watchkeeper_backup_last_status gauge' "
                       "'watchkeeper_backup_last_status{wk_job=\"%s\"} 0' > %s/watchkeeper_backup_%s.prom"
                       % ("%s", JOB, PROM, JOB)])
    # node_exporter's own output carries the textfile's sample (acceptance 7)
    with urllib.request.urlopen("http://%s:9100/metrics" % fleet.ip("db1"), timeout=10) as resp:
        exported = resp.read().decode("utf-8").splitlines()
    assert 'watchkeeper_backup_last_status{wk_job="%s"} 0' % JOB in exported
    helpers.wait_for(lambda: alerts_named(hook, "WatchkeeperBackupFailed", "firing"), timeout=90,
                     what="WatchkeeperBackupFailed at the webhook")
    alert = alerts_named(hook, "WatchkeeperBackupFailed", "firing")[0]
    record("alert_latency_s", next(p["received_at"] for p in hook.posts if alert in p["json"]["alerts"]) - written)
    assert alert["labels"]["wk_job"] == JOB and alert["labels"]["instance"] == "db1", alert
    fleet.exec("db1", ["sh", "-c", "sed -i 's/} 0$/} 1/' %s/watchkeeper_backup_%s.prom" % (PROM, JOB)])
    helpers.wait_for(lambda: alerts_named(hook, "WatchkeeperBackupFailed", "resolved"), timeout=90,
                     what="WatchkeeperBackupFailed resolved")


def test_a_stale_backup_is_seen_by_the_rpo_rule(monitored):
    """The freshness rule evaluates the stale job at once (pending during its for: 5m); the firing and the
    notification are checked by the last test."""
    def pending():
        return [a for a in try_api(monitored, "/alerts", {"alerts": []})["alerts"]
                if a["labels"]["alertname"] == "WatchkeeperBackupStale" and a["labels"].get("wk_job") == STALE]
    helpers.wait_for(pending, timeout=90, interval=1, what="WatchkeeperBackupStale pending")
    assert pending()[0]["state"] in ("pending", "firing")


def test_postgres_down_is_delivered_once_then_resolved(fleet, monitored, receivers):
    hook, smtp = receivers
    before = nh.mails(smtp)
    fleet.exec("db1", ["systemctl", "stop", "postgresql"], timeout=120)
    try:
        helpers.wait_for(lambda: alerts_named(hook, "PostgresDown", "firing"), timeout=180,
                         what="PostgresDown at the webhook")
        helpers.wait_for(lambda: any("PostgresDown" in (m["Subject"] or "") for m in nh.new_mails(smtp, before)),
                         timeout=60, interval=0.5, what="PostgresDown by email")
        time.sleep(6)  # three group intervals: a repeat within repeat_interval (1 h) would show here
        assert len(alerts_named(hook, "PostgresDown", "firing")) == 1
        assert alerts_named(hook, "PostgresDown", "firing")[0]["labels"]["instance"] == "db1"
    finally:
        fleet.exec("db1", ["systemctl", "start", "postgresql"], timeout=120)
    helpers.wait_for(lambda: alerts_named(hook, "PostgresDown", "resolved"), timeout=120, what="PostgresDown resolved")
    helpers.wait_for(lambda: any("RESOLVED" in (m["Subject"] or "") and "PostgresDown" in (m["Subject"] or "")
                                 for m in nh.new_mails(smtp, before)), timeout=60, interval=0.5, what="resolved by email")
    firing_mails = [m for m in nh.new_mails(smtp, before) if "FIRING" in (m["Subject"] or "") and "PostgresDown" in m["Subject"]]
    assert len(firing_mails) == 1, [m["Subject"] for m in firing_mails]


def runbook(fleet, work, name, extra):
    playbook = os.path.join(helpers.collections_path(), "ansible_collections", "watchkeeper", "ops", "playbooks", name)
    code, data, out, err = helpers.run_playbook(playbook, inventory=fleet.inventory,
                                                env={"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(work, "cp")},
                                                args=("-e", json.dumps(extra)))
    assert code == 0, fh.describe(code, data, out, err)
    return data


def test_an_outage_inside_a_maintenance_window_alerts_only_after_the_window(fleet, monitored, receivers, work):
    """Acceptance 3: maintenance_start.yml silences the window's host; PostgreSQL stopped inside the window
    fires in Prometheus (samples keep coming) but nothing is delivered; maintenance_end.yml expires the silence
    and the alert, still firing, arrives."""
    hook, _smtp = receivers
    alertmanager = "http://%s:9093" % fleet.ip("mon1")
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
    common = {"maintenance_target": "db1", "maintenance_status_enabled": False}
    runbook(fleet, work, "maintenance_schedule.yml", dict(common, maintenance_window={
        "id": "db1-silence", "title": "Silenced maintenance", "description": "Alerts wait.", "start": start,
        "timezone": "UTC", "duration": "30m", "impact": "none", "components": ["API"], "tasks": []}))
    runbook(fleet, work, "maintenance_start.yml",
            dict(common, maintenance_window_id="db1-silence", maintenance_pre_backup=False, maintenance_alertmanager_url=alertmanager))
    with urllib.request.urlopen(alertmanager + "/api/v2/silences", timeout=10) as resp:
        silences = [s for s in json.loads(resp.read().decode("utf-8"))
                    if s["comment"] == "watchkeeper maintenance db1-silence" and s["status"]["state"] == "active"]
    assert len(silences) == 1 and silences[0]["matchers"][0]["value"] == "db1", silences

    delivered = len(alerts_named(hook, "PostgresDown", "firing"))
    stopped = time.time()
    fleet.exec("db1", ["systemctl", "stop", "postgresql"], timeout=120)
    try:
        def firing():
            return [a for a in try_api(monitored, "/alerts", {"alerts": []})["alerts"]
                    if a["labels"]["alertname"] == "PostgresDown" and a["state"] == "firing"]
        helpers.wait_for(firing, timeout=180, interval=1, what="PostgresDown firing in Prometheus")
        time.sleep(5)  # several group intervals: a delivery would have happened
        assert len(alerts_named(hook, "PostgresDown", "firing")) == delivered, "delivered during the window"
        # Monitoring kept recording: pg_up has a sample every scrape (2 s) since the stop, no gap.
        now = time.time()
        series = api(monitored, "/query_range?query=pg_up%%7Binstance%%3D%%22db1%%22%%7D&start=%d&end=%d&step=2"
                     % (stopped, now))["result"]
        values = [float(v) for _t, v in series[0]["values"]]
        assert len(values) >= (now - stopped) / 2 - 3 and values[-1] == 0, values

        runbook(fleet, work, "maintenance_end.yml",
                dict(common, maintenance_window_id="db1-silence", maintenance_alertmanager_url=alertmanager))
        helpers.wait_for(lambda: len(alerts_named(hook, "PostgresDown", "firing")) > delivered, timeout=60,
                         interval=0.5, what="PostgresDown delivered after the window")
    finally:
        fleet.exec("db1", ["systemctl", "start", "postgresql"], timeout=120)


def test_zz_the_stale_backup_fires_and_names_the_job(fleet, receivers):
    """Last in the module: WatchkeeperBackupStale (for: 5m) reaches the webhook, naming the job and the host."""
    hook, _smtp = receivers
    try:
        helpers.wait_for(lambda: [a for a in alerts_named(hook, "WatchkeeperBackupStale", "firing")
                                  if a["labels"].get("wk_job") == STALE], timeout=420, interval=1,
                         what="WatchkeeperBackupStale at the webhook")
        alert = [a for a in alerts_named(hook, "WatchkeeperBackupStale", "firing") if a["labels"].get("wk_job") == STALE][0]
        assert alert["labels"]["instance"] == "db1" and alert["labels"]["severity"] == "critical", alert
        assert "is older than its RPO" in alert["annotations"]["summary"], alert
    finally:
        fleet.exec("db1", ["rm", "-f", "%s/watchkeeper_backup_stale.prom" % PROM])
