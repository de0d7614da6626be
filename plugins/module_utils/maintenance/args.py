# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options the maintenance modules share; the twin of plugins/doc_fragments/maintenance.py."""

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.store import WindowStore, open_ops_state

STORE_OPTIONS = dict(
    name=dict(type="str"),
    type=dict(type="str", required=True, choices=["local", "s3", "gcs"]),
    path=dict(type="path"),
    bucket=dict(type="str"),
    prefix=dict(type="str", default=""),
    endpoint_url=dict(type="str"),
    timeout=dict(type="int", default=60),
    retries=dict(type="int", default=3),
    region=dict(type="str"),
    profile=dict(type="str"),
    access_key=dict(type="str", no_log=True),
    secret_key=dict(type="str", no_log=True),
    session_token=dict(type="str", no_log=True),
    project=dict(type="str"),
    credentials_file=dict(type="path"),
    anonymous=dict(type="bool", default=False),
)

COMMON = dict(
    ops_state=dict(type="path", default="/var/lib/watchkeeper"),
    ops_state_store=dict(type="dict", options=STORE_OPTIONS),
)


def open_store(module):
    """The ``WindowStore`` of the module's ``ops_state`` / ``ops_state_store`` (fails the module on error)."""
    try:
        return WindowStore(open_ops_state(module.params["ops_state"], module.params.get("ops_state_store")))
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.describe(), step=exc.step)
    return None
