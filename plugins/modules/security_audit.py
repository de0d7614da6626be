#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: security_audit
short_description: Check a host, its services and its backup estate against rules with fixed ids
version_added: 1.2.0
description:
  - Runs the rules of C(docs/security-audit.md) on the host - SSH (from C(sshd -T)), accounts, sudo, world-writable
    files, listening sockets, pending security updates, unattended-upgrades, time sync, secret file modes, nginx TLS,
    PostgreSQL, Redis, the backup estate (encryption, RPO, restore verification, drills, retention) and buckets.
  - Every rule gives a finding with its fixed id (for example C(WK-SSH-001)), severity, status (V(pass), V(fail),
    V(not_applicable) or V(error)), evidence (the line or value seen, secrets masked) and remediation.
  - Check-only - the module never changes the host (C(changed) is always false). The one write is the bucket delete test
    (WK-BKT-004), which puts a canary object in each bucket of O(buckets) and tries to delete it; it is skipped in
    check mode. M(watchkeeper.ops.security_audit_report) writes the report files.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The same checks run; the bucket canary (WK-BKT-004) is reported not applicable.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  areas:
    description: Areas whose rules run (default all). An area with nothing to check gives V(not_applicable) findings.
    type: list
    elements: str
    choices: [ssh, accounts, files, network, packages, time, nginx, postgres, redis, backup, buckets]
  rules:
    description: Only these rule ids (default every rule of O(areas)).
    type: list
    elements: str
  skip:
    description: Accepted exceptions - C({rule id - reason}); the rule is not run and its finding is V(not_applicable) with the reason.
    type: dict
    default: {}
  listen_allowed:
    description: TCP ports (C(22)) or C(address:port) entries allowed to listen on non-loopback addresses (WK-NET-001).
    type: list
    elements: str
    default: ['22']
  listen_include_loopback:
    description: Also judge sockets bound to loopback addresses.
    type: bool
    default: false
  sudo_nopasswd_allowed:
    description: Principals (first word of a sudoers rule, for example C(%automation)) whose NOPASSWD is an accepted exception.
    type: list
    elements: str
    default: []
  system_paths:
    description: Roots of the world-writable walk (WK-FILE-001); default C(/etc /usr /bin /sbin /lib /lib64 /boot /opt).
    type: list
    elements: path
  max_walk_entries:
    description: Bound of the walk; reaching it without a finding is an V(error) finding.
    type: int
    default: 300000
  secret_paths:
    description: Files (or directories of files) that hold keys, passphrases or credentials (WK-FILE-002).
    type: list
    elements: path
    default: []
  secret_owner_uids:
    description: UIDs besides root allowed to own the secret files.
    type: list
    elements: int
    default: []
  apt_update:
    description: Run C(apt-get update) before looking for pending security updates (never in check mode). The default judges
      the lists as they are and says how old they are.
    type: bool
    default: false
  apt_lists_max_age_h:
    description: Fail WK-PKG-001 when the apt lists are older than this many hours (unset - no limit).
    type: float
  sshd_path:
    description: The sshd binary.
    type: path
    default: /usr/sbin/sshd
  nginx_path:
    description: The nginx binary.
    type: path
    default: /usr/sbin/nginx
  certificate_min_days:
    description: Days a certificate must still be valid (WK-NGX-003).
    type: int
    default: 21
  redis_config:
    description: The Redis configuration file.
    type: path
    default: /etc/redis/redis.conf
  redis_bind_allowed:
    description: Non-loopback addresses Redis may bind to.
    type: list
    elements: str
    default: []
  postgres:
    description: The PostgreSQL server to audit (psycopg, read-only session); unset - the PostgreSQL rules are not applicable.
    type: dict
    suboptions:
      login_host:
        description: Host or socket directory.
        type: str
      login_port:
        description: Port.
        type: int
        default: 5432
      login_user:
        description: User (needs C(pg_read_all_settings)).
        type: str
      login_password:
        description: Password (prefer O(postgres.passfile)).
        type: str
      passfile:
        description: A libpq password file.
        type: path
      database:
        description: Database whose schema public is checked.
        type: str
        default: postgres
      timeout:
        description: Connection timeout in seconds.
        type: int
        default: 5
      superusers_allowed:
        description: Roles allowed to be superusers.
        type: list
        elements: str
        default: [postgres]
  ops_state:
    description: The collection's state directory on the host (verification records, drill reports).
    type: path
    default: /var/lib/watchkeeper
  backup_jobs:
    description: The backup role's C(backup_jobs) of this host (their credentials are never returned).
    type: list
    elements: dict
    default: []
  backup_destinations:
    description: The backup role's default destinations (for jobs without their own).
    type: list
    elements: dict
    default: []
  backup_encryption:
    description: The backup role's default encryption (for jobs without their own).
    type: dict
    default: {}
  backup_max_age:
    description: RPO of jobs without their own C(max_age).
    type: str
    default: 26h
  retention_jobs:
    description: Names of the jobs the retention role purges (they have a policy there).
    type: list
    elements: str
    default: []
  verify_max_age:
    description: Longest time since a job's last passed restore verification (WK-BAK-003).
    type: str
    default: 35d
  drill_max_age:
    description: Longest time since the last DR drill (WK-BAK-004).
    type: str
    default: 92d
  buckets:
    description: Bucket destinations (backup role destination specs, type s3 or gcs) with the backup writer's credentials.
    type: list
    elements: dict
    default: []
notes:
  - Run with become - C(sshd -T), C(/etc/shadow), sudoers and key files need root.
  - The GCS emulator of the tests has no IAM, so WK-BKT-004 cannot pass there (see C(docs/security-audit.md)).
seealso:
  - module: watchkeeper.ops.security_audit_report
"""

EXAMPLES = r"""
- name: Audit the host
  become: true
  watchkeeper.ops.security_audit:
    listen_allowed: ['22', '443']
    secret_paths: [/etc/watchkeeper/pgpass, /etc/watchkeeper/backup]
    skip:
      WK-PKG-002: "patched by the image pipeline (ticket OPS-12)"
  register: audit

- name: Failed rule ids
  ansible.builtin.debug:
    msg: "{{ audit.failed_rules }}"
"""

RETURN = r"""
findings:
  description: One finding per rule (and subject) with C(id), C(area), C(title), C(severity), C(status), C(evidence),
    C(subject) and C(remediation) (null when passed).
  returned: always
  type: list
  elements: dict
counts:
  description: Number of findings per status.
  returned: always
  type: dict
  sample: {"pass": 20, "fail": 2, "not_applicable": 9, "error": 0}
failed_rules:
  description: Ids of the rules with a failing finding, sorted.
  returned: always
  type: list
  elements: str
  sample: [WK-SSH-001, WK-NET-001]
audited_at:
  description: When the audit started (UTC, ISO 8601).
  returned: always
  type: str
elapsed_s:
  description: Seconds the audit took.
  returned: always
  type: float
"""

import datetime
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils.security import rules as rl
from ansible_collections.watchkeeper.ops.plugins.module_utils.security import table
from ansible_collections.watchkeeper.ops.plugins.module_utils.security.context import HostContext

POSTGRES = dict(login_host=dict(type="str"), login_port=dict(type="int", default=5432), login_user=dict(type="str"),
                login_password=dict(type="str", no_log=True), passfile=dict(type="path", no_log=False),
                database=dict(type="str", default="postgres"), timeout=dict(type="int", default=5),
                superusers_allowed=dict(type="list", elements="str", default=["postgres"]))

# Keys of destination specs and jobs whose values are secrets: masked wherever they would appear in the result.
SECRET_KEYS = ("secret_key", "session_token", "password", "login_password", "passphrase", "credentials_json", "token")


def secret_values(value):
    """Every string under a secret-named key, at any depth."""
    out = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in SECRET_KEYS and isinstance(item, str) and item:
                out.add(item)
            else:
                out |= secret_values(item)
    elif isinstance(value, list):
        for item in value:
            out |= secret_values(item)
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            areas=dict(type="list", elements="str", choices=list(table.AREAS)),
            rules=dict(type="list", elements="str"),
            skip=dict(type="dict", default={}),
            listen_allowed=dict(type="list", elements="str", default=["22"]),
            listen_include_loopback=dict(type="bool", default=False),
            sudo_nopasswd_allowed=dict(type="list", elements="str", default=[], no_log=False),
            system_paths=dict(type="list", elements="path"),
            max_walk_entries=dict(type="int", default=300000),
            secret_paths=dict(type="list", elements="path", default=[], no_log=False),
            secret_owner_uids=dict(type="list", elements="int", default=[], no_log=False),
            apt_update=dict(type="bool", default=False),
            apt_lists_max_age_h=dict(type="float"),
            sshd_path=dict(type="path", default="/usr/sbin/sshd"),
            nginx_path=dict(type="path", default="/usr/sbin/nginx"),
            certificate_min_days=dict(type="int", default=21),
            redis_config=dict(type="path", default="/etc/redis/redis.conf"),
            redis_bind_allowed=dict(type="list", elements="str", default=[]),
            postgres=dict(type="dict", options=POSTGRES),
            ops_state=dict(type="path", default="/var/lib/watchkeeper"),
            backup_jobs=dict(type="list", elements="dict", default=[]),
            backup_destinations=dict(type="list", elements="dict", default=[]),
            backup_encryption=dict(type="dict", default={}, no_log=False),
            backup_max_age=dict(type="str", default="26h"),
            retention_jobs=dict(type="list", elements="str", default=[]),
            verify_max_age=dict(type="str", default="35d"),
            drill_max_age=dict(type="str", default="92d"),
            buckets=dict(type="list", elements="dict", default=[]),
        ),
        supports_check_mode=True,
    )
    for name in ("backup_jobs", "backup_destinations", "backup_encryption", "buckets"):
        module.no_log_values.update(secret_values(module.params[name]))
    params = dict(module.params, check_mode=module.check_mode)
    try:
        selected = table.select(params["areas"], params["rules"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    unknown = [k for k in params["skip"] if k not in set(r.id for r in table.RULES)]
    if unknown:
        module.fail_json(msg="skip names unknown rule id(s) %s" % ", ".join(sorted(unknown)))
    start = time.time()
    now = datetime.datetime.now(datetime.timezone.utc)
    findings = rl.run(selected, HostContext(params, now=now), skip=params["skip"])
    module.exit_json(changed=False, findings=findings, counts=rl.counts(findings), failed_rules=rl.failed_ids(findings),
                     audited_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"), elapsed_s=round(time.time() - start, 3))


if __name__ == "__main__":
    main()
