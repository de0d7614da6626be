# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 15, acceptance 1: alert-driven remediation with the real ``ansible-rulebook`` (Java + Drools) running the
collection's rulebook ``watchkeeper.ops.incident_response`` with its event source
``watchkeeper.ops.alertmanager_incidents``, against a fleet host (a container with systemd and sshd) that runs a toy
app (systemd unit ``toyapp``, ``python3 -m http.server`` on 127.0.0.1:8080).

The app's process is killed on the host; the alert arrives as Alertmanager's webhook notification (the exact
version-4 body Alertmanager posts, sent by the test -- as the issue allows -- instead of a Prometheus evaluation
loop). Then:

* the rulebook opens exactly one incident and runs ``service_restart.yml`` once; the app answers again (a new
  systemd invocation);
* the incident's timeline shows the alert (at its startsAt), the runbook's steps (auto-remediation, restart
  started, health before, healthy again) and the recovery (status mitigated), each with its time, in order;
* a second notification of the same alert (Alertmanager's repeat) within the rate limit restarts nothing: the
  systemd invocation is unchanged and the runbook ran once; the resolved notification adds "alert resolved".

Failure paths with the same rulebook: a payload that is not Alertmanager's gets 400 and runs nothing; a request
without the token gets 401; an alert marked ``auto_remediate`` without a health check is recorded with the reason
and restarts nothing."""

import json
import os
import shutil
import tempfile
import time

import pytest

import eda_helpers as eh
import helpers

HOST = "edaapp1"
TOKEN = "eda-test-token"
UNIT = """[Unit]
Description=watchkeeper EDA test toy app
[Service]
ExecStart=/usr/bin/python3 -m http.server 8080 --bind 127.0.0.1 --directory /srv/toyapp
[Install]
WantedBy=multi-user.target
"""


@pytest.fixture(scope="module")
def work():
    path = tempfile.mkdtemp(prefix="wk-eda-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def fleet(fleet_factory):
    made = fleet_factory(["%s:app" % HOST])
    made.exec(HOST, "mkdir -p /srv/toyapp && echo 'toyapp %s' > /srv/toyapp/index.html" % HOST)
    made.exec(HOST, "cat > /etc/systemd/system/toyapp.service <<'EOF'\n%sEOF\n" % UNIT)
    made.exec(HOST, "systemctl daemon-reload && systemctl enable --now toyapp")
    helpers.wait_for(lambda: answers(made), timeout=30, what="the toy app")
    return made


@pytest.fixture(scope="module")
def rulebook(fleet, work):
    state = os.path.join(work, "ops_state")
    book = eh.Rulebook(work, fleet.inventory, state, token=TOKEN)
    book.state = state
    book.start()
    yield book
    book.stop()


def answers(fleet):
    res = fleet.exec(HOST, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2",
                            "http://127.0.0.1:8080/"], check=False)
    return res.stdout.strip() == "200"


def invocation(fleet):
    return fleet.exec(HOST, ["systemctl", "show", "-p", "InvocationID", "--value", "toyapp"]).stdout.strip()


def toyapp_alert(status="firing", starts=None, ends=None, annotations=None, **labels):
    item = {"status": status, "startsAt": starts,
            "labels": dict({"alertname": "ToyappDown", "instance": "%s:8080" % HOST, "job": "toyapp",
                            "service": "toyapp", "severity": "critical", "auto_remediate": "true"}, **labels),
            "annotations": annotations if annotations is not None else {
                "summary": "toyapp on %s does not answer" % HOST, "health_url": "http://127.0.0.1:8080/"}}
    if ends:
        item["endsAt"] = ends
    return item


def texts(incident):
    return [e["text"] for e in incident["timeline"]]


def test_malformed_and_unauthenticated_requests_run_nothing(rulebook):
    before = rulebook.playbooks_done()
    status, answer = eh.post(rulebook.url, {"version": "4", "alerts": [{"status": "firing"}]}, token=TOKEN)
    assert status == 400 and "labels must be an object" in answer["error"]
    status, answer = eh.post(rulebook.url, eh.notification([toyapp_alert(starts=eh.utc())]))
    assert status == 401 and answer == {"error": "missing or wrong token"}
    status, _answer = eh.post(rulebook.url, eh.notification([toyapp_alert(starts=eh.utc())]), token="wrong")
    assert status == 401
    assert rulebook.playbooks_done() == before and eh.incident_ids(rulebook.state) == []


def test_killed_app_alert_opens_one_incident_restarts_once_and_recovers(fleet, rulebook):
    first_invocation = invocation(fleet)
    fleet.exec(HOST, ["systemctl", "kill", "-s", "KILL", "toyapp"])
    helpers.wait_for(lambda: not answers(fleet), timeout=30, what="the app to be down")
    starts = eh.utc()
    body = eh.notification([toyapp_alert(starts=starts)])
    status, answer = eh.post(rulebook.url, body, token=TOKEN)
    assert status == 202 and answer["queued"] == 1, answer
    [incident_id] = answer["incidents"]

    rulebook.wait_for("the restart runbook to finish", lambda: rulebook.count(eh.RESTART_PLAY) == 1
                      and (eh.read_incident(rulebook.state, incident_id) or {}).get("status") == "mitigated")
    assert answers(fleet), "the app answers again"
    restarted_invocation = invocation(fleet)
    assert restarted_invocation and restarted_invocation != first_invocation, "systemd started a new invocation"
    assert eh.incident_ids(rulebook.state) == [incident_id], "exactly one incident"

    incident = eh.read_incident(rulebook.state, incident_id)
    print("\n" + "\n".join("%s %-7s %-28s %s" % (e["at"], e["source"], e["author"], e["text"]) for e in incident["timeline"]))
    assert incident["severity"] == "SEV1" and incident["components"] == ["toyapp"]
    assert incident["title"] == "ToyappDown on %s" % HOST
    steps = texts(incident)
    expected = ["alert ToyappDown firing on %s" % HOST, "auto-remediation: service_restart.yml of toyapp on %s" % HOST,
                "restart of toyapp on %s started" % HOST, "before the restart toyapp on %s was unhealthy" % HOST,
                "toyapp on %s healthy again after" % HOST]
    found = [next((i for i, text in enumerate(steps) if text.startswith(prefix)), None) for prefix in expected]
    assert None not in found and found == sorted(found), "timeline in order: %s" % json.dumps(steps, indent=1)
    entries = incident["timeline"]
    assert entries[found[0]]["source"] == "alert" and entries[found[0]]["at"] == starts[:19] + "Z"
    assert all(entries[i]["source"] == "runbook" for i in found[1:])
    assert all(entries[i]["author"] == "service_restart.yml" for i in found[2:])
    assert all(e["at"] >= entries[found[0]]["at"] for e in entries), "every entry has a time after the alert"
    assert incident["mitigated_at"] and incident["status"] == "mitigated", "the recovery mitigated the incident"
    assert entries[found[4]]["data"]["health"]["healthy"] is True

    # Alertmanager repeats the notification (same alert, same startsAt) within the rate limit: nothing is restarted.
    done = rulebook.playbooks_done()
    status, answer = eh.post(rulebook.url, body, token=TOKEN)
    assert status == 202 and answer["incidents"] == [incident_id]
    # The rule that records every firing alert runs; the throttled restart rule does not (sequential actions: it
    # would have started right after). Wait for that run, and a little more.
    rulebook.wait_for("the repeat to be recorded", lambda: rulebook.playbooks_done() > done)
    time.sleep(8)
    assert rulebook.count(eh.RESTART_PLAY) == 1, "the runbook ran once"
    assert invocation(fleet) == restarted_invocation, "no second restart"
    assert texts(eh.read_incident(rulebook.state, incident_id)) == steps, "a repeated alert adds no entry"

    # The alert resolves: "alert resolved" on the timeline; the incident stays mitigated (a person resolves it).
    ends = eh.utc()
    done = rulebook.playbooks_done()
    status, _answer = eh.post(rulebook.url, eh.notification([toyapp_alert("resolved", starts=starts, ends=ends)]),
                              token=TOKEN)
    assert status == 202
    rulebook.wait_for("the resolved alert", lambda: rulebook.playbooks_done() > done)
    incident = eh.read_incident(rulebook.state, incident_id)
    assert texts(incident)[-1] == "alert resolved: ToyappDown on %s is no longer firing" % HOST
    assert incident["timeline"][-1]["at"] == ends[:19] + "Z" and incident["status"] == "mitigated"
    assert rulebook.count(eh.RESTART_PLAY) == 1 and eh.incident_ids(rulebook.state) == [incident_id]


def test_auto_remediate_without_health_check_is_recorded_and_not_restarted(fleet, rulebook):
    before = invocation(fleet)
    restarts = rulebook.count(eh.RESTART_PLAY)
    done = rulebook.playbooks_done()
    status, answer = eh.post(rulebook.url, eh.notification([toyapp_alert(
        starts=eh.utc(), alertname="ToyappSlow", annotations={"summary": "slow"})]), token=TOKEN)
    assert status == 202
    [incident_id] = answer["incidents"]
    rulebook.wait_for("the incident", lambda: rulebook.playbooks_done() > done)
    incident = eh.read_incident(rulebook.state, incident_id)
    assert texts(incident)[-1] == ("not remediated automatically: the alert needs exactly one of the annotations "
                                   "health_url and health_command")
    assert incident["status"] == "open"
    assert rulebook.count(eh.RESTART_PLAY) == restarts and invocation(fleet) == before
