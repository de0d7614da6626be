# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incident lifecycle: any sequence of actions keeps the invariants (hypothesis), and each rule by example."""

import copy
import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import model
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.model import IncidentError

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
PERSON = {"source": "person", "author": "alice"}


def opened(**spec):
    base = {"title": "API errors", "severity": "SEV2"}
    base.update(spec)
    return model.new_incident(base, T0, "inc-api", PERSON)


def at(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


# --------------------------------------------------------------------------- invariants under any sequence

ACTIONS = st.tuples(
    st.sampled_from(list(model.STATUSES) + ["update"]),
    st.fixed_dictionaries({}, optional={"severity": st.sampled_from(model.SEVERITIES),
                                        "components": st.lists(st.sampled_from(["api", "db", "web"]), max_size=2),
                                        "customer_impact": st.booleans(), "public": st.booleans(),
                                        "title": st.sampled_from(["API errors", "DB down"])}),
    st.one_of(st.none(), st.fixed_dictionaries({"text": st.sampled_from(["restarted", "looking", "alert fired"])},
                                               optional={"source": st.sampled_from(model.SOURCES),
                                                         "public": st.booleans()})),
    st.sampled_from([PERSON, {"source": "runbook", "author": "service_restart.yml"}, {"source": "alert"}]),
    st.integers(min_value=0, max_value=600),
)


def check_invariants(doc):
    current = model.rank(doc["status"])
    times = [doc["opened_at"]]
    for status, field in model.MILESTONES.items():
        assert (doc[field] is not None) == (model.rank(status) <= current), (status, doc)
        if doc[field]:
            times.append(doc[field])
    assert times == sorted(times)  # ISO UTC strings of one format sort as times
    ids = [e["id"] for e in doc["timeline"]]
    assert len(ids) == len(set(ids))
    assert [e["at"] for e in doc["timeline"]] == sorted(e["at"] for e in doc["timeline"])
    events = [e["event"] for e in doc["timeline"] if e["event"]]
    assert events[0] == "open" and len(events) == len(set(events))
    assert all(model.rank(e) <= current for e in events)


@settings(max_examples=300, deadline=None)
@given(st.lists(ACTIONS, max_size=14))
def test_any_sequence_keeps_the_invariants(actions):
    doc = opened()
    clock = 0
    for state, spec, entry, actor, step in actions:
        clock += step
        snapshot = copy.deepcopy(doc)
        try:
            new, fields = model.apply(doc, state, spec, at(clock), actor, entry)
        except IncidentError as exc:
            assert doc == snapshot  # a refused action changes nothing
            illegal_move = state in model.STATUSES and state not in ("open", doc["status"]) \
                and state not in model.allowed_moves(doc["status"])
            assert illegal_move or doc["status"] == "closed", exc
            continue
        assert doc == snapshot  # the input is never mutated
        if doc["status"] == "closed":
            assert new is doc and fields == []
        if new is doc:
            continue
        assert fields
        assert model.rank(new["status"]) >= model.rank(doc["status"])
        old_entries = dict((e["id"], e) for e in doc["timeline"])
        assert all(old_entries[i] == e for e in new["timeline"] for i in [e["id"]] if i in old_entries)
        assert set(old_entries) <= set(e["id"] for e in new["timeline"])  # no entry is ever lost
        check_invariants(new)
        again, again_fields = model.apply(new, state, spec, at(clock + 5), actor, entry)
        assert again is new and again_fields == []  # the same task twice changes nothing the second time
        doc = new
    check_invariants(doc)


# --------------------------------------------------------------------------- rules by example

def test_open_needs_title_and_severity_and_a_valid_id():
    with pytest.raises(IncidentError, match="needs a title"):
        model.new_incident({"severity": "SEV1"}, T0, "inc-x")
    with pytest.raises(IncidentError, match="needs a severity"):
        model.new_incident({"title": "x"}, T0, "inc-x")
    with pytest.raises(IncidentError, match="severity must be one of SEV1, SEV2, SEV3"):
        model.new_incident({"title": "x", "severity": "P1"}, T0, "inc-x")
    with pytest.raises(IncidentError, match="must match"):
        model.new_incident({"title": "x", "severity": "SEV1"}, T0, "Bad_ID")
    doc = model.new_incident({"title": "Checkout is DOWN!", "severity": "SEV1"}, T0)
    assert doc["id"] == "inc-20261205t100000-checkout-is-down" and model.ID_RE.match(doc["id"])
    assert doc["timeline"][0]["event"] == "open" and doc["timeline"][0]["text"] == "Incident opened (SEV1): Checkout is DOWN!"


def test_acknowledge_twice_is_a_no_op_and_adds_the_responder():
    doc = opened()
    acked, fields = model.apply(doc, "acknowledged", {}, at(3), {"source": "person", "author": "bob"})
    assert fields == ["status"] and acked["acknowledged_at"] == "2026-12-05T10:03:00Z"
    assert acked["acknowledged_by"] == "bob" and acked["responders"] == ["bob"]
    again, fields = model.apply(acked, "acknowledged", {}, at(9), {"source": "person", "author": "carol"})
    assert again is acked and fields == []


def test_skipping_ahead_stamps_the_skipped_milestones():
    doc, _fields = model.apply(opened(), "resolved", {}, at(20), {"source": "alert"}, {"text": "alert resolved"})
    assert doc["acknowledged_at"] == doc["mitigated_at"] == doc["resolved_at"] == "2026-12-05T10:20:00Z"
    assert doc["timeline"][-1]["event"] == "resolved" and doc["timeline"][-1]["text"] == "alert resolved"
    assert [e["event"] for e in doc["timeline"]] == ["open", "resolved"]


def test_backwards_and_close_before_resolve_are_refused_with_the_allowed_moves():
    mitigated, _fields = model.apply(opened(), "mitigated", {}, at(5), PERSON)
    with pytest.raises(IncidentError, match="is mitigated and cannot become acknowledged; from mitigated it can become: "
                                            "resolved$"):
        model.apply(mitigated, "acknowledged", {}, at(6), PERSON)
    with pytest.raises(IncidentError, match="cannot become closed; from open it can become: acknowledged, mitigated, "
                                            "resolved"):
        model.apply(opened(), "closed", {}, at(6), PERSON)


def test_closed_is_read_only_but_rerunning_close_is_fine():
    doc, _fields = model.apply(opened(), "resolved", {}, at(5), PERSON)
    closed, _fields = model.apply(doc, "closed", {}, at(6), PERSON)
    assert model.apply(closed, "closed", {}, at(7), PERSON) == (closed, [])
    with pytest.raises(IncidentError, match="cannot become resolved; from closed it can become: none"):
        model.apply(closed, "resolved", {}, at(7), PERSON)
    with pytest.raises(IncidentError, match="is closed and read-only .asked to change: timeline"):
        model.apply(closed, "update", {}, at(7), PERSON, {"text": "late note"})
    with pytest.raises(IncidentError, match="read-only .asked to change: severity.;"):
        model.apply(closed, "update", {"severity": "SEV1"}, at(7), PERSON)


def test_entries_are_deduplicated_by_content_and_at():
    doc, fields = model.apply(opened(), "update", {}, at(1), PERSON, {"text": "looking at logs"})
    assert fields == ["timeline"]
    same, fields = model.apply(doc, "update", {}, at(2), PERSON, {"text": "looking at logs"})
    assert same is doc and fields == []
    other, _fields = model.apply(doc, "update", {}, at(2), PERSON, {"text": "looking at logs", "at": "2026-12-05T10:02:00Z"})
    assert len(other["timeline"]) == 3
    early, _fields = model.apply(other, "update", {}, at(3), {"source": "alert", "author": "HighErrorRate"},
                                 {"text": "fired", "at": "2026-12-05T09:58:00+00:00"})
    assert early["timeline"][0]["text"] == "fired" and early["timeline"][0]["source"] == "alert"
    assert early["timeline"][0]["author"] == "HighErrorRate"


def test_edits_merge_lists_and_record_severity_changes():
    doc = opened(components=["api"], links=[{"url": "https://grafana.example/d/1"}])
    new, fields = model.apply(doc, "update", {"components": ["db", "api"], "severity": "SEV1", "responders": ["bob"],
                                              "links": [{"url": "https://grafana.example/d/1", "title": "dup"}]},
                              at(4), PERSON)
    assert fields == ["components", "responders", "severity"]
    assert new["components"] == ["api", "db"] and len(new["links"]) == 1 and new["severity"] == "SEV1"
    assert new["timeline"][-1]["text"] == "severity changed from SEV2 to SEV1"


@pytest.mark.parametrize("entry, message", [
    ({"text": ""}, "needs a text"),
    ({"text": "x" * 4001}, "limited to 4000 characters"),
    ({"text": "x", "source": "pager"}, "source must be one of person, runbook, alert"),
    ({"text": "x", "data": ["a"]}, "data must be a dict"),
    ({"text": "x", "data": {"a": object()}}, "data must be JSON"),
    ({"text": "x", "at": "yesterday"}, "invalid time 'yesterday'"),
])
def test_bad_entries_are_refused(entry, message):
    with pytest.raises(IncidentError, match=message):
        model.apply(opened(), "update", {}, at(1), PERSON, entry)


def test_bad_links_and_state_are_refused():
    with pytest.raises(IncidentError, match="each link needs a url"):
        model.apply(opened(), "update", {"links": [{"title": "x"}]}, at(1), PERSON)
    with pytest.raises(IncidentError, match="unknown state 'fixed'"):
        model.apply(opened(), "fixed", {}, at(1), PERSON)


def test_a_move_whose_entry_is_already_there_still_gets_its_event_entry():
    noted, _fields = model.apply(opened(), "update", {}, at(1), PERSON, {"text": "db failed over"})
    moved, fields = model.apply(noted, "mitigated", {}, at(2), PERSON, {"text": "db failed over"})
    assert fields == ["status"] and [e["event"] for e in moved["timeline"]] == ["open", None, "mitigated"]
    assert moved["timeline"][-1]["text"] == "Status changed to mitigated"
