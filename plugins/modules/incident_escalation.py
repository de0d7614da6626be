#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: incident_escalation
short_description: Decide which escalation levels are due to be paged for the open incidents
version_added: 1.2.0
description:
  - Reads the incidents that M(watchkeeper.ops.incident) keeps in O(ops_state) and returns, for every incident still
    V(open) (not acknowledged) whose severity has levels in O(policy), the levels that are due at now and were not
    paged yet. Never writes and never pages; C(playbooks/incident_escalate.yml) pages each due level with the
    C(watchkeeper.ops.notify) role and then records it on the incident's timeline as the entry RV(pages[].entry)
    (id C(page-l<level>)), which is what makes each level paged exactly once per incident.
  - When several levels are due at once (the job did not run for a while) all of them are returned, lowest first.
  - Now is the current time, or C(WATCHKEEPER_NOW) (ISO 8601) when set, so tests can move the clock.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.maintenance
attributes:
  check_mode:
    support: full
    details: Reads only; behaves the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  policy:
    description:
      - Severity (C(SEV1), C(SEV2), C(SEV3)) to its levels, each C({level, after, targets}). C(level) is an integer
        from 1; C(after) is how long the incident may stay unacknowledged before this level is paged (C(0), C(90s),
        C(10m), C(1h), C(1d), or seconds), never less than a lower level's; C(targets) are names of paging targets
        (the playbook maps each name to the notify role's settings, so no key passes through this module).
    type: dict
    required: true
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
'''

EXAMPLES = r'''
- name: Which levels are due
  watchkeeper.ops.incident_escalation:
    policy:
      SEV1:
        - {level: 1, after: 0m, targets: [oncall]}
        - {level: 2, after: 10m, targets: [oncall-lead]}
      SEV2:
        - {level: 1, after: 15m, targets: [oncall]}
    ops_state: /srv/nfs/watchkeeper
  register: escalation
'''

RETURN = r'''
pages:
  description: The pages due now, oldest incident first, then by level.
  returned: success
  type: list
  elements: dict
  contains:
    incident_id:
      description: The incident.
      type: str
    title:
      description: Its title.
      type: str
    severity:
      description: Its severity.
      type: str
    components:
      description: Its affected components.
      type: list
      elements: str
    opened_at:
      description: When it was opened (ISO 8601 UTC).
      type: str
    age_s:
      description: Seconds since it was opened, at now.
      type: int
    level:
      description: The level to page.
      type: int
    after:
      description: The level's delay as written in the policy.
      type: str
    targets:
      description: The target names of the level.
      type: list
      elements: str
    subject:
      description: The page's subject (PagerDuty summary, Opsgenie message).
      type: str
    text:
      description: The page's text (Opsgenie description, email body).
      type: str
    entry:
      description: The timeline entry to record after the page was sent (for O(watchkeeper.ops.incident#module:entry)).
      type: dict
  sample: [{"incident_id": "inc-checkout-down", "severity": "SEV1", "level": 2, "after": "10m", "targets": ["lead"]}]
open_incidents:
  description: Number of open incidents of a severity the policy covers.
  returned: success
  type: int
now:
  description: The time the decision was made for (ISO 8601 UTC).
  returned: success
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import escalation, model
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.store import open_incidents
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.args import COMMON


def main():
    argument_spec = dict(policy=dict(type="dict", required=True))
    argument_spec.update(COMMON)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    now = clock.now()
    try:
        policy = escalation.normalize_policy(module.params["policy"])
        store = open_incidents(module.params["ops_state"], module.params.get("ops_state_store"))
        docs = [d for d in store.all() if d.get("status") == "open" and d.get("severity") in policy]
        pages = escalation.plan(docs, policy, now)
    except model.IncidentError as exc:
        module.fail_json(msg=str(exc), step="incident_escalation")
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.describe(), step=exc.step or "incident_escalation")
    module.exit_json(changed=False, pages=pages, open_incidents=len(docs), now=model.iso(now))


if __name__ == "__main__":
    main()
