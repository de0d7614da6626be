#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: maintenance_mode
short_description: Switch a web stack into or out of maintenance (full or read-only) through nginx, Redis or Docker
version_added: 1.0.0
description:
  - Declarative and idempotent. O(state=enabled) puts every listed backend into maintenance with O(mode), O(maintenance_message),
    O(ends_at), O(retry_after) and the bypass (O(allow_ips), O(bypass_secret_file)); O(state=disabled) takes it out.
    A backend already in the wanted state is left alone, and the task is V(changed) only when something changed.
  - In V(full) mode every request gets HTTP 503 with C(Retry-After) and the maintenance page. In V(read_only) mode
    C(GET), C(HEAD) and C(OPTIONS) reach the application and every other method gets 503 with C(Retry-After) and a
    JSON error. A bypassed client (its address in O(allow_ips), or the cookie C(wk_bypass) or the header
    C(X-Maintenance-Bypass) carrying the secret) always reaches the application.
  - The V(nginx) backend writes state files that the shipped snippet (C(roles/maintenance/files/nginx/)) reads on every
    request, so switching needs no reload; only a change of the generated include (O(allow_ips), the secret,
    O(retry_after)) runs C(nginx -t) and the reload command.
  - The V(redis) backend writes the JSON state into a key for applications; the collection ships a dependency-free
    WSGI/ASGI middleware that reads it (C(roles/maintenance/files/middleware/wk_maintenance.py)).
  - The V(docker) backend stops the listed service containers and runs a maintenance-page container instead (and the
    reverse), through the Docker SDK. It serves only V(full) mode.
  - Backends are applied in the order listed. The first one that fails stops the run and fails the task; the result
    names it (RV(failed_backend)), the backends already switched (RV(switched)) and those not attempted
    (RV(not_run)). Nothing is rolled back automatically.
  - Returns the state each backend had before (RV(previous)) with the module's own option names, so a runbook can
    restore exactly what it found.
  - Two runs never switch at once; a run holds the lock C(maintenance-mode) in O(ops_state) (check mode takes none).
  - See C(docs/maintenance-mode.md) for the nginx snippet, the middleware and the runbook pattern.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads every backend and reports what would change (RV(backends[].changes)); writes nothing, takes no lock.
  diff_mode:
    support: full
    details: Before and after state per changed backend; never the secret.
  platform:
    platforms: posix
options:
  state:
    description: V(enabled) puts the backends into maintenance, V(disabled) takes them out.
    type: str
    choices: [enabled, disabled]
    default: enabled
  mode:
    description:
      - V(full) blocks every request; V(read_only) lets C(GET), C(HEAD) and C(OPTIONS) through and blocks the others.
      - The V(docker) backend supports V(full) only.
    type: str
    choices: [full, read_only]
    default: full
  maintenance_message:
    description:
      - The text on the maintenance page and in the JSON error. A default sentence when omitted.
      - Reported as C(message) in RV(state) and RV(previous) (C(message) itself is reserved by Ansible).
    type: str
  ends_at:
    description: When the maintenance is expected to end (ISO 8601, for example V(2026-11-27T03:00:00Z)); shown on the page.
    type: str
  retry_after:
    description:
      - Seconds sent in the C(Retry-After) header of every 503.
      - It is a fixed number, not derived from O(ends_at), so that a repeated run changes nothing. With nginx a
        changed value is a configuration change (one reload).
    type: int
    default: 300
  allow_ips:
    description: Client addresses or networks (V(10.0.0.0/8), V(2001:db8::/32)) that bypass the maintenance.
    type: list
    elements: str
    default: []
  bypass_secret_file:
    description:
      - A file on the managed host holding the bypass secret (16 to 256 characters of C(A-Z a-z 0-9 . _ ~ + / = -)).
        A request whose cookie C(wk_bypass) or header C(X-Maintenance-Bypass) equals it bypasses the maintenance.
      - The secret is never returned, logged, put in a diff or on a command line. The nginx include that holds it is
        mode 0600; Redis stores only its SHA-256.
    type: path
  backends:
    description: The backends to switch, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      type:
        description: V(nginx), V(redis) or V(docker).
        type: str
        required: true
        choices: [docker, nginx, redis]
      name:
        description: A name for the results (default the type); names must be unique.
        type: str
      dir:
        description:
          - V(nginx) only. The state directory (flags, bodies, generated C(http.conf)), readable by the nginx workers.
          - Default C(/var/lib/watchkeeper/maintenance/nginx).
        type: path
      page_template:
        description:
          - V(nginx) only. A page template on the managed host with C($title), C($message), C($ends_at), C($until),
            C($retry_after) (HTML-escaped); the built-in page when omitted.
        type: path
      test_command:
        description: V(nginx) only. The configuration test run before a reload (argv). Default C(nginx -t -q).
        type: list
        elements: str
      reload_command:
        description:
          - V(nginx) only. The reload command (argv), run only when the generated include changed.
          - Default C(nginx -s reload); for example V([systemctl, reload, nginx]).
        type: list
        elements: str
      host:
        description: V(redis) only. Default V(127.0.0.1).
        type: str
      port:
        description: V(redis) only. Default V(6379).
        type: int
      unix_socket:
        description: V(redis) only. A Unix socket path instead of host and port.
        type: path
      db:
        description: V(redis) only. The database number. Default V(0).
        type: int
      key:
        description: V(redis) only. The key holding the state. Default V(watchkeeper:maintenance).
        type: str
      username:
        description: V(redis) only. ACL user name for C(AUTH).
        type: str
      password_file:
        description: V(redis) only. A file holding the Redis password (never on a command line).
        type: path
      docker_host:
        description:
          - V(docker) only. The engine's URL. Default the environment variable C(DOCKER_HOST) (set it with the task's
            C(environment)), else V(unix:///var/run/docker.sock).
        type: str
      page_container:
        description:
          - V(docker) only. The maintenance-page container, a dict with C(image) (required), C(name) (default
            V(wk-maintenance-page)), C(ports) (container port to host port, as in the Docker SDK), C(environment),
            C(pull) (V(missing), the default, or V(never)), C(network) (a network to attach it to, for example the one
            the reverse proxy reaches the services on; default the engine's default network), C(command) (argv
            replacing the image's command) and C(labels) (extra labels, for example a reverse proxy's routing labels).
          - The container also gets C(WK_MAINTENANCE_MODE), C(WK_MAINTENANCE_MESSAGE), C(WK_MAINTENANCE_ENDS_AT) and
            C(WK_MAINTENANCE_RETRY_AFTER); it is recreated when any of these or its image, ports, environment, network,
            command or labels change.
        type: dict
      services:
        description:
          - V(docker) only. Service containers stopped during maintenance and started after it.
          - O(state=enabled) fails, changing nothing, when one of them does not exist. Services that were already
            stopped when the maintenance began stay stopped after it (the page container records them).
        type: list
        elements: str
      stop_timeout:
        description: V(docker) only. Seconds a service container gets to stop before it is killed. Default V(10).
        type: int
      timeout:
        description: Seconds for a Redis or Docker request, or for the nginx commands.
        type: float
  ops_state:
    description: The ops_state directory holding the lock C(locks/maintenance-mode.lock).
    type: path
    default: /var/lib/watchkeeper
  lock_timeout:
    description: Seconds to wait for another run holding the lock before failing.
    type: int
    default: 60
requirements:
  - docker (Python SDK) for the V(docker) backend
notes:
  - The nginx backend creates its include on the first run (also with O(state=disabled), then with the given
    O(retry_after), O(allow_ips) and O(bypass_secret_file), so that a later switch with the same settings needs no
    reload); install the snippets after it and reload nginx once (the role C(watchkeeper.ops.maintenance) does).
  - Retry-After with nginx is a value in the include, so changing O(retry_after) costs one reload; flips never do.
seealso:
  - name: Maintenance mode guide
    description: Snippets, middleware, failure policy and the runbook pattern.
    link: https://github.com/watchkeeper/ops/blob/main/docs/maintenance-mode.md
"""

EXAMPLES = r"""
- name: Read-only maintenance behind nginx and for the apps that read Redis
  watchkeeper.ops.maintenance_mode:
    state: enabled
    mode: read_only
    maintenance_message: Database upgrade in progress; you can browse but not save.
    ends_at: "2026-11-27T03:00:00Z"
    retry_after: 600
    allow_ips: [10.20.0.0/16]
    bypass_secret_file: /etc/watchkeeper/maintenance-bypass
    backends:
      - type: nginx
        reload_command: [systemctl, reload, nginx]
      - type: redis
        host: 10.20.0.5
        password_file: /etc/watchkeeper/redis-password
  register: maintenance

- name: Put back exactly what was found
  watchkeeper.ops.maintenance_mode:
    state: "{{ maintenance.previous.state }}"
    mode: "{{ maintenance.previous.mode | default('full') }}"
    maintenance_message: "{{ maintenance.previous.message | default(omit) }}"
    ends_at: "{{ maintenance.previous.ends_at | default(omit, true) }}"
    retry_after: "{{ maintenance.previous.retry_after | default(300, true) }}"
    allow_ips: "{{ maintenance.previous.allow_ips | default([]) }}"
    bypass_secret_file: /etc/watchkeeper/maintenance-bypass
    backends:
      - type: nginx
      - type: redis
        host: 10.20.0.5
        password_file: /etc/watchkeeper/redis-password

- name: Replace the app containers by a maintenance page
  watchkeeper.ops.maintenance_mode:
    state: enabled
    maintenance_message: Moving to new hardware.
    backends:
      - type: docker
        page_container:
          image: ghcr.io/acme/maintenance-page:1
          ports: {"8080/tcp": 80}
        services: [app-web, app-worker]
"""

RETURN = r"""
previous:
  description:
    - The state before the run, over the backends that were read. V(enabled) when any was; then the first enabled
      backend's details and C(consistent) (whether all backends had the same state).
  returned: always
  type: dict
  sample: {state: disabled}
state:
  description: The state after the run (the wanted one when every backend succeeded).
  returned: always
  type: dict
  sample: {state: enabled, mode: full, message: Back soon., ends_at: "2026-11-27T03:00:00Z", retry_after: 300,
           allow_ips: [10.0.0.0/8], bypass: true}
backends:
  description: One entry per backend, in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The backend's name.
      type: str
    type:
      description: V(nginx), V(redis) or V(docker).
      type: str
    status:
      description: V(ok), V(failed) or V(not_run) (after an earlier failure).
      type: str
    changed:
      description: Whether this backend changed (or would, in check mode).
      type: bool
    previous:
      description: Its state before (docker also lists C(services) and C(page_container) statuses).
      type: dict
    state:
      description: Its state after.
      type: dict
    changes:
      description: What changed (or would), for example V(full flag), V(config), V(key written), V(stopped app-web).
      type: list
      elements: str
    reloaded:
      description: V(nginx) only. Whether nginx was reloaded (only when the generated include changed).
      type: bool
    error:
      description: Why it failed; null otherwise.
      type: str
switched:
  description: Names of the backends this run changed (on failure, the ones already switched).
  returned: always
  type: list
  elements: str
failed_backend:
  description: The backend that failed, or null.
  returned: always
  type: str
not_run:
  description: Backends not attempted because an earlier one failed.
  returned: always
  type: list
  elements: str
check_mode:
  description: Whether the run was in check mode.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.mode import main as run_main


def main():
    run_main(AnsibleModule)


if __name__ == "__main__":
    main()
