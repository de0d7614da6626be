#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: status_page
short_description: Publish the public status page (HTML, status.json and an RSS feed) from maintenance windows and public incidents
version_added: 1.0.0
description:
  - Renders a static, self-contained status page C(index.html), a C(status.json) shaped like Atlassian Statuspage's
    summary (page, overall status, components, active and upcoming maintenance, the last 90 days) and an RSS 2.0 feed
    C(feed.rss), and writes them atomically into O(dest), for example the nginx web root the role
    C(watchkeeper.ops.maintenance) serves.
  - Only the public fields of a window are used (title, description, times, impact, components, status, outcome).
    Tasks, audience, owner, history and task results never reach the page. IPv4 and IPv6 addresses, this machine's
    host names and the names in O(hostnames) are replaced with C([redacted]) in titles and descriptions.
  - Idempotent; the files are rewritten only when something other than the "updated at" time changed.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.maintenance
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  windows:
    description:
      - The maintenance windows (documents of schema C(watchkeeper.ops/maintenance-window)). When omitted, every window
        in O(ops_state) (or O(ops_state_store)) is read, which is what the runbooks do.
      - Windows scheduled for later, in progress, and ended or cancelled in the last 90 days are shown.
    type: list
    elements: dict
  incidents:
    description:
      - Show the incidents of O(ops_state) (or O(ops_state_store)) that are marked public
        (M(watchkeeper.ops.incident) O(watchkeeper.ops.incident#module:public=true)) - open ones, and those resolved
        in the last 90 days - with their public fields only (title, status, components, public timeline entries),
        scrubbed like the windows. An open public incident sets the page's indicator (SEV1 C(critical), SEV2
        C(major), SEV3 C(minor)) and its components' status.
      - With V(false), or when O(windows) is given, no incident is read.
    type: bool
    default: true
  components:
    description:
      - The components users know (C(API), C(Web app)); each is a name or a dict with C(name) and C(description). A
        component affected by a window in progress shows that window's impact.
    type: list
    elements: raw
    default: []
  page:
    description: Page settings.
    type: dict
    default: {}
    suboptions:
      name:
        description: Title of the page.
        type: str
        default: Service status
      url:
        description: Public URL of the page, used in the feed's links.
        type: str
        default: ""
      time_zone:
        description: Informational time zone name recorded in C(status.json); times are shown in UTC.
        type: str
        default: UTC
  dest:
    description: Directory to write C(index.html), C(status.json) and C(feed.rss) to (created when missing).
    type: path
    required: true
  hostnames:
    description: More host names to scrub from public text (for example the inventory's hosts).
    type: list
    elements: str
    default: []
  mode:
    description: File mode of the written files.
    type: raw
    default: "0644"
notes:
  - Set C(WATCHKEEPER_NOW) in the task's environment to freeze the clock.
seealso:
  - module: watchkeeper.ops.maintenance_window
  - module: watchkeeper.ops.maintenance_history
"""

EXAMPLES = r"""
- name: Publish the windows of ops_state as the status page, into the nginx web root
  watchkeeper.ops.status_page:
    ops_state: /var/lib/watchkeeper
    components: [API, Web app, Uploads]
    page:
      name: Acme status
      url: https://status.acme.example/
    dest: /var/www/status
    hostnames: "{{ groups['all'] }}"
"""

RETURN = r"""
files:
  description: The files of the page.
  returned: always
  type: list
  elements: str
status:
  description:
    - The C(status.json) document (schema C(watchkeeper.ops/status-page) version 1) - C(page), C(status)
      (C(indicator), C(description)), C(components), C(active_maintenances), C(scheduled_maintenances),
      C(past_maintenances), C(incidents), C(past_incidents) and C(history) (C(completed), C(on_time), C(within_window_pct) over 90 days).
  returned: always
  type: dict
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import query as incident_query
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.store import open_incidents
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.args import COMMON, open_store
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.publish import publish


def main():
    module = AnsibleModule(
        argument_spec=dict(
            windows=dict(type="list", elements="dict"),
            incidents=dict(type="bool", default=True),
            components=dict(type="list", elements="raw", default=[]),
            page=dict(type="dict", default={}, options=dict(
                name=dict(type="str", default="Service status"),
                url=dict(type="str", default=""),
                time_zone=dict(type="str", default="UTC"))),
            dest=dict(type="path", required=True),
            hostnames=dict(type="list", elements="str", default=[]),
            mode=dict(type="raw", default="0644"),
            **copy.deepcopy(COMMON)
        ),
        supports_check_mode=True,
    )
    mode = module.params["mode"]
    try:
        mode = int(mode, 8) if isinstance(mode, str) else int(mode)
    except ValueError:
        module.fail_json(msg="mode must be an octal string such as '0644', not %r" % (module.params["mode"],))
    windows = module.params["windows"]
    incidents = []
    if windows is None:
        try:
            windows = open_store(module).all()
        except WatchkeeperError as exc:
            module.fail_json(msg="cannot read the maintenance windows: %s" % exc.describe())
        if module.params["incidents"]:
            try:
                store = open_incidents(module.params["ops_state"], module.params.get("ops_state_store"))
                incidents = [incident_query.public_view(doc) for doc in store.all()]
            except WatchkeeperError as exc:
                module.fail_json(msg="cannot read the incidents: %s" % exc.describe())
    try:
        result = publish(module.params["dest"], windows, module.params["components"], clock.now(),
                         page=module.params["page"], hostnames=module.params["hostnames"],
                         check_mode=module.check_mode, mode=mode, incidents=[i for i in incidents if i])
    except (OSError, ValueError, KeyError) as exc:
        module.fail_json(msg="cannot publish the status page to %s: %s" % (module.params["dest"], exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
