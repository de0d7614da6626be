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

* An update of generation ``g`` claims ``versions/<id>/<g+1>.json``. Exactly one writer wins; a loser re-reads
  and applies its change again (optimistic concurrency). The winner then copies the version to ``windows/<id>.json``;
  readers roll forward over versions newer than that copy, so a writer that died in between loses nothing.
* A delivery to one recipient claims ``<recipient>.a<n>.claim.json`` (attempt ``n``, with a lease), sends, then
  writes ``<recipient>.sent-r<revision>.json`` or ``<recipient>.a<n>.failed.json``. A run that finds a live claim
  leaves that recipient alone; an expired claim without an outcome (a run that died) is retried as attempt n+1.
"""

import datetime
import hashlib
import json
import os
import re
import socket
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError, WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as policy
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

ROOT = "maintenance"
WINDOWS = ROOT + "/windows/"
VERSIONS = ROOT + "/versions/"
DELIVERIES = ROOT + "/deliveries/"
_RECORD_RE = re.compile(r"^(?P<rkey>[a-z]+-[0-9a-f]{16})\."
                        r"(?:(?P<sent>sent)-r(?P<rev>\d+)|a(?P<n>\d+)\.(?P<what>claim|failed))\.json$")


class ConcurrentUpdate(WatchkeeperError):
    """Another run kept winning the race for the next version of a window."""


def open_ops_state(ops_state=None, store=None):
    """The ops_state location: ``store`` (a destination dict: s3/gcs bucket and prefix, or local) or the directory."""
    if store:
        spec = dict(store)
        spec.setdefault("name", "ops_state")
        return open_storage(spec)
    try:
        os.makedirs(ops_state, exist_ok=True)
    except OSError as exc:
        raise StorageError("cannot create the ops_state directory %s: %s" % (ops_state, exc.strerror), step="configure",
                           destination="ops_state", hint="set ops_state to a writable directory")
    return open_storage({"type": "local", "name": "ops_state", "path": ops_state, "verify_readback": False})


def claim(storage, key, data):
    """Create ``key`` unless it exists. True when this call created it, False when someone else had."""
    try:
        storage.put_bytes(key, data, overwrite=False)
        return True
    except StorageError:
        if storage.stat(key) is not None:
            return False
        raise


def dumps(doc):
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def recipient_key(channel, address):
    """``email-<16 hex>`` / ``webhook-<16 hex>``: stable, and no address or secret URL in any key."""
    return "%s-%s" % (channel, hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:16])


class WindowStore(object):
    def __init__(self, storage):
        self.storage = storage

    # -- windows ----------------------------------------------------------------------------
    def _load(self, key):
        try:
            return json.loads(self.storage.get_bytes(key, max_bytes=4 * 1024 * 1024).decode("utf-8"))
        except ValueError as exc:
            raise StorageError("%s is not valid JSON: %s" % (self.storage.location(key), exc), step="read",
                               destination=self.storage.name)

    @staticmethod
    def version_key(window_id, generation):
        return "%s%s/%08d.json" % (VERSIONS, window_id, generation)

    def get(self, window_id):
        """The newest version of a window, or None."""
        doc = self._load(WINDOWS + window_id + ".json") if self.storage.stat(WINDOWS + window_id + ".json") else None
        generation = int(doc.get("generation") or 0) if doc else 0
        while self.storage.stat(self.version_key(window_id, generation + 1)) is not None:
            generation += 1
            doc = self._load(self.version_key(window_id, generation))
        return doc

    def ids(self):
        out = []
        for info in self.storage.list(WINDOWS):
            name = info.key[len(WINDOWS):] if info.key.startswith(WINDOWS) else info.key.rsplit("/", 1)[-1]
            if name.endswith(".json") and "/" not in name and policy.ID_RE.match(name[:-5]):
                out.append(name[:-5])
        for info in self.storage.list(VERSIONS):  # a window whose first copy was never written
            rest = info.key[len(VERSIONS):] if info.key.startswith(VERSIONS) else ""
            if rest.endswith("/00000001.json") and rest.split("/")[0] not in out:
                out.append(rest.split("/")[0])
        return sorted(out)

    def all(self):
        return [doc for doc in (self.get(i) for i in self.ids()) if doc]

    def create(self, doc):
        """Write generation 1 of a new window; False when a window with that id exists already."""
        doc = dict(doc, generation=1)
        if not claim(self.storage, self.version_key(doc["id"], 1), dumps(doc)):
            return None
        self._publish(doc)
        return doc

    def update(self, window_id, change, attempts=8):
        """Apply ``change(doc) -> new doc`` (return the same object for "no change") with optimistic
        concurrency. Returns ``(before, after)``."""
        for _attempt in range(attempts):
            before = self.get(window_id)
            if before is None:
                return None, None
            after = change(before)
            if after is before:
                return before, before
            after = dict(after, generation=int(before.get("generation") or 0) + 1)
            if claim(self.storage, self.version_key(window_id, after["generation"]), dumps(after)):
                self._publish(after)
                return before, after
        raise ConcurrentUpdate("window %s: %d updates in a row lost the race against other runs"
                               % (window_id, attempts), step="update", destination=self.storage.name, hint="run again")

    def _publish(self, doc):
        """Copy the newest version to ``windows/<id>.json``. Best effort: the claimed version is the truth and
        readers roll forward over the versions, so a copy that loses a race (another run replaced the object between
        our write and its read-back, or landed an older one after ours) costs readers a few reads, never data."""
        key = WINDOWS + doc["id"] + ".json"
        for _attempt in range(3):
            try:
                self.storage.put_bytes(key, dumps(doc), overwrite=True)
            except StorageError:
                pass  # replaced by a concurrent publisher before the read-back: look at what is newest now
            newest = self.get(doc["id"])  # a newer version may have been published before ours landed
            if not newest or newest.get("generation") == doc.get("generation"):
                return
            doc = newest

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
