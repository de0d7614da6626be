#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: incident
short_description: Open, acknowledge, update, mitigate, resolve and close incidents; query them and their KPIs
version_added: 1.2.0
description:
  - An incident is a JSON document in the shared O(ops_state) location (C(<ops_state>/incidents/records/<id>.json),
    every version under C(<ops_state>/incidents/versions/)), or under a bucket prefix with O(ops_state_store).
    See C(docs/incidents.md) for the record, the lifecycle and the KPIs.
  - "Lifecycle: V(open) -> V(acknowledged) -> V(mitigated) -> V(resolved) -> V(closed). Moves go forward; skipping
    ahead is allowed and stamps the skipped milestones with the same time; V(closed) is reached from V(resolved)
    only and is read-only. Asking for an earlier status fails and names the allowed moves."
  - Idempotent. Asking for the status the incident already has changes nothing (acknowledging twice is a no-op); a
    timeline O(entry) that is already there (same source, author, text, data and O(entry.at)) is not added again.
    O(state=open) on an existing incident applies the field edits and the entry without changing the status.
  - Updates are optimistic (each version is claimed with a write that refuses to replace an existing object, and a
    run that loses the race re-reads and applies its change again), so nodes updating one incident at once never
    lose a timeline entry.
  - M(watchkeeper.ops.incident_info) reads incidents, lists them with filters and computes the response KPIs.
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
      - The incident id, matching C(^[a-z0-9][a-z0-9-]{2,63}$). Required for everything but opening; an incident
        opened without one gets C(inc-<UTC stamp>-<slug of the title>) (then the task is not
        idempotent). Alert-driven openings should derive it from the alert (group key or fingerprint).
    type: str
  state:
    description:
      - V(open), V(acknowledged), V(mitigated), V(resolved), V(closed) are the status the incident should have.
      - V(update) keeps the status and applies the field edits and the timeline O(entry).
    type: str
    required: true
    choices: [open, acknowledged, mitigated, resolved, closed, update]
  title:
    description: Short title (shown on the status page when O(public=true)). Required to open.
    type: str
  summary:
    description: What is known, for responders (never public).
    type: str
  severity:
    description: C(SEV1) critical (customers cannot use the service), C(SEV2) major, C(SEV3) minor. Required to open.
    type: str
    choices: [SEV1, SEV2, SEV3]
  components:
    description: Affected components, added to those already listed (names as on the status page).
    type: list
    elements: str
  customer_impact:
    description: Whether customers were affected (the KPI counts incidents resolved without customer impact).
    type: bool
  public:
    description: Show the incident on the public status page (title, status, components, public timeline entries).
    type: bool
  responders:
    description: People working on it, added to those listed. The acknowledging person is added automatically.
    type: list
    elements: str
  links:
    description: Links (dashboards, chat threads, tickets), added by URL.
    type: list
    elements: dict
    suboptions:
      url:
        description: The link.
        type: str
        required: true
      title:
        description: A label.
        type: str
  entry:
    description:
      - A timeline entry. With a status change it is the entry of that change (else the module writes
        C(Status changed to <status>)).
    type: dict
    suboptions:
      text:
        description: What happened.
        type: str
        required: true
      source:
        description: Who writes it. Defaults to O(source).
        type: str
        choices: [person, runbook, alert]
      author:
        description: The person, runbook or alert name. Defaults to O(author).
        type: str
      at:
        description: When it happened (ISO 8601). Defaults to now; an alert passes its C(startsAt).
        type: str
      data:
        description: Structured details (host, exit code, alert labels). Shown to responders, never public.
        type: dict
      public:
        description: Show the text on the public status page.
        type: bool
        default: false
      id:
        description: A key of your own for the entry (by default a hash of source, author, text, data and O(entry.at)).
        type: str
  source:
    description: What drives this task, recorded on the entries it writes.
    type: str
    choices: [person, runbook, alert]
    default: person
  author:
    description:
      - Who acts. Pass C({{ awx_user_name | default(tower_user_name) | default(omit) }}) from AWX, the runbook's name
        from a runbook, the alert name from an alert. With O(source=person) it defaults to the local user.
    type: str
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
'''

EXAMPLES = r'''
- name: An alert opens (or updates) the incident of its group
  watchkeeper.ops.incident:
    id: "alert-{{ alert.groupKey | hash('sha1') | truncate(12, True, '') }}"
    state: open
    title: "{{ alert.labels.alertname }} on {{ alert.labels.instance }}"
    severity: SEV1
    components: [api]
    source: alert
    author: "{{ alert.labels.alertname }}"
    entry: {text: "{{ alert.annotations.summary }}", at: "{{ alert.startsAt }}", data: "{{ alert.labels }}"}
    ops_state: /srv/nfs/watchkeeper

- name: Acknowledge (the AWX user is the responder)
  watchkeeper.ops.incident:
    id: inc-db-primary-down
    state: acknowledged
    author: "{{ awx_user_name | default(tower_user_name) | default(omit) }}"
    ops_state: /srv/nfs/watchkeeper

- name: A runbook records a step
  watchkeeper.ops.incident:
    id: "{{ incident_id }}"
    state: update
    source: runbook
    author: service_restart.yml
    entry: {text: "app restarted on web-2, healthy after 4 s", data: {host: web-2, health_s: 4}}
    ops_state: /srv/nfs/watchkeeper

- name: Resolved, and a public note for the status page
  watchkeeper.ops.incident:
    id: inc-db-primary-down
    state: resolved
    customer_impact: true
    public: true
    entry: {text: "The database is back; all requests are served again.", public: true}
    ops_state: /srv/nfs/watchkeeper
'''

RETURN = r'''
incident:
  description: The incident after the task (C(watchkeeper.ops/incident) v1).
  returned: success
  type: dict
  sample: {"id": "inc-db-primary-down", "status": "acknowledged", "severity": "SEV1", "timeline": []}
changed_fields:
  description: What the task changed (C(created), C(status), C(timeline), edited fields).
  returned: success
  type: list
  elements: str
  sample: [status, timeline]
public_view:
  description: The public projection of the incident (what a status page may show), null when it is not public.
  returned: success
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.approval.identity import local_user
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import model, query
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.store import open_incidents
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.args import COMMON

FIELDS = ("title", "summary", "severity", "components", "customer_impact", "public", "responders", "links")


def argument_spec():
    spec = dict(
        id=dict(type="str"),
        state=dict(type="str", required=True, choices=list(model.STATUSES) + ["update"]),
        title=dict(type="str"), summary=dict(type="str"), severity=dict(type="str", choices=list(model.SEVERITIES)),
        components=dict(type="list", elements="str"), customer_impact=dict(type="bool"), public=dict(type="bool"),
        responders=dict(type="list", elements="str"),
        links=dict(type="list", elements="dict", options=dict(url=dict(type="str", required=True),
                                                              title=dict(type="str"))),
        entry=dict(type="dict", options=dict(
            text=dict(type="str", required=True), source=dict(type="str", choices=list(model.SOURCES)),
            author=dict(type="str"), at=dict(type="str"), data=dict(type="dict"),
            public=dict(type="bool", default=False), id=dict(type="str"))),
        source=dict(type="str", default="person", choices=list(model.SOURCES)),
        author=dict(type="str"),
    )
    spec.update(COMMON)
    return spec


def write(module, store, now):
    params = module.params
    state = params["state"]
    spec = dict((k, params[k]) for k in FIELDS if params.get(k) is not None)
    author = params.get("author") or (local_user() if params["source"] == "person" else None)
    actor = {"source": params["source"], "author": author}
    entry = dict((k, v) for k, v in (params.get("entry") or {}).items() if v is not None) or None
    result = {}

    def change(doc):
        new, fields = model.apply(doc, state, spec, now, actor, entry)
        result["fields"] = fields
        return new

    before = store.get(params["id"]) if params.get("id") else None
    if before is None:
        if state != "open":
            raise model.IncidentError("incident %s does not exist; open it first with state=open" % params["id"])
        after = model.new_incident(spec, now, params.get("id"), actor, entry)
        result["fields"] = ["created"]
        if not module.check_mode:
            created = store.create(after)
            if created is None:  # another run opened it just now: apply ours as an update of theirs
                before, after = store.update(after["id"], change)
    elif module.check_mode:
        after = change(before)
    else:
        before, after = store.update(params["id"], change)
    changed = after is not before
    module.exit_json(changed=changed, incident=after, changed_fields=result.get("fields") or [],
                     public_view=query.public_view(after),
                     diff={"before": before or {}, "after": after} if changed else None)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    if params.get("id") and not model.ID_RE.match(params["id"]):
        module.fail_json(msg="incident id %r must match %s" % (params["id"], model.ID_RE.pattern))
    if not params.get("id") and params["state"] != "open":
        module.fail_json(msg="state=%s needs the incident's id" % params["state"])
    now = clock.now()
    try:
        write(module, open_incidents(params["ops_state"], params.get("ops_state_store")), now)
    except model.IncidentError as exc:
        module.fail_json(msg=str(exc), step="incident")
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.describe(), step=exc.step or "incident")


if __name__ == "__main__":
    main()
