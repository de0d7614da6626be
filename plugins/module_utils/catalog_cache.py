# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local cache of parsed manifests that ``catalog`` keeps per destination and job.

Manifests are immutable, so what the catalog uses of them is kept by key and size in
``<cache_dir>/<sha1(location, job)>.json``. The little the catalog records about its own listings (when
the last full listing ran) lives next to it in ``<name>.meta.json``: it changes on every full listing,
and rewriting a thousand cached manifests to record a timestamp made every warm listing pay for it.
A cache that cannot be read or written only costs speed.
"""

import hashlib
import json
import os
import uuid


def _write(path, doc):
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = "%s.tmp-%s" % (path, uuid.uuid4().hex[:8])
    with open(tmp, "w") as handle:
        # dumps, not dump: json.dump encodes in pure Python, several times slower
        handle.write(json.dumps(doc))
    os.replace(tmp, path)


class ManifestCache(object):
    """Parsed manifests of one job in one destination, and the catalog's notes about its listings there."""

    def __init__(self, cache_dir, location, job):
        name = hashlib.sha1(("%s\n%s" % (location, job)).encode("utf-8")).hexdigest()
        self.path = os.path.join(cache_dir, "%s.json" % name)
        self.meta_path = os.path.join(cache_dir, "%s.meta.json" % name)
        self.location = location
        self.job = job
        self.entries = {}
        self.meta = {}
        self.dirty = False
        self.meta_dirty = False
        doc = self._load(self.path)
        if doc:
            self.entries = doc.get("manifests") or {}
            self.meta = doc.get("meta") or {}  # caches written before the notes had their own file
        meta = self._load(self.meta_path)
        if meta:
            self.meta = meta.get("meta") or {}

    def _load(self, path):
        try:
            with open(path, "r") as handle:
                doc = json.load(handle)
        except (OSError, ValueError):
            return None
        if isinstance(doc, dict) and doc.get("location") == self.location and doc.get("job") == self.job:
            return doc
        return None

    def get(self, key, size):
        entry = self.entries.get(key)
        return entry[1] if entry and entry[0] == size else None

    def get_any(self, key):
        """``(size, manifest)`` cached for ``key`` whatever its size, or None."""
        entry = self.entries.get(key)
        return (entry[0], entry[1]) if entry else None

    def put(self, key, size, manifest):
        self.entries[key] = [size, manifest]
        self.dirty = True

    def set_meta(self, name, value):
        if self.meta.get(name) != value:
            self.meta[name] = value
            self.meta_dirty = True

    def prune(self, keys):
        for key in set(self.entries) - set(keys):
            del self.entries[key]
            self.dirty = True

    def save(self):
        try:
            if self.dirty:
                _write(self.path, {"location": self.location, "job": self.job, "manifests": self.entries})
                self.dirty = False
            if self.meta_dirty:
                _write(self.meta_path, {"location": self.location, "job": self.job, "meta": self.meta})
                self.meta_dirty = False
        except OSError:
            pass  # a cache that cannot be written only costs speed
