# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers of the database retention purge: names, timeouts, partition bounds and the SQL it sends."""

import datetime

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.retention import database_sql as q

UTC = datetime.timezone.utc
CUTOFF = datetime.datetime(2026, 3, 3, tzinfo=UTC)


def text(composed):
    return composed.as_string(None)


@pytest.mark.parametrize("name,expected", [
    ("events", ("public", "events")), ("app.events", ("app", "events")), (' app . events ', ("app", "events")),
    ('"my.schema"."ev""ents"', ("my.schema", 'ev"ents')), ('"Events"', ("public", "Events")),
])
def test_split_table(name, expected):
    assert q.split_table(name) == expected


@pytest.mark.parametrize("name", ["", "a.b.c", ".events", "app."])
def test_split_table_rejects(name):
    with pytest.raises(ValueError):
        q.split_table(name)


@pytest.mark.parametrize("value,ms", [
    ("100ms", 100), ("30s", 30000), ("2m", 120000), ("2min", 120000), ("1h", 3600000), ("250", 250), (0, 0),
    ("1.5s", 1500), (" 5 S ", 5000),
])
def test_timeout_ms(value, ms):
    assert q.timeout_ms(value) == ms


@pytest.mark.parametrize("value", ["fast", "-1s", "1 week", True, "10x"])
def test_timeout_ms_rejects(value):
    with pytest.raises(ValueError):
        q.timeout_ms(value)


@pytest.mark.parametrize("bound,expected", [
    ("DEFAULT", {"default": True}),
    ("FOR VALUES FROM ('2026-01-01 00:00:00+00') TO ('2026-02-01 00:00:00+00')",
     {"default": False, "lower": "'2026-01-01 00:00:00+00'", "upper": "'2026-02-01 00:00:00+00'"}),
    ("FOR VALUES FROM (MINVALUE) TO ('2026-01-01')", {"default": False, "lower": None, "upper": "'2026-01-01'"}),
    ("FOR VALUES FROM ('2026-06-01') TO (MAXVALUE)", {"default": False, "lower": "'2026-06-01'", "upper": None}),
    ("FOR VALUES FROM ('a,b') TO ('c')", {"default": False, "lower": "'a,b'", "upper": "'c'"}),
])
def test_parse_bound(bound, expected):
    assert q.parse_bound(bound) == expected


@pytest.mark.parametrize("bound", [
    "FOR VALUES IN (1, 2)", "FOR VALUES WITH (modulus 4, remainder 0)",
    "FOR VALUES FROM ('2026-01-01', 1) TO ('2026-02-01', 1)", "",
])
def test_parse_bound_rejects(bound):
    with pytest.raises(ValueError):
        q.parse_bound(bound)


def test_predicate_quotes_identifiers_and_wraps_conditions():
    pred = text(q.predicate("created at", CUTOFF, "status = 'closed' OR x", "legal_hold"))
    assert pred.startswith('"created at" < \'2026-03-03 00:00:00+00:00\'::timestamptz')
    assert "AND (status = 'closed' OR x)" in pred
    assert pred.endswith("AND NOT COALESCE((legal_hold), false)")


def test_predicate_without_condition_or_hold():
    assert text(q.predicate("created_at", CUTOFF)) == '"created_at" < \'2026-03-03 00:00:00+00:00\'::timestamptz'


def test_condition_text_is_sent_unchanged():
    """No parameters: a % or {} in trusted SQL reaches PostgreSQL as written."""
    pred = text(q.predicate("c", CUTOFF, "note LIKE 'x%' AND tag <> '{}'", None))
    assert "(note LIKE 'x%' AND tag <> '{}')" in pred


def test_survivors_is_the_negation_with_nulls_staying():
    out = text(q.survivors("c", CUTOFF, "k = 1", "h"))
    assert out.startswith("NOT COALESCE((\"c\" < ") and out.endswith("AND NOT COALESCE((h), false)), false)")


def test_keyset_select_and_delete():
    ident = q.table_ident("app", "ev ents")
    pred = q.predicate("created_at", CUTOFF)
    first = text(q.keyset_select(ident, "id", pred, None, 500))
    assert first.startswith('SELECT min(k), max(k), count(*) FROM (SELECT "id" AS k FROM "app"."ev ents" WHERE "created_at"')
    assert first.endswith('ORDER BY "id" LIMIT 500) b')
    after = text(q.keyset_select(ident, "id", pred, 41, 500))
    assert 'WHERE "id" > 41 AND "created_at" <' in after
    delete = text(q.keyset_delete(ident, "id", 42, 541, pred))
    assert delete.startswith('DELETE FROM "app"."ev ents" WHERE "id" >= 42 AND "id" <= 541 AND "created_at" <')


def test_keyset_literal_keys_are_quoted():
    out = text(q.keyset_select(q.table_ident("public", "t"), "key", q.predicate("c", CUTOFF), "o'brien", 10))
    assert "\"key\" > 'o''brien'" in out


def test_ctid_delete_rechecks_the_predicate():
    out = text(q.ctid_delete(q.table_ident("public", "p_2026_01"), q.predicate("c", CUTOFF, None, "h"), 100))
    assert out.startswith('DELETE FROM "public"."p_2026_01" WHERE ctid = ANY(ARRAY(SELECT ctid FROM "public"."p_2026_01" WHERE')
    assert out.count("NOT COALESCE((h), false)") == 2


def test_counts_query_splits_held_rows():
    out = text(q.counts_query(q.table_ident("public", "t"), "c", CUTOFF, "k = 1", "h"))
    assert out.startswith("SELECT count(*) FILTER (WHERE NOT COALESCE((h), false)), count(*) FILTER (WHERE COALESCE((h)")
    assert out.endswith("AND (k = 1)")
    assert "FILTER (WHERE NOT false)" in text(q.counts_query(q.table_ident("public", "t"), "c", CUTOFF))
