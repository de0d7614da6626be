# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Approval requests, decisions and consumptions in the ``ops_state`` location. Every object is written once
with the claim of ``versioned_store`` (a write that refuses to replace a key: link(2) on a directory, S3
``If-None-Match``, GCS ``if_generation_match=0``)::

    approvals/requests/<id>.json   the request (runbook, parameters and their hash, requester, expiry)
    approvals/decisions/<id>.json  the first decision wins: approved or denied, by whom
    approvals/consumed/<id>.json   the first consumer wins: an approval is used exactly once

Nothing is ever rewritten, so there is nothing to lose in a race: two approvers, one decision; two runs, one run.
"""

import os
import socket
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils.approval import rules
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.model import iso
from ansible_collections.watchkeeper.ops.plugins.module_utils.versioned_store import claim, dumps, load, open_ops_state

ROOT = "approvals"


class ApprovalStore(object):
    def __init__(self, storage):
        self.storage = storage

    def key(self, kind, request_id):
        return "%s/%s/%s.json" % (ROOT, kind, request_id)

    def _get(self, kind, request_id):
        key = self.key(kind, request_id)
        return load(self.storage, key) if self.storage.stat(key) is not None else None

    def request(self, request_id):
        return self._get("requests", request_id)

    def decision(self, request_id):
        return self._get("decisions", request_id)

    def consumption(self, request_id):
        return self._get("consumed", request_id)

    def state_of(self, request_id):
        """``(request, decision, consumption)``, each None when absent."""
        request = self.request(request_id)
        if request is None:
            return None, None, None
        return request, self.decision(request_id), self.consumption(request_id)

    def request_ids(self):
        prefix = ROOT + "/requests/"
        out = []
        for info in self.storage.list(prefix):
            name = info.key.rsplit("/", 1)[-1]
            if name.endswith(".json") and rules.ID_RE.match(name[:-5]):
                out.append(name[:-5])
        return sorted(out)

    def of_runbook(self, runbook):
        """``[(request, decision, consumption)]`` of every request for ``runbook``."""
        out = []
        for request_id in self.request_ids():
            request = self.request(request_id)
            if request and request.get("runbook") == runbook:
                out.append((request, self.decision(request_id), self.consumption(request_id)))
        return out

    def create_request(self, request):
        """True when written, False when that id exists."""
        return claim(self.storage, self.key("requests", request["id"]), dumps(request))

    def record_decision(self, record):
        """True when this decision is the one recorded, False when another decision was first."""
        return claim(self.storage, self.key("decisions", record["request_id"]), dumps(record))

    def consume(self, request, actor, now):
        """Claim the single use of an approved request. Returns the consumption record, or None when another run
        consumed it first."""
        record = {"request_id": request["id"], "by": actor, "at": iso(now), "parameters_sha256":
                  request["parameters_sha256"], "runbook": request["runbook"], "host": socket.gethostname(),
                  "pid": os.getpid(), "run": uuid.uuid4().hex}
        return record if claim(self.storage, self.key("consumed", request["id"]), dumps(record)) else None


def open_approvals(ops_state=None, store=None):
    return ApprovalStore(open_ops_state(ops_state, store))
