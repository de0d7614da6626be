# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``approval`` module does for each state: request, approve/deny, check, consume. Every function returns
``{"changed", "request", "decision", "consumption", "reason", "message"}`` or raises ``rules.ApprovalError``."""

import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils.approval import rules
from ansible_collections.watchkeeper.ops.plugins.module_utils.approval.rules import ApprovalError


def _result(changed, request, decision=None, consumption=None, reason=None, message=None):
    return {"changed": changed, "request": request, "decision": decision, "consumption": consumption,
            "reason": reason, "message": message}


def new_request_id(now):
    return "ap-%s-%s" % (now.strftime("%Y%m%dt%H%M%S"), uuid.uuid4().hex[:8])


def request(store, runbook, parameters, requester, now, expires_in_s, request_id=None, reason=None,
            check_mode=False):
    """A new request, or the caller's live one for the same runbook, parameters and requester (idempotent)."""
    phash = rules.params_hash(parameters)
    if request_id:
        existing = store.request(request_id)
        if existing is not None:
            return _same_or_refuse(existing, runbook, phash, requester)
    else:
        for row in store.of_runbook(runbook):
            if rules.same_request(row[0], runbook, phash, requester) \
                    and rules.evaluate(row[0], row[1], row[2], runbook, phash, now)[0] in ("pending", "ok"):
                return _result(False, row[0], row[1], None, "existing", "request %s is still open" % row[0]["id"])
        request_id = new_request_id(now)
    doc = rules.new_request(runbook, parameters, requester, now, expires_in_s, request_id, reason)
    if not check_mode and not store.create_request(doc):  # the same id created by another run just now
        return _same_or_refuse(store.request(request_id), runbook, phash, requester)
    return _result(True, doc, reason="created", message="request %s waits for approval by a person other than %s "
                   "until %s" % (doc["id"], requester["identity"], doc["expires_at"]))


def _same_or_refuse(existing, runbook, phash, requester):
    if rules.same_request(existing, runbook, phash, requester):
        return _result(False, existing, reason="existing", message="request %s exists" % existing["id"])
    raise ApprovalError("parameters_changed", "request id %s exists for another runbook, other parameters or another "
                        "requester; choose another id" % existing["id"])


def decide(store, request_id, decision, actor, now, runbook=None, phash=None, comment=None, check_mode=False):
    """Approve or deny. The first decision recorded wins; the same person repeating it changes nothing."""
    req, existing, consumption = store.state_of(request_id)
    if req is None:
        raise ApprovalError("unknown_request", "no approval request %s" % request_id)
    record = rules.decide(req, existing, decision, actor, now, runbook, phash, comment)
    if record is existing:
        return _result(False, req, existing, consumption, "existing", "already %s by %s" % (decision, actor["identity"]))
    if not check_mode and not store.record_decision(record):  # another decision landed first
        record = rules.decide(req, store.decision(request_id), decision, actor, now, runbook, phash, comment)
        return _result(False, req, record, consumption, "existing", "already %s by %s" % (decision, actor["identity"]))
    message = "request %s %s by %s" % (request_id, decision, actor["identity"])
    return _result(True, req, record, consumption, decision, message)


def check(store, runbook, parameters, now, request_id=None):
    """Whether a run of ``runbook`` with ``parameters`` may go ahead now (reads only)."""
    phash = rules.params_hash(parameters)
    if request_id:
        req, dec, con = store.state_of(request_id)
        if req is None:
            return _result(False, None, reason="unknown_request", message="no approval request %s" % request_id)
    else:
        chosen = rules.choose(store.of_runbook(runbook), runbook, phash, now)
        req, dec, con = (chosen[1], chosen[2], chosen[3]) if chosen else (None, None, None)
    reason, message = rules.evaluate(req, dec, con, runbook, phash, now)
    return _result(False, req, dec, con, reason, message)


def consume(store, runbook, parameters, actor, now, request_id=None, check_mode=False):
    """Use a valid approval, exactly once (the first of concurrent consumers wins, the others get ``reused``)."""
    out = check(store, runbook, parameters, now, request_id)
    if out["reason"] != "ok":
        raise ApprovalError(out["reason"], out["message"])
    if check_mode:
        return dict(out, changed=True, message="would consume: " + out["message"])
    record = store.consume(out["request"], actor, now)
    if record is None:
        raise ApprovalError("reused", "approval %s was consumed by another run just now; an approval is valid once"
                            % out["request"]["id"])
    return dict(out, changed=True, consumption=record, message="consumed: " + out["message"])
