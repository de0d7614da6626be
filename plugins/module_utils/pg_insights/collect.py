# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the chosen sections on one read-only session and assess them with ``policy.pg_insights``."""

import time

from ansible_collections.watchkeeper.ops.plugins.module_utils.pg_insights import relations, server
from ansible_collections.watchkeeper.ops.plugins.module_utils.pg_insights.connection import InsightSession
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import pg_insights as policy

SECTIONS = (
    ("connections", server.connections),
    ("activity", server.activity),
    ("locks", server.locks),
    ("cache", server.cache),
    ("replication", server.replication),
    ("wraparound", server.wraparound),
    ("tables", relations.tables),
    ("indexes", relations.indexes),
    ("statements", relations.statements),
)
SECTION_NAMES = [name for name, _func in SECTIONS]
DEFAULT_OPTIONS = {"query_chars": 200, "max_rows": 10, "max_rows_relations": 500}


def run(connection, database=None, sections=None, thresholds=None, statement_timeout_ms=5000, lock_timeout_ms=1000,
        options=None):
    """``{"status", "findings", "recommendations", "facts", "duration_s"}``; raises ``SourceError``
    (step ``connect``) when the server cannot be reached, ``ValueError`` for bad thresholds."""
    started = time.time()
    policy.thresholds(thresholds)
    opts = dict(DEFAULT_OPTIONS, **(options or {}))
    wanted = sections or SECTION_NAMES
    session = InsightSession(connection, database, statement_timeout_ms, lock_timeout_ms).open()
    facts = {}
    try:
        for name, func in SECTIONS:
            if name in wanted:
                facts[name] = session.run(name, func, opts)
    finally:
        session.close()
    result = policy.assess(facts, thresholds)
    result["facts"] = facts
    result["database"] = session.params["dbname"]
    result["duration_s"] = round(time.time() - started, 3)
    return result
