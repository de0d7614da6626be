# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The autoscale history of one group in ``<ops_state>/autoscale/<name>.json`` (read, atomic write).

The file is ``{"schema": "watchkeeper.ops/autoscale-state", "version": 1, "name", "updated", "history": [{time,
recommendation, replicas}], "last": {desired, current, limited_by, reason}}``; the evaluator (policy/autoscale.py)
keeps only the entries its windows need, so the file stays small.
"""

import json
import os
import re
import tempfile

SCHEMA = "watchkeeper.ops/autoscale-state"
VERSION = 1
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class StateError(ValueError):
    """An unreadable or unwritable state file; the message names the path."""


def path_for(ops_state, name):
    if not NAME_RE.match(name or ""):
        raise StateError("name %r: use letters, digits, _, - and . (up to 64, starting with a letter or digit)" % (name,))
    return os.path.join(ops_state, "autoscale", name + ".json")


def read(path):
    """The stored history (a list), [] when there is no file yet."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            doc = json.load(handle)
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise StateError("cannot read the autoscale state %s: %s (move it aside to start a new history)" % (path, exc))
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(doc.get("history"), list):
        raise StateError("%s is not an autoscale state file (schema %s); move it aside to start a new history" % (path, SCHEMA))
    return doc["history"]


def write(path, name, updated, history, last):
    doc = {"schema": SCHEMA, "version": VERSION, "name": name, "updated": updated, "history": history, "last": last}
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(doc, handle, indent=1, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.rename(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise StateError("cannot write the autoscale state %s: %s" % (path, exc.strerror or exc))
