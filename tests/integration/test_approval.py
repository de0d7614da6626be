# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The approval module through ansible-playbook (frozen clock): self-approval refused, another identity accepted
once, reused / expired / other parameters refused, check mode, and bad input. The parameter hash is computed here
from the documented rule (canonical JSON, SHA-256), not with collection code."""

import hashlib
import json
import os

from helpers import run_module
from window_helpers import run_tasks, task

PARAMS = {"target": "db-prod-7", "backup_id": "20261205T020000Z-pg", "max_hosts": 1}
RUNBOOK = "database_recovery.yml"


def sha(params):
    return hashlib.sha256(json.dumps(params, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def ap(ops_state, state, **args):
    return dict(args, state=state, ops_state=ops_state)


def test_two_person_rule_end_to_end(scratch):
    asked = ap(scratch, "request", request_id="ap-it-one", runbook=RUNBOOK, parameters=PARAMS, identity="alice",
               reason="primary lost its disk", expires_in="1h")
    use = ap(scratch, "consume", runbook=RUNBOOK, parameters=PARAMS, awx_user="alice")
    check_use = task("approval", use, "2026-12-05T10:20:00Z")
    check_use["check_mode"] = True
    res = run_tasks([
        task("approval", asked, "2026-12-05T10:00:00Z"),
        task("approval", asked, "2026-12-05T10:01:00Z"),                                                   # 1 same
        task("approval", ap(scratch, "check", runbook=RUNBOOK, parameters=PARAMS), "2026-12-05T10:02:00Z"),
        task("approval", ap(scratch, "approve", request_id="ap-it-one", awx_user="Alice"), "2026-12-05T10:03:00Z"),
        task("approval", ap(scratch, "approve", request_id="ap-it-one", awx_user="bob",
                            parameters_sha256=sha(dict(PARAMS, max_hosts=3))), "2026-12-05T10:04:00Z"),    # 4
        task("approval", ap(scratch, "approve", request_id="ap-it-one", awx_user="bob",
                            parameters_sha256=sha(PARAMS)), "2026-12-05T10:05:00Z"),
        task("approval", ap(scratch, "consume", runbook=RUNBOOK, parameters=dict(PARAMS, max_hosts=2),
                            awx_user="alice"), "2026-12-05T10:10:00Z"),                                    # 6
        check_use,
        task("approval", use, "2026-12-05T10:21:00Z"),
        task("approval", use, "2026-12-05T10:22:00Z"),                                                     # 9 reused
        task("approval", ap(scratch, "request", request_id="ap-it-two", runbook=RUNBOOK, parameters=PARAMS,
                            identity="alice", expires_in="5m"), "2026-12-05T10:30:00Z"),
        task("approval", ap(scratch, "approve", request_id="ap-it-two", identity="bob"), "2026-12-05T10:36:00Z"),
    ])
    assert res[0]["changed"] and res[0]["request"]["parameters_sha256"] == sha(PARAMS) == res[0]["parameters_sha256"]
    assert res[0]["request"]["requester"] == {"identity": "alice", "raw": "alice", "source": "explicit"}
    assert not res[1]["changed"]
    assert res[2]["valid"] is False and res[2]["reason"] == "pending" and not res[2].get("failed")
    assert res[3]["failed"] and res[3]["reason"] == "self_approval" and "self-approval refused" in res[3]["msg"]
    assert res[4]["failed"] and res[4]["reason"] == "parameters_changed"
    assert res[5]["changed"] and res[5]["decision"]["by"]["identity"] == "bob"
    assert res[6]["failed"] and res[6]["reason"] == "parameters_changed" and "parameters changed" in res[6]["msg"]
    assert res[7]["changed"] and res[7]["valid"] and res[7]["consumption"] is None
    assert res[8]["changed"] and res[8]["valid"] and res[8]["consumption"]["by"]["identity"] == "alice"
    assert res[9]["failed"] and res[9]["reason"] == "reused" and "already used at 2026-12-05T10:21:00Z" in res[9]["msg"]
    assert res[11]["failed"] and res[11]["reason"] == "expired"
    root = os.path.join(scratch, "approvals")
    assert sorted(os.listdir(os.path.join(root, "consumed"))) == ["ap-it-one.json"]
    assert sorted(os.listdir(os.path.join(root, "decisions"))) == ["ap-it-one.json"]
    with open(os.path.join(root, "requests", "ap-it-one.json")) as handle:
        assert json.load(handle)["parameters"] == PARAMS


def test_bad_input_is_refused_clearly(scratch):
    cases = [(ap(scratch, "approve"), "state=approve needs request_id"),
             (ap(scratch, "consume", runbook=RUNBOOK), "state=consume needs parameters"),
             (ap(scratch, "request", runbook=RUNBOOK, parameters=PARAMS, awx_user="mallory", identity="bob"),
              "differs from the AWX launching user 'mallory'"),
             (ap(scratch, "request", runbook=RUNBOOK, parameters=PARAMS, identity="a", expires_in="soon"),
              "invalid duration 'soon'"),
             (ap(scratch, "approve", request_id="ap-none", identity="bob"), "no approval request ap-none")]
    res = run_tasks([task("approval", args, "2026-12-05T10:00:00Z") for args, _message in cases])
    for (_args, message), result in zip(cases, res):
        assert result["failed"] and message in result["msg"], result
    assert not os.path.exists(os.path.join(scratch, "approvals", "requests"))
    single = run_module("watchkeeper.ops.approval", ap(scratch, "request", request_id="AP 1", runbook=RUNBOOK,
                                                       parameters=PARAMS))
    assert single["failed"] and "request_id 'AP 1' must match" in single["msg"]
