#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: autoscale_plan
short_description: Decide how many replicas a group needs, with the Kubernetes HPA and GCP autoscaler rules
version_added: 1.0.0
description:
  - Evaluates the current replica count against O(metrics), O(min)/O(max), the tolerance, the scale-in
    stabilisation window, the max change per step, a scale-in control and the scaling O(schedules) (known peaks),
    and returns the desired count with the reason of every metric and the rule that limited it. It changes no
    replica itself; C(playbooks/capacity_schedule.yml) passes the result to C(playbooks/scale.yml).
  - "Per metric: C(ceil(current * value / target)) (kind V(utilization), the value per replica) or
    C(ceil(value / target)) (kind V(total), e.g. a queue length); the largest proposal wins. Full rules and
    examples: docs/scaling.md."
  - With O(ops_state) the past recommendations are kept in C(<ops_state>/autoscale/<name>.json) (only those the
    windows need), so a scale-in waits for the highest recommendation of the stabilisation window. Without it the
    history comes from O(history) only.
  - Reads the time through C(WATCHKEEPER_NOW) when set in the task's environment (tests), else the clock.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Computes the same decision; the history file is not written.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  name:
    description: The group's name (letters, digits, C(_), C(-), C(.)); names the history file.
    type: str
    required: true
  current:
    description: The current number of replicas.
    type: int
    required: true
  min:
    description: The floor. Never goes below it.
    type: int
    default: 1
  max:
    description: The ceiling. Never goes above it; O(min) above O(max) is refused.
    type: int
    required: true
  metrics:
    description:
      - "C(name), C(value), C(target) and C(kind): V(utilization) (default; the value is the average per replica,
        such as CPU percent) or V(total) (the group's total, such as queued jobs, against C(target) per replica)."
    type: list
    elements: dict
    default: []
  tolerance:
    description: No change while every metric is within this fraction of its target (HPA's 0.1).
    type: float
    default: 0.1
  stabilization:
    description:
      - "C(down_s): a scale-in never goes below the highest recommendation of the last C(down_s) seconds (default
        300, as HPA). C(up_s): a scale-out never goes above the lowest one of the last C(up_s) seconds (default 0)."
    type: dict
  max_step_up:
    description:
      - At most C(replicas) and/or C(percent) more per evaluation. Default C({replicas 4, percent 100}) (HPA's
        default); V({}) for no limit.
    type: dict
  max_step_down:
    description: At most C(replicas) and/or C(percent) fewer per evaluation. Default no limit.
    type: dict
  step_select:
    description: Of several step limits, V(max) applies the most permissive (HPA's default), V(min) the strictest.
    type: str
    choices: [max, min]
    default: max
  scale_in_control:
    description:
      - GCP's scale-in control. C(max_replicas) or C(max_percent) below the largest count decided within the last
        C(window_s) seconds (default 600).
    type: dict
  schedules:
    description:
      - "Known peaks: C(name), C(min_replicas) and either C(start) and C(end) (ISO 8601; naive in C(timezone)) or
        C(cron) (minute hour day-of-month month day-of-week) and C(duration) (V(90m), V(2h)); C(timezone) (IANA,
        default UTC), C(disabled). While one is active the floor is at least its C(min_replicas) (capped at O(max))."
    type: list
    elements: dict
    default: []
  lead_s:
    description: A schedule starting within this many seconds counts as active (raise the floor before the peak).
    type: int
    default: 0
  ops_state:
    description: Where C(autoscale/<name>.json) keeps the history. Unset means no stored history.
    type: path
  history:
    description: Past recommendations C({time, recommendation, replicas}), used when O(ops_state) is unset.
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: Plan the web tier before the morning peak
  watchkeeper.ops.autoscale_plan:
    name: shop-web
    current: 3
    min: 2
    max: 12
    metrics:
      - {name: cpu, value: 72, target: 60}
      - {name: queue, value: 180, target: 20, kind: total}
    schedules:
      - {name: weekday-morning, cron: "0 8 * * 1-5", duration: 3h, timezone: Europe/Berlin, min_replicas: 6}
    lead_s: 900
    ops_state: /var/lib/watchkeeper
  register: plan

- name: Show the decision
  ansible.builtin.debug:
    msg: "{{ plan.current }} -> {{ plan.desired }} ({{ plan.limited_by or plan.winner }}): {{ plan.reason }}"
"""

RETURN = r"""
desired:
  description: The number of replicas the group should have.
  returned: success
  type: int
  sample: 9
current:
  description: The current number (the input).
  returned: success
  type: int
change:
  description: V(up), V(down) or V(none).
  returned: success
  type: str
recommendation:
  description: What the metrics asked for (the largest proposal), before the rules.
  returned: success
  type: int
winner:
  description: The metric whose proposal won (null without metrics).
  returned: success
  type: str
metrics:
  description: Per metric C(name, kind, value, target, ratio, within_tolerance, proposal, reason).
  returned: success
  type: list
  elements: dict
floor:
  description: The effective floor (O(min) or an active schedule's, capped at O(max)).
  returned: success
  type: int
floor_reason:
  description: V(min) or C(schedule:<name>).
  returned: success
  type: str
schedules:
  description: The active schedules C({name, min_replicas, start, end}).
  returned: success
  type: list
  elements: dict
next_schedule:
  description: The next schedule start after now C({name, start, min_replicas}), or null.
  returned: success
  type: dict
steps:
  description: Every rule that changed the value, C({rule, before, after, detail}), in order.
  returned: success
  type: list
  elements: dict
limited_by:
  description: The last rule that changed the value (V(stabilization_down), V(max_step_up), C(schedule:<name>), V(max)...) or null.
  returned: success
  type: str
reason:
  description: The whole decision in one line.
  returned: success
  type: str
state_path:
  description: The history file (null without O(ops_state)).
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import autoscale_state, clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import autoscale

PASSED = ("current", "min", "max", "metrics", "tolerance", "stabilization", "max_step_down", "step_select",
          "scale_in_control", "schedules", "lead_s")


def build_spec(params, history):
    spec = {key: params[key] for key in PASSED if params[key] is not None}
    if params["max_step_up"] is not None:
        spec["max_step_up"] = params["max_step_up"] or None  # {} = no limit
    spec["history"] = history
    return spec


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            current=dict(type="int", required=True),
            min=dict(type="int", default=1),
            max=dict(type="int", required=True),
            metrics=dict(type="list", elements="dict", default=[]),
            tolerance=dict(type="float", default=0.1),
            stabilization=dict(type="dict"),
            max_step_up=dict(type="dict"),
            max_step_down=dict(type="dict"),
            step_select=dict(type="str", choices=["max", "min"], default="max"),
            scale_in_control=dict(type="dict"),
            schedules=dict(type="list", elements="dict", default=[]),
            lead_s=dict(type="int", default=0),
            ops_state=dict(type="path"),
            history=dict(type="list", elements="dict", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = None
    try:
        history = params["history"]
        if params["ops_state"]:
            path = autoscale_state.path_for(params["ops_state"], params["name"])
            history = autoscale_state.read(path)
        now = clock.now()
        plan = autoscale.evaluate(build_spec(params, history), now)
    except (autoscale.AutoscaleError, autoscale_state.StateError) as exc:
        module.fail_json(msg="autoscale_plan %s: %s" % (params["name"], exc), changed=False, state_path=path)
    result = {key: plan[key] for key in ("desired", "current", "change", "recommendation", "winner", "metrics", "floor",
                                         "floor_reason", "schedules", "next_schedule", "steps", "limited_by", "reason")}
    result["state_path"] = path
    result["changed"] = path is not None
    if path and not module.check_mode:
        last = {key: plan[key] for key in ("desired", "current", "limited_by", "reason")}
        try:
            autoscale_state.write(path, params["name"], clock.isoformat(now), plan["history"], last)
        except autoscale_state.StateError as exc:
            module.fail_json(msg=str(exc), changed=False, state_path=path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
