#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: maintenance_window
short_description: Schedule, edit, start, verify, complete, extend or cancel a maintenance window
version_added: "0.5.0"
description:
  - A maintenance window is a JSON document in the shared O(ops_state) location (a directory, or a bucket prefix with
    O(ops_state_store)) that every controller and AWX node sees. See C(docs/maintenance-windows.md) for its format.
  - "Lifecycle: V(scheduled) -> V(in_progress) -> V(verifying) -> V(completed), or V(scheduled) -> V(cancelled).
    V(verifying) may go back to V(in_progress); V(in_progress) may skip V(verifying). Any other move fails and says
    which moves are allowed."
  - Editing a scheduled window (O(state=scheduled) with an existing O(id)) raises its C(revision) when a field that
    subscribers must hear of changes (title, description, start, time zone, duration, impact, components);
    M(watchkeeper.ops.maintenance_notify) then sends a "changed" message and the reminders follow the new time.
  - Updates are optimistic (each version is claimed with a write that refuses to replace an existing object), so two
    nodes changing the same window never lose an update.
  - Idempotent, except O(extend_by), which adds time on every run that passes it.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.maintenance
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  id:
    description:
      - The window id, matching C(^[a-z0-9][a-z0-9-]{2,63}$). Required for everything but creating a window; a new
        window without one gets C(mw-<UTC stamp>-<slug of the title>) (then the task is not idempotent).
    type: str
  state:
    description: The status the window should have.
    type: str
    choices: [scheduled, in_progress, verifying, completed, cancelled]
    default: scheduled
  title:
    description: Short title. Required to create a window.
    type: str
  description:
    description: What happens and what users should expect, in Markdown (rendered in the HTML email).
    type: str
  start:
    description:
      - Start, ISO 8601. With an offset (C(2026-11-27T02:00:00+01:00)) it is kept as given; without one it is local
        time in O(timezone), and a time that does not exist or exists twice there (DST) is refused.
      - Required to create a window.
    type: str
  timezone:
    description: IANA time zone of the window, used for local times in messages. Defaults to C(UTC) for new windows.
    type: str
  duration:
    description: Expected duration, for example C(45m), C(2h) or seconds. Required to create a window.
    type: str
  impact:
    description: Expected impact on users.
    type: str
    choices: [none, degraded, read_only, full_outage]
  components:
    description: Affected components (names as on the status page).
    type: list
    elements: str
  tasks:
    description: "The maintenance tasks to run, free-form dicts such as C({name: reindex, playbook: reindex.yml})."
    type: list
    elements: dict
  audience:
    description: Who hears of the window.
    type: dict
    suboptions:
      emails:
        description: Email subscribers.
        type: list
        elements: str
      webhooks:
        description: Webhooks. The URL is treated as a secret (never returned or logged).
        type: list
        elements: dict
        suboptions:
          url:
            description: The URL to POST to.
            type: str
            required: true
          kind:
            description: Payload shape.
            type: str
            choices: [generic, slack, teams]
            default: generic
  owner:
    description: Email of the window's owner, who gets the "overrun" notice when the window runs past its end.
    type: str
  reminders:
    description:
      - Lead times of the reminders before the start, in real elapsed time (see the guide on DST). Defaults to
        C([72h, 24h, 1h]) for new windows; C([]) for none.
    type: list
    elements: str
  extend_by:
    description: Move the end of a scheduled, running or verifying window later by this much (C(30m), C(1h)).
    type: str
  cancel_reason:
    description: With O(state=cancelled), why (sent to subscribers).
    type: str
  task_results:
    description: With O(state=completed), the results of the maintenance tasks, kept in the window's outcome.
    type: list
    elements: dict
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
'''

EXAMPLES = r'''
- name: Schedule a window (announced, then reminded 72 h, 24 h and 1 h before)
  watchkeeper.ops.maintenance_window:
    id: db-reindex-2026-12
    title: Database index rebuild
    description: |
      We rebuild the **search indexes**. Uploads are paused.
    start: "2026-12-05T02:00:00+01:00"
    timezone: Europe/Berlin
    duration: 45m
    impact: read_only
    components: [api, uploads]
    audience:
      emails: [customers-ops@example.com]
      webhooks: [{url: "{{ slack_ops_webhook }}", kind: slack}]
    owner: oncall@example.com
    ops_state: /srv/nfs/watchkeeper

- name: Start (also before the scheduled start)
  watchkeeper.ops.maintenance_window: {id: db-reindex-2026-12, state: in_progress, ops_state: /srv/nfs/watchkeeper}

- name: Needs 30 more minutes
  watchkeeper.ops.maintenance_window: {id: db-reindex-2026-12, extend_by: 30m, ops_state: /srv/nfs/watchkeeper}

- name: Done
  watchkeeper.ops.maintenance_window:
    id: db-reindex-2026-12
    state: completed
    task_results: [{name: reindex, ok: true, duration_s: 1260}]
    ops_state: /srv/nfs/watchkeeper

- name: Windows in a bucket shared by every AWX node
  watchkeeper.ops.maintenance_window:
    id: kernel-patch-w49
    state: cancelled
    cancel_reason: Postponed to next week
    ops_state_store: {type: s3, bucket: acme-ops, prefix: ops-state}
'''

RETURN = r'''
window:
  description: The window document after the task (C(watchkeeper.ops/maintenance-window) v1), webhook URLs redacted.
  returned: success
  type: dict
  sample: {"id": "db-reindex-2026-12", "status": "scheduled", "revision": 1, "end": "2026-12-05T01:45:00Z"}
changed_fields:
  description: Fields an edit changed.
  returned: success
  type: list
  elements: str
  sample: [start]
revision:
  description: The window's revision after the task (SEQUENCE of its calendar invitation).
  returned: success
  type: int
  sample: 2
'''

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.args import COMMON, open_store
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.webhooks import redact
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as policy

FIELDS = ("title", "description", "start", "timezone", "duration", "impact", "components", "tasks", "audience",
          "owner", "reminders")


def public(doc):
    doc = copy.deepcopy(doc)
    for hook in (doc.get("audience") or {}).get("webhooks") or []:
        hook["url"] = redact(hook["url"])
    return doc


def plan(params, doc, now):
    """The new document (or ``doc`` itself when nothing changes) and the edited fields."""
    spec = {k: params[k] for k in FIELDS if params.get(k) is not None}
    if params.get("audience") is not None:
        spec["audience"] = {"emails": params["audience"].get("emails") or [],
                            "webhooks": params["audience"].get("webhooks") or []}
    changed = []
    if doc is None:
        if params["state"] != "scheduled":
            raise policy.WindowError("window %s does not exist; create it with state=scheduled first" % params["id"])
        doc = policy.new_window(spec, now, params.get("id"))
        changed = ["created"]
    elif params["state"] == "scheduled" and any(k in spec for k in FIELDS):
        doc, changed = policy.edit(doc, spec, now)
    if params.get("extend_by"):
        doc = policy.extend(doc, params["extend_by"], now)
        changed.append("end")
    if params["state"] != "scheduled" or doc["status"] != "scheduled":
        target = params["state"]
        if target == "scheduled" and doc["status"] != "scheduled":
            return doc, changed  # editing a running window is refused by edit(); extend_by works in any open state
        doc = policy.transition(doc, target, now, reason=params.get("cancel_reason"),
                                task_results=params.get("task_results"))
    return doc, changed


def main():
    argument_spec = dict(
        id=dict(type="str"),
        state=dict(type="str", default="scheduled", choices=list(policy.STATUSES)),
        title=dict(type="str"), description=dict(type="str"), start=dict(type="str"), timezone=dict(type="str"),
        duration=dict(type="str"), impact=dict(type="str", choices=list(policy.IMPACTS)),
        components=dict(type="list", elements="str"), tasks=dict(type="list", elements="dict"),
        audience=dict(type="dict", options=dict(
            emails=dict(type="list", elements="str"),
            webhooks=dict(type="list", elements="dict", no_log=False, options=dict(
                url=dict(type="str", required=True, no_log=True),
                kind=dict(type="str", default="generic", choices=list(policy.WEBHOOK_KINDS)))))),
        owner=dict(type="str"), reminders=dict(type="list", elements="str", no_log=False),
        extend_by=dict(type="str"), cancel_reason=dict(type="str"), task_results=dict(type="list", elements="dict"),
    )
    argument_spec.update(COMMON)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params.get("id") and not policy.ID_RE.match(params["id"]):
        module.fail_json(msg="window id %r must match %s" % (params["id"], policy.ID_RE.pattern))
    if not params.get("id") and params["state"] != "scheduled":
        module.fail_json(msg="state=%s needs the window's id" % params["state"])
    store = open_store(module)
    now = clock.now()
    result = {}

    def change(doc):
        new, fields = plan(params, doc, now)
        result["fields"] = fields
        return new

    try:
        before = store.get(params["id"]) if params.get("id") else None
        after = change(before) if module.check_mode or before is None else None
        created = store.create(after) if after is not None and before is None and not module.check_mode else None
        if created is not None:
            after = created
        elif not module.check_mode:  # an existing window, or one another run created just now
            before, after = store.update(after["id"] if after else params["id"], change)
    except (WatchkeeperError, policy.WindowError) as exc:
        module.fail_json(msg=str(exc), step=getattr(exc, "step", None) or "window")
    changed = after is not before
    diff = {"before": public(before) if before else {}, "after": public(after)} if changed else None
    module.exit_json(changed=changed, window=public(after), changed_fields=result.get("fields") or [],
                     revision=after["revision"], diff=diff)


if __name__ == "__main__":
    main()
