# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of ``retention_purge`` with ``target: backups``: the twin of ``plugins/doc_fragments/retention_backups.py``.

``destinations`` is not required here: the module requires it with ``required_if`` for ``target: backups``.
"""

import copy

from ansible_collections.watchkeeper.ops.plugins.module_utils.common_args import DESTINATIONS_SPEC
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy.retention import POLICY_OPTIONS


def _destinations():
    spec = copy.deepcopy(DESTINATIONS_SPEC)
    spec.pop("required", None)
    return spec


BACKUPS_OPTIONS = dict(
    job=dict(type="str"),
    destinations=_destinations(),
    policy=dict(type="dict", options=copy.deepcopy(POLICY_OPTIONS)),
    destination_policies=dict(type="dict", default={}),
    incomplete_grace=dict(type="str", default="24h"),
    purge_damaged=dict(type="bool", default=False),
    provider_holds=dict(type="bool", default=True),
    ops_state=dict(type="path", default="/var/lib/watchkeeper"),
    shared_state=dict(type="str", default="destination", choices=["destination", "local"]),
    lock_timeout=dict(type="int", default=60),
)
