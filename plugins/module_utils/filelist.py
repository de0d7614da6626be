# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The snapshot file list (object role ``filelist``): encoding, versions, and reading any version back.

Every file snapshot stores its file list (JSON, encrypted like the data): ``{"schema":
"watchkeeper.ops/filelist", "schema_version", "mode", "roots", "files": [record...]}`` plus, for
incremental snapshots, ``"packs"`` (pack id -> key). A record has ``path``, ``type`` (``file``, ``dir``,
``symlink``), ``mode`` (octal text), ``mtime`` (exact, ``YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ``), ``uid``,
``gid``, for files ``size`` and ``sha256``, for incremental files ``chunks`` (SHA-256 of each piece of at
most 8 MiB, in order), for symlinks ``target``, and ``changed_during_backup`` when the file changed while
it was read.

* **Version 1** also carried ``mtime_ns`` (the same instant as an integer) in every record and
  ``chunks`` in every file record.
* **Version 2** (this code) drops what version 1 repeated: ``mtime_ns`` (derived from ``mtime``) and
  ``chunks`` when the file is one chunk whose SHA-256 is the file's own (every file up to 8 MiB):
  ``chunks`` absent means ``[sha256]``. The list stays plain JSON that ``jq`` reads
  (``(.chunks // [.sha256])``), and every snapshot is still restorable on its own.

``expand`` turns a list of either version into version-1 shaped records (with ``mtime_ns`` and
``chunks``), which is what the restore code reads. Paths that are not valid UTF-8 travel as Python
does (surrogate escapes, which ``json`` writes as ``\\udcXX``) and come back byte for byte.
"""

import calendar
import json
import time

FILELIST_SCHEMA = "watchkeeper.ops/filelist"
FILELIST_VERSION = 2
_SECOND_CACHE = {}


def iso_ns(ns):
    """``2026-11-27T01:30:00.123456789Z``: exact, as text (JSON tools that read numbers as doubles round a
    19-digit nanosecond count by up to 256 ns). The date part is cached per second (files of a tree share
    seconds), so formatting 20 000 times costs little."""
    secs, frac = divmod(ns, 1000000000)
    head = _SECOND_CACHE.get(secs)
    if head is None:
        if len(_SECOND_CACHE) > 65536:
            _SECOND_CACHE.clear()
        head = _SECOND_CACHE[secs] = "%04d-%02d-%02dT%02d:%02d:%02d" % time.gmtime(secs)[:6]
    return "%s.%09dZ" % (head, frac)


def parse_iso_ns(text):
    """The nanoseconds since the epoch of an ``iso_ns`` text (also without fraction)."""
    stamp = text.rstrip("Z")
    whole, _dot, frac = stamp.partition(".")
    secs = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000000000 + int((frac + "000000000")[:9] or 0)


def encode(header, records):
    """The bytes of a version-2 list: ``header`` (``mode``, ``roots``, ``packs``...) and compact records."""
    doc = {"schema": FILELIST_SCHEMA, "schema_version": FILELIST_VERSION}
    doc.update(header)
    doc["files"] = records
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def compact_chunks(sha256, chunks):
    """What a version-2 record stores for ``chunks``: None (leave the key out) for one chunk equal to the file."""
    return None if chunks is not None and len(chunks) == 1 and chunks[0] == sha256 else chunks


def expand(doc):
    """``doc`` (a decoded list of version 1 or 2) with every record in version-1 shape, in place; returns it."""
    version = doc.get("schema_version", 1)
    if doc.get("schema") not in (None, FILELIST_SCHEMA) or not isinstance(version, int) or version > FILELIST_VERSION:
        raise ValueError("file list schema %r version %r is not known to this version of watchkeeper.ops" % (
            doc.get("schema"), version))
    if version == 1:
        return doc
    incremental = doc.get("mode") == "incremental"
    for record in doc.get("files") or []:
        if "mtime_ns" not in record and record.get("mtime"):
            record["mtime_ns"] = parse_iso_ns(record["mtime"])
        if incremental and record.get("type") == "file" and "chunks" not in record and record.get("sha256"):
            record["chunks"] = [record["sha256"]]
    return doc


def load(stream):
    """Read a file list (any version) from a binary stream, expanded."""
    return expand(json.load(stream))
