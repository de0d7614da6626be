# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""User assertions on restored data (pure): one SQL value compared with an expectation.

An assertion is ``{name, sql, op, value}``; the query returns one value (first column of the first
row). Operators:

* ``eq``, ``ne``, ``lt``, ``le``, ``gt``, ``ge``: numbers compare as numbers (``"12"`` equals
  ``12``), anything else as text; a NULL result fails every comparison except ``eq: null``.
* ``within``: the value is a timestamp no older than ``value`` (a duration, e.g. ``1h``) before
  the backup was taken: "the newest order is at most 1 h older than the backup". Catches a restore
  of stale data or an application that stopped writing long before the backup.
"""

import datetime
import numbers

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy.freshness import human_duration, parse_duration

OPS = ("eq", "ne", "lt", "le", "gt", "ge", "within")
SYMBOL = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def validate(assertion):
    """Problems of one assertion spec (empty list when valid)."""
    problems = []
    name = assertion.get("name") or assertion.get("sql") or "?"
    if not assertion.get("sql"):
        problems.append("assertion %s has no sql" % name)
    op = assertion.get("op", "eq")
    if op not in OPS:
        problems.append("assertion %s: op %r is not one of %s" % (name, op, ", ".join(OPS)))
    elif op == "within":
        try:
            parse_duration(assertion.get("value"))
        except ValueError as exc:
            problems.append("assertion %s: %s" % (name, exc))
    return problems


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Number):
        return value
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def _as_time(value):
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=clock.UTC)
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=clock.UTC)
    return clock.parse_time(str(value).replace(" ", "T", 1))


def _compare(op, found, expected):
    left, right = _number(found), _number(expected)
    if left is None or right is None:
        left, right = str(found), str(expected)
    return {"eq": left == right, "ne": left != right, "lt": left < right, "le": left <= right,
            "gt": left > right, "ge": left >= right}[op]


def evaluate(assertion, found, backup_time):
    """A check dict: name, kind ``assertion``, passed, expected, found, detail."""
    name = assertion.get("name") or assertion["sql"]
    op = assertion.get("op", "eq")
    expected = assertion.get("value")
    shown = _plain(found)
    check = {"name": name, "kind": "assertion", "sql": assertion["sql"], "op": op, "passed": False,
             "expected": "%s %s" % (SYMBOL.get(op, op), expected), "found": shown, "detail": None}
    if op == "within":
        limit = parse_duration(expected)
        check["expected"] = "no older than %s before the backup (%s)" % (human_duration(limit), clock.isoformat(backup_time))
        if found is None:
            check["detail"] = "%s: the query returned NULL, expected a timestamp" % name
            return check
        try:
            when = _as_time(found)
        except ValueError:
            check["detail"] = "%s: %r is not a timestamp" % (name, shown)
            return check
        lag = (backup_time - when).total_seconds()
        check["passed"] = lag <= limit
        if not check["passed"]:
            check["detail"] = "%s: newest value %s is %s older than the backup, more than %s" % (
                name, clock.isoformat(when), human_duration(lag), human_duration(limit))
        return check
    if found is None:
        check["passed"] = expected is None and op == "eq"
    elif expected is None:
        check["passed"] = op == "ne"
    else:
        check["passed"] = _compare(op, found, expected)
    if not check["passed"]:
        check["detail"] = "%s: expected %s %s, found %s" % (name, SYMBOL.get(op, op), expected, shown)
    return check


def _plain(value):
    """A JSON-friendly form of a database value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime.datetime):
        return clock.isoformat(_as_time(value))
    return str(value)


def query_failed(assertion, error):
    """The failed check of an assertion whose query raised ``error`` (a database error's text)."""
    name = assertion.get("name") or assertion["sql"]
    return {"name": name, "kind": "assertion", "sql": assertion["sql"], "op": assertion.get("op", "eq"), "passed": False,
            "expected": assertion.get("value"), "found": None, "detail": "%s: the query failed: %s" % (name, error)}
