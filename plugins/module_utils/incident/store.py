# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Incidents in the ``ops_state`` location, with the claimed versions of the maintenance windows::

    incidents/records/<id>.json                 the newest copy (read this one)
    incidents/versions/<id>/<generation>.json   every version, immutable; an update claims generation g+1

Two nodes updating the same incident at once: one claims the next generation, the other re-reads it and applies its
change again, so no timeline entry is lost (tested with real processes in tests/unit).
"""

from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import model
from ansible_collections.watchkeeper.ops.plugins.module_utils.versioned_store import VersionedStore, open_ops_state

ROOT = "incidents"
# Many writers may append to one incident during an emergency (people, runbooks, alerts): retry harder than windows.
UPDATE_ATTEMPTS = 64


class IncidentStore(VersionedStore):
    kind = "incident"

    def __init__(self, storage):
        super(IncidentStore, self).__init__(storage, ROOT, "records", model.ID_RE)

    def update(self, doc_id, change, attempts=UPDATE_ATTEMPTS):
        return super(IncidentStore, self).update(doc_id, change, attempts=attempts)


def open_incidents(ops_state=None, store=None):
    return IncidentStore(open_ops_state(ops_state, store))
