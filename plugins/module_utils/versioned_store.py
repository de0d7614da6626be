# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON documents with claimed versions in the ``ops_state`` location (a directory, or a bucket prefix).

Used by the maintenance windows (``maintenance/``), the incidents (``incidents/``) and the approvals (claims only).
Layout of one kind of document, relative to the ops_state root::

    <root>/<docs>/<id>.json                 the newest copy, what plain readers (status page, reports) read
    <root>/versions/<id>/<generation>.json  every version ever written, immutable

Every write goes through ``put_bytes(key, data, overwrite=False)``, which refuses to replace a key (local: hard link /
O_EXCL semantics; S3: ``If-None-Match: *``; GCS: ``if_generation_match=0``). An update of generation ``g`` claims
``versions/<id>/<g+1>.json``: exactly one writer wins; a loser re-reads and applies its change again (optimistic
concurrency). The winner then copies the version to ``<docs>/<id>.json``; readers roll forward over versions newer
than that copy, so a writer that died in between loses nothing.
"""

import json
import os

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError, WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage


class ConcurrentUpdate(WatchkeeperError):
    """Another run kept winning the race for the next version of a document."""


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


def load(storage, key, max_bytes=4 * 1024 * 1024):
    """A JSON object of the store (StorageError when it is not valid JSON)."""
    try:
        return json.loads(storage.get_bytes(key, max_bytes=max_bytes).decode("utf-8"))
    except ValueError as exc:
        raise StorageError("%s is not valid JSON: %s" % (storage.location(key), exc), step="read",
                           destination=storage.name)


class VersionedStore(object):
    """Documents of one kind under ``root``: ``<root>/<docs>/<id>.json`` and ``<root>/versions/<id>/``."""

    kind = "document"

    def __init__(self, storage, root, docs, id_re):
        self.storage = storage
        self.docs_prefix = "%s/%s/" % (root, docs)
        self.versions_prefix = "%s/versions/" % root
        self.id_re = id_re

    def _load(self, key):
        return load(self.storage, key)

    def version_key(self, doc_id, generation):
        return "%s%s/%08d.json" % (self.versions_prefix, doc_id, generation)

    def doc_key(self, doc_id):
        return self.docs_prefix + doc_id + ".json"

    def get(self, doc_id):
        """The newest version of a document, or None."""
        doc = self._load(self.doc_key(doc_id)) if self.storage.stat(self.doc_key(doc_id)) else None
        generation = int(doc.get("generation") or 0) if doc else 0
        while self.storage.stat(self.version_key(doc_id, generation + 1)) is not None:
            generation += 1
            doc = self._load(self.version_key(doc_id, generation))
        return doc

    def ids(self):
        out = []
        prefix = self.docs_prefix
        for info in self.storage.list(prefix):
            name = info.key[len(prefix):] if info.key.startswith(prefix) else info.key.rsplit("/", 1)[-1]
            if name.endswith(".json") and "/" not in name and self.id_re.match(name[:-5]):
                out.append(name[:-5])
        for info in self.storage.list(self.versions_prefix):  # a document whose first copy was never written
            rest = info.key[len(self.versions_prefix):] if info.key.startswith(self.versions_prefix) else ""
            if rest.endswith("/00000001.json") and rest.split("/")[0] not in out:
                out.append(rest.split("/")[0])
        return sorted(out)

    def all(self):
        return [doc for doc in (self.get(i) for i in self.ids()) if doc]

    def create(self, doc):
        """Write generation 1 of a new document; None when a document with that id exists already."""
        doc = dict(doc, generation=1)
        if not claim(self.storage, self.version_key(doc["id"], 1), dumps(doc)):
            return None
        self._publish(doc)
        return doc

    def update(self, doc_id, change, attempts=8):
        """Apply ``change(doc) -> new doc`` (return the same object for "no change") with optimistic
        concurrency. Returns ``(before, after)``; ``(None, None)`` when the document does not exist."""
        for _attempt in range(attempts):
            before = self.get(doc_id)
            if before is None:
                return None, None
            after = change(before)
            if after is before:
                return before, before
            after = dict(after, generation=int(before.get("generation") or 0) + 1)
            if claim(self.storage, self.version_key(doc_id, after["generation"]), dumps(after)):
                self._publish(after)
                return before, after
        raise ConcurrentUpdate("%s %s: %d updates in a row lost the race against other runs"
                               % (self.kind, doc_id, attempts), step="update", destination=self.storage.name,
                               hint="run again")

    def _publish(self, doc):
        """Copy the newest version to ``<docs>/<id>.json``. Best effort: the claimed version is the truth and
        readers roll forward over the versions, so a copy that loses a race (another run replaced the object between
        our write and its read-back, or landed an older one after ours) costs readers a few reads, never data."""
        key = self.doc_key(doc["id"])
        for _attempt in range(3):
            try:
                self.storage.put_bytes(key, dumps(doc), overwrite=True)
            except StorageError:
                pass  # replaced by a concurrent publisher before the read-back: look at what is newest now
            newest = self.get(doc["id"])  # a newer version may have been published before ours landed
            if not newest or newest.get("generation") == doc.get("generation"):
                return
            doc = newest
