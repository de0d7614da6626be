# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evidence files: every file a check read, by path, SHA-256 and size, hashed from the bytes that were judged.

A collector reads a file once with ``Evidence.load_json`` (or ``add_bytes`` for what came from a bucket): the hash
listed is the hash of exactly the bytes the check looked at, so an auditor who re-hashes the file proves it is
the one the report judged.
"""

import hashlib
import json
import os

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


class Evidence(object):
    """The files of one check, in the order they were read (each once)."""

    def __init__(self):
        self.files = []
        self._seen = set()

    def add_bytes(self, path, data, role=None):
        if path not in self._seen:
            self._seen.add(path)
            entry = {"path": path, "sha256": sha256_bytes(data), "bytes": len(data)}
            if role:
                entry["role"] = role
            self.files.append(entry)

    def read(self, path, role=None):
        """The bytes of ``path`` (recorded as evidence); raises OSError."""
        with open(path, "rb") as handle:
            data = handle.read()
        self.add_bytes(path, data, role)
        return data

    def load_json(self, path, role=None):
        """``(document, None)`` or ``(None, why)`` for a file that is missing, unreadable or not a JSON object.
        A file read is evidence even when it is malformed: it is part of the population."""
        try:
            data = self.read(path, role)
        except (IOError, OSError) as exc:
            return None, "cannot read %s: %s" % (path, exc.strerror or exc)
        try:
            doc = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            return None, "%s is not valid JSON: %s" % (path, exc)
        if not isinstance(doc, dict):
            return None, "%s is not a JSON object" % path
        return doc, None


def listdir(path, suffix=None, dirs=False):
    """Sorted names in ``path`` (files, or directories with ``dirs``), hidden ones skipped; [] when missing."""
    try:
        names = os.listdir(path)
    except OSError:
        return []
    out = []
    for name in names:
        if name.startswith(".") or (suffix and not name.endswith(suffix)):
            continue
        if os.path.isdir(os.path.join(path, name)) == dirs:
            out.append(name)
    return sorted(out)


def iso(value):
    """RFC 3339 UTC text of a datetime (the report's one time format)."""
    return clock.isoformat(value)


def parse_time(value):
    """The datetime of an RFC 3339 text, or None for a missing or unreadable one (judged by the caller)."""
    try:
        return clock.parse_time(value) if value else None
    except (ValueError, TypeError):
        return None
