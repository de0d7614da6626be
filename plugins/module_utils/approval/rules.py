# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two-person approval rules. Pure: no I/O, ``now`` and identities are passed in.

A request binds a runbook, the SHA-256 of the canonical JSON of its exact parameters, the requester and an expiry.
It is valid for a run when: it exists, names that runbook and that hash, was approved (not denied) by an identity
other than the requester, has not expired, and has not been consumed. Every refusal carries a ``reason`` code.
"""

import datetime
import hashlib
import json
import re

from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.model import iso, parse_time

REQUEST_SCHEMA = "watchkeeper.ops/approval-request"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
RUNBOOK_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}$")
MIN_EXPIRY_S = 60
MAX_EXPIRY_S = 7 * 24 * 3600
REASONS = ("ok", "pending", "unknown_request", "self_approval", "expired", "reused", "parameters_changed", "denied",
           "already_decided", "invalid")


class ApprovalError(ValueError):
    """A refusal: ``reason`` is one of REASONS."""

    def __init__(self, reason, msg):
        super(ApprovalError, self).__init__(msg)
        self.reason = reason


def canonical_json(parameters):
    """Keys sorted, no spaces, UTF-8, no NaN: one text per value (``1`` and ``"1"`` stay different)."""
    if not isinstance(parameters, dict):
        raise ApprovalError("invalid", "parameters must be a dict, got %s" % type(parameters).__name__)
    try:
        return json.dumps(parameters, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ApprovalError("invalid", "parameters must be plain JSON values: %s" % exc)


def params_hash(parameters):
    return hashlib.sha256(canonical_json(parameters).encode("utf-8")).hexdigest()


def new_request(runbook, parameters, requester, now, expires_in_s, request_id, reason=None):
    if not RUNBOOK_RE.match(str(runbook or "")):
        raise ApprovalError("invalid", "runbook %r must match %s" % (runbook, RUNBOOK_RE.pattern))
    if not ID_RE.match(str(request_id or "")):
        raise ApprovalError("invalid", "request id %r must match %s" % (request_id, ID_RE.pattern))
    if not MIN_EXPIRY_S <= int(expires_in_s) <= MAX_EXPIRY_S:
        raise ApprovalError("invalid", "expires_in must be between %d s and %d s (7 days), got %d s"
                            % (MIN_EXPIRY_S, MAX_EXPIRY_S, expires_in_s))
    return {"schema": REQUEST_SCHEMA, "schema_version": 1, "id": request_id, "runbook": runbook,
            "parameters": parameters, "parameters_sha256": params_hash(parameters), "requester": requester,
            "reason": reason, "requested_at": iso(now),
            "expires_at": iso(now + datetime.timedelta(seconds=int(expires_in_s)))}


def same_request(request, runbook, phash, requester):
    return request["runbook"] == runbook and request["parameters_sha256"] == phash \
        and request["requester"]["identity"] == requester["identity"]


def expired(request, now):
    return now >= parse_time(request["expires_at"])


def _binding(request, runbook, phash):
    if runbook is not None and runbook != request["runbook"]:
        raise ApprovalError("parameters_changed", "request %s is for runbook %s, not %s"
                            % (request["id"], request["runbook"], runbook))
    if phash is not None and phash != request["parameters_sha256"]:
        raise ApprovalError("parameters_changed", "parameters changed: request %s binds parameters sha256 %s, these "
                            "are %s; request an approval for the new parameters"
                            % (request["id"], request["parameters_sha256"][:12], phash[:12]))


def decide(request, existing, decision, actor, now, runbook=None, phash=None, comment=None):
    """The decision record for ``decision`` (``approved``/``denied``) by ``actor``; ``existing`` itself when the
    same person already made the same decision (idempotent); ApprovalError with the reason otherwise."""
    if request is None:
        raise ApprovalError("unknown_request", "no such approval request")
    _binding(request, runbook, phash)
    if existing is not None:
        if existing["decision"] == decision and existing["by"]["identity"] == actor["identity"]:
            return existing
        raise ApprovalError("already_decided", "request %s was already %s by %s at %s"
                            % (request["id"], existing["decision"], existing["by"]["identity"], existing["at"]))
    if decision == "approved" and actor["identity"] == request["requester"]["identity"]:
        raise ApprovalError("self_approval", "self-approval refused: %s requested %s and cannot approve it; another "
                            "person must" % (actor["identity"], request["id"]))
    if expired(request, now):
        raise ApprovalError("expired", "request %s expired at %s; request again" % (request["id"], request["expires_at"]))
    return {"request_id": request["id"], "decision": decision, "by": actor, "at": iso(now), "comment": comment,
            "parameters_sha256": request["parameters_sha256"]}


def evaluate(request, decision, consumption, runbook, phash, now):
    """``(reason, message)`` for a run of ``runbook`` with parameters hashing to ``phash``; reason ``ok`` when valid."""
    if request is None:
        return "unknown_request", "no approval request for runbook %s with these parameters (sha256 %s); request one" \
            % (runbook, phash[:12])
    try:
        _binding(request, runbook, phash)
    except ApprovalError as exc:
        return exc.reason, str(exc)
    if consumption is not None:
        return "reused", "approval %s was already used at %s by %s; an approval is valid once" \
            % (request["id"], consumption["at"], consumption["by"]["identity"])
    if decision is not None and decision["decision"] == "denied":
        return "denied", "request %s was denied by %s at %s%s" % (
            request["id"], decision["by"]["identity"], decision["at"],
            (": %s" % decision["comment"]) if decision.get("comment") else "")
    if expired(request, now):
        return "expired", "request %s expired at %s; request again" % (request["id"], request["expires_at"])
    if decision is None:
        return "pending", "request %s by %s waits for approval by another person (until %s)" % (
            request["id"], request["requester"]["identity"], request["expires_at"])
    if decision["by"]["identity"] == request["requester"]["identity"]:  # never written by decide(); a forged record
        return "self_approval", "request %s was approved by its own requester" % request["id"]
    return "ok", "approved by %s at %s" % (decision["by"]["identity"], decision["at"])


def choose(candidates, runbook, phash, now):
    """Among ``[(request, decision, consumption)]`` of ``runbook`` the one to answer with: a valid one, else the
    newest with these parameters, else the newest of the runbook (its reason: parameters changed)."""
    rows = [(evaluate(r, d, c, runbook, phash, now), r, d, c) for r, d, c in candidates]
    for key in (lambda row: row[0][0] == "ok", lambda row: row[1]["parameters_sha256"] == phash, lambda row: True):
        found = [row for row in rows if key(row)]
        if found:
            return max(found, key=lambda row: (row[1]["requested_at"], row[1]["id"]))
    return None
