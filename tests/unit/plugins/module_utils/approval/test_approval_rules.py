# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Approval validity rules (hypothesis: valid iff every condition holds), the parameter hash, and identities."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.approval import identity, rules
from ansible_collections.watchkeeper.ops.plugins.module_utils.approval.rules import ApprovalError

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
ALICE = {"identity": "alice", "raw": "alice", "source": "awx"}
BOB = {"identity": "bob", "raw": "Bob", "source": "awx"}
PARAMS = {"target": "db-prod-7", "backup_id": "b1", "hosts": ["db-7"], "max_hosts": 1}


def later(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


def req(params=None, requester=None, expires_s=3600, rid="ap-one"):
    return rules.new_request("database_recovery.yml", PARAMS if params is None else params, requester or ALICE, T0, expires_s,
                             rid, "disk lost")


# --------------------------------------------------------------------------- the canonical hash

JSON = st.recursive(st.none() | st.booleans() | st.integers(-10 ** 6, 10 ** 6) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=6), JSON, min_size=1, max_size=6), st.randoms())
def test_hash_ignores_key_order_and_sees_every_change(params, rnd):
    items = list(params.items())
    rnd.shuffle(items)
    assert rules.params_hash(dict(items)) == rules.params_hash(params)
    key = rnd.choice(sorted(params))
    changed = dict(params)
    changed[key] = [params[key]]  # wrapping a value always changes it
    assert rules.params_hash(changed) != rules.params_hash(params)
    assert rules.params_hash(dict(params, **{key + "\x00extra": None})) != rules.params_hash(params)


def test_canonical_json_is_fixed_and_typed():
    assert rules.canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    assert rules.params_hash({"n": 1}) != rules.params_hash({"n": "1"}) != rules.params_hash({"n": True})
    with pytest.raises(ApprovalError, match="must be a dict"):
        rules.params_hash(["x"])
    with pytest.raises(ApprovalError, match="plain JSON values"):
        rules.params_hash({"x": float("nan")})


# --------------------------------------------------------------------------- validity under any combination

STATE = st.fixed_dictionaries({
    "request": st.booleans(), "requester": st.sampled_from(["alice", "bob"]),
    "decision": st.sampled_from([None, "approved", "denied"]), "decider": st.sampled_from(["alice", "bob", "carol"]),
    "consumed": st.booleans(), "runbook_ok": st.booleans(), "params_ok": st.booleans(),
    "minutes": st.integers(0, 120), "expires_s": st.integers(60, 7200)})


@settings(max_examples=500, deadline=None)
@given(STATE)
def test_valid_iff_every_condition_holds(s):
    requester = {"identity": s["requester"], "raw": s["requester"], "source": "explicit"}
    request = req(requester=requester, expires_s=s["expires_s"]) if s["request"] else None
    decision = None
    if s["decision"]:
        decision = {"request_id": "ap-one", "decision": s["decision"], "at": rules.iso(later(1)), "comment": None,
                    "by": {"identity": s["decider"], "raw": s["decider"], "source": "explicit"}}
    consumption = {"at": rules.iso(later(2)), "by": BOB} if s["consumed"] else None
    runbook = "database_recovery.yml" if s["runbook_ok"] else "rollback.yml"
    phash = rules.params_hash(PARAMS if s["params_ok"] else dict(PARAMS, max_hosts=2))
    now = later(s["minutes"])
    reason, message = rules.evaluate(request, decision, consumption, runbook, phash, now)
    should = bool(request) and s["runbook_ok"] and s["params_ok"] and s["decision"] == "approved" \
        and s["decider"] != s["requester"] and not s["consumed"] and (now - T0).total_seconds() < s["expires_s"]
    assert (reason == "ok") == should, (reason, message)
    assert reason in rules.REASONS and message
    if request and not (s["runbook_ok"] and s["params_ok"]):
        assert reason == "parameters_changed"
    elif request and s["consumed"]:
        assert reason == "reused"


# --------------------------------------------------------------------------- decisions by example

def test_self_approval_is_refused_but_another_person_may_approve_once():
    request = req()
    with pytest.raises(ApprovalError, match="self-approval refused: alice requested ap-one") as err:
        rules.decide(request, None, "approved", ALICE, later(5))
    assert err.value.reason == "self_approval"
    record = rules.decide(request, None, "approved", BOB, later(5))
    assert record["by"] == BOB and record["parameters_sha256"] == request["parameters_sha256"]
    assert rules.decide(request, record, "approved", BOB, later(6)) is record  # the same person again: no-op
    with pytest.raises(ApprovalError, match="already approved by bob") as err:
        rules.decide(request, record, "denied", {"identity": "carol"}, later(6))
    assert err.value.reason == "already_decided"


def test_the_requester_may_withdraw_by_denying():
    record = rules.decide(req(), None, "denied", ALICE, later(5))
    assert rules.evaluate(req(), record, None, "database_recovery.yml", rules.params_hash(PARAMS), later(6))[0] == \
        "denied"


@pytest.mark.parametrize("kwargs, reason, message", [
    ({"phash": rules.params_hash(dict(PARAMS, target="db-prod-8"))}, "parameters_changed", "parameters changed"),
    ({"runbook": "rollback.yml"}, "parameters_changed", "is for runbook database_recovery.yml, not rollback.yml"),
])
def test_approving_other_parameters_is_refused(kwargs, reason, message):
    with pytest.raises(ApprovalError, match=message) as err:
        rules.decide(req(), None, "approved", BOB, later(5), **kwargs)
    assert err.value.reason == reason


def test_expired_requests_cannot_be_approved_or_used():
    with pytest.raises(ApprovalError, match="expired at 2026-12-05T11:00:00Z") as err:
        rules.decide(req(), None, "approved", BOB, later(60))
    assert err.value.reason == "expired"
    record = rules.decide(req(), None, "approved", BOB, later(59))
    assert rules.evaluate(req(), record, None, "database_recovery.yml", rules.params_hash(PARAMS), later(61))[0] == \
        "expired"


@pytest.mark.parametrize("args, message", [
    (("../x y", PARAMS, ALICE, T0, 3600, "ap-one"), "runbook '../x y' must match"),
    (("r.yml", PARAMS, ALICE, T0, 30, "ap-one"), "expires_in must be between 60 s and 604800 s"),
    (("r.yml", PARAMS, ALICE, T0, 3600, "AP_1"), "request id 'AP_1' must match"),
    (("r.yml", "x=1", ALICE, T0, 3600, "ap-one"), "parameters must be a dict"),
])
def test_request_validation(args, message):
    with pytest.raises(ApprovalError, match=message) as err:
        rules.new_request(*args)
    assert err.value.reason == "invalid"


def test_choose_prefers_a_valid_request_then_the_same_parameters():
    phash = rules.params_hash(PARAMS)
    old_ok = req(rid="ap-old")
    ok_decision = rules.decide(old_ok, None, "approved", BOB, later(1))
    other = req(params=dict(PARAMS, target="x"), rid="ap-new")
    assert rules.choose([(old_ok, ok_decision, None), (other, None, None)], "database_recovery.yml", phash,
                        later(2))[1]["id"] == "ap-old"
    assert rules.choose([(other, None, None)], "database_recovery.yml", phash, later(2))[0][0] == "parameters_changed"
    assert rules.choose([], "database_recovery.yml", phash, later(2)) is None


# --------------------------------------------------------------------------- identities

def test_identity_resolution_and_mapping():
    assert identity.resolve("JDoe", None) == {"identity": "jdoe", "raw": "JDoe", "source": "awx"}
    assert identity.resolve("", "carol", local=lambda: "root")["source"] == "explicit"
    assert identity.resolve(None, None, local=lambda: "root") == {"identity": "root", "raw": "root", "source": "local"}
    mapping = {"awx:jdoe": "John", "local:john": "john"}
    assert identity.resolve("jdoe", None, mapping)["identity"] == identity.resolve(None, None, mapping,
                                                                                   local=lambda: "john")["identity"]
    assert identity.resolve("jdoe", "john", {"jdoe": "john"})["identity"] == "john"  # both names map to one person
    with pytest.raises(identity.IdentityError, match="differs from the AWX launching user 'jdoe'"):
        identity.resolve("jdoe", "bob")
    with pytest.raises(identity.IdentityError, match="no identity"):
        identity.resolve(None, " ", local=lambda: None)


def test_case_does_not_allow_self_approval():
    request = req(requester=identity.resolve("Alice", None))
    with pytest.raises(ApprovalError, match="self-approval"):
        rules.decide(request, None, "approved", identity.resolve(None, " ALICE "), later(1))
