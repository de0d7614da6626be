#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: maintenance_history
short_description: Maintenance windows of a period with their outcomes, and the "completed within the window" KPI
version_added: "0.5.0"
description:
  - Reads every window in O(ops_state) and returns those that ended (were completed or cancelled) in the period
    [O(since), O(until)), each with its outcome (on time, overran by how many seconds, cancelled) and its task results.
  - "KPI: RV(kpi.within_window_pct) = windows completed at or before their scheduled end (start + duration +
    extensions) / all completed windows * 100. Cancelled windows are listed but not counted. The target is
    O(target_pct) (95 % by default); RV(kpi.meets_target) is null when no window was completed in the period."
  - Windows still running past their end are listed in RV(overrunning) (they are not in the KPI until they end).
  - Read-only; never changes anything.
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
  since:
    description: Start of the period (ISO 8601), or a duration back from now such as C(30d) or C(90d).
    type: str
    default: 90d
  until:
    description: End of the period (ISO 8601, exclusive). Default is now.
    type: str
  target_pct:
    description: The KPI target in percent.
    type: float
    default: 95.0
  fail_below_target:
    description: Fail the task when the KPI is below O(target_pct).
    type: bool
    default: false
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
'''

EXAMPLES = r'''
- name: Maintenance KPI of the last quarter
  watchkeeper.ops.maintenance_history:
    since: 90d
    ops_state: /srv/nfs/watchkeeper
  register: mw

- name: Report it
  ansible.builtin.debug:
    msg: "{{ mw.kpi.within_window_pct }} % of {{ mw.kpi.counts.completed }} windows finished on time"

- name: A calendar month
  watchkeeper.ops.maintenance_history:
    since: "2026-11-01T00:00:00Z"
    until: "2026-12-01T00:00:00Z"
    ops_state_store: {type: gcs, bucket: acme-ops, prefix: ops-state}
'''

RETURN = r'''
kpi:
  description: The KPI over the period.
  returned: success
  type: dict
  contains:
    since:
      description: Start of the period (UTC).
      type: str
      returned: success
    until:
      description: End of the period (UTC), exclusive.
      type: str
      returned: success
    within_window_pct:
      description: Percent of completed windows finished on time; null without any.
      type: float
      returned: success
    target_pct:
      description: The target.
      type: float
      returned: success
    meets_target:
      description: Whether the KPI reaches the target; null without completed windows.
      type: bool
      returned: success
    counts:
      description: Numbers of windows by C(completed), C(on_time), C(overran), C(cancelled).
      type: dict
      returned: success
  sample: {"within_window_pct": 66.67, "target_pct": 95.0, "meets_target": false,
           "counts": {"completed": 3, "on_time": 2, "overran": 1, "cancelled": 1}}
windows:
  description: Every window that ended in the period, oldest first, with C(result) on_time, overran or cancelled.
  returned: success
  type: list
  elements: dict
  sample: [{"id": "db-reindex-2026-12", "title": "Database index rebuild", "result": "overran", "overran_s": 600,
            "finished_at": "2026-12-05T01:55:00Z", "tasks": [{"name": "reindex", "ok": true}]}]
overruns:
  description: The windows of RV(windows) that overran.
  returned: success
  type: list
  elements: dict
cancelled:
  description: The windows of RV(windows) that were cancelled.
  returned: success
  type: list
  elements: dict
overrunning:
  description: Windows still in progress or verifying past their scheduled end now (id, end, overrun_s).
  returned: success
  type: list
  elements: dict
'''

import datetime

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.args import COMMON, open_store
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as policy


def instant(value, now):
    try:
        return policy.parse_time(value)
    except ValueError:
        return now - datetime.timedelta(seconds=policy.parse_duration(value))


def main():
    argument_spec = dict(
        since=dict(type="str", default="90d"),
        until=dict(type="str"),
        target_pct=dict(type="float", default=95.0),
        fail_below_target=dict(type="bool", default=False),
    )
    argument_spec.update(COMMON)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    now = clock.now()
    try:
        since = instant(params["since"], now)
        until = policy.parse_time(params["until"]) if params.get("until") else now
    except (ValueError, policy.WindowError) as exc:
        module.fail_json(msg="since/until: %s" % exc)
    store = open_store(module)
    try:
        windows = store.all()
        report = policy.kpi(windows, since, until, target=params["target_pct"])
    except (WatchkeeperError, policy.WindowError, KeyError, ValueError) as exc:
        module.fail_json(msg="cannot read the maintenance windows: %s" % exc)
    overrunning = [{"id": w["id"], "title": w["title"], "end": w["end"],
                    "overrun_s": int((now - policy.end_utc(w)).total_seconds())}
                   for w in windows if w["status"] in policy.ACTIVE and policy.end_utc(w) < now]
    kpi_keys = ("since", "until", "within_window_pct", "target_pct", "meets_target", "counts")
    result = dict(changed=False, kpi={k: report[k] for k in kpi_keys},
                  windows=report["windows"], overruns=report["overruns"], cancelled=report["cancelled"],
                  overrunning=overrunning)
    pct = report["within_window_pct"]
    if params["fail_below_target"] and report["meets_target"] is False and pct is not None:
        module.fail_json(msg="%s %% of the maintenance windows completed within their scheduled window, below the "
                             "target of %s %%" % (pct, params["target_pct"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
