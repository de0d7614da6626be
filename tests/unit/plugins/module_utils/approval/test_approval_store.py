# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Approvals on a real directory: the whole flow, idempotent requests, one decision between two approvers, and one
consumption between several real processes racing for it."""

import datetime
import multiprocessing
import os

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.approval import actions
from ansible_collections.watchkeeper.ops.plugins.module_utils.approval.rules import ApprovalError
from ansible_collections.watchkeeper.ops.plugins.module_utils.approval.store import open_approvals

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
ALICE = {"identity": "alice", "raw": "alice", "source": "awx"}
BOB = {"identity": "bob", "raw": "bob", "source": "awx"}
RUNBOOK = "database_recovery.yml"
PARAMS = {"target": "db-prod-7", "backup_id": "b1"}


def later(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


def asked(store, params=None, **kwargs):
    return actions.request(store, RUNBOOK, params or PARAMS, ALICE, T0, 3600, **kwargs)["request"]


def test_request_approve_consume_once(tmp_path):
    store = open_approvals(str(tmp_path))
    request = asked(store)
    assert actions.request(store, RUNBOOK, PARAMS, ALICE, later(1), 3600)["changed"] is False  # the open one
    assert actions.check(store, RUNBOOK, PARAMS, later(1))["reason"] == "pending"
    with pytest.raises(ApprovalError, match="waits for approval by another person") as err:
        actions.consume(store, RUNBOOK, PARAMS, ALICE, later(1))
    assert err.value.reason == "pending"
    with pytest.raises(ApprovalError, match="self-approval"):
        actions.decide(store, request["id"], "approved", ALICE, later(2))
    out = actions.decide(store, request["id"], "approved", BOB, later(2))
    assert out["changed"] and out["decision"]["by"] == BOB
    assert actions.decide(store, request["id"], "approved", BOB, later(3))["changed"] is False
    with pytest.raises(ApprovalError, match="parameters changed"):
        actions.consume(store, RUNBOOK, dict(PARAMS, target="db-prod-8"), ALICE, later(4), request_id=request["id"])
    with pytest.raises(ApprovalError, match="no approval request for runbook rollback.yml with these parameters"):
        actions.consume(store, "rollback.yml", PARAMS, ALICE, later(4))
    assert actions.consume(store, RUNBOOK, PARAMS, ALICE, later(4), check_mode=True)["changed"]
    assert not os.path.exists(str(tmp_path / "approvals" / "consumed"))  # check mode wrote nothing
    used = actions.consume(store, RUNBOOK, PARAMS, ALICE, later(4))
    assert used["consumption"]["by"] == ALICE and used["request"]["id"] == request["id"]
    with pytest.raises(ApprovalError, match="already used") as err:
        actions.consume(store, RUNBOOK, PARAMS, ALICE, later(5))
    assert err.value.reason == "reused"
    fresh = actions.request(store, RUNBOOK, PARAMS, ALICE, later(6), 3600)  # a used request is not reused
    assert fresh["changed"] and fresh["request"]["id"] != request["id"]


def test_request_ids_and_decisions_are_claimed_once(tmp_path):
    store = open_approvals(str(tmp_path))
    asked(store, request_id="ap-fixed")
    assert actions.request(store, RUNBOOK, PARAMS, ALICE, later(1), 3600, request_id="ap-fixed")["changed"] is False
    with pytest.raises(ApprovalError, match="exists for another runbook, other parameters"):
        actions.request(store, RUNBOOK, dict(PARAMS, x=1), ALICE, later(1), 3600, request_id="ap-fixed")
    with pytest.raises(ApprovalError, match="no approval request ap-nope"):
        actions.decide(store, "ap-nope", "approved", BOB, later(1))
    actions.decide(store, "ap-fixed", "denied", {"identity": "carol"}, later(1), comment="use the replica")
    with pytest.raises(ApprovalError, match="already denied by carol") as err:
        actions.decide(store, "ap-fixed", "approved", BOB, later(2))
    assert err.value.reason == "already_decided"
    out = actions.check(store, RUNBOOK, PARAMS, later(3), request_id="ap-fixed")
    assert out["reason"] == "denied" and out["message"].endswith(": use the replica")


def test_expired_approval_is_refused(tmp_path):
    store = open_approvals(str(tmp_path))
    request = asked(store)
    actions.decide(store, request["id"], "approved", BOB, later(10))
    with pytest.raises(ApprovalError, match="expired at 2026-12-05T11:00:00Z") as err:
        actions.consume(store, RUNBOOK, PARAMS, ALICE, later(61))
    assert err.value.reason == "expired"


def _decider(root, who, start, out):
    store = open_approvals(root)
    start.wait()
    try:
        res = actions.decide(store, "ap-race", "approved" if who != "dave" else "denied",
                             {"identity": who, "raw": who, "source": "awx"}, later(1))
        out.put((who, res["changed"]))
    except ApprovalError as exc:
        out.put((who, exc.reason))


def _consumer(root, n, start, out):
    store = open_approvals(root)
    start.wait()
    try:
        actions.consume(store, RUNBOOK, PARAMS, {"identity": "run%d" % n, "raw": "x", "source": "local"}, later(2))
        out.put("consumed")
    except ApprovalError as exc:
        out.put(exc.reason)


def race(target, root, names):
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=target, args=(root, name, start, out)) for name in names]
    for proc in procs:
        proc.start()
    start.set()
    results = [out.get(timeout=60) for _proc in procs]
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    return results


def test_concurrent_approvers_record_one_decision_and_consumers_use_it_once(tmp_path):
    root = str(tmp_path)
    store = open_approvals(root)
    asked(store, request_id="ap-race")
    decided = race(_decider, root, ["bob", "carol", "dave"])
    winners = [who for who, res in decided if res is True]
    assert len(winners) == 1 and sorted(res for _who, res in decided if res is not True) == ["already_decided"] * 2
    if winners == ["dave"]:  # the denial won: nobody may use it
        assert race(_consumer, root, range(4)) == ["denied"] * 4
        return
    results = race(_consumer, root, range(6))
    assert results.count("consumed") == 1 and results.count("reused") == 5
    assert store.consumption("ap-race")["by"]["identity"].startswith("run")
