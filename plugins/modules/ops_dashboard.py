#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ops_dashboard
short_description: Generate the Operations, Maintenance and Disaster Recovery dashboards as a static site
version_added: 1.0.0
description:
  - Writes the three dashboards of the story, C(index.html) (Operations), C(maintenance.html) and C(dr.html), and
    C(dashboard.json) (the same facts for other tools) into O(dest) or a storage location (O(destination)), from the
    collection's own records - each job's backups in each destination (listed like M(watchkeeper.ops.backup_info),
    with its manifest cache), the last integrity sweep (M(watchkeeper.ops.backup_integrity)), maintenance windows,
    incidents and drill reports in O(ops_state), health snapshots (M(watchkeeper.ops.health_facts)) and, with
    O(alertmanager_url), the alerts firing in Alertmanager.
  - Every non-green state carries its reason in words. Quick actions, window actions, emergency actions and recovery
    procedures are AWX / Automation Controller launch links when O(awx) names a job template for them, otherwise the
    exact C(ansible-playbook) command.
  - The pages need no JavaScript and fetch nothing (a Content-Security-Policy forbids every request); a small inline
    script keeps countdowns and ages live and marks a page whose generation is older than O(stale_after) as stale.
  - Each file is replaced atomically (C(dashboard.json) last). The site is rewritten when what it shows changed, or
    as a heartbeat when the published one is older than O(refresh_after); otherwise nothing is written.
  - The by-hand runbooks of the newest drill report are copied to C(runbooks/<job>.md) and linked from C(dr.html).
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.maintenance
  - watchkeeper.ops.destination
  - watchkeeper.ops.destination.single
attributes:
  check_mode:
    support: full
    details: Reads everything and reports whether the site would change; writes nothing (no health snapshot either).
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  dest:
    description:
      - Directory the site is written to, for example the root of the internal vhost the role
        C(watchkeeper.ops.dashboards) serves with basic authentication. Created when missing.
      - One of O(dest) and O(destination) is required.
    type: path
  destination:
    description:
      - Publish the site into this storage location instead (its O(destination.prefix), for example a bucket served
        by a CDN or a web server). Each file is one upload.
    type: dict
    required: false
  destinations:
    description:
      - The backup destinations the jobs are listed in, with the same options as the backup modules. Each job names
        the ones it uses in O(jobs[].destinations); a job that names none is listed in every one.
      - Only reads (listings and manifests). Prefer O(destinations[].credentials_file) or O(destinations[].profile) to
        inline keys.
    type: list
    elements: dict
    required: false
  jobs:
    description: The backup jobs shown, with their objectives.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The job's name.
        type: str
        required: true
      rpo:
        description: Recovery point objective, for example V(4h). Defaults to O(jobs[].max_age), else V(26h).
        type: str
      max_age:
        description: The backup role's freshness limit; the RPO when O(jobs[].rpo) is not set.
        type: str
      rto:
        description: Recovery time objective, for example V(2h) (default).
        type: str
      kind:
        description:
          - V(postgres), V(sqlite), V(files) or another source kind, for the recovery procedures. Read from the newest
            backup's manifest when omitted.
        type: str
      destinations:
        description: Names of the O(destinations) that hold this job's backups; empty means every one.
        type: list
        elements: str
        default: []
  health:
    description:
      - "This run's readings, C({host: health}) where C(health) is the C(health) result of M(watchkeeper.ops.health_facts)
        on that host. Each is stored as a snapshot in O(health_dir) (the newest 288 are kept), from which the
        resource table and its trend lines are drawn."
    type: dict
    default: {}
  health_dir:
    description:
      - Directory of the health snapshots, one subdirectory per host (C(health-*.json), the format
        M(watchkeeper.ops.health_facts) writes with its C(snapshot_dir)). Default C(<ops_state>/health_snapshots).
    type: path
  alertmanager_url:
    description:
      - Alertmanager's base URL (for example V(http://mon1:9093)). Its firing alerts (active, not silenced, not
        inhibited, API v2) are listed on the Operations page and count in the overall status (severity V(critical)
        as critical, any other as warning). When it cannot be read, the status says so as a warning.
    type: str
  thresholds:
    description:
      - "Traffic-light thresholds in percent, C({cpu|memory|disk: {warning, critical}}). Defaults CPU 80/95,
        memory 85/95, disk (the fullest mount) 85/95."
    type: dict
    default: {}
  awx:
    description:
      - AWX / Automation Controller. With O(awx.url) and a template id for an action, the action's button is the
        template's launch URL, C(<url><api_path>job_templates/<id>/launch/).
    type: dict
    suboptions:
      url:
        description: Base URL, for example V(https://awx.example.com).
        type: str
      api_path:
        description: API path, V(/api/v2/) (AWX); V(/api/controller/v2/) on Automation Controller 2.5.
        type: str
        default: /api/v2/
      templates:
        description:
          - "Job template id per action: V(schedule_maintenance), V(backup_now), V(scale_resources), V(view_logs),
            V(security_audit), V(emergency_procedures); V(edit_window), V(cancel_window), V(notify_users),
            V(start_early); V(service_restart), V(rollback), V(security_patch), V(scale_down), V(emergency_maintenance),
            V(database_recovery); V(drill), V(recovery)."
        type: dict
        default: {}
  inventory:
    description: Inventory shown in the commands of actions without an AWX template.
    type: str
    default: inventories/production
  playbook_dir:
    description: Directory of the collection's playbooks, as shown in those commands.
    type: str
    default: playbooks
  title:
    description: Title of the dashboards.
    type: str
    default: Operations
  stale_after:
    description: The pages call themselves stale once their generation is older than this (for example V(15m)).
    type: str
    default: 15m
  refresh_after:
    description: Rewrite an unchanged site once it is this old (the heartbeat); default half of O(stale_after).
    type: str
  drill_interval:
    description: Time between recovery tests (for example V(90d)); default three months after the last drill, as
      M(watchkeeper.ops.drill_report) plans it.
    type: str
  kpi_target_pct:
    description: Target share of maintenance windows completed within their window.
    type: float
    default: 95.0
  time_zone:
    description: IANA zone shown next to UTC when the viewer's browser does not run the script.
    type: str
    default: UTC
  listing:
    description:
      - How each job's backups are read in each destination.
      - V(newest) counts the job's index entries and proves only the newest backups, object by object (manifest read,
        every object present at its size), down to the first valid one. The other backups are the business of
        M(watchkeeper.ops.backup_integrity) (whose last sweep the pages show) and M(watchkeeper.ops.backup_info).
        A few requests per destination, whatever the number of backups.
      - V(full) lists and checks every backup like M(watchkeeper.ops.backup_info), with the manifest cache in
        O(cache_dir); the pages then also show how many backups are valid.
    type: str
    choices: [newest, full]
    default: newest
  cache_dir:
    description: Manifest cache shared with M(watchkeeper.ops.backup_info) (O(listing=full) only); empty disables it.
    type: path
    default: ~/.cache/watchkeeper/catalog
  mode:
    description: Permissions of the files written to O(dest).
    type: raw
    default: "0644"
"""

EXAMPLES = r"""
- name: Regenerate the dashboards (every 5 minutes in AWX)
  watchkeeper.ops.ops_dashboard:
    dest: /var/www/ops-dashboard
    ops_state: /srv/nfs/watchkeeper
    destinations:
      - {name: nas, type: local, path: /mnt/backups}
      - {name: offsite, type: s3, bucket: acme-backups, credentials_file: /etc/watchkeeper/s3.ini}
    jobs:
      - {name: app-db, rpo: 4h, rto: 2h}
      - {name: uploads, max_age: 26h, destinations: [offsite]}
    awx:
      url: https://awx.example.com
      templates: {backup_now: 12, drill: 15, recovery: 16}
  register: dashboards

- name: Show why the status is not green
  ansible.builtin.debug:
    msg: "{{ dashboards.status.reasons }}"
  when: dashboards.status.level != 'ok'
"""

RETURN = r"""
changed:
  description: Whether the site was (or in check mode would be) rewritten.
  returned: always
  type: bool
reason:
  description: Why it was rewritten or not (V(what the pages show changed), V(heartbeat ...), V(unchanged) ...).
  returned: always
  type: str
files:
  description: The files written (paths, or URLs of a storage location); in check mode and when unchanged, their names.
  returned: always
  type: list
  elements: str
site:
  description: Where the site is.
  returned: always
  type: str
status:
  description: The overall status, C(level) (V(ok), V(warning), V(critical)), C(label) and C(reasons).
  returned: always
  type: dict
dashboard:
  description:
    - The C(dashboard.json) document (schema C(watchkeeper.ops/dashboard) v1) - C(status), C(actions), C(hosts),
      C(backups), C(alerts), C(alerts_error), C(incidents), C(maintenance), C(dr), C(counts), C(generated_at),
      C(content_sha256).
  returned: always
  type: dict
timings:
  description: Seconds spent reading the state, listing the destinations, reading health and alerts, rendering and publishing.
  returned: always
  type: dict
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils.common_args import DESTINATION_OPTIONS
from ansible_collections.watchkeeper.ops.plugins.module_utils.dashboard.generate import DashboardError, generate
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.args import COMMON


def _jobs(params):
    """Each job with its destination specs (by name; none named = every destination)."""
    by_name = {}
    for spec in params["destinations"] or []:
        name = spec.get("name") or spec["type"]
        if name in by_name:
            raise DashboardError("destinations: the name %s appears twice" % name)
        by_name[name] = dict([(k, v) for k, v in spec.items() if v is not None] + [("name", name)])
    jobs = []
    for job in params["jobs"]:
        unknown = [n for n in job["destinations"] or [] if n not in by_name]
        if unknown:
            raise DashboardError("job %s names destinations that are not in destinations: %s" % (job["name"], ", ".join(unknown)))
        names = job["destinations"] or sorted(by_name)
        jobs.append(dict(job, destinations=[by_name[n] for n in names]))
    return jobs


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path"),
            destination=dict(type="dict", options=copy.deepcopy(DESTINATION_OPTIONS)),
            destinations=dict(type="list", elements="dict", options=copy.deepcopy(DESTINATION_OPTIONS)),
            jobs=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), rpo=dict(type="str"), max_age=dict(type="str"),
                rto=dict(type="str"), kind=dict(type="str"),
                destinations=dict(type="list", elements="str", default=[]))),
            health=dict(type="dict", default={}),
            health_dir=dict(type="path"),
            alertmanager_url=dict(type="str"),
            thresholds=dict(type="dict", default={}),
            awx=dict(type="dict", options=dict(url=dict(type="str"), api_path=dict(type="str", default="/api/v2/"),
                                               templates=dict(type="dict", default={}))),
            inventory=dict(type="str", default="inventories/production"),
            playbook_dir=dict(type="str", default="playbooks"),
            title=dict(type="str", default="Operations"),
            stale_after=dict(type="str", default="15m"),
            refresh_after=dict(type="str"),
            drill_interval=dict(type="str"),
            kpi_target_pct=dict(type="float", default=95.0),
            time_zone=dict(type="str", default="UTC"),
            listing=dict(type="str", choices=["newest", "full"], default="newest"),
            cache_dir=dict(type="path", default="~/.cache/watchkeeper/catalog"),
            mode=dict(type="raw", default="0644"),
            **copy.deepcopy(COMMON)
        ),
        mutually_exclusive=[("dest", "destination")],
        required_one_of=[("dest", "destination")],
        supports_check_mode=True,
    )
    params = dict(module.params)
    try:
        params["mode"] = int(params["mode"], 8) if isinstance(params["mode"], str) else int(params["mode"])
    except ValueError:
        module.fail_json(msg="mode must be an octal string such as '0644', not %r" % (module.params["mode"],))
    try:
        params["jobs"] = _jobs(params)
        result = generate(params, check_mode=module.check_mode)
    except DashboardError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
