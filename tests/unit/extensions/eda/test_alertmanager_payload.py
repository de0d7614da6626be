# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alertmanager webhook payload -> rulebook events (extensions/eda/plugins/event_source/_alertmanager_payload.py)."""

import copy
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eda_loader import load

P = load("_alertmanager_payload.py", "wk_test_alertmanager_payload")
# The incident module's id rule (plugins/modules/incident.py).
INCIDENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")


def alert(status="firing", **labels):
    base = {"alertname": "ToyappDown", "instance": "app1:8080", "service": "toyapp", "severity": "critical",
            "auto_remediate": "true"}
    base.update(labels)
    return {"status": status, "labels": dict((k, v) for k, v in base.items() if v is not None),
            "annotations": {"summary": "toyapp does not answer", "health_url": "http://127.0.0.1:8080/"},
            "startsAt": "2026-12-05T14:03:07.123456789Z",
            "endsAt": "2026-12-05T14:05:00.5Z" if status == "resolved" else "0001-01-01T00:00:00Z",
            "generatorURL": "http://mon1:9090/graph?g0.expr=up", "fingerprint": "4c1f0e2a9b7d3e51"}


def payload(*alerts, status="firing"):
    """What Alertmanager 0.25 (Debian 12) posts for a receiver with a webhook_config."""
    return {"receiver": "eda", "status": status, "alerts": list(alerts) or [alert()],
            "groupLabels": {"alertname": "ToyappDown"}, "commonLabels": {"alertname": "ToyappDown"},
            "commonAnnotations": {}, "externalURL": "http://mon1:9093", "version": "4",
            "groupKey": '{}:{alertname="ToyappDown"}', "truncatedAlerts": 0}


def test_one_firing_alert_is_one_event_with_incident_target_and_flag():
    [event] = P.events(payload())
    assert event["alert"]["status"] == "firing" and event["alert"]["labels"]["alertname"] == "ToyappDown"
    assert INCIDENT_ID.match(event["incident_id"]) and event["incident_id"].startswith("alert-toyappdown-")
    assert event["auto_remediate"] is True and event["remediation_error"] == ""
    assert event["target"] == {"host": "app1", "service": "toyapp", "health_url": "http://127.0.0.1:8080/",
                               "health_command": ""}
    assert event["starts_at"] == "2026-12-05T14:03:07Z" and event["ends_at"] == ""
    assert event["receiver"] == "eda" and event["group_key"] == '{}:{alertname="ToyappDown"}'
    assert event["external_url"] == "http://mon1:9093" and event["alert"]["fingerprint"] == "4c1f0e2a9b7d3e51"


def test_json_text_and_bytes_are_read_like_the_dict():
    body = json.dumps(payload())
    assert P.events(body) == P.events(body.encode("utf-8")) == P.events(payload())


def test_repeat_and_resolved_notifications_land_on_the_same_incident():
    firing = P.events(payload())[0]
    repeat = P.events(payload(alert()))[0]
    resolved = P.events(payload(alert("resolved"), status="resolved"))[0]
    assert firing["incident_id"] == repeat["incident_id"] == resolved["incident_id"]
    assert resolved["ends_at"] == "2026-12-05T14:05:00Z"
    # Same alert identity, new firing period (fires again after it was resolved): a new incident, same rate-limit key.
    again = alert()
    again["startsAt"] = "2026-12-05T16:00:00Z"
    later = P.events(payload(again))[0]
    assert later["incident_id"] != firing["incident_id"] and later["alert_key"] == firing["alert_key"]


def test_other_host_or_service_is_another_incident_and_key():
    base = P.events(payload())[0]
    other_host = P.events(payload(alert(instance="app2:8080")))[0]
    other_service = P.events(payload(alert(service="nginx")))[0]
    assert len({base["incident_id"], other_host["incident_id"], other_service["incident_id"]}) == 3
    assert len({base["alert_key"], other_host["alert_key"], other_service["alert_key"]}) == 3
    # A label outside the identity (severity) does not split the incident.
    assert P.events(payload(alert(severity="warning")))[0]["incident_id"] == base["incident_id"]
    # The identity can be narrowed: per alertname and instance only.
    narrow = ("alertname", "instance")
    assert (P.events(payload(alert(service="a")), narrow)[0]["incident_id"]
            == P.events(payload(alert(service="b")), narrow)[0]["incident_id"])


def test_a_group_of_alerts_is_one_event_each():
    events = P.events(payload(alert(instance="app1:8080"), alert(instance="app2:8080"), alert("resolved", instance="app3:80")))
    assert [(e["target"]["host"], e["alert"]["status"]) for e in events] == [
        ("app1", "firing"), ("app2", "firing"), ("app3", "resolved")]


@pytest.mark.parametrize("labels,host", [
    ({"instance": "app1:8080"}, "app1"),
    ({"instance": "app1"}, "app1"),
    ({"instance": "10.0.0.5:9100"}, "10.0.0.5"),
    ({"instance": "[2001:db8::1]:9100"}, "2001:db8::1"),
    ({"instance": "http://web-2.example.org:8080/health"}, "web-2.example.org"),
    ({"instance": "app1:8080", "wk_host": "app9"}, "app9"),
])
def test_host_of_instance(labels, host):
    assert P.host_of(labels) == host


@pytest.mark.parametrize("labels,annotations,why", [
    ({"service": None}, {}, "no service label"),
    ({"service": "toy app; rm -rf /"}, {}, "is not a unit"),
    ({"instance": None}, {}, "neither a wk_host label nor an instance"),
    ({"instance": "all:8080"}, {}, "not a single inventory host"),
    ({"wk_host": "app*"}, {}, "not a single inventory host"),
    ({"wk_host": "app1,app2"}, {}, "not a single inventory host"),
    ({}, {"health_url": ""}, "exactly one of the annotations health_url and health_command"),
    ({}, {"health_command": "systemctl is-active toyapp"}, "exactly one of"),
])
def test_auto_remediate_without_a_usable_target_is_refused_with_the_reason(labels, annotations, why):
    raw = alert(**labels)
    raw["annotations"].update(annotations)
    raw["annotations"] = dict((k, v) for k, v in raw["annotations"].items() if v)
    [event] = P.events(payload(raw))
    assert event["auto_remediate"] is False
    assert why in event["remediation_error"]


@pytest.mark.parametrize("where,value,expected", [
    ("labels", "true", True), ("labels", "Yes", True), ("labels", "on", True), ("labels", "1", True),
    ("labels", "false", False), ("labels", "", False), ("annotations", "true", True), (None, None, False),
])
def test_auto_remediate_from_label_or_annotation(where, value, expected):
    raw = alert(auto_remediate=None)
    if where:
        raw[where]["auto_remediate"] = value
    [event] = P.events(payload(raw))
    assert event["auto_remediate"] is expected and event["remediation_error"] == ""


def test_not_marked_alerts_carry_no_remediation_error():
    raw = alert(auto_remediate=None, service=None)
    [event] = P.events(payload(raw))
    assert event["auto_remediate"] is False and event["remediation_error"] == ""


def _broken(change):
    doc = payload(alert(), alert(instance="app2:8080"))
    change(doc)
    return doc


@pytest.mark.parametrize("body,message", [
    (b"\xff\xfe", "not UTF-8"),
    ("{not json", "not JSON"),
    ("[1, 2]", "must be a JSON object"),
    (_broken(lambda d: d.pop("version")), 'version "4"'),
    (_broken(lambda d: d.update(version="3")), 'version "4"'),
    (_broken(lambda d: d.update(alerts=[])), "non-empty list"),
    (_broken(lambda d: d.update(alerts={"a": 1})), "non-empty list"),
    (_broken(lambda d: d.update(groupKey=5)), "groupKey must be a string"),
    (_broken(lambda d: d["alerts"].append("x")), "alerts[2] must be an object"),
    (_broken(lambda d: d["alerts"][1].update(status="pending")), "alerts[1].status must be firing or resolved"),
    (_broken(lambda d: d["alerts"][1].pop("labels")), "alerts[1].labels must be an object"),
    (_broken(lambda d: d["alerts"][1]["labels"].pop("alertname")), "alerts[1].labels has no alertname"),
    (_broken(lambda d: d["alerts"][0]["labels"].update(port=8080)), "not a string: port"),
    (_broken(lambda d: d["alerts"][0].update(annotations=["x"])), "alerts[0].annotations must be an object"),
    (_broken(lambda d: d["alerts"][0].pop("startsAt")), "alerts[0].startsAt must be an RFC 3339 time"),
    (_broken(lambda d: d["alerts"][0].update(startsAt="yesterday")), "RFC 3339"),
    (_broken(lambda d: d["alerts"][0].update(startsAt="2026-13-45T99:00:00Z")), "not a valid time"),
    (_broken(lambda d: d["alerts"][1].update(endsAt="soon")), "alerts[1].endsAt"),
    (_broken(lambda d: d["alerts"][1].update(fingerprint=12)), "alerts[1].fingerprint must be a string"),
])
def test_malformed_payloads_are_refused_whole_with_the_reason(body, message):
    with pytest.raises(P.PayloadError) as err:
        P.events(body)
    assert message in str(err.value)


def test_refusing_does_not_change_the_input():
    doc = payload()
    before = copy.deepcopy(doc)
    P.events(doc)
    assert doc == before


def test_times_with_offsets_and_nanoseconds_normalise_to_utc_seconds():
    assert P.iso_seconds(P.parse_time("2026-12-05T15:03:07.999999999+01:00", "t")) == "2026-12-05T14:03:07Z"
    assert P.iso_seconds(P.parse_time("2026-12-05T14:03:07Z", "t")) == "2026-12-05T14:03:07Z"


label_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80)


@settings(max_examples=200, deadline=None)
@given(name=label_text, instance=st.text(max_size=60), service=st.text(max_size=40),
       stamp=st.datetimes(min_value=__import__("datetime").datetime(2000, 1, 1),
                          max_value=__import__("datetime").datetime(2100, 1, 1)))
def test_any_alert_gets_an_incident_id_the_incident_module_accepts(name, instance, service, stamp):
    raw = alert(alertname=name, instance=instance, service=service)
    raw["startsAt"] = stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    [event] = P.events(payload(raw))
    assert INCIDENT_ID.match(event["incident_id"]), event["incident_id"]
    assert event["incident_id"] == P.events(json.dumps(payload(raw)))[0]["incident_id"], "stable"
    if event["auto_remediate"]:
        target = event["target"]
        assert P.HOST_RE.match(target["host"]) and P.SERVICE_RE.match(target["service"])
        assert not any(c in target["host"] for c in "*!&:,[] ")


@settings(max_examples=100, deadline=None)
@given(host=st.from_regex(r"\A[a-z0-9][a-z0-9.-]{0,30}\Z"), port=st.integers(1, 65535))
def test_host_port_instances_give_the_host(host, port):
    assert P.host_of({"instance": "%s:%d" % (host, port)}) == host
