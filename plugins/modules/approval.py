#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: approval
short_description: Two-person approvals of runbook runs, bound to their exact parameters, used once
version_added: 1.2.0
description:
  - "A runbook that must not run on one person's word asks for an approval: O(state=request) binds the runbook name,
    the SHA-256 of the canonical JSON of its exact O(parameters), the requester and an expiry. Another person
    approves (O(state=approve)) or denies it; the runbook then consumes the approval (O(state=consume)), once."
  - "Refused with a C(reason): C(self_approval) (the approver is the requester), C(expired), C(reused) (consumed
    already), C(parameters_changed) (other runbook or parameters than approved), C(denied), C(pending) (not approved
    yet), C(unknown_request), C(already_decided) (someone else decided first)."
  - "Identity: the AWX/Controller launching user (pass O(awx_user)), else O(identity), else the local user running
    the module; O(identity_map) maps the names one person has in several places to one identity. Identities are
    compared without case."
  - "Requests, decisions and consumptions are objects written once in the shared O(ops_state) location
    (C(<ops_state>/approvals/)) with a write that refuses to replace an existing object, so two approvers record one
    decision and two concurrent runs consume an approval once. See C(docs/incidents.md)."
  - The parameters are stored in the request for the approver to read; do not pass secrets in them.
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
  state:
    description:
      - V(request) creates a request, or returns the requester's open one for the same runbook and parameters.
      - V(approve) and V(deny) record the decision on O(request_id). Repeating one's own decision changes nothing.
      - V(check) answers whether a run of O(runbook) with O(parameters) may go ahead now (C(valid), C(reason)); it
        never fails for an invalid approval.
      - V(consume) uses the approval for this run, once; it fails with the reason when there is no valid approval.
    type: str
    required: true
    choices: [request, approve, deny, check, consume]
  request_id:
    description:
      - The request. Optional for V(request) (one is generated) and for V(check) and V(consume) (the requests of
        O(runbook) with these O(parameters) are searched); required for V(approve) and V(deny).
    type: str
  runbook:
    description:
      - The runbook, for example C(database_recovery.yml). Required for V(request), V(check) and V(consume).
      - With V(approve) and V(deny), the approver may pass it to make sure the request is for that runbook.
    type: str
  parameters:
    description:
      - The runbook's exact parameters (what the approval is bound to). Required for V(request), V(check) and
        V(consume). Compared as canonical JSON, so C(1) and C("1") differ.
      - With V(approve), the approver may pass them (or O(parameters_sha256)) to make sure they approve what they read.
    type: dict
  parameters_sha256:
    description: With V(approve) or V(deny), the hash the approver was shown; refused when the request binds another.
    type: str
  expires_in:
    description: With V(request), how long the request (and its approval) stays valid (C(30m), C(4h), seconds).
    type: str
    default: 4h
  reason:
    description: With V(request), why the run is needed (shown to the approver).
    type: str
  comment:
    description: With V(approve) or V(deny), a note recorded with the decision.
    type: str
  awx_user:
    description:
      - The AWX/Controller launching user. Pass C({{ awx_user_name | default(tower_user_name) | default(omit) }});
        when set it is the identity, and an O(identity) naming someone else is refused.
    type: str
  identity:
    description: The acting person when not under AWX. Defaults to the local user running the module.
    type: str
  identity_map:
    description:
      - "Maps names to canonical identities, keys C(<source>:<name>) or C(<name>) with source C(awx), C(explicit) or
        C(local), for example C({awx:jdoe: john, local:john: john})."
    type: dict
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
'''

EXAMPLES = r'''
- name: Ask for an approval of a database recovery
  watchkeeper.ops.approval:
    state: request
    runbook: database_recovery.yml
    parameters: {target: db-prod-7, backup_id: "20261205T020000Z-pg", point_in_time: "2026-12-05T09:58:00Z"}
    reason: "Primary lost its disk (inc-db-primary-down)"
    awx_user: "{{ awx_user_name | default(tower_user_name) | default(omit) }}"
    ops_state: /srv/nfs/watchkeeper
  register: asked

- name: Another person approves (the hash they read in the request)
  watchkeeper.ops.approval:
    state: approve
    request_id: "{{ approval_request_id }}"
    parameters_sha256: "{{ approval_parameters_sha256 }}"
    awx_user: "{{ awx_user_name | default(tower_user_name) | default(omit) }}"
    ops_state: /srv/nfs/watchkeeper

- name: The runbook uses the approval, once (fails with the reason when there is none)
  watchkeeper.ops.approval:
    state: consume
    runbook: database_recovery.yml
    parameters: {target: db-prod-7, backup_id: "20261205T020000Z-pg", point_in_time: "2026-12-05T09:58:00Z"}
    awx_user: "{{ awx_user_name | default(tower_user_name) | default(omit) }}"
    ops_state: /srv/nfs/watchkeeper
'''

RETURN = r'''
valid:
  description: With V(check) and V(consume), whether the run may go ahead; otherwise true (a refusal fails the task).
  returned: always
  type: bool
reason:
  description:
    - C(ok), C(pending), C(created), C(existing), C(approved), C(denied), or a refusal (C(self_approval), C(expired),
      C(reused), C(parameters_changed), C(unknown_request), C(already_decided)), or C(invalid) (bad input).
  returned: always
  type: str
  sample: self_approval
message:
  description: The reason in words, with what to do.
  returned: always
  type: str
request:
  description: The request (id, runbook, parameters, parameters_sha256, requester, reason, requested_at, expires_at).
  returned: when there is one
  type: dict
decision:
  description: The decision (decision, by, at, comment), when one was made.
  returned: when there is one
  type: dict
consumption:
  description: The use of the approval (by, at, host, run), when it was consumed.
  returned: when there is one
  type: dict
identity:
  description: Who acted (canonical identity, raw name, source C(awx), C(explicit) or C(local)).
  returned: always
  type: dict
parameters_sha256:
  description: The SHA-256 of the canonical JSON of O(parameters), when given.
  returned: when O(parameters) is given
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.approval import actions, identity, rules
from ansible_collections.watchkeeper.ops.plugins.module_utils.approval.store import open_approvals
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.args import COMMON
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy.maintenance import parse_duration

NEEDS = {"request": ("runbook", "parameters"), "check": ("runbook", "parameters"), "consume": ("runbook", "parameters"),
         "approve": ("request_id",), "deny": ("request_id",)}


def run(module, now, actor):
    params = module.params
    state = params["state"]
    store = open_approvals(params["ops_state"], params.get("ops_state_store"))
    if state == "request":
        return actions.request(store, params["runbook"], params["parameters"], actor, now,
                               parse_duration(params["expires_in"]), params.get("request_id"), params.get("reason"),
                               module.check_mode)
    if state in ("approve", "deny"):
        phash = params.get("parameters_sha256")
        if params.get("parameters") is not None:
            phash = rules.params_hash(params["parameters"])
        return actions.decide(store, params["request_id"], "approved" if state == "approve" else "denied", actor, now,
                              params.get("runbook"), phash, params.get("comment"), module.check_mode)
    if state == "check":
        return actions.check(store, params["runbook"], params["parameters"], now, params.get("request_id"))
    return actions.consume(store, params["runbook"], params["parameters"], actor, now, params.get("request_id"),
                           module.check_mode)


def main():
    argument_spec = dict(
        state=dict(type="str", required=True, choices=sorted(NEEDS)),
        request_id=dict(type="str"), runbook=dict(type="str"), parameters=dict(type="dict"),
        parameters_sha256=dict(type="str"), expires_in=dict(type="str", default="4h"), reason=dict(type="str"),
        comment=dict(type="str"), awx_user=dict(type="str"), identity=dict(type="str"),
        identity_map=dict(type="dict"),
    )
    argument_spec.update(COMMON)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    missing = [name for name in NEEDS[params["state"]] if params.get(name) is None]
    if missing:
        module.fail_json(msg="state=%s needs %s" % (params["state"], ", ".join(missing)))
    if params.get("request_id") and not rules.ID_RE.match(params["request_id"]):
        module.fail_json(msg="request_id %r must match %s" % (params["request_id"], rules.ID_RE.pattern))
    extra = {}
    try:
        try:
            actor = identity.resolve(params.get("awx_user"), params.get("identity"), params.get("identity_map"))
        except identity.IdentityError:
            if params["state"] != "check":  # a check reads only: it needs nobody's identity
                raise
            actor = None
        extra["identity"] = actor
        if params.get("parameters") is not None:
            extra["parameters_sha256"] = rules.params_hash(params["parameters"])
        out = run(module, clock.now(), actor)
    except rules.ApprovalError as exc:
        module.fail_json(msg=str(exc), reason=exc.reason, valid=False, **extra)
    except (identity.IdentityError, ValueError) as exc:
        module.fail_json(msg=str(exc), reason="invalid", valid=False, **extra)
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.describe(), reason="storage", valid=False, step=exc.step, **extra)
    valid = out["reason"] == "ok" if params["state"] in ("check", "consume") else True
    module.exit_json(changed=out["changed"], valid=valid, reason=out["reason"], message=out["message"],
                     request=out["request"], decision=out["decision"], consumption=out["consumption"], **extra)


if __name__ == "__main__":
    main()
