# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maintenance_mode: one run over the backends, in order, under the ``maintenance-mode`` lock.

Failure policy: backends are applied in the order given; the first one that fails stops the run. The
result names it, lists the backends already switched (``switched``) and those not attempted, so a runbook
can react (for example switch the switched ones back with the ``previous`` it got). Nothing is rolled
back automatically: half a maintenance is usually better than a rollback that fails too.
Check mode reads every backend, reports what would change, writes nothing and takes no lock.
"""

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError, WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.lock import JobLock
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance import common, docker_backend
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.nginx import NginxBackend
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.redis_state import RedisBackend

LOCK_NAME = "maintenance-mode"
BACKENDS = {"nginx": NginxBackend, "redis": RedisBackend, "docker": docker_backend.DockerBackend}

BACKEND_OPTIONS = dict(
    type=dict(type="str", required=True, choices=sorted(BACKENDS)),
    name=dict(type="str"),
    # nginx
    dir=dict(type="path"),
    page_template=dict(type="path"),
    test_command=dict(type="list", elements="str"),
    reload_command=dict(type="list", elements="str"),
    # redis
    host=dict(type="str"),
    port=dict(type="int"),
    unix_socket=dict(type="path"),
    db=dict(type="int"),
    key=dict(type="str", no_log=False),
    username=dict(type="str"),
    password_file=dict(type="path"),
    # docker
    docker_host=dict(type="str"),
    page_container=dict(type="dict"),
    services=dict(type="list", elements="str"),
    stop_timeout=dict(type="int"),
    # all
    timeout=dict(type="float"),
)


def argument_spec():
    return dict(
        state=dict(type="str", default="enabled", choices=["enabled", "disabled"]),
        mode=dict(type="str", default="full", choices=["full", "read_only"]),
        maintenance_message=dict(type="str"),
        ends_at=dict(type="str"),
        retry_after=dict(type="int", default=300),
        allow_ips=dict(type="list", elements="str", default=[]),
        bypass_secret_file=dict(type="path", no_log=False),
        backends=dict(type="list", elements="dict", required=True, options=BACKEND_OPTIONS),
        ops_state=dict(type="path", default="/var/lib/watchkeeper"),
        lock_timeout=dict(type="int", default=60),
    )


def make_backends(specs, desired, log):
    backends, names = [], set()
    for spec in specs:
        if spec["type"] == "docker":
            docker_backend.validate(spec, desired)
        backend = BACKENDS[spec["type"]](spec, log=log)
        if backend.name in names:
            raise ConfigError("two backends are named %s: give each a distinct name" % backend.name, step="configure")
        names.add(backend.name)
        backends.append(backend)
    return backends


def run(params, check_mode, log=None):
    """Returns (result dict, error or None). The result is complete in both cases."""
    secret = common.read_secret(params.get("bypass_secret_file")) if params["state"] == "enabled" else None
    desired = common.desired_state(params, secret)
    if desired["state"] == "disabled":
        # Only for an nginx include that does not exist yet: it is created with these settings, so that the first
        # switch after an install needs no reload (a reload's old workers still answer with the old settings).
        desired["initial_config"] = {"retry_after": params.get("retry_after"),
                                     "allow_ips": common.normalise_ips(params.get("allow_ips") or []),
                                     "bypass_secret_file": params.get("bypass_secret_file")}
    backends = make_backends(params["backends"], desired, log)
    lock = None
    if not check_mode:
        lock = JobLock(params["ops_state"], LOCK_NAME, module="maintenance_mode").acquire(timeout=params["lock_timeout"])
    reports, error = [], None
    try:
        for backend in backends:
            report = {"name": backend.name, "type": backend.kind, "status": "not_run", "changed": False,
                      "previous": None, "state": None, "changes": [], "error": None}
            reports.append(report)
            if error is not None:
                continue
            try:
                outcome = backend.apply(desired, secret, check_mode)
            except WatchkeeperError as exc:
                exc.destination = exc.destination or backend.name
                error = exc
                report.update(status="failed", error=common.redact(exc.describe(), secret))
                continue
            report.update(outcome, status="ok")
    finally:
        if lock is not None:
            lock.release()
    return shape(desired, reports, check_mode), error


def shape(desired, reports, check_mode):
    done = [r for r in reports if r["status"] == "ok"]
    previous = common.summary([r["previous"] for r in done])
    changed = any(r["changed"] for r in done)
    result = {
        "changed": changed,
        "previous": previous,
        "state": common.public_state(desired) if all(r["status"] == "ok" for r in reports) else
        common.summary([r["state"] for r in done]),
        "backends": reports,
        "switched": [r["name"] for r in done if r["changed"]],
        "failed_backend": next((r["name"] for r in reports if r["status"] == "failed"), None),
        "not_run": [r["name"] for r in reports if r["status"] == "not_run"],
        "check_mode": bool(check_mode),
        "diff": {"before": dict((r["name"], r["previous"]) for r in done if r["changed"]),
                 "after": dict((r["name"], r["state"]) for r in done if r["changed"])},
    }
    return result


def failure_message(result, error):
    text = "maintenance mode: backend %s failed: %s" % (result["failed_backend"], error.describe())
    if result["switched"]:
        text += "; already switched: %s" % ", ".join(result["switched"])
    if result["not_run"]:
        text += "; not attempted: %s" % ", ".join(result["not_run"])
    return text


def main(module_class):
    """The module's main(): parse, run, shape; the one place that calls exit_json / fail_json."""
    module = module_class(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result, error = run(module.params, module.check_mode, log=module.log)
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.describe(), step=exc.step, changed=False)
    if error is not None:
        module.fail_json(msg=failure_message(result, error), step=error.step, **result)
    module.exit_json(**result)
