# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The container stack (compose/, role watchkeeper.ops.stack) on the project's Docker Engine (issue 17, acceptance
2 and the stack half of 4).

The images are built once (compose/build.py, reused by digest) FROM the fleet image; the role deploys the stack once
per module (a project of its own, nginx published on free loopback ports) with the container backend (this machine
has no Compose v2 plugin, which the role detects). In order:

1. every container healthy by its own healthcheck, read-only root filesystems, limits, restart policies, secrets as
   files (never in the environment), the site answered by the app replicas through nginx, a job queued in Redis
   done by the worker, the status page served;
2. maintenance_mode (docker backend) stops the replicas and the worker and starts the page container: the stack's
   nginx answers 503 + Retry-After + the maintenance page, the status page stays 200; off gives 200 again;
3. a backup by the backup runner (watchkeeper.ops.backup in the container) restore-verifies (restore_verify);
4. the stack removed (state absent) and deployed again keeps its data (named volumes);
5. scale.yml (mode stack) scales the replicas up and down; a replica that never becomes healthy stops the run and
   the old count keeps serving; a count under the floor is refused before anything changes; bad role input fails
   before anything changes.
"""

import os
import shutil
import sys
import tempfile
import time

import docker
import pytest

import helpers
import stack_helpers as sh

MODULE = "watchkeeper.ops.maintenance_mode"


@pytest.fixture(scope="module")
def stack(docker_host, fleet_image):
    images = sh.stack_build.build(docker_host=docker_host, base=fleet_image, log=lambda msg: None)
    project = "wkt%d" % os.getpid()
    work = tempfile.mkdtemp(prefix="wk-stack-")
    data = {"project": project, "dir": work, "docker_host": docker_host, "images": images,
            "http": sh.free_port(), "status": sh.free_port()}
    data["vars"] = {"stack_project": project, "stack_dir": os.path.join(work, "stack"), "stack_image_pull": "never",
                    "stack_http_port": data["http"], "stack_status_port": data["status"], "stack_health_timeout": 120,
                    "stack_backend": "auto", "ansible_python_interpreter": sys.executable}
    client = docker.DockerClient(base_url=docker_host, timeout=120)
    data["client"] = client
    rc, out, stdout, stderr = sh.run_role(data)
    assert rc == 0, sh.describe(rc, out, stdout, stderr)
    data["deployed"] = out["global_custom_stats"]["stack"]
    yield data
    try:
        page = client.containers.get("%s-maintenance" % project)
        page.remove(force=True)
    except docker.errors.NotFound:
        pass
    sh.run_role(data, {"stack_state": "absent", "stack_remove_volumes": True})
    client.close()
    shutil.rmtree(work, ignore_errors=True)


def containers(stack):
    return dict((c.name, c) for c in stack["client"].containers.list(
        all=True, filters={"label": "com.docker.compose.project=%s" % stack["project"]}))


def health(container):
    return ((container.attrs["State"].get("Health") or {}).get("Status"))


def app_hosts(stack, requests=12):
    seen = set()
    for _request in range(requests):
        status, _headers, body = sh.get(stack["http"])
        assert status == 200, body
        seen.add(body.split()[1])
    return seen


def test_stack_comes_up_with_every_healthcheck_healthy(stack):
    p = stack["project"]
    assert stack["deployed"]["backend"] == "containers", "no Compose v2 plugin here: the container modules"
    assert (stack["deployed"]["app_before"], stack["deployed"]["app_after"], stack["deployed"]["healthy"]) == (0, 2, True)
    found = containers(stack)
    names = ["%s-%s-1" % (p, s) for s in ("postgres", "redis", "app", "worker", "nginx", "backup")] + ["%s-app-2" % p]
    assert sorted(found) == sorted(names)
    for name, box in found.items():
        host = box.attrs["HostConfig"]
        assert box.status == "running" and health(box) == "healthy", name
        assert host["ReadonlyRootfs"] is True, name
        assert host["RestartPolicy"]["Name"] == "unless-stopped", name
        assert host["Memory"] > 0 and host["NanoCpus"] > 0, name
        assert box.attrs["Config"]["User"] not in ("", "root", "0"), name
        env = "\n".join(box.attrs["Config"]["Env"])
        assert "PASSWORD=" not in env.upper() and "PASSPHRASE=" not in env.upper(), name
    secrets = dict((m["Destination"], m) for m in found["%s-postgres-1" % p].attrs["Mounts"])
    assert secrets["/run/secrets/db_admin_password"]["RW"] is False
    assert secrets["/var/lib/postgresql/data"]["Type"] == "volume"
    assert secrets["/var/lib/postgresql/data"]["Name"] == "%s_pgdata" % p
    # A write to the root filesystem fails; the tmpfs takes it.
    res = sh.docker_exec(stack, "%s-app-1" % p, ["sh", "-c", "touch /app/x"], check=False)
    assert res.returncode != 0 and "Read-only file system" in res.stderr
    # nginx spreads the site over both replicas (Docker DNS, looked up per request).
    assert app_hosts(stack) == {"%s-app-1" % p, "%s-app-2" % p}
    # The worker takes a job from Redis and records it in PostgreSQL.
    assert sh.post(stack["http"], "/jobs", "job-from-test") == 202
    helpers.wait_for(lambda: sh.sql(stack, "SELECT count(*) FROM jobs_done WHERE payload = 'job-from-test'") == "1",
                     timeout=30, interval=0.5, what="the worker doing the job")
    status = sh.get(stack["status"], "/status/")
    assert status[0] == 200 and "Service status" in status[2]


def test_maintenance_mode_docker_backend_serves_the_page_through_nginx(stack):
    p = stack["project"]
    services = ["%s-app-1" % p, "%s-app-2" % p, "%s-worker-1" % p]
    backend = {"type": "docker", "timeout": 60, "stop_timeout": 20, "services": services,
               "page_container": {"image": stack["images"]["app"]["image"], "name": "%s-maintenance" % p,
                                  "network": "%s_default" % p, "pull": "never",
                                  "command": ["python3", "/app/app.py", "page"]}}
    args = {"backends": [backend], "ops_state": os.path.join(stack["dir"], "ops")}
    env = {"DOCKER_HOST": stack["docker_host"]}
    message = "Moving the database to new disks"
    on = helpers.run_module(MODULE, dict(args, state="enabled", maintenance_message=message, retry_after=120,
                                         ends_at="2026-12-06T03:00:00Z"), env=env)
    assert not on.failed, on.get("msg")
    assert on["backends"][0]["changes"] == ["stopped %s" % n for n in services] + [
        "created %s-maintenance" % p, "started %s-maintenance" % p]
    helpers.wait_for(lambda: (sh.get(stack["http"]) or [0])[0] == 503, timeout=60, interval=0.5,
                     what="nginx serving the maintenance page")
    page = sh.get(stack["http"])
    assert page[1]["retry-after"] == "120"
    assert "<h1>Down for maintenance</h1>" in page[2] and message in page[2] and "2026-12-06T03:00:00Z" in page[2]
    assert sh.get(stack["status"], "/status/")[0] == 200, "the status page stays readable"
    assert [containers(stack)[n].status for n in services] == ["exited"] * 3

    off = helpers.run_module(MODULE, dict(args, state="disabled"), env=env)
    assert not off.failed, off.get("msg")
    helpers.wait_for(lambda: (sh.get(stack["http"]) or [0])[0] == 200, timeout=60, interval=0.5,
                     what="the site answering 200 again")
    assert app_hosts(stack) == {"%s-app-1" % p, "%s-app-2" % p}
    helpers.wait_for(lambda: all(health(c) == "healthy" for c in containers(stack).values()), timeout=90,
                     interval=1, what="every container healthy again")


def test_backup_of_the_stack_postgres_restore_verifies(stack):
    p = stack["project"]
    visits = int(sh.sql(stack, "SELECT count(*) FROM visits"))
    assert visits > 0
    sh.docker_exec(stack, "%s-backup-1" % p, ["wk-stack-backup", "once"])
    backup = sh.runner_result(stack, "backup")
    assert not backup.get("failed") and backup["destinations"][0]["name"] == "volume"
    assert backup["manifest"]["fingerprint"]["tables"]["public.visits"]["rows"] == visits
    sh.docker_exec(stack, "%s-backup-1" % p, ["wk-stack-backup", "verify"])
    verify = sh.runner_result(stack, "verify")
    assert verify["passed"] and verify["status"] == "verified"
    assert verify["backup"]["backup_id"] == backup["backup_id"]
    checked = dict((c["table"], c["passed"]) for c in verify["checks"] if c["kind"] == "content")
    assert checked == {"public.visits": True, "public.jobs_done": True}
    # The dump in the volume starts with an OpenPGP symmetric-key session packet (tag 3, old or new format).
    res = sh.docker_exec(stack, "%s-backup-1" % p, ["od", "-An", "-tx1", "-N1", "/backups/%s" % backup["destinations"][0]["key"]])
    assert res.stdout.strip() in ("8c", "c3")
    # A flipped byte in the stored dump fails the verification (the check can fail).
    flip = "import sys; f = open(sys.argv[1], 'r+b'); f.seek(200); b = f.read(1); f.seek(200); f.write(bytes([b[0] ^ 1]))"
    sh.docker_exec(stack, "%s-backup-1" % p, ["python3", "-c", flip, "/backups/%s" % backup["destinations"][0]["key"]])
    res = sh.docker_exec(stack, "%s-backup-1" % p, ["wk-stack-backup", "verify"], check=False)
    assert res.returncode != 0 and not sh.runner_result(stack, "verify").get("passed")


def test_down_and_up_keeps_the_data(stack):
    p = stack["project"]
    before = sh.sql(stack, "SELECT count(*), max(id) FROM visits")
    backups = sh.docker_exec(stack, "%s-backup-1" % p, ["sh", "-c", "find /backups -name '*.manifest.json' | sort"]).stdout
    rc, out, stdout, stderr = sh.run_role(stack, {"stack_state": "absent"})
    assert rc == 0, sh.describe(rc, out, stdout, stderr)
    assert containers(stack) == {}
    volumes = set(v.name for v in stack["client"].volumes.list())
    assert {"%s_pgdata" % p, "%s_backups" % p, "%s_redisdata" % p} <= volumes
    rc, out, stdout, stderr = sh.run_role(stack)
    assert rc == 0, sh.describe(rc, out, stdout, stderr)
    assert out["global_custom_stats"]["stack"]["healthy"] is True
    assert sh.sql(stack, "SELECT count(*), max(id) FROM visits") == before
    assert sh.docker_exec(stack, "%s-backup-1" % p, ["sh", "-c", "find /backups -name '*.manifest.json' | sort"]).stdout \
        == backups
    assert sh.get(stack["http"])[0] == 200


def test_scale_yml_scales_up_and_down_with_the_health_gate(stack):
    p = stack["project"]

    def apps():
        return sorted(n for n in containers(stack) if n.startswith("%s-app-" % p))
    ids = dict((n, containers(stack)[n].id) for n in apps())
    rc, out, stdout, stderr = sh.run_scale(stack, {"scale_count": 3, "scale_min": 1, "scale_max": 4,
                                                   "scale_health_timeout": 90})
    assert rc == 0, sh.describe(rc, out, stdout, stderr)
    summary = out["global_custom_stats"]["watchkeeper_scale"]
    assert (summary["status"], summary["mode"], summary["before"], summary["after"], summary["healthy"]) == (
        "ok", "stack", 2, 3, True)
    assert apps() == ["%s-app-%d" % (p, i) for i in (1, 2, 3)]
    assert all(containers(stack)[n].id == i for n, i in ids.items()), "running replicas are never recreated"
    helpers.wait_for(lambda: app_hosts(stack) == set(apps()), timeout=30, interval=1, what="nginx using 3 replicas")

    started = time.monotonic()
    rc, out, stdout, stderr = sh.run_scale(stack, {"scale_count": 4, "scale_min": 1, "scale_max": 4,
                                                   "scale_health_timeout": 60,
                                                   "stack_app_environment": {"WK_APP_FAIL_HEALTH": "1"}})
    assert rc != 0, "a replica that never becomes healthy must stop the run"
    summary = out["global_custom_stats"]["watchkeeper_scale"]
    assert (summary["status"], summary["before"], summary["after"], summary["healthy"]) == ("failed", 3, 3, False)
    assert "%s-app-4" % p in summary["error"] and "app kept at 3 replica(s)" in summary["error"]
    assert apps() == ["%s-app-%d" % (p, i) for i in (1, 2, 3)], "the old count keeps serving"
    assert all(health(containers(stack)[n]) == "healthy" for n in apps())
    assert time.monotonic() - started < 300

    rc, out, stdout, stderr = sh.run_scale(stack, {"scale_count": 1, "scale_min": 1, "scale_max": 4})
    assert rc == 0, sh.describe(rc, out, stdout, stderr)
    summary = out["global_custom_stats"]["watchkeeper_scale"]
    assert (summary["status"], summary["before"], summary["after"]) == ("ok", 3, 1)
    assert apps() == ["%s-app-1" % p] and containers(stack)["%s-app-1" % p].id == ids["%s-app-1" % p]
    helpers.wait_for(lambda: app_hosts(stack, 4) == {"%s-app-1" % p}, timeout=30, interval=1, what="one replica left")

    rc, out, stdout, stderr = sh.run_scale(stack, {"scale_count": 0, "scale_min": 1, "scale_max": 4})
    assert rc != 0
    summary = out["global_custom_stats"]["watchkeeper_scale"]
    assert summary["status"] == "refused" and "refuses 0 instances: the floor is scale_min=1" in summary["error"]
    assert apps() == ["%s-app-1" % p]


@pytest.mark.parametrize("extra, message", [
    ({"stack_backend": "compose"}, "stack_backend=compose needs the Docker Compose v2 CLI plugin"),
    ({"stack_app_replicas": -1}, "replicas=-1"),
    ({"stack_app_service": "web"}, 'app service="web"'),
    ({"stack_state": "gone"}, "value of stack_state must be one of: present, absent, got: gone"),
])
def test_bad_role_input_fails_before_anything_changes(stack, extra, message):
    before = dict((n, c.id) for n, c in containers(stack).items())
    rc, out, stdout, stderr = sh.run_role(stack, extra)
    assert rc != 0 and any(message in m for m in sh.failure_messages(out)), sh.describe(rc, out, stdout, stderr)
    assert dict((n, c.id) for n, c in containers(stack).items()) == before
