#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: incident_info
short_description: Read incidents, list them with filters, and compute the incident response KPIs
version_added: 1.2.0
description:
  - Reads the incidents that M(watchkeeper.ops.incident) keeps in the shared O(ops_state) location. Never writes.
  - With O(id), one incident and its public projection. Without, the incidents matching O(filters), newest first.
  - "With O(kpis=true), also the response KPIs of the incidents opened in O(period_start) .. O(period_end): time to
    acknowledge, to mitigate, to resolve (MTTR), share resolved without customer impact, SEV1 response against its
    target. See C(docs/incidents.md) for the definitions."
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
  id:
    description: One incident (C(found=false) when it does not exist).
    type: str
  filters:
    description: Without O(id), which incidents to list. Omitted filters match everything.
    type: dict
    suboptions:
      status:
        description: Any of these statuses.
        type: list
        elements: str
      severity:
        description: Any of these severities.
        type: list
        elements: str
      component:
        description: Lists this component.
        type: str
      responder:
        description: Lists this responder.
        type: str
      customer_impact:
        description: Had customer impact (or not).
        type: bool
      public:
        description: Is public (or not).
        type: bool
      opened_after:
        description: Opened at or after this time (ISO 8601).
        type: str
      opened_before:
        description: Opened before this time (ISO 8601).
        type: str
  kpis:
    description: Also compute the KPIs of the period (over every incident opened in it; O(filters) do not apply).
    type: bool
    default: false
  period_start:
    description: Start of the KPI period (ISO 8601). Defaults to 30 days before O(period_end).
    type: str
  period_end:
    description: End of the KPI period (exclusive, ISO 8601). Defaults to now.
    type: str
  targets:
    description: The targets the KPIs are judged against.
    type: dict
    suboptions:
      sev1_response_s:
        description: SEV1 time to acknowledge, seconds.
        type: int
        default: 900
      mttr_s:
        description: Mean time to resolve, seconds.
        type: int
        default: 1800
      without_customer_impact_pct:
        description: Share of resolved incidents without customer impact, percent.
        type: float
        default: 95.0
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
'''

EXAMPLES = r'''
- name: Open SEV1 and SEV2 incidents
  watchkeeper.ops.incident_info:
    filters: {status: [open, acknowledged, mitigated], severity: [SEV1, SEV2]}
    ops_state: /srv/nfs/watchkeeper
  register: open_incidents

- name: One incident
  watchkeeper.ops.incident_info:
    id: inc-db-primary-down
    ops_state: /srv/nfs/watchkeeper

- name: KPIs of November
  watchkeeper.ops.incident_info:
    kpis: true
    filters: {opened_after: "2026-11-01T00:00:00Z", opened_before: "2026-12-01T00:00:00Z"}
    period_start: "2026-11-01T00:00:00Z"
    period_end: "2026-12-01T00:00:00Z"
    ops_state: /srv/nfs/watchkeeper
'''

RETURN = r'''
found:
  description: With O(id), whether the incident exists.
  returned: when O(id) is given
  type: bool
incident:
  description: With O(id), the incident (C(watchkeeper.ops/incident) v1), or null.
  returned: when O(id) is given
  type: dict
public_view:
  description: With O(id), what a public status page may show of it; null when it is not public or not found.
  returned: when O(id) is given
  type: dict
incidents:
  description: Without O(id), summaries of the matching incidents, newest first.
  returned: when O(id) is not given
  type: list
  elements: dict
kpis:
  description:
    - Counts by severity and status; time to acknowledge, mitigate and resolve (count, mean, median, max in seconds,
      pending); C(mttr_s) and C(mttr_met); C(resolved_without_customer_impact) (pct, met); C(sev1_response) (met,
      breached ids, pending, met_pct, all_met).
  returned: when O(kpis=true)
  type: dict
'''

import datetime

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import kpis as kpi_rules
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import model, query
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.store import open_incidents
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.args import COMMON


def main():
    argument_spec = dict(
        id=dict(type="str"),
        filters=dict(type="dict", options=dict(
            status=dict(type="list", elements="str"), severity=dict(type="list", elements="str"),
            component=dict(type="str"), responder=dict(type="str"), customer_impact=dict(type="bool"),
            public=dict(type="bool"), opened_after=dict(type="str"), opened_before=dict(type="str"))),
        kpis=dict(type="bool", default=False),
        period_start=dict(type="str"), period_end=dict(type="str"),
        targets=dict(type="dict", options=dict(
            sev1_response_s=dict(type="int", default=900), mttr_s=dict(type="int", default=1800),
            without_customer_impact_pct=dict(type="float", default=95.0))),
    )
    argument_spec.update(COMMON)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params.get("id") and not model.ID_RE.match(params["id"]):
        module.fail_json(msg="incident id %r must match %s" % (params["id"], model.ID_RE.pattern))
    now = clock.now()
    result = {}
    try:
        store = open_incidents(params["ops_state"], params.get("ops_state_store"))
        if params.get("id"):
            doc = store.get(params["id"])
            result.update(found=doc is not None, incident=doc, public_view=query.public_view(doc) if doc else None)
        else:
            result["incidents"] = [query.summary(d) for d in query.select(store.all(), params.get("filters") or {})]
        if params["kpis"]:
            end = model.parse_time(params["period_end"]) if params.get("period_end") else now
            start = model.parse_time(params["period_start"]) if params.get("period_start") \
                else end - datetime.timedelta(days=30)
            if start >= end:
                module.fail_json(msg="period_start %s must be before period_end %s" % (model.iso(start), model.iso(end)))
            result["kpis"] = kpi_rules.kpis(store.all(), start, end, now, params.get("targets"))
    except model.IncidentError as exc:
        module.fail_json(msg=str(exc), step="incident_info")
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.describe(), step=exc.step or "incident_info")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
