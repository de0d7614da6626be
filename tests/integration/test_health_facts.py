# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""health_facts through real ansible-playbook: every seeded fault is named with its reason (issue 12, acceptance 5),
and failing checks are items, never a failed task or a traceback (acceptance 8)."""

import json
import os
import subprocess
import time

import pytest

import helpers
from health_helpers import full_tmpfs, redis_with_password, short_cert, tls_server_block  # noqa: F401 pylint: disable=unused-import

MODULE = "watchkeeper.ops.health_facts"


def items(result):
    return dict((it["name"], it) for it in result["health"]["items"])


def sysv_status(name):
    return subprocess.run(["service", name, "status"], capture_output=True, check=False).returncode


@pytest.fixture
def web(nginx_factory, tmp_path):
    """nginx on loopback: /ok (200 "all good"), /broken (500), and a TLS server whose certificate expires in 2 days."""
    crt, key = short_cert(str(tmp_path))
    tls_port = helpers.closed_port()
    proc = nginx_factory(str(tmp_path / "nginx"), http=tls_server_block(crt, key, tls_port),
                         server="location /ok { return 200 'all good'; } location /broken { return 500 'boom'; }")
    return {"url": proc.info["url"], "tls_port": tls_port}


def test_seeded_faults_named_with_reasons(full_tmpfs, web, redis):  # noqa: F811 pylint: disable=redefined-outer-name
    if sysv_status("nginx") != 3:
        pytest.skip("the nginx init script does not report 'not running' here")
    args = {
        "mounts": ["/", full_tmpfs],
        "services": [{"name": "nginx"}, {"name": "procps"}],
        "endpoints": [{"url": web["url"] + "/broken"}, {"url": web["url"] + "/ok", "keyword": "good"},
                      {"url": "https://127.0.0.1:%d/" % web["tls_port"], "validate_certs": False}],
        "certificates": [{"target": "127.0.0.1:%d" % web["tls_port"]}],  # verify (default): also report trust
        "redis": [{"port": redis.port}],
    }
    result = helpers.run_module(MODULE, args)
    assert not result.failed and not result.changed, result.get("msg")
    health, found = result["health"], items(result)
    assert health["status"] == "critical"
    reasons = "\n".join(health["reasons"])

    # the tmpfs at 96 %: the mixin's defaults (5 % / 3 % free) make it a warning ...
    disk = found["disk %s" % full_tmpfs]
    assert disk["status"] == "warning" and 3.0 < disk["value"] <= 4.5, disk
    assert disk["reason"] == "disk %s: %.1f %% free < 5 (warning)" % (full_tmpfs, disk["value"])
    # ... a stopped service, a 500 and a two-day certificate are critical
    assert found["service nginx"]["status"] == "critical" and "service nginx: stopped, expected running" in reasons
    assert found["service procps"]["status"] == "ok"
    broken = found["http %s/broken" % web["url"]]
    assert broken["status"] == "critical" and broken["reason"].endswith("status 500, expected 200")
    assert found["http %s/ok" % web["url"]]["status"] == "ok"
    cert = found["certificate 127.0.0.1:%d" % web["tls_port"]]
    assert cert["status"] == "critical" and 1.9 < cert["value"] <= 2.0 and "expires in 2.0 days < 7 (critical)" in cert["reason"]
    assert found["certificate 127.0.0.1:%d trust" % web["tls_port"]]["status"] == "warning"
    assert found["http https://127.0.0.1:%d/" % web["tls_port"]]["status"] == "ok"
    # Redis and the host's own facts are measured too
    assert found["redis 127.0.0.1:%d evictions" % redis.port]["status"] == "ok"
    assert health["checks"]["redis"][0]["connected_clients"] >= 1
    for name in ("cpu", "load", "memory", "open files", "uptime", "disk /"):
        assert name in found, name
    assert 0.0 <= health["host"]["cpu_percent"] <= 100.0


def test_per_host_thresholds_make_the_tmpfs_critical(full_tmpfs):  # noqa: F811 pylint: disable=redefined-outer-name
    result = helpers.run_module(MODULE, {"mounts": [full_tmpfs], "cpu_sample_s": 0.1,
                                         "thresholds": {"disk_free_percent": {"warning": 10, "critical": 5}, "cpu_percent": {"warning": None},
                                                        "load_per_core": {"warning": None}, "psi_some_avg60_percent": {"warning": None, "critical": None}}})
    disk = items(result)["disk %s" % full_tmpfs]
    assert disk["status"] == "critical" and "% free < 5 (critical)" in disk["reason"]
    assert result["health"]["thresholds"]["disk_free_percent"]["critical"] == 5.0


def test_snapshots_predict_the_tmpfs_filling_up(full_tmpfs, tmp_path):  # noqa: F811 pylint: disable=redefined-outer-name
    """Earlier snapshots show the tmpfs losing space fast: the mixin's 'filling up' rule makes it critical."""
    snap_dir = str(tmp_path / "snaps")
    now = time.time()
    avail = os.statvfs(full_tmpfs).f_bavail * os.statvfs(full_tmpfs).f_frsize
    os.makedirs(snap_dir)
    for minutes, extra in ((60, 3 * 1024 * 1024), (30, 2 * 1024 * 1024)):
        with open(os.path.join(snap_dir, "health-%017.6f.json" % (now - minutes * 60)), "w") as handle:
            json.dump({"host": {"mounts": [{"mount": full_tmpfs, "avail_bytes": avail + extra}]}}, handle)
    check = helpers.run_module(MODULE, {"mounts": [full_tmpfs], "snapshot_dir": snap_dir}, check_mode=True)
    assert check["health"]["snapshot"] is None and len(os.listdir(snap_dir)) == 2
    result = helpers.run_module(MODULE, {"mounts": [full_tmpfs], "snapshot_dir": snap_dir})
    fill = items(result)["disk %s fill" % full_tmpfs]
    assert fill["status"] == "critical" and fill["value"] < 4 and "full in" in fill["reason"]
    assert result.changed and os.path.exists(result["health"]["snapshot"]) and len(os.listdir(snap_dir)) == 3
    with open(result["health"]["snapshot"]) as handle:
        assert json.load(handle)["host"]["mounts"][0]["mount"] == full_tmpfs


def test_failures_are_items_not_tracebacks(redis_with_password, pg):  # noqa: F811 pylint: disable=redefined-outer-name
    port = redis_with_password["port"]
    secret = redis_with_password["password"]
    wrong = "wrong-" + secret
    pg_wrong = "wrong-pg-" + secret
    args = {
        "cpu_sample_s": 0.1, "mounts": ["/"],
        "endpoints": [{"url": "http://127.0.0.1:%d/" % helpers.closed_port(), "timeout": 2}],
        "certificates": [{"target": "127.0.0.1:%d" % helpers.closed_port(), "timeout": 2}],
        "services": [{"name": "no-such-service-wk"}, {"name": "wk-none", "type": "docker"}],
        "redis": [{"name": "down", "port": helpers.closed_port()}, {"name": "wrongpw", "port": port, "password": wrong},
                  {"name": "nopw", "port": port}, {"name": "goodpw", "port": port, "password": secret}],
        "postgres": [{"name": "db", "login_host": pg.host, "login_port": pg.port, "login_user": "postgres",
                      "login_password": pg.password},
                     {"name": "db-down", "login_host": "127.0.0.1", "login_port": helpers.closed_port(), "timeout": 2},
                     {"name": "db-wrongpw", "login_host": pg.host, "login_port": pg.port, "login_user": "postgres",
                      "login_password": pg_wrong}],
        "thresholds": {"disk_free_percent": {"warning": "lots"}, "nope": {}},
    }
    result = helpers.run_module(MODULE, args, env={"DOCKER_HOST": "tcp://127.0.0.1:%d" % helpers.closed_port()})
    assert not result.failed, result.get("msg")
    assert secret not in result["stdout"] and wrong not in result["stdout"] and "Traceback" not in result["stdout"]
    assert pg.password not in result["stdout"] and pg_wrong not in result["stdout"]
    found = items(result)
    assert "unreachable" in found["http " + args["endpoints"][0]["url"]]["reason"]
    assert "TLS connection failed" in found["certificate " + args["certificates"][0]["target"]]["reason"]
    assert "unknown service" in found["service no-such-service-wk"]["reason"]
    assert "Docker" in found["service wk-none"]["reason"]
    assert found["redis down"]["status"] == "critical" and "unreachable" in found["redis down"]["reason"]
    assert found["redis wrongpw"]["status"] == "critical" and "authentication failed" in found["redis wrongpw"]["reason"]
    assert "authentication required" in found["redis nopw"]["reason"]
    assert found["redis goodpw evictions"]["status"] == "ok"
    assert found["postgres db connections"]["status"] == "ok" and found["postgres db connections"]["value"] > 0
    assert found["postgres db-down"]["status"] == "critical" and "unreachable" in found["postgres db-down"]["reason"]
    assert "authentication failed" in found["postgres db-wrongpw"]["reason"]
    config = [it["reason"] for it in result["health"]["items"] if it["name"] == "thresholds"]
    assert len(config) == 2 and "disk_free_percent.warning must be a number" in config[0] and "unknown threshold 'nope'" in config[1]
    assert result["health"]["thresholds"]["disk_free_percent"]["warning"] == 5.0  # the default stays
    assert "disk /" in found and found["memory"]["value"] is not None  # the rest of the facts are still there
