# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paging through the notify role against loopback PagerDuty and Opsgenie receivers that check the documented payload
shape and answer like the real APIs; and the escalation runbook with a frozen clock (issue 15, acceptance 7).

The receivers follow the public documentation: PagerDuty Events API v2 (developer.pagerduty.com, "Send an Alert Event"
and "Events API v2 Overview": 202 {status, message, dedup_key}, 400 {status: "invalid event", message, errors}) and the
Opsgenie Alert API (docs.opsgenie.com "Alert API" and "Response": 202 {result, took, requestId}, 422 {message, errors,
took, requestId}, 401 for a wrong key).
"""

import datetime
import http.server
import json
import os
import sys
import threading
import urllib.parse
import uuid

import pytest

from helpers import closed_port, run_module, run_playbook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ESCALATE = os.path.join(ROOT, "playbooks", "incident_escalate.yml")
PD_SEVERITIES = ("critical", "error", "warning", "info")
PD_ACTIONS = ("trigger", "acknowledge", "resolve")
OG_RESPONDER_TYPES = ("team", "user", "escalation", "schedule")


def iso(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_iso(text):
    try:
        datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def pagerduty_errors(body):
    """What PagerDuty would reject in an Events API v2 body (the documented required fields, types and lengths)."""
    errors = []
    if not isinstance(body, dict):
        return ["Event object is not a JSON object"]
    key = body.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = body.get("event_action")
    if action not in PD_ACTIONS:
        errors.append("'event_action' is invalid (must be one of trigger, acknowledge, resolve)")
    dedup = body.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup:
        errors.append("'dedup_key' is required for %s" % action)
    if action == "trigger":
        payload = body.get("payload")
        if not isinstance(payload, dict):
            return errors + ["'payload' is missing or not an object"]
        summary = payload.get("summary")
        if not isinstance(summary, str) or not summary or len(summary) > 1024:
            errors.append("'payload.summary' is required and at most 1024 characters")
        if not isinstance(payload.get("source"), str) or not payload["source"]:
            errors.append("'payload.source' is required")
        if payload.get("severity") not in PD_SEVERITIES:
            errors.append("'payload.severity' is invalid (must be one of critical, error, warning, info)")
        if "timestamp" in payload and not _is_iso(payload["timestamp"]):
            errors.append("'payload.timestamp' is not an ISO 8601 timestamp")
        for name in ("component", "group", "class"):
            if name in payload and not isinstance(payload[name], str):
                errors.append("'payload.%s' must be a string" % name)
        if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
            errors.append("'payload.custom_details' must be an object")
        for link in body.get("links") or []:
            if not isinstance(link, dict) or not isinstance(link.get("href"), str):
                errors.append("each of 'links' needs an href")
    unknown = set(body) - {"routing_key", "event_action", "dedup_key", "payload", "links", "images", "client", "client_url"}
    if unknown:
        errors.append("unknown fields %s" % sorted(unknown))
    return errors


def opsgenie_errors(body, close=False):
    """What Opsgenie would reject in a create (or close) alert body: field -> message (the 422 ``errors`` object)."""
    errors = {}
    if not isinstance(body, dict):
        return {"body": "Request body is not a JSON object"}
    limits = {"user": 100, "source": 100, "note": 25000} if close else {
        "message": 130, "alias": 512, "description": 15000, "entity": 512, "source": 100, "user": 100, "note": 25000}
    for name, limit in limits.items():
        if name in body and (not isinstance(body[name], str) or len(body[name]) > limit):
            errors[name] = "%s must be a string of at most %d characters" % (name, limit)
    if close:
        return errors
    if not isinstance(body.get("message"), str) or not body["message"].strip():
        errors["message"] = "Message can not be empty."
    if "priority" in body and body["priority"] not in ("P1", "P2", "P3", "P4", "P5"):
        errors["priority"] = "Priority should be one of [P1, P2, P3, P4, P5]"
    tags = body.get("tags", [])
    if not isinstance(tags, list) or len(tags) > 20 or any(not isinstance(t, str) or len(t) > 50 for t in tags):
        errors["tags"] = "at most 20 tags of at most 50 characters"
    details = body.get("details", {})
    if not isinstance(details, dict) or any(not isinstance(v, str) for v in details.values()):
        errors["details"] = "details must be a map of strings"
    for responder in body.get("responders", []):
        if not isinstance(responder, dict) or responder.get("type") not in OG_RESPONDER_TYPES or \
                not any(responder.get(k) for k in ("id", "name", "username")):
            errors["responders"] = "each responder needs a type (team, user, escalation, schedule) and an id, name or username"
    return errors


class FakeAPI(object):
    """A loopback HTTP server speaking like PagerDuty's or Opsgenie's API. ``script``: statuses to answer first
    (e.g. [429] answers 429 once, then normally). Every request is kept in ``requests``."""

    def __init__(self, kind, api_key=None, script=None):
        self.kind, self.api_key, self.script = kind, api_key, list(script or [])
        self.requests = []
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = None
                status, answer = api.answer(self.path, dict(self.headers), body)
                api.requests.append({"path": self.path, "headers": dict(self.headers), "json": body, "status": status})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path, headers, body):
        if self.script:
            status = self.script.pop(0)
            if self.kind == "pagerduty":
                return status, {"status": "throttle event", "message": "Requests for this service are arriving too quickly."} \
                    if status == 429 else {"status": "error", "message": "Internal error"}
            return status, {"message": "Too many requests" if status == 429 else "Internal error", "took": 0.0,
                            "requestId": str(uuid.uuid4())}
        if self.kind == "pagerduty":
            if path != "/v2/enqueue":
                return 404, {"status": "not found", "message": "no such path %s" % path}
            errors = pagerduty_errors(body)
            if errors:
                return 400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
            return 202, {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key") or uuid.uuid4().hex}
        request_id = str(uuid.uuid4())
        if headers.get("Authorization") != "GenieKey %s" % self.api_key:
            return 401, {"message": "Could not authenticate", "took": 0.0, "requestId": request_id}
        url = urllib.parse.urlsplit(path)
        close = url.path.startswith("/v2/alerts/") and url.path.endswith("/close")
        if url.path != "/v2/alerts" and not close:
            return 404, {"message": "Resource not found", "took": 0.0, "requestId": request_id}
        if close and urllib.parse.parse_qs(url.query).get("identifierType") != ["alias"]:
            return 422, {"message": "identifierType must be alias here", "took": 0.0, "requestId": request_id}
        errors = opsgenie_errors(body, close=close)
        if errors:
            return 422, {"message": "Request body is not processable. Please check the errors.", "errors": errors,
                         "took": 0.001, "requestId": request_id}
        return 202, {"result": "Request will be processed", "took": 0.002, "requestId": request_id}

    def accepted(self):
        return [r for r in self.requests if r["status"] == 202]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def apis():
    made = []

    def make(kind, **kwargs):
        made.append(FakeAPI(kind, **kwargs))
        return made[-1]
    yield make
    for api in made:
        api.close()


def secret_file(folder, name, value):
    path = os.path.join(str(folder), name)
    with open(path, "w") as handle:
        handle.write(value + "\n")
    os.chmod(path, 0o600)
    return path


def run_notify(scratch, notify_vars, env=None):
    """The notify role on localhost with ``notify_vars``; returns (rc, stdout + stderr)."""
    play = [{"hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
             "roles": [{"role": "watchkeeper.ops.notify", "vars": notify_vars}]}]
    path = os.path.join(str(scratch), "notify-%s.yml" % uuid.uuid4().hex[:6])
    with open(path, "w") as handle:
        json.dump(play, handle)
    code, _data, stdout, stderr = run_playbook(path, env=env)
    return code, stdout + stderr


# --------------------------------------------------------------------------- the notify role


def test_pagerduty_trigger_with_the_documented_shape_and_a_key_from_a_file(apis, scratch):
    pd = apis("pagerduty")
    key = uuid.uuid4().hex
    code, out = run_notify(scratch, {
        "notify_subject": "[SEV1] Checkout is down " + "x" * 1100, "notify_text": "opened 10:02", "notify_severity": "SEV1",
        "notify_pagerduty": {"routing_key_file": secret_file(scratch, "pd.key", key), "dedup_key": "inc-checkout",
                             "component": "api", "group": "shop", "class": "incident", "url": pd.base + "/v2/enqueue",
                             "links": [{"href": "https://status.example.invalid", "text": "status"}]}})
    assert code == 0, out[-3000:]
    assert len(pd.requests) == 1 and pd.requests[0]["status"] == 202, pd.requests
    body = pd.requests[0]["json"]
    assert body["routing_key"] == key and body["event_action"] == "trigger" and body["dedup_key"] == "inc-checkout"
    assert body["payload"]["severity"] == "critical" and len(body["payload"]["summary"]) == 1024
    assert body["payload"]["component"] == "api" and body["payload"]["custom_details"] == {"text": "opened 10:02"}
    assert key not in out


def test_pagerduty_resolve_and_severity_mapping(apis, scratch):
    pd = apis("pagerduty")
    key = uuid.uuid4().hex
    for sev, expected in (("SEV2", "error"), ("SEV3", "warning")):
        code, out = run_notify(scratch, {"notify_subject": "s", "notify_severity": sev,
                                         "notify_pagerduty": {"routing_key": key, "url": pd.base + "/v2/enqueue"}})
        assert code == 0, out[-2000:]
        assert pd.requests[-1]["json"]["payload"]["severity"] == expected
    code, out = run_notify(scratch, {"notify_pagerduty": {"routing_key": key, "url": pd.base + "/v2/enqueue",
                                                          "event_action": "resolve", "dedup_key": "inc-x"}})
    assert code == 0, out[-2000:]
    assert pd.requests[-1]["json"] == {"routing_key": key, "event_action": "resolve", "dedup_key": "inc-x"}
    assert key not in out


def test_pagerduty_429_once_is_retried(apis, scratch):
    pd = apis("pagerduty", script=[429])
    code, out = run_notify(scratch, {"notify_subject": "s", "notify_pagerduty": {
        "routing_key": uuid.uuid4().hex, "url": pd.base + "/v2/enqueue", "retry_delay": 0}})
    assert code == 0, out[-2000:]
    assert [r["status"] for r in pd.requests] == [429, 202]


def test_pagerduty_400_fails_at_once_with_the_answer(apis, scratch):
    pd = apis("pagerduty")
    bad_key = "short-" + uuid.uuid4().hex[:8]
    code, out = run_notify(scratch, {"notify_subject": "s", "notify_pagerduty": {
        "routing_key": bad_key, "url": pd.base + "/v2/enqueue", "retry_delay": 0}})
    assert code != 0
    assert [r["status"] for r in pd.requests] == [400]
    assert "HTTP 400" in out and "Length of 'routing_key' is incorrect" in out and "not retried" in out
    assert bad_key not in out


def test_pagerduty_5xx_and_network_errors_fail_after_the_retries(apis, scratch):
    pd = apis("pagerduty", script=[503] * 10)
    code, out = run_notify(scratch, {"notify_subject": "s", "notify_pagerduty": {
        "routing_key": uuid.uuid4().hex, "url": pd.base + "/v2/enqueue", "retries": 2, "retry_delay": 0}})
    assert code != 0 and "HTTP 503" in out and "kept failing" in out
    assert len(pd.requests) == 3
    code, out = run_notify(scratch, {"notify_subject": "s", "notify_pagerduty": {
        "routing_key": uuid.uuid4().hex, "url": "http://127.0.0.1:%d/v2/enqueue" % closed_port(), "retries": 1,
        "retry_delay": 0}})
    assert code != 0 and "HTTP -1" in out and "kept failing" in out


def test_bad_settings_fail_before_any_request(apis, scratch):
    pd = apis("pagerduty")
    for settings in ({"url": pd.base + "/v2/enqueue"},  # no key
                     {"routing_key": "k" * 32, "url": pd.base, "event_action": "resolve"},  # resolve needs a dedup_key
                     {"routing_key": "k" * 32, "url": pd.base, "event_action": "escalate"}):
        code, out = run_notify(scratch, {"notify_subject": "s", "notify_pagerduty": settings})
        assert code != 0 and "notify_pagerduty needs routing_key_file" in out, out[-2000:]
    code, out = run_notify(scratch, {"notify_subject": "s", "notify_pagerduty": {
        "routing_key_file": os.path.join(str(scratch), "missing.key"), "url": pd.base}})
    assert code != 0
    assert pd.requests == []


def test_opsgenie_create_and_close(apis, scratch):
    key = str(uuid.uuid4())
    og = apis("opsgenie", api_key=key)
    code, out = run_notify(scratch, {
        "notify_subject": "[SEV2] Search is slow " + "y" * 200, "notify_text": "p95 4 s", "notify_severity": "SEV2",
        "notify_opsgenie": {"api_key_file": secret_file(scratch, "og.key", key), "url": og.base + "/", "alias": "inc-search",
                            "responders": [{"type": "team", "name": "ops"}], "tags": ["SEV2", "t" * 80],
                            "details": {"level": 2, "incident": "inc-search"}, "entity": "search"}})
    assert code == 0, out[-3000:]
    req = og.requests[0]
    assert req["status"] == 202 and req["path"] == "/v2/alerts" and req["headers"]["Authorization"] == "GenieKey " + key
    body = req["json"]
    assert len(body["message"]) == 130 and body["priority"] == "P2" and body["alias"] == "inc-search"
    assert body["details"] == {"level": "2", "incident": "inc-search"} and body["tags"][1] == "t" * 50
    code, out = run_notify(scratch, {"notify_opsgenie": {"api_key": key, "url": og.base, "action": "close",
                                                         "alias": "inc-search", "note": "resolved"}})
    assert code == 0, out[-3000:]
    assert og.requests[-1]["path"] == "/v2/alerts/inc-search/close?identifierType=alias"
    assert og.requests[-1]["json"] == {"source": "watchkeeper.ops", "note": "resolved"}
    assert key not in out


def test_opsgenie_refusals_are_clear(apis, scratch):
    key = str(uuid.uuid4())
    og = apis("opsgenie", api_key=key)
    wrong = str(uuid.uuid4())
    code, out = run_notify(scratch, {"notify_subject": "s",
                                     "notify_opsgenie": {"api_key": wrong, "url": og.base, "retry_delay": 0}})
    assert code != 0 and "HTTP 401" in out and "Could not authenticate" in out and wrong not in out
    code, out = run_notify(scratch, {"notify_subject": "s", "notify_opsgenie": {
        "api_key": key, "url": og.base, "retry_delay": 0, "responders": [{"type": "squad", "name": "ops"}]}})
    assert code != 0 and "HTTP 422" in out and "each responder needs a type" in out
    assert [r["status"] for r in og.requests] == [401, 422]
    og.script = [429]
    code, out = run_notify(scratch, {"notify_subject": "s",
                                     "notify_opsgenie": {"api_key": key, "url": og.base, "retry_delay": 0}})
    assert code == 0, out[-2000:]
    assert [r["status"] for r in og.requests[2:]] == [429, 202]


# --------------------------------------------------------------------------- escalation (acceptance 7)

T = datetime.datetime(2026, 12, 5, 9, 0, tzinfo=datetime.timezone.utc)
POLICY = {"SEV1": [{"level": 1, "after": "0m", "targets": ["oncall"]}, {"level": 2, "after": "10m", "targets": ["lead"]}],
          "SEV2": [{"level": 1, "after": "15m", "targets": ["oncall"]}]}


def at(**delta):
    return T + datetime.timedelta(**delta)


def incident(ops, when, **args):
    args.setdefault("ops_state", ops)
    result = run_module("watchkeeper.ops.incident", args, env={"WATCHKEEPER_NOW": iso(when)})
    assert not result.failed, result.get("msg")
    return result["incident"]


def escalate(ops, when, targets, policy=None, args=()):
    extra = {"ansible_python_interpreter": sys.executable, "incident_ops_state": ops,
             "incident_escalation_policy": POLICY if policy is None else policy, "incident_escalation_targets": targets}
    env = {"WATCHKEEPER_NOW": iso(when), "ANSIBLE_SHOW_CUSTOM_STATS": "1"}
    code, data, stdout, stderr = run_playbook(ESCALATE, extra_vars=extra, env=env, args=args)
    return code, data, stdout + stderr


def pages_of(doc):
    return [(e["id"], e["at"]) for e in doc["timeline"] if e["id"].startswith("page-l")]


@pytest.fixture
def paging(apis, scratch):
    """A PagerDuty service per level (two routing keys, in files) and Opsgenie for the second level."""
    pd = apis("pagerduty")
    og_key = str(uuid.uuid4())
    og = apis("opsgenie", api_key=og_key)
    keys = {"oncall": uuid.uuid4().hex, "lead": uuid.uuid4().hex}
    targets = {
        "oncall": {"pagerduty": {"routing_key_file": secret_file(scratch, "oncall.key", keys["oncall"]),
                                 "url": pd.base + "/v2/enqueue", "retry_delay": 0}},
        "lead": {"pagerduty": {"routing_key_file": secret_file(scratch, "lead.key", keys["lead"]),
                               "url": pd.base + "/v2/enqueue", "retry_delay": 0},
                 "opsgenie": {"api_key_file": secret_file(scratch, "og.key", og_key), "url": og.base, "retry_delay": 0,
                              "responders": [{"type": "team", "name": "ops-leads"}]}}}
    ops = os.path.join(str(scratch), "ops")
    os.makedirs(ops)
    return {"pd": pd, "og": og, "keys": dict(keys, opsgenie=og_key), "targets": targets, "ops": ops}


def test_escalation_pages_level_two_exactly_once_and_never_an_acknowledged_incident(paging):
    ops, pd, og, keys = paging["ops"], paging["pd"], paging["og"], paging["keys"]
    incident(ops, T, id="inc-h10-checkout", state="open", title="Checkout fails", severity="SEV1", components=["checkout"])
    incident(ops, T, id="inc-h10-search", state="open", title="Search fails", severity="SEV1")
    incident(ops, T, id="inc-h10-minor", state="open", title="Slow admin", severity="SEV3")

    code, data, out = escalate(ops, at(minutes=1), paging["targets"], args=["--check"])
    assert code == 0, out[-4000:]
    assert pd.requests == [] and data["global_custom_stats"]["watchkeeper_escalation"]["status"] == "check"
    assert "[SEV1] Checkout fails: not acknowledged after 0m (level 1)" in out

    code, data, out = escalate(ops, at(minutes=1), paging["targets"])
    assert code == 0, out[-4000:]
    level1 = [(r["json"]["routing_key"], r["json"]["dedup_key"]) for r in pd.accepted()]
    assert sorted(level1) == [(keys["oncall"], "inc-h10-checkout"), (keys["oncall"], "inc-h10-search")]
    assert og.requests == []
    first = pd.accepted()[0]["json"]
    assert first["payload"]["severity"] == "critical" and "level 1" in first["payload"]["summary"]
    stats = data["global_custom_stats"]["watchkeeper_escalation"]
    assert stats["status"] == "ok" and stats["open_incidents"] == 2 and stats["now"] == "2026-12-05T09:01:00Z", stats
    assert sorted((p["incident_id"], p["level"], p["targets"]) for p in stats["pages"]) == [
        ("inc-h10-checkout", 1, ["oncall"]), ("inc-h10-search", 1, ["oncall"])]

    incident(ops, at(minutes=2), id="inc-h10-search", state="acknowledged", author="bob")

    code, _data, out = escalate(ops, at(minutes=11), paging["targets"])
    assert code == 0, out[-4000:]
    level2 = [(r["json"]["routing_key"], r["json"]["dedup_key"]) for r in pd.accepted()[2:]]
    assert level2 == [(keys["lead"], "inc-h10-checkout")]
    assert [r["json"]["alias"] for r in og.accepted()] == ["inc-h10-checkout"]
    assert og.accepted()[0]["json"]["priority"] == "P1" and og.accepted()[0]["json"]["details"]["level"] == "2"

    for minutes in (12, 40):
        code, _data, out = escalate(ops, at(minutes=minutes), paging["targets"])
        assert code == 0, out[-4000:]
    assert len(pd.requests) == 3 and len(og.requests) == 1  # no new page at T+12m, nor later

    checkout = incident(ops, at(minutes=41), id="inc-h10-checkout", state="update")
    search = incident(ops, at(minutes=41), id="inc-h10-search", state="update")
    minor = incident(ops, at(minutes=41), id="inc-h10-minor", state="update")
    assert pages_of(checkout) == [("page-l1", "2026-12-05T09:01:00Z"), ("page-l2", "2026-12-05T09:11:00Z")]
    assert pages_of(search) == [("page-l1", "2026-12-05T09:01:00Z")]
    assert pages_of(minor) == []
    entry = [e for e in checkout["timeline"] if e["id"] == "page-l2"][0]
    assert entry["source"] == "runbook" and entry["author"] == "incident_escalate.yml"
    assert entry["data"]["page"]["targets"] == ["lead"]
    assert not any(key in out for key in keys.values())


def test_a_failed_page_is_not_recorded_and_the_next_run_pages_again(paging):
    ops, pd = paging["ops"], paging["pd"]
    incident(ops, T, id="inc-h10-retry", state="open", title="Queue stuck", severity="SEV2")
    pd.script = [500] * 4  # the default 3 retries: 4 attempts, all refused
    code, data, out = escalate(ops, at(minutes=16), paging["targets"])
    assert code != 0 and "Paging failed" in out and "HTTP 500" in out, out[-3000:]
    assert data["global_custom_stats"]["watchkeeper_escalation"]["status"] == "failed"
    assert pages_of(incident(ops, at(minutes=16), id="inc-h10-retry", state="update")) == []
    code, _data, out = escalate(ops, at(minutes=21), paging["targets"])
    assert code == 0, out[-3000:]
    assert [r["status"] for r in pd.requests] == [500, 500, 500, 500, 202]
    assert pd.accepted()[0]["json"]["payload"]["severity"] == "error"
    assert pages_of(incident(ops, at(minutes=22), id="inc-h10-retry", state="update")) == [
        ("page-l1", "2026-12-05T09:21:00Z")]


def test_bad_policies_and_missing_targets_fail_before_paging(paging):
    ops, pd = paging["ops"], paging["pd"]
    incident(ops, T, id="inc-h10-bad", state="open", title="x", severity="SEV1")
    code, _data, out = escalate(ops, at(minutes=1), {"oncall": paging["targets"]["oncall"]})
    assert code != 0 and "missing: lead" in out
    typo = dict(paging["targets"], lead={"pager_duty": paging["targets"]["lead"]["pagerduty"]})
    code, _data, out = escalate(ops, at(minutes=1), typo)
    assert code != 0 and "unknown keys: pager_duty" in out
    code, _data, out = escalate(ops, at(minutes=1), dict(paging["targets"], lead={}))
    assert code != 0 and "not empty" in out
    bad = {"SEV1": [{"level": 1, "after": "10m", "targets": ["oncall"]}, {"level": 2, "after": "5m", "targets": ["lead"]}]}
    code, _data, out = escalate(ops, at(minutes=1), paging["targets"], policy=bad)
    assert code != 0 and "level 2 pages after 5m, before level 1 (10m)" in out
    assert pd.requests == []
