"""PostgreSQL insight rules: thresholds, bloat estimate, blocking chains, findings and their maintenance tasks
(pure; property-tested)."""

import pytest
from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import pg_insights as pol

TASK_KEYS = {"vacuum_analyze": {"name", "type", "database", "tables"}, "reindex": {"name", "type", "database", "indexes"},
             "sql": {"name", "type", "database", "sql"}}


def ok(**data):
    return dict(data, status="ok")


def index(name, **extra):
    base = {"schema": "public", "name": name, "table": "public.t", "table_oid": 1, "method": "btree", "indkey": "2",
            "indclass": "1978", "indcollation": "0", "exprs": None, "predicate": None, "idx_scan": 5, "unique": False,
            "primary": False, "constraint": False, "valid": True, "size_bytes": 10 ** 7, "bloat_bytes": 0, "bloat_ratio": 0.0}
    base.update(extra)
    return base


def table(name, **extra):
    base = {"schema": "public", "name": name, "n_live_tup": 1000, "n_dead_tup": 0, "n_mod_since_analyze": 0, "seq_scan": 0,
            "seq_tup_read": 0, "idx_scan": 0, "size_bytes": 10 ** 6, "bloat_bytes": 0, "bloat_ratio": 0.0}
    base.update(extra)
    return base


def kinds(result):
    return sorted((f["kind"], f["object"]) for f in result["findings"])


def test_thresholds_validation():
    assert pol.thresholds(None) == pol.DEFAULT_THRESHOLDS
    assert pol.thresholds({"seq_scan_min": "3"})["seq_scan_min"] == 3.0
    for bad in ({"nope": 1}, {"seq_scan_min": "x"}, {"seq_scan_min": -1}, {"seq_scan_min": True}, {"seq_scan_min": None}):
        with pytest.raises(ValueError):
            pol.thresholds(bad)


@given(st.integers(min_value=0, max_value=10 ** 7), st.integers(min_value=1, max_value=2000), st.integers(min_value=10, max_value=100))
def test_bloat_of_a_packed_relation_is_zero(tuples, width, fillfactor):
    """A relation exactly as large as the estimate says has no bloat; anything beyond is bloat, never negative."""
    per_page = int(((8192 - 24) * fillfactor / 100.0) // (28 + pol.maxalign(width)))
    expected = -(-tuples // max(1, per_page)) * 8192
    if expected:
        assert pol.estimate_bloat(expected, tuples, width, fillfactor=fillfactor) == (0, 0.0)
    extra = 8192 * 7
    bloat, ratio = pol.estimate_bloat(expected + extra, tuples, width, fillfactor=fillfactor)
    assert bloat == extra and ratio == round(extra / float(expected + extra), 4)


def test_bloat_unknown_inputs():
    assert pol.estimate_bloat(0, 10, 8) == (None, None)
    assert pol.estimate_bloat(8192, 10, None) == (None, None)


@given(st.dictionaries(st.integers(1, 30), st.lists(st.integers(1, 30), min_size=1, max_size=3), max_size=20), st.integers(1, 30))
def test_blocking_chain_follows_first_blockers_and_terminates(blocked_by, pid):
    chain = pol.blocking_chain(pid, blocked_by)
    assert chain[0] == pid and len(chain) == len(set(chain))
    for a, b in zip(chain, chain[1:]):
        assert blocked_by[a][0] == b
    last = chain[-1]
    assert not blocked_by.get(last) or blocked_by[last][0] in chain


@given(st.floats(min_value=0, max_value=10 ** 5), st.floats(min_value=0, max_value=10 ** 5))
def test_idle_in_transaction_rule(age, limit):
    facts = {"activity": ok(idle_in_transaction=[{"pid": 42, "idle_s": age, "xact_s": age, "application_name": "app"}],
                            long_queries=[])}
    th = {"idle_in_transaction_s": limit, "idle_in_transaction_critical_s": limit * 10}
    found = pol.assess(facts, th)["findings"]
    assert bool(found) == (age >= limit)
    for finding in found:
        assert finding["object"] == "pid 42" and finding["recommendation"] is None and "pid 42" in finding["detail"]
        assert finding["severity"] == ("critical" if age >= limit * 10 else "warning")


@given(st.integers(0, 10 ** 6), st.integers(0, 10 ** 6), st.integers(1, 10 ** 5), st.floats(0, 1))
def test_dead_tuples_rule(live, dead, minimum, ratio):
    facts = {"tables": ok(database="app", tables=[table("t", n_live_tup=live, n_dead_tup=dead)])}
    result = pol.assess(facts, {"dead_tuples_min": minimum, "dead_tuples_ratio": ratio})
    hit = [f for f in result["findings"] if f["kind"] == "dead_tuples"]
    assert bool(hit) == (dead >= minimum and dead >= ratio * (live + dead))
    if hit:
        assert hit[0]["recommendation"] == {"name": 'vacuum analyze "public"."t"', "type": "vacuum_analyze", "database": "app",
                                            "tables": ['"public"."t"']}


@given(st.integers(0, 5), st.booleans(), st.booleans(), st.booleans(), st.integers(0, 2 * 10 ** 6), st.integers(0, 2 * 10 ** 6))
def test_unused_index_rule(scans, unique, primary, constraint, size, minimum):
    facts = {"indexes": ok(database="app", indexes=[index("i", idx_scan=scans, unique=unique, primary=primary,
                                                          constraint=constraint, size_bytes=size)])}
    result = pol.assess(facts, {"unused_index_min_bytes": minimum})
    expected = scans == 0 and not (unique or primary or constraint) and size >= minimum
    assert kinds(result) == ([("unused_index", '"public"."i"')] if expected else [])
    if expected:
        assert result["recommendations"] == [{"name": 'drop index "public"."i"', "type": "sql", "database": "app",
                                              "sql": 'DROP INDEX CONCURRENTLY IF EXISTS "public"."i"'}]


def test_duplicates_keep_primary_then_most_scanned():
    idx = [index("b_dup", idx_scan=0), index("a_pk", primary=True, unique=True, constraint=True, idx_scan=0),
           index("c_dup", idx_scan=9), index("other", indkey="3"), index("partial", predicate="(x > 0)")]
    groups = pol.duplicate_groups(idx)
    assert [[i["name"] for i in g] for g in groups] == [["a_pk", "c_dup", "b_dup"]]
    result = pol.assess({"indexes": ok(database="app", indexes=idx)}, {"unused_index_min_bytes": 0})
    assert kinds(result) == [("duplicate_index", '"public"."b_dup"'), ("duplicate_index", '"public"."c_dup"')]
    assert [t["sql"] for t in result["recommendations"]] == ['DROP INDEX CONCURRENTLY IF EXISTS "public"."c_dup"',
                                                             'DROP INDEX CONCURRENTLY IF EXISTS "public"."b_dup"']


def test_duplicate_backing_a_constraint_is_advice_only():
    idx = [index("u1", unique=True, constraint=True), index("u2", unique=True, constraint=True, idx_scan=0)]
    result = pol.assess({"indexes": ok(database="app", indexes=idx)})
    assert [(f["kind"], f["recommendation"]) for f in result["findings"]] == [("duplicate_index", None)]


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["db1", "db2"])), max_size=12))
def test_recommendations_merge_vacuums_per_database(pairs):
    findings = [{"kind": "dead_tuples", "severity": "warning", "object": t, "detail": "",
                 "recommendation": {"name": "x", "type": "vacuum_analyze", "database": db, "tables": [t]}} for t, db in pairs]
    tasks = pol.merge_recommendations(findings)
    assert sorted(t["database"] for t in tasks) == sorted(set(db for _t, db in pairs))
    for task in tasks:
        assert set(task) == TASK_KEYS["vacuum_analyze"]
        assert sorted(task["tables"]) == sorted(set(t for t, db in pairs if db == task["database"]))


def test_whole_database_vacuum_absorbs_table_vacuums():
    findings = [{"recommendation": {"name": "x", "type": "vacuum_analyze", "database": "db", "tables": ["t"]}},
                {"recommendation": {"name": "y", "type": "vacuum_analyze", "database": "db", "tables": []}},
                {"recommendation": {"name": "z", "type": "vacuum_analyze", "database": "db", "tables": ["u"]}}]
    assert pol.merge_recommendations(findings) == [{"name": "vacuum analyze db", "type": "vacuum_analyze", "database": "db",
                                                    "tables": []}]


@given(st.integers(0, 2 ** 31), st.floats(0.01, 0.7))
def test_wraparound_rule(age, warn):
    result = pol.assess({"wraparound": ok(databases=[{"datname": "app", "xid_age": age, "mxid_age": 0}])},
                        {"xid_age_warning": warn, "xid_age_critical": warn + 0.2})
    ratio = age / 2.0 ** 31
    assert bool(result["findings"]) == (ratio >= warn)
    if result["findings"]:
        assert result["status"] == ("critical" if ratio >= warn + 0.2 else "warning")
        assert result["recommendations"] == [{"name": "vacuum analyze app", "type": "vacuum_analyze", "database": "app", "tables": []}]


def test_lock_wait_chain_and_seq_scans_and_connections():
    facts = {
        "locks": ok(waits=[{"pid": 3, "blocked_by": [2], "wait_s": 40}, {"pid": 2, "blocked_by": [1], "wait_s": 5}]),
        "tables": ok(database="app", tables=[table("big", size_bytes=2 * 10 ** 8, seq_scan=50, seq_tup_read=10 ** 9)]),
        "connections": ok(by_state={"active": 50, "idle": 47}, max_connections=100),
        "cache": ok(database="app", blks_hit=9000, blks_read=2000, ratio=0.818),
        "statements": ok(installed=True, top=[{"queryid": "1", "calls": 3, "total_ms": 5.0, "mean_ms": 1.6, "query": "SELECT 1"}]),
    }
    result = pol.assess(facts)
    found = dict(((f["kind"], f["object"]), f) for f in result["findings"])
    assert "3 <- 2 <- 1" in found[("lock_wait", "pid 3")]["detail"] and found[("lock_wait", "pid 3")]["severity"] == "warning"
    assert found[("lock_wait", "pid 2")]["severity"] == "info"
    assert found[("seq_scans", '"public"."big"')]["recommendation"] is None
    assert found[("connections", "max_connections")]["severity"] == "critical"
    assert found[("cache_hit_ratio", "app")]["severity"] == "warning"
    assert found[("top_statement", "queryid 1")]["severity"] == "info"
    assert result["status"] == "critical" and result["recommendations"] == []


def test_replication_and_slots():
    facts = {"replication": ok(replicas=[{"application_name": "r1", "lag_bytes": 10 ** 9, "lag_s": 1}],
                               slots=[{"slot_name": "s1", "active": False, "retained_bytes": 2 * 1024 ** 3, "wal_status": "extended"},
                                      {"slot_name": "s2", "active": True, "retained_bytes": 10, "wal_status": "reserved"}])}
    result = pol.assess(facts)
    assert kinds(result) == [("replication_lag", "r1"), ("slot_retention", "slot s1")]
    assert result["status"] == "critical"


def test_skipped_and_failed_sections_are_named():
    facts = {"tables": {"status": "skipped", "reason": "lock_timeout"}, "cache": {"status": "error", "reason": "boom"}}
    result = pol.assess(facts)
    assert kinds(result) == [("section_error", "section cache"), ("section_skipped", "section tables")]
    assert result["status"] == "warning"


@given(st.integers(0, 10 ** 9), st.floats(0, 1), st.integers(0, 10 ** 6))
def test_recommendation_shapes_are_maintenance_tasks(bloat, ratio, dead):
    facts = {"tables": ok(database="app", tables=[table("t", n_dead_tup=dead, bloat_bytes=bloat, bloat_ratio=ratio)]),
             "indexes": ok(database="app", indexes=[index("p", primary=True, bloat_bytes=bloat, bloat_ratio=ratio),
                                                    index("u", idx_scan=0, indkey="4")])}
    for finding in pol.assess(facts)["findings"]:
        rec = finding["recommendation"]
        assert finding["severity"] in ("info", "warning", "critical")
        if rec is not None:
            assert set(rec) == TASK_KEYS[rec["type"]]
