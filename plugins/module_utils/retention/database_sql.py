# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parts of the database retention purge (no I/O): names, timeouts, partition bounds and the SQL.

Identifiers are quoted with ``psycopg.sql.Identifier``; the cutoff and keys are ``sql.Literal``s, so the
statements carry no parameters and a ``%`` or ``{}`` in the inventory's ``condition`` or ``hold_condition``
is sent unchanged. ``condition`` and ``hold_condition`` are trusted SQL from the inventory (whoever writes the
inventory can already run SQL as the login role); each is wrapped in parentheses.

The effective predicate of a table is ``col < cutoff AND (condition) AND NOT COALESCE((hold_condition), false)``.
"""

import re

try:
    from psycopg import sql
except ImportError:
    pass

_BOUND_RE = re.compile(r"^\s*FOR VALUES FROM \((?P<lower>.*)\) TO \((?P<upper>.*)\)\s*$", re.S | re.I)
_TIMEOUT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$", re.I)
_TIMEOUT_UNITS = {"ms": 1, "s": 1000, "m": 60000, "min": 60000, "h": 3600000, "d": 86400000}


def split_table(name):
    """``"schema.table"`` -> ``("schema", "table")``; a bare name is in ``public``. Double quotes may protect a dot."""
    names, current, quoted, was_quoted = [], [], False, False
    text = str(name).strip()
    index = 0
    while index < len(text):
        char = text[index]
        if char == '"':
            if quoted and text[index + 1:index + 2] == '"':
                current.append('"')
                index += 1
            else:
                quoted, was_quoted = not quoted, True
        elif char == "." and not quoted:
            names.append("".join(current) if was_quoted else "".join(current).strip())
            current, was_quoted = [], False
        else:
            current.append(char)
        index += 1
    names.append("".join(current) if was_quoted else "".join(current).strip())
    if quoted or len(names) > 2 or any(not n.strip() for n in names):
        raise ValueError("not a table name: %r (use table or schema.table)" % name)
    return ("public", names[0]) if len(names) == 1 else (names[0], names[1])


def qualified(schema, table):
    return "%s.%s" % (schema, table)


def timeout_ms(value):
    """Milliseconds from ``"100ms"``, ``"30s"``, ``"2m"``/``"2min"``, ``"1h"`` or a bare number of milliseconds
    (PostgreSQL's default unit for ``lock_timeout``); raises ValueError. 0 means no timeout."""
    match = _TIMEOUT_RE.match(str(value))
    if isinstance(value, bool) or not match:
        raise ValueError("not a timeout: %r (use e.g. 100ms, 30s, 2min)" % (value,))
    return int(round(float(match.group(1)) * _TIMEOUT_UNITS[(match.group(2) or "ms").lower()]))


def parse_bound(text):
    """A range partition's bound from ``pg_get_expr(relpartbound)``.

    Returns ``{"default": True}`` for ``DEFAULT``, else ``{"default": False, "lower": L, "upper": U}`` where L and U
    are SQL literal texts (``'2026-01-01 00:00:00+00'``) or None for MINVALUE/MAXVALUE. Multi-column bounds and
    other partition kinds raise ValueError."""
    if str(text).strip().upper() == "DEFAULT":
        return {"default": True}
    match = _BOUND_RE.match(str(text))
    if not match:
        raise ValueError("not a range partition bound: %r" % text)
    out = {"default": False}
    for key in ("lower", "upper"):
        value = match.group(key).strip()
        if _split_top_level(value) != [value]:
            raise ValueError("multi-column partition bound: %r" % text)
        out[key] = None if value.upper() in ("MINVALUE", "MAXVALUE") else value
    return out


def _split_top_level(text):
    """Split a bound list on commas outside quotes."""
    items, current, quoted = [], [], False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return items


# --------------------------------------------------------------------------- predicates

def table_ident(schema, table):
    return sql.Identifier(schema, table)


def _wrap(text):
    return sql.SQL("(") + sql.SQL(text) + sql.SQL(")")


def held(hold_condition):
    """``COALESCE((hold), false)``: true for held rows; a NULL hold counts as not held."""
    return sql.SQL("COALESCE(") + _wrap(hold_condition) + sql.SQL(", false)")


def past_horizon(column, cutoff, condition=None):
    """``col < cutoff AND (condition)``: the rows the policy targets, held or not."""
    out = sql.SQL("{} < {}").format(sql.Identifier(column), sql.Literal(cutoff))
    if condition:
        out = out + sql.SQL(" AND ") + _wrap(condition)
    return out


def predicate(column, cutoff, condition=None, hold_condition=None):
    """The rows to delete: ``col < cutoff AND (condition) AND NOT COALESCE((hold), false)``."""
    out = past_horizon(column, cutoff, condition)
    if hold_condition:
        out = out + sql.SQL(" AND NOT ") + held(hold_condition)
    return out


def survivors(column, cutoff, condition=None, hold_condition=None):
    """Rows that must stay (the negation of ``predicate``, NULLs counted as staying)."""
    return sql.SQL("NOT COALESCE((") + predicate(column, cutoff, condition, hold_condition) + sql.SQL("), false)")


def counts_query(ident, column, cutoff, condition=None, hold_condition=None):
    """``(rows to delete, rows held)`` among the rows past the horizon."""
    hold = held(hold_condition) if hold_condition else sql.SQL("false")
    return sql.SQL("SELECT count(*) FILTER (WHERE NOT {hold}), count(*) FILTER (WHERE {hold}) FROM {t} WHERE {p}").format(
        hold=hold, t=ident, p=past_horizon(column, cutoff, condition))


def count_query(ident, where):
    return sql.SQL("SELECT count(*) FROM {} WHERE ").format(ident) + where


def keyset_select(ident, pk, pred, last, batch_size):
    """The next ``batch_size`` keys matching ``pred`` after ``last`` in key order: ``(lo, hi, n)``."""
    where = pred if last is None else sql.SQL("{} > {} AND ").format(sql.Identifier(pk), sql.Literal(last)) + pred
    return sql.SQL("SELECT min(k), max(k), count(*) FROM (SELECT {pk} AS k FROM {t} WHERE {w} ORDER BY {pk} LIMIT {n}) b"
                   ).format(pk=sql.Identifier(pk), t=ident, w=where, n=sql.Literal(int(batch_size)))


def keyset_delete(ident, pk, lo, hi, pred):
    """Delete the batch by key range, with the predicate checked again (rows may have changed since the select)."""
    return sql.SQL("DELETE FROM {t} WHERE {pk} >= {lo} AND {pk} <= {hi} AND ").format(
        t=ident, pk=sql.Identifier(pk), lo=sql.Literal(lo), hi=sql.Literal(hi)) + pred


def ctid_delete(ident, pred, batch_size):
    """Delete up to ``batch_size`` rows matching ``pred`` by row address (partitions, which have no single-column
    key), with the predicate checked again."""
    return sql.SQL("DELETE FROM {t} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {t} WHERE {p} LIMIT {n})) AND ").format(
        t=ident, p=pred, n=sql.Literal(int(batch_size))) + pred
