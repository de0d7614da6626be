"""Public incidents on the status page: only incidents marked public, only their public fields, scrubbed; an open
one sets the indicator and its components' status; resolved ones stay listed for 90 days."""

import datetime
import json

from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import model, query
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance import status_html, status_page

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def incident(iid, severity, status, public=True, opened_days_ago=0.0, components=("API",)):
    opened = NOW - datetime.timedelta(days=opened_days_ago)
    doc = model.new_incident({"title": "Errors on %s at db-prod-7 10.9.8.7" % iid, "severity": severity,
                              "summary": "private: the primary's disk is full", "public": public},
                             opened, incident_id=iid, actor={"author": "alice"})
    doc["components"] = list(components)
    doc["responders"] = ["alice"]
    doc["timeline"] = [
        {"id": "a", "at": model.iso(opened), "source": "alert", "author": "HighErrorRate", "text": "alert fired on "
         "db-prod-7", "data": {"instance": "db-prod-7:9100"}, "public": False, "event": None},
        {"id": "b", "at": model.iso(opened + datetime.timedelta(minutes=5)), "source": "person", "author": "alice",
         "text": "We are investigating errors on db-prod-7.", "data": None, "public": True, "event": None}]
    doc["status"] = status
    if status in ("resolved", "closed"):
        doc["resolved_at"] = model.iso(opened + datetime.timedelta(hours=1))
    return doc


def render(incidents, windows=()):
    views = [query.public_view(doc) for doc in incidents]
    doc = status_page.summary(list(windows), ["API", "Web app", "Billing"], NOW, hostnames=["db-prod-7"],
                              incidents=views)
    return doc, json.dumps(doc) + status_html.render(doc) + status_page.rss(doc)


def test_open_public_incidents_set_the_indicator_by_their_worst_severity():
    doc, _text = render([incident("inc-minor", "SEV3", "open", components=["Web app"]),
                         incident("inc-major", "SEV1", "acknowledged", components=["API"]),
                         incident("inc-private", "SEV1", "open", public=False, components=["Billing"])])
    assert doc["status"] == {"indicator": "critical", "description": "Major outage"}
    assert [i["id"] for i in doc["incidents"]] == ["inc-major", "inc-minor"]
    assert [(c["name"], c["status"]) for c in doc["components"]] == [
        ("API", "major_outage"), ("Web app", "degraded_performance"), ("Billing", "operational")]
    assert doc["incidents"][0]["status"] == "investigating"


def test_a_public_incident_shows_its_public_fields_only_and_scrubbed():
    doc, text = render([incident("inc-one", "SEV2", "mitigated")])
    (shown,) = doc["incidents"]
    assert shown["status"] == "monitoring" and doc["status"]["indicator"] == "major"
    assert [u["text"] for u in shown["updates"]] == ["We are investigating errors on [redacted]."]
    for secret in ("db-prod-7", "10.9.8.7", "disk is full", "alice", "HighErrorRate", "9100"):
        assert secret not in text, secret
    assert 'data-incident="inc-one"' in text and "Monitoring" in text


def test_resolved_incidents_are_past_for_ninety_days_and_leave_the_status_green():
    doc, text = render([incident("inc-old", "SEV1", "resolved", opened_days_ago=120),
                        incident("inc-done", "SEV1", "closed", opened_days_ago=3)])
    assert doc["incidents"] == [] and [i["id"] for i in doc["past_incidents"]] == ["inc-done"]
    assert doc["status"]["indicator"] == "none" and all(c["status"] == "operational" for c in doc["components"])
    assert "No current incidents." in text and "inc-old" not in text


def test_an_incident_outranks_maintenance_on_the_banner_and_the_components():
    window = {"id": "mw-1", "title": "Upgrade", "description": "", "status": "in_progress", "impact": "read_only",
              "components": ["API", "Billing"], "start": "2026-12-05T11:00:00Z", "end": "2026-12-05T13:00:00Z"}
    doc, _text = render([incident("inc-slow", "SEV3", "open", components=["API"])], windows=[window])
    assert doc["status"]["indicator"] == "minor" and doc["active_maintenances"][0]["id"] == "mw-1"
    assert dict((c["name"], c["status"]) for c in doc["components"]) == {
        "API": "partial_outage", "Web app": "operational", "Billing": "partial_outage"}
