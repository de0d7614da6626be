# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Publish the status page into a web root: ``index.html``, ``status.json``, ``feed.rss``, written atomically.

Idempotent: the files are rewritten only when something other than the "updated at" time changed, so a page
regenerated every 15 minutes reports ``changed`` only when the schedule or a component's state did.
"""

import json
import os
import socket
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance import status_html, status_page

FILES = ("index.html", "status.json", "feed.rss")


def own_hostnames():
    """This machine's names, always scrubbed from the public page."""
    names = set()
    for name in (socket.gethostname(), socket.getfqdn()):
        if name and name not in ("localhost", "localhost.localdomain"):
            names.add(name)
            names.add(name.split(".", 1)[0])
    return sorted(names)


def render(windows, components, now, page=None, hostnames=(), incidents=()):
    doc = status_page.summary(windows, components, now, page=page, hostnames=list(hostnames) + own_hostnames(),
                              incidents=incidents)
    return doc, {"index.html": status_html.render(doc), "status.json": json.dumps(doc, indent=2) + "\n",
                 "feed.rss": status_page.rss(doc)}


def _comparable(doc):
    doc = json.loads(json.dumps(doc))
    doc["page"].pop("updated_at", None)
    return doc


def _current(dest):
    try:
        with open(os.path.join(dest, "status.json"), "r") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def publish(dest, windows, components, now, page=None, hostnames=(), check_mode=False, mode=0o644, incidents=()):
    """Returns ``{"changed", "files", "status"}``; raises OSError when the web root cannot be written.
    ``incidents``: public incident views (``incident.query.public_view``)."""
    doc, files = render(windows, components, now, page=page, hostnames=hostnames, incidents=incidents)
    current = _current(dest)
    missing = [name for name in FILES if not os.path.exists(os.path.join(dest, name))]
    changed = bool(missing) or current is None or _comparable(current) != _comparable(doc)
    if changed and not check_mode:
        os.makedirs(dest, mode=0o755, exist_ok=True)
        for name in FILES:
            path = os.path.join(dest, name)
            tmp = "%s.tmp-%s" % (path, uuid.uuid4().hex[:8])
            with open(tmp, "w") as handle:
                handle.write(files[name])
            os.chmod(tmp, mode)
            os.replace(tmp, path)
    return {"changed": changed, "files": [os.path.join(dest, name) for name in FILES], "status": doc}
