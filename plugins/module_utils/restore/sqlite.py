# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of a restored SQLite file: ``PRAGMA integrity_check``, row counts, user assertions.

The file is opened read-only (``mode=ro`` URI), so a check can never change what it checks.
"""

import sqlite3

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import assertions as policy_assertions
from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.sqlite import MAGIC, table_counts


def _open(path):
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True)


def is_sqlite(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(16) == MAGIC
    except OSError:
        return False


def integrity(path):
    """A check dict for ``PRAGMA integrity_check``."""
    check = {"name": "sqlite integrity_check", "kind": "integrity", "passed": False, "expected": "ok", "found": None,
             "detail": None}
    if not is_sqlite(path):
        check.update(found="not an SQLite 3 database", detail="the restored file is not an SQLite 3 database")
        return check
    conn = _open(path)
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.Error as exc:
        rows = [str(exc)]
    finally:
        conn.close()
    check["found"] = "; ".join(rows[:5])
    check["passed"] = rows == ["ok"]
    if not check["passed"]:
        check["detail"] = "integrity_check: %s" % check["found"]
    return check


def fingerprint(path):
    conn = _open(path)
    try:
        return table_counts(conn)
    finally:
        conn.close()


def assertions(path, specs, backup_time):
    checks = []
    conn = _open(path)
    try:
        for spec in specs:
            try:
                row = conn.execute(spec["sql"]).fetchone()
                checks.append(policy_assertions.evaluate(spec, row[0] if row else None, backup_time))
            except sqlite3.Error as exc:
                checks.append(policy_assertions.query_failed(spec, exc))
    finally:
        conn.close()
    return checks
