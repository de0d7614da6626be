#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: health_facts
short_description: One call for a host's health with a status and a reason for every problem
version_added: 1.1.0
description:
  - Measures the host (CPU use over a short sample, load per core, memory and swap, space and inodes per mount,
    pressure stall information, open files, uptime) and checks the given services, HTTP(S) endpoints, TLS
    certificates and Redis instances.
  - Every measurement becomes an item with a status V(ok), V(warning) or V(critical) and, when not ok, a reason;
    the overall status is the worst item's. Default thresholds follow the node-exporter mixin
    (see C(docs/monitoring.md)) and are overridable per host with O(thresholds).
  - A failing check (service unknown, endpoint unreachable, Redis down or wrong password, malformed threshold) is an
    item with its message; the other facts are still returned and the task does not fail.
  - Read-only, except that with O(snapshot_dir) it writes a snapshot there and predicts disk fill from the earlier ones.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Measures the same in check mode; no snapshot is written.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  cpu_sample_s:
    description: Length of the CPU sample in seconds (the other checks run during it).
    type: float
    default: 0.5
  mounts:
    description:
      - Only these mount points. By default every real filesystem; pseudo filesystems are skipped as node_exporter does.
    type: list
    elements: str
  thresholds:
    description:
      - "Overrides of the default thresholds, for example C({disk_free_percent: {warning: 10, critical: 5}}). Names and
        defaults are in C(docs/monitoring.md). C(null) disables a level."
      - A malformed entry keeps its default and is reported as a V(warning) item named C(thresholds).
    type: dict
    default: {}
  services:
    description: Services whose state is checked.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Unit, init script or container name.
        type: str
        required: true
      type:
        description: V(auto) uses systemd when it is PID 1, else sysvinit (C(service NAME status)).
        type: str
        choices: [auto, systemd, sysvinit, docker]
        default: auto
      expected:
        description: Expected state.
        type: str
        choices: [running, stopped]
        default: running
  endpoints:
    description: HTTP(S) endpoints. An https endpoint's certificate is checked too.
    type: list
    elements: dict
    default: []
    suboptions:
      url:
        description: URL to request.
        type: str
        required: true
      status:
        description: Acceptable status codes.
        type: list
        elements: int
        default: [200]
      keyword:
        description: Text that must appear in the first MB of the body.
        type: str
      timeout:
        description: Timeout in seconds.
        type: float
        default: 5
      method:
        description: HTTP method.
        type: str
        default: GET
      validate_certs:
        description: Verify the server certificate (the certificate's days left are reported either way).
        type: bool
        default: true
  certificates:
    description: TLS services whose certificate expiry is checked (also untrusted ones).
    type: list
    elements: dict
    default: []
    suboptions:
      target:
        description: C(host:port) (port 443 when omitted).
        type: str
        required: true
      server_name:
        description: SNI name (default the host).
        type: str
      verify:
        description: Also report whether the certificate is trusted (a V(warning) item when it is not).
        type: bool
        default: true
      timeout:
        description: Timeout in seconds.
        type: float
        default: 5
  redis:
    description: Redis instances (INFO over a plain socket).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name in the items (default C(host:port)).
        type: str
      host:
        description: Host.
        type: str
        default: 127.0.0.1
      port:
        description: Port.
        type: int
        default: 6379
      username:
        description: ACL user (Redis 6+).
        type: str
      password:
        description: Password.
        type: str
      timeout:
        description: Timeout in seconds.
        type: float
        default: 5
  postgres:
    description:
      - PostgreSQL servers - can a session be opened, and how many of C(max_connections) are in use (warning above
        80 %, critical above 90 %; threshold C(postgres_connections_percent)). An unreachable server or a refused
        login is a critical item with the reason. M(watchkeeper.ops.pg_insights) is the deep look.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name in the items (default C(host:port/database)).
        type: str
      login_host:
        description: Host (default the local socket).
        type: str
      login_port:
        description: Port.
        type: int
        default: 5432
      login_user:
        description: User.
        type: str
      login_password:
        description: Password (prefer O(postgres[].passfile)).
        type: str
      passfile:
        description: A libpq password file.
        type: path
      database:
        description: Database to connect to.
        type: str
        default: postgres
      timeout:
        description: Connection timeout in seconds.
        type: int
        default: 5
  snapshot_dir:
    description:
      - Directory where this run's facts are written as a JSON snapshot (atomically). When snapshots of the last
        6 h exist, each mount gets a fill prediction by linear regression and the mixin's "filling up" rule
        (less than 40 % free and full within 24 h, warning; less than 20 % free and full within 4 h, critical).
    type: path
  snapshot_keep:
    description: Number of snapshots kept in O(snapshot_dir) (288 is one day every 5 minutes).
    type: int
    default: 288
notes:
  - Docker containers need the Docker SDK for Python (C(docker)) on the host; without it the item says so.
  - Certificate expiry is read with C(cryptography) when installed, else with the Python standard library.
seealso:
  - module: watchkeeper.ops.status_page
"""

EXAMPLES = r"""
- name: Health of a web host
  watchkeeper.ops.health_facts:
    services:
      - name: nginx
      - name: app
        type: docker
    endpoints:
      - url: https://shop.example.com/healthz
        keyword: ok
    redis:
      - port: 6379
        password: "{{ vault_redis_password }}"
    thresholds:
      disk_free_percent: {warning: 15, critical: 8}
    snapshot_dir: /var/lib/watchkeeper/health
  register: health

- name: Fail on critical health
  ansible.builtin.assert:
    that: health.health.status != 'critical'
    fail_msg: "{{ health.health.reasons | join('; ') }}"
"""

RETURN = r"""
health:
  description: The host's health.
  returned: always
  type: dict
  contains:
    status:
      description: Worst item status, V(ok), V(warning) or V(critical).
      type: str
      sample: critical
    reasons:
      description: The reason of every non-ok item.
      type: list
      elements: str
      sample: ["disk /data: 4.0 % free < 5 (warning)", "http http://127.0.0.1/: status 500, expected 200"]
    items:
      description: Every measurement with C(name), C(kind), C(status), C(value), C(threshold) and C(reason).
      type: list
      elements: dict
    counts:
      description: Number of items per status.
      type: dict
    host:
      description: Host facts (C(cpu_percent), C(load), C(memory), C(mounts), C(pressure), C(files), C(uptime_s), C(errors)).
      type: dict
    checks:
      description: Raw results of C(services), C(endpoints), C(certificates), C(redis) and C(postgres).
      type: dict
    thresholds:
      description: Effective thresholds.
      type: dict
    snapshot:
      description: Path of the snapshot written (null without O(snapshot_dir) or in check mode).
      type: str
    elapsed_s:
      description: Time the measurement took.
      type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils.health import collect, snapshots
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import health as policy

SERVICE = dict(name=dict(type="str", required=True), type=dict(type="str", default="auto", choices=["auto", "systemd", "sysvinit", "docker"]),
               expected=dict(type="str", default="running", choices=["running", "stopped"]))
ENDPOINT = dict(url=dict(type="str", required=True), status=dict(type="list", elements="int", default=[200]),
                keyword=dict(type="str", no_log=False), timeout=dict(type="float", default=5), method=dict(type="str", default="GET"),
                validate_certs=dict(type="bool", default=True))
CERTIFICATE = dict(target=dict(type="str", required=True), server_name=dict(type="str"), verify=dict(type="bool", default=True),
                   timeout=dict(type="float", default=5))
REDIS = dict(name=dict(type="str"), host=dict(type="str", default="127.0.0.1"), port=dict(type="int", default=6379),
             username=dict(type="str"), password=dict(type="str", no_log=True), timeout=dict(type="float", default=5))
POSTGRES = dict(name=dict(type="str"), login_host=dict(type="str"), login_port=dict(type="int", default=5432),
                login_user=dict(type="str"), login_password=dict(type="str", no_log=True),
                passfile=dict(type="path", no_log=False), database=dict(type="str", default="postgres"),
                timeout=dict(type="int", default=5))


def add_predictions(facts, directory, now):
    samples = snapshots.mount_samples(directory, now)
    for mount in facts.get("mounts") or []:
        prediction = policy.predict_fill(samples.get(mount["mount"], []), now, mount["avail_bytes"])
        if prediction and prediction["samples"] > 1:
            mount["prediction"] = prediction


def main():
    module = AnsibleModule(
        argument_spec=dict(
            cpu_sample_s=dict(type="float", default=0.5),
            mounts=dict(type="list", elements="str"),
            thresholds=dict(type="dict", default={}),
            services=dict(type="list", elements="dict", default=[], options=SERVICE),
            endpoints=dict(type="list", elements="dict", default=[], options=ENDPOINT),
            certificates=dict(type="list", elements="dict", default=[], options=CERTIFICATE),
            redis=dict(type="list", elements="dict", default=[], options=REDIS),
            postgres=dict(type="list", elements="dict", default=[], options=POSTGRES),
            snapshot_dir=dict(type="path"),
            snapshot_keep=dict(type="int", default=288),
        ),
        supports_check_mode=True,
    )
    params = module.params
    start = time.time()
    thresholds, problems = policy.merge_thresholds(params["thresholds"])
    facts, checks = collect.collect(params)
    now = time.time()
    if params["snapshot_dir"]:
        add_predictions(facts, params["snapshot_dir"], now)
    result = policy.classify(facts, checks, thresholds, problems)
    result.update({"host": facts, "checks": checks, "thresholds": thresholds, "snapshot": None,
                   "elapsed_s": round(time.time() - start, 3)})
    changed = False
    if params["snapshot_dir"] and not module.check_mode:
        try:
            snapshot = {"time": now, "status": result["status"], "host": facts}
            result["snapshot"] = snapshots.write(params["snapshot_dir"], now, snapshot, keep=params["snapshot_keep"])
            changed = True
        except (IOError, OSError) as exc:
            module.warn("snapshot not written: %s" % exc)
    module.exit_json(changed=changed, health=result)


if __name__ == "__main__":
    main()
