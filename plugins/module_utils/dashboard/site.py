# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Publish the dashboard site into a directory or a storage prefix, a file at a time and atomically.

Directory: each file is written to a temporary file in the same directory, flushed, then renamed over the old
one, so a reader (nginx) sees the old page or the new one, never a part; ``dashboard.json`` goes last. Storage
(s3, gcs, local): each object is one PUT, which those stores make visible whole.

Idempotent with a heartbeat: the site is rewritten when what it shows changed (ages and countdowns do not count:
the pages' script keeps those live), or when the published generation is older than ``refresh_s``, so the pages'
own staleness check ("the generator stopped") only fires when the generator really stopped.
"""

import hashlib
import json
import os
import re
import tempfile

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError

PAGES = ("index.html", "maintenance.html", "dr.html")
DATA = "dashboard.json"
VOLATILE = frozenset(("generated_at", "age_s", "age", "newest_age_s", "newest_age", "starts_in_s", "age_days",
                      "current_rpo_s", "current_rpo", "overdue_s", "overrun_s", "content_sha256", "since", "until"))
_NUMBERS = re.compile(r"\d+(?:\.\d+)?")


def _stable(value):
    if isinstance(value, dict):
        return dict((k, _stable(v)) for k, v in value.items() if k not in VOLATILE)
    if isinstance(value, list):
        return [_stable(v) for v in value]
    if isinstance(value, str):
        return _NUMBERS.sub("#", value) if " old" in value or " ago" in value or " past " in value or "days" in value else value
    return value


def fingerprint(doc, runbooks):
    """SHA-256 of what the site shows, without the generation time and the ages that move on their own."""
    digest = hashlib.sha256(json.dumps(_stable(doc), sort_keys=True, default=str).encode("utf-8"))
    for job in sorted(runbooks):
        digest.update(job.encode("utf-8") + b"\0" + hashlib.sha256(runbooks[job]).hexdigest().encode("ascii"))
    return digest.hexdigest()


def files(doc, pages, runbooks):
    """``[(relative path, bytes)]`` in write order: pages, runbooks, then ``dashboard.json``."""
    out = [(name, pages[name].encode("utf-8")) for name in PAGES]
    out += [("runbooks/%s.md" % job, runbooks[job]) for job in sorted(runbooks)]
    out.append((DATA, (json.dumps(doc, indent=1, sort_keys=True, default=str) + "\n").encode("utf-8")))
    return out


def _published(read):
    try:
        doc = json.loads(read(DATA).decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, WatchkeeperError, AttributeError):
        return None
    return doc if isinstance(doc, dict) else None


def needs_write(published, doc, now, refresh_s):
    """``(write?, why)``."""
    if published is None:
        return True, "no site yet"
    if published.get("content_sha256") != doc["content_sha256"]:
        return True, "what the pages show changed"
    try:
        age = (now - clock.parse_time(published.get("generated_at"))).total_seconds()
    except (TypeError, ValueError):
        return True, "the published generation time is unreadable"
    if age >= refresh_s:
        return True, "heartbeat: the published site is %d s old" % age
    return False, "unchanged"


def _write_file(path, data, mode):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".%s.tmp-" % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class DirectorySite(object):
    def __init__(self, path, mode=0o644):
        self.path, self.mode = path, mode

    def describe(self):
        return self.path

    def read(self, name):
        with open(os.path.join(self.path, name), "rb") as handle:
            return handle.read()

    def missing(self):
        return [name for name in PAGES + (DATA,) if not os.path.exists(os.path.join(self.path, name))]

    def write(self, items):
        os.makedirs(os.path.join(self.path, "runbooks"), mode=0o755, exist_ok=True)
        written = []
        for rel, data in items:
            path = os.path.join(self.path, *rel.split("/"))
            _write_file(path, data, self.mode)
            written.append(path)
        keep = set(rel.split("/", 1)[1] for rel, _d in items if rel.startswith("runbooks/"))
        for name in os.listdir(os.path.join(self.path, "runbooks")):
            if name.endswith(".md") and name not in keep:
                os.unlink(os.path.join(self.path, "runbooks", name))
        return written


class StorageSite(object):
    def __init__(self, storage, prefix=""):
        self.storage, self.prefix = storage, prefix.strip("/") + "/" if prefix.strip("/") else ""

    def describe(self):
        return self.storage.location(self.prefix or "")

    def read(self, name):
        return self.storage.get_bytes(self.prefix + name, max_bytes=64 * 1024 * 1024)

    def missing(self):
        return [name for name in PAGES + (DATA,) if self.storage.stat(self.prefix + name) is None]

    def write(self, items):
        written = []
        for rel, data in items:
            self.storage.put_bytes(self.prefix + rel, data, overwrite=True)
            written.append(self.storage.location(self.prefix + rel))
        return written


def publish(site, doc, pages, runbooks, now, refresh_s, check_mode=False):
    """``{"changed", "reason", "files"}``; ``doc`` gains ``content_sha256``. Raises OSError / WatchkeeperError."""
    doc["content_sha256"] = fingerprint(doc, runbooks)
    items = files(doc, pages, runbooks)
    write, why = needs_write(_published(site.read), doc, now, refresh_s)
    if not write and site.missing():
        write, why = True, "files missing: %s" % ", ".join(site.missing())
    if write and not check_mode:
        return {"changed": True, "reason": why, "files": site.write(items)}
    return {"changed": write, "reason": why, "files": [rel for rel, _data in items]}
