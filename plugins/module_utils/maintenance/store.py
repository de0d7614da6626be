# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Maintenance windows and their delivery records in the ``ops_state`` location (a directory, or a bucket prefix).

Layout (keys relative to the ops_state root)::

    maintenance/windows/<id>.json                      the window document, what readers (status page) read
    maintenance/versions/<id>/<generation>.json        every version ever written, immutable
    maintenance/deliveries/<id>/<event>/<recipient>.*  delivery records (claims, failures, sent, skipped)

Every write goes through ``put_bytes(key, data, overwrite=False)``, which refuses to replace a key (local: hard
link / O_EXCL semantics; S3: ``If-None-Match: *``; GCS: ``if_generation_match=0``). That single primitive makes
both the window updates and the deliveries safe with several controllers and AWX nodes at once:

* Window updates use the claimed versions of ``versioned_store.VersionedStore`` (shared with the incidents): an
  update of generation ``g`` claims ``versions/<id>/<g+1>.json``, a loser re-reads and applies its change again.
* A delivery to one recipient claims ``<recipient>.a<n>.claim.json`` (attempt ``n``, with a lease), sends, then
  writes ``<recipient>.sent-r<revision>.json`` or ``<recipient>.a<n>.failed.json``. A run that finds a live claim
  leaves that recipient alone; an expired claim without an outcome (a run that died) is retried as attempt n+1.
"""

import datetime
import hashlib
import os
import re
import socket
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as policy
from ansible_collections.watchkeeper.ops.plugins.module_utils.versioned_store import (  # noqa: F401 pylint: disable=unused-import
    ConcurrentUpdate, VersionedStore, claim, dumps, open_ops_state)

ROOT = "maintenance"
WINDOWS = ROOT + "/windows/"
VERSIONS = ROOT + "/versions/"
DELIVERIES = ROOT + "/deliveries/"
_RECORD_RE = re.compile(r"^(?P<rkey>[a-z]+-[0-9a-f]{16})\."
                        r"(?:(?P<sent>sent)-r(?P<rev>\d+)|a(?P<n>\d+)\.(?P<what>claim|failed))\.json$")


def recipient_key(channel, address):
    """``email-<16 hex>`` / ``webhook-<16 hex>``: stable, and no address or secret URL in any key."""
    return "%s-%s" % (channel, hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:16])


class WindowStore(VersionedStore):
    """The windows (``maintenance/windows/``, ``maintenance/versions/``: see versioned_store) and their deliveries."""

    kind = "window"

    def __init__(self, storage):
        super(WindowStore, self).__init__(storage, ROOT, "windows", policy.ID_RE)

    # -- delivery records ---------------------------------------------------------------------
    def deliveries(self, window_id):
        """``{event: {"skipped": bool, "recipients": {rkey: {"sent": rev, "attempts": {n: "claim"|"failed"}}}}}``"""
        out = {}
        prefix = "%s%s/" % (DELIVERIES, window_id)
        for info in self.storage.list(prefix):
            rest = info.key[len(prefix):] if info.key.startswith(prefix) else ""
            if rest.count("/") != 1:
                continue
            event, name = rest.split("/")
            entry = out.setdefault(event, {"skipped": False, "recipients": {}})
            if name == "_skipped.json":
                entry["skipped"] = True
                continue
            match = _RECORD_RE.match(name)
            if not match:
                continue
            rec = entry["recipients"].setdefault(match.group("rkey"), {"sent": None, "attempts": {}})
            if match.group("sent"):
                rec["sent"] = max(int(match.group("rev")), rec["sent"] or 0)
            else:
                attempts = rec["attempts"]
                n = int(match.group("n"))
                if attempts.get(n) != "failed":
                    attempts[n] = match.group("what")
        return out

    def record_key(self, window_id, event, rkey, suffix):
        return "%s%s/%s/%s.%s.json" % (DELIVERIES, window_id, event, rkey, suffix)

    def begin(self, window_id, event, rkey, rec, now, lease_s, detail):
        """Claim the next attempt for one recipient. Returns ``(attempt, None)`` or ``(None, reason)``."""
        rec = rec or {"sent": None, "attempts": {}}
        if rec.get("sent"):
            return None, "sent"
        attempts = rec.get("attempts") or {}
        last = max(attempts) if attempts else 0
        if last and attempts[last] == "claim":
            try:
                holder = self._load(self.record_key(window_id, event, rkey, "a%d.claim" % last))
                live = policy.parse_time(holder["expires_at"]) > now
            except (StorageError, KeyError, ValueError):
                live = False
            if live:
                return None, "busy"
        content = dict(detail, attempt=last + 1, host=socket.gethostname(), pid=os.getpid(), run=uuid.uuid4().hex,
                       claimed_at=policy.iso(now), expires_at=policy.iso(now + _seconds(lease_s)))
        if claim(self.storage, self.record_key(window_id, event, rkey, "a%d.claim" % (last + 1)), dumps(content)):
            return last + 1, None
        return None, "busy"

    def finish(self, window_id, event, rkey, attempt, now, detail, error=None):
        content = dict(detail, attempt=attempt, at=policy.iso(now), error=error)
        if error is None:
            key = self.record_key(window_id, event, rkey, "sent-r%d" % int(detail.get("revision") or 1))
        else:
            key = self.record_key(window_id, event, rkey, "a%d.failed" % attempt)
        claim(self.storage, key, dumps(content))

    def skip(self, window_id, event, now, reason):
        key = "%s%s/%s/_skipped.json" % (DELIVERIES, window_id, event)
        claim(self.storage, key, dumps({"event": event, "at": policy.iso(now), "reason": reason}))


def _seconds(value):
    return datetime.timedelta(seconds=int(value))


def summarize(records, recipients_by_audience, event_audience):
    """What ``policy.due`` needs: ``{event: {"complete", "sent", "revision"}}`` from the delivery records and the
    window's current recipients (``{"subscribers": [rkey], "owner": [rkey]}``)."""
    out = {}
    for event, entry in records.items():
        recipients = recipients_by_audience.get(event_audience(event), [])
        sent = {k: r["sent"] for k, r in entry["recipients"].items() if r.get("sent")}
        out[event] = {"complete": entry["skipped"] or bool(recipients) and all(k in sent for k in recipients),
                      "sent": len(sent), "revision": max(sent.values()) if sent else None}
    return out
