# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Escalation decisions: any schedule of escalation runs and acknowledgements pages each level exactly once, on time,
never after the acknowledgement (hypothesis, with the real incident model recording the pages); each rule by example."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import escalation as esc
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import model
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.model import IncidentError

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
RUNBOOK = {"source": "runbook", "author": esc.AUTHOR}
POLICY = {"SEV1": [{"level": 1, "after": "0m", "targets": ["oncall"]}, {"level": 2, "after": "10m", "targets": ["lead"]},
                   {"level": 3, "after": "30m", "targets": ["cto", "lead"]}],
          "SEV2": [{"level": 1, "after": "5m", "targets": ["oncall"]}]}


def at(minutes=0, seconds=0):
    return T0 + datetime.timedelta(minutes=minutes, seconds=seconds)


def incident(severity="SEV1", incident_id="inc-a"):
    return model.new_incident({"title": "Checkout down", "severity": severity}, T0, incident_id, {"author": "alert"})


def record(doc, page, now):
    """What the runbook does after a successful page: the entry through the incident model."""
    new, _fields = model.apply(doc, "update", {}, now, RUNBOOK, page["entry"])
    return new


def escalate(doc, policy, now):
    pages = esc.plan([doc], policy, now)
    for page in pages:
        doc = record(doc, page, now)
    return doc, [p["level"] for p in pages]


# --------------------------------------------------------------------------- invariants under any schedule

LEVELS = st.lists(st.tuples(st.integers(1, 6), st.integers(0, 120)), min_size=1, max_size=5,
                  unique_by=lambda t: t[0])


def policy_from(levels):
    """A valid policy: ``after`` made non-decreasing with the level."""
    rows, last = [], 0
    for level, minutes in sorted(levels):
        last = max(last, minutes)
        rows.append({"level": level, "after": "%dm" % last, "targets": ["t%d" % level]})
    return {"SEV1": rows}


@settings(max_examples=300, deadline=None)
@given(levels=LEVELS, runs=st.lists(st.integers(0, 180 * 60), min_size=1, max_size=25),
       ack=st.one_of(st.none(), st.integers(0, 180 * 60)))
def test_each_level_paged_once_on_time_and_never_after_the_acknowledgement(levels, runs, ack):
    policy = esc.normalize_policy(policy_from(levels))
    rows = dict((r["level"], r["after_s"]) for r in policy["SEV1"])
    doc = incident()
    paged = {}
    events = sorted([(s, "run") for s in runs] + ([(ack, "ack")] if ack is not None else []), key=lambda e: (e[0], e[1]))
    for second, kind in events:
        now = at(seconds=second)
        if kind == "ack":
            doc, _fields = model.apply(doc, "acknowledged", {}, now, {"source": "person", "author": "bob"})
            continue
        doc, levels_now = escalate(doc, policy, now)
        for level in levels_now:
            assert level not in paged, "level %d paged twice" % level
            assert second >= rows[level], "level %d paged before its time" % level
            assert ack is None or second < ack, "paged at or after the acknowledgement"
            paged[level] = second
        assert levels_now == sorted(levels_now)
    # An acknowledgement and a run in the same second: the acknowledgement sorts first ("ack" < "run").
    open_runs = sorted(s for s in runs if ack is None or s < ack)
    for level, after_s in rows.items():
        due_runs = [s for s in open_runs if s >= after_s]
        if due_runs:
            assert paged.get(level) == due_runs[0], (level, paged, due_runs)
        else:
            assert level not in paged
    assert esc.paged_levels(doc) == set(paged)


@settings(max_examples=200, deadline=None)
@given(status=st.sampled_from(model.STATUSES), severity=st.sampled_from(model.SEVERITIES),
       minutes=st.integers(0, 24 * 60))
def test_only_open_incidents_of_a_policy_severity_are_paged(status, severity, minutes):
    policy = esc.normalize_policy(POLICY)
    doc = incident(severity)
    if status != "open":
        target = "resolved" if status == "closed" else status
        doc, _fields = model.apply(doc, target, {}, at(0), {"author": "bob"})
        if status == "closed":
            doc, _fields = model.apply(doc, "closed", {}, at(0), {"author": "bob"})
    due = esc.due_levels(doc, policy, at(minutes))
    if status != "open" or severity not in POLICY:
        assert due == []
    else:
        assert [r["level"] for r in due] == [r["level"] for r in policy[severity] if r["after_s"] <= minutes * 60]


@settings(max_examples=200, deadline=None)
@given(number=st.integers(0, 10000), unit=st.sampled_from(["", "s", "m", "h", "d"]), spaces=st.booleans())
def test_durations(number, unit, spaces):
    text = ("%d %s " if spaces else "%d%s") % (number, unit)
    assert esc.parse_after(text) == number * esc.UNITS[unit]


# --------------------------------------------------------------------------- rules by example

def test_acceptance_schedule_level_one_then_two_exactly_once():
    policy = esc.normalize_policy(POLICY)
    doc = incident()
    doc, first = escalate(doc, policy, at(1))
    doc, second = escalate(doc, policy, at(11))
    doc, third = escalate(doc, policy, at(12))
    assert (first, second, third) == ([1], [2], [])
    entry = [e for e in doc["timeline"] if e["id"] == "page-l2"][0]
    assert entry["source"] == "runbook" and entry["author"] == esc.AUTHOR
    assert entry["data"]["page"] == {"level": 2, "after": "10m", "targets": ["lead"], "at": "2026-12-05T10:11:00Z"}
    assert "level 2 (lead)" in entry["text"] and "11m00s" in entry["text"]


def test_acknowledged_incident_is_never_paged_further():
    policy = esc.normalize_policy(POLICY)
    doc = incident()
    doc, first = escalate(doc, policy, at(1))
    doc, _fields = model.apply(doc, "acknowledged", {}, at(2), {"author": "bob"})
    assert first == [1]
    for minute in (11, 31, 600):
        assert esc.plan([doc], policy, at(minute)) == []


def test_a_late_run_pages_every_due_level_lowest_first():
    policy = esc.normalize_policy(POLICY)
    pages = esc.plan([incident()], policy, at(45))
    assert [p["level"] for p in pages] == [1, 2, 3] and pages[2]["targets"] == ["cto", "lead"]
    assert [p["entry"]["id"] for p in pages] == ["page-l1", "page-l2", "page-l3"]


def test_plan_orders_incidents_and_ignores_other_severities():
    policy = esc.normalize_policy(POLICY)
    docs = [incident("SEV2", "inc-b"), incident("SEV3", "inc-c"), incident("SEV1", "inc-a")]
    pages = esc.plan(docs, policy, at(6))
    assert [(p["incident_id"], p["level"]) for p in pages] == [("inc-a", 1), ("inc-b", 1)]
    assert pages[0]["age_s"] == 360 and pages[0]["severity"] == "SEV1"
    assert pages[0]["subject"] == "[SEV1] Checkout down: not acknowledged after 0m (level 1)"
    assert pages[0]["text"] == ("Incident inc-a (SEV1) opened 2026-12-05T10:00:00Z is still not acknowledged (6m00s). "
                                "Components: none.")


def test_paged_levels_read_only_page_entries():
    doc = incident()
    doc, _fields = model.apply(doc, "update", {}, at(1), RUNBOOK, {"id": "page-l3", "text": "paged"})
    doc, _fields = model.apply(doc, "update", {}, at(1), RUNBOOK, {"id": "page-lx", "text": "not a page"})
    doc, _fields = model.apply(doc, "update", {}, at(1), RUNBOOK, {"id": "page-l0", "text": "not a level"})
    assert esc.paged_levels(doc) == {3}


def test_target_names():
    assert esc.target_names(esc.normalize_policy(POLICY)) == ["cto", "lead", "oncall"]


@pytest.mark.parametrize("policy, words", [
    ({}, "must map severities"),
    ([], "must map severities"),
    ({"SEV4": [{"level": 1, "targets": ["a"]}]}, "unknown severity 'SEV4'"),
    ({"SEV1": []}, "non-empty list of levels"),
    ({"SEV1": ["oncall"]}, "each level is a dict"),
    ({"SEV1": [{"level": 0, "targets": ["a"]}]}, "level must be an integer"),
    ({"SEV1": [{"level": True, "targets": ["a"]}]}, "level must be an integer"),
    ({"SEV1": [{"level": "1", "targets": ["a"]}]}, "level must be an integer"),
    ({"SEV1": [{"level": 1, "targets": []}]}, "targets must be a non-empty list"),
    ({"SEV1": [{"level": 1, "targets": ["bad name"]}]}, "targets must be a non-empty list"),
    ({"SEV1": [{"level": 1}]}, "targets must be a non-empty list"),
    ({"SEV1": [{"level": 1, "after": "10 minutes", "targets": ["a"]}]}, "after must be a duration"),
    ({"SEV1": [{"level": 1, "after": -5, "targets": ["a"]}]}, "must not be negative"),
    ({"SEV1": [{"level": 1, "after": True, "targets": ["a"]}]}, "after must be a duration"),
    ({"SEV1": [{"level": 1, "targets": ["a"]}, {"level": 1, "after": "5m", "targets": ["b"]}]}, "level 1 is listed twice"),
    ({"SEV1": [{"level": 1, "after": "10m", "targets": ["a"]}, {"level": 2, "after": "5m", "targets": ["b"]}]},
     "level 2 pages after 5m, before level 1 (10m)"),
])
def test_bad_policies_are_refused_with_the_reason(policy, words):
    with pytest.raises(IncidentError) as err:
        esc.normalize_policy(policy)
    assert words in str(err.value)


def test_after_accepts_integers_and_units():
    assert [esc.parse_after(v) for v in (0, 45, "0", "90s", "10m", "2h", "1d", "15")] == [0, 45, 0, 90, 600, 7200, 86400, 15]
