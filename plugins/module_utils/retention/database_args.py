# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument spec pieces of ``retention_purge`` with ``target: database`` (twin of the doc fragment
``watchkeeper.ops.retention_database``). None of them is required at module level: the module requires
``server`` and ``tables`` when ``target`` is ``database``, and ``run()`` checks them again."""

import copy

from ansible_collections.watchkeeper.ops.plugins.module_utils.restore_args import SERVER_OPTIONS


def _server_options():
    options = copy.deepcopy(SERVER_OPTIONS)
    options["database"] = dict(type="str", required=True)
    return options


TABLE_OPTIONS = dict(
    table=dict(type="str", required=True),
    column=dict(type="str", required=True),
    older_than=dict(type="str", required=True),
    condition=dict(type="str"),
    hold_condition=dict(type="str"),
    batch_size=dict(type="int", default=10000),
    lock_timeout=dict(type="str", default="100ms"),
    statement_timeout=dict(type="str", default="30s"),
    partitions=dict(type="str", default="auto", choices=["auto", "never"]),
)

DATABASE_OPTIONS = dict(
    server=dict(type="dict", options=_server_options()),
    tables=dict(type="list", elements="dict", options=copy.deepcopy(TABLE_OPTIONS)),
    max_runtime=dict(type="str", default="30m"),
    pause=dict(type="str", default="0s"),
)
