# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incident and incident_info modules through ansible-playbook (frozen clock): the lifecycle, idempotence,
check mode, illegal moves, query/list/KPIs, and bad input. The stored record is read straight from disk, without collection code."""

import json
import os

from helpers import run_module
from window_helpers import run_tasks, task


def inc(ops_state, state, **args):
    return dict(args, id="inc-it-db", state=state, ops_state=ops_state)


def stored(ops_state, iid="inc-it-db"):
    with open(os.path.join(ops_state, "incidents", "records", iid + ".json")) as handle:
        return json.load(handle)


def versions(ops_state, iid="inc-it-db"):
    return sorted(os.listdir(os.path.join(ops_state, "incidents", "versions", iid)))


def test_lifecycle_idempotence_check_mode_and_kpis(scratch):
    opening = inc(scratch, "open", title="Database primary down", severity="SEV1", components=["api"], source="alert",
                  author="PostgresDown", entry={"text": "PostgresDown firing", "at": "2026-12-05T09:59:30Z"})
    check = task("incident", inc(scratch, "resolved"), "2026-12-05T10:30:00Z")
    check["check_mode"] = True
    res = run_tasks([
        task("incident", opening, "2026-12-05T10:00:00Z"),
        task("incident", opening, "2026-12-05T10:01:00Z"),                                   # 1 no change
        task("incident", inc(scratch, "acknowledged", author="bob"), "2026-12-05T10:04:00Z"),
        task("incident", inc(scratch, "acknowledged", author="carol"), "2026-12-05T10:05:00Z"),  # 3 no change
        task("incident", inc(scratch, "update", source="runbook", author="service_restart.yml",
                             entry={"text": "restarted postgres on db-7", "data": {"host": "db-7", "rc": 0}}),
             "2026-12-05T10:10:00Z"),
        task("incident", inc(scratch, "mitigated", author="bob", public=True,
                             entry={"text": "Failover done, the service is back.", "public": True}),
             "2026-12-05T10:12:00Z"),
        task("incident", inc(scratch, "acknowledged", author="bob"), "2026-12-05T10:13:00Z"),  # 6 backwards
        check,                                                                                # 7 check mode
        task("incident", inc(scratch, "resolved", author="bob"), "2026-12-05T10:20:00Z"),
        task("incident", inc(scratch, "closed", author="bob"), "2026-12-05T11:00:00Z"),
        task("incident", inc(scratch, "update", entry={"text": "late"}), "2026-12-05T11:01:00Z"),  # 10 closed
        task("incident_info", {"id": "inc-it-db", "ops_state": scratch}, "2026-12-05T11:02:00Z"),
        task("incident_info", {"filters": {"severity": ["SEV1"], "status": ["closed"]}, "ops_state": scratch},
             "2026-12-05T11:02:00Z"),
        task("incident_info", {"kpis": True, "filters": {"severity": ["SEV3"]}, "period_start": "2026-12-01T00:00:00Z",
                               "ops_state": scratch}, "2026-12-05T11:02:00Z"),
    ])
    assert res[0]["changed"] and res[0]["changed_fields"] == ["created"] and res[0]["public_view"] is None
    assert not res[1]["changed"] and not res[3]["changed"]
    assert res[2]["incident"]["acknowledged_by"] == "bob" and res[2]["incident"]["responders"] == ["bob"]
    assert res[4]["changed_fields"] == ["timeline"]
    assert res[5]["public_view"]["status"] == "monitoring"
    assert res[5]["public_view"]["updates"] == [{"at": "2026-12-05T10:12:00Z", "status": "monitoring",
                                                 "text": "Failover done, the service is back."}]
    assert res[6]["failed"] and "is mitigated and cannot become acknowledged; from mitigated it can become: resolved" \
        in res[6]["msg"]
    assert res[7]["changed"] and res[7]["incident"]["status"] == "resolved"
    assert res[8]["incident"]["resolved_at"] == "2026-12-05T10:20:00Z"
    assert res[10]["failed"] and "closed and read-only" in res[10]["msg"]
    assert res[11]["found"] and res[11]["incident"]["status"] == "closed"
    assert [i["id"] for i in res[12]["incidents"]] == ["inc-it-db"]
    assert res[13]["incidents"] == [] and not res[13]["changed"]
    kpis = res[13]["kpis"]
    assert kpis["incidents"] == 1 and kpis["time_to_acknowledge"]["mean_s"] == 240
    assert kpis["mttr_s"] == 1200 and kpis["mttr_met"] is True and kpis["sev1_response"]["all_met"] is True
    doc = stored(scratch)
    assert doc["status"] == "closed" and doc["generation"] == 6 and len(versions(scratch)) == 6
    assert [(e["source"], e["event"]) for e in doc["timeline"]] == [
        ("alert", "open"), ("person", "acknowledged"), ("runbook", None), ("person", None), ("person", "mitigated"),
        ("person", "resolved"), ("person", "closed")]
    assert doc["timeline"][0]["at"] == "2026-12-05T09:59:30Z" and doc["timeline"][2]["data"] == {"host": "db-7", "rc": 0}
    assert doc["timeline"][3]["text"] == "public changed from False to True"


def test_bad_input_is_refused_clearly(scratch):
    cases = [({"state": "update", "ops_state": scratch}, "state=update needs the incident's id"),
             ({"id": "Bad Id", "state": "open", "ops_state": scratch}, "must match"),
             ({"id": "inc-missing", "state": "acknowledged", "ops_state": scratch},
              "incident inc-missing does not exist; open it first with state=open"),
             ({"id": "inc-x", "state": "open", "title": "x", "ops_state": scratch}, "needs a severity"),
             ({"kpis": True, "period_start": "2026-12-05T00:00:00Z", "period_end": "2026-12-01T00:00:00Z",
               "ops_state": scratch}, "must be before period_end"),
             ({"filters": {"opened_after": "soon"}, "ops_state": scratch}, "invalid time 'soon'")]
    res = run_tasks([task("incident_info" if "state" not in args else "incident", args, "2026-12-05T10:00:00Z")
                     for args, _message in cases])
    for (_args, message), result in zip(cases, res):
        assert result["failed"] and message in result["msg"], result
    assert not os.path.exists(os.path.join(scratch, "incidents", "versions"))
    single = run_module("watchkeeper.ops.incident", {"id": "inc-y", "state": "open", "title": "t", "severity": "P1",
                                                     "ops_state": scratch})
    assert single["failed"] and "value of severity must be one of: SEV1, SEV2, SEV3" in single["msg"]


def test_public_incidents_reach_the_status_page_with_public_fields_only(scratch, tmp_path):
    web = str(tmp_path / "www")
    res = run_tasks([
        task("incident", dict(id="inc-it-api", state="open", title="API errors", severity="SEV2", components=["API"],
                              public=True, summary="private: pool exhausted on api-7", ops_state=scratch,
                              entry={"text": "We are looking into API errors.", "public": True}), "2026-12-05T10:00:00Z"),
        task("incident", dict(id="inc-it-hidden", state="open", title="Disk on db-3", severity="SEV1",
                              components=["Billing"], ops_state=scratch), "2026-12-05T10:01:00Z"),
        task("status_page", dict(ops_state=scratch, dest=web, components=["API", "Billing"]), "2026-12-05T10:02:00Z"),
        task("incident", dict(id="inc-it-api", state="resolved", ops_state=scratch,
                              entry={"text": "Fixed.", "public": True}), "2026-12-05T10:40:00Z"),
        task("status_page", dict(ops_state=scratch, dest=web, components=["API", "Billing"]), "2026-12-05T10:41:00Z"),
        task("status_page", dict(ops_state=scratch, dest=web + "-plain", components=["API"], incidents=False),
             "2026-12-05T10:42:00Z"),
    ])
    assert not any(r.get("failed") for r in res), res
    during, after, without = res[2]["status"], res[4]["status"], res[5]["status"]
    assert during["status"]["indicator"] == "major" and [i["id"] for i in during["incidents"]] == ["inc-it-api"]
    assert dict((c["name"], c["status"]) for c in during["components"]) == {
        "API": "partial_outage", "Billing": "operational"}
    assert [u["text"] for u in during["incidents"][0]["updates"]] == ["We are looking into API errors."]
    with open(os.path.join(web, "index.html")) as handle:
        page = handle.read()
    assert "inc-it-api" in page and "Fixed." in page and "inc-it-hidden" not in page and "pool exhausted" not in page
    assert after["incidents"] == [] and [i["id"] for i in after["past_incidents"]] == ["inc-it-api"]
    assert after["status"]["indicator"] == "none" and without["past_incidents"] == []
