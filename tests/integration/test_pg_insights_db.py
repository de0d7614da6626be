# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_insights through real ansible-playbook on a crafted database (issue 12, acceptance 6): an unused index, a
duplicate index, a large table read by sequential scans, dead tuples and bloat after a mass update, an
idle-in-transaction session and a lock wait chain, each with its recommendation; the recommended tasks, run as the
maintenance role runs them, make their findings disappear. Failure paths: server down, wrong password, a bad
threshold; read-only: a table held in ACCESS EXCLUSIVE makes a section skip after lock_timeout, never hang."""

import json
import threading
import time
import uuid

import psycopg
import pytest

import helpers
import pg_insights_helpers as pih
import wk_services

MODULE = "watchkeeper.ops.pg_insights"
SMALL = {"unused_index_min_bytes": 0, "dead_tuples_min": 10000, "bloat_min_bytes": 100000, "seq_scan_table_bytes": 1000000,
         "seq_scan_min": 3, "seq_tup_read_min": 100000, "idle_in_transaction_s": 1, "lock_wait_s": 0}


def conn_args(pg, **extra):
    args = {"login_host": pg.host, "login_port": pg.port, "login_user": pg.user, "login_password": pg.password}
    args.update(extra)
    return args


def insights(pg, dbname, **args):
    res = helpers.run_module(MODULE, dict({"connection": conn_args(pg), "database": dbname, "thresholds": SMALL}, **args))
    assert not res.failed, res.get("msg")
    return res["insights"]


def by_kind(result, kind):
    return dict((f["object"], f) for f in result["findings"] if f["kind"] == kind)


@pytest.fixture(scope="module")
def crafted(pg):
    """A database with the seeded problems (pg_insights_helpers.craft)."""
    name = pih.craft(pg, "pgi")
    yield name
    pih.drop(pg, name)


def connect(pg, dbname, app):
    return psycopg.connect(pg.conninfo(dbname), autocommit=True, application_name=app)


def test_crafted_database_findings_and_recommendations(pg, crafted):
    idle = connect(pg, crafted, "wk-idle-app")
    holder = connect(pg, crafted, "wk-holder")
    waiters = [connect(pg, crafted, "wk-waiter-%d" % i) for i in range(2)]
    threads = []
    try:
        idle.execute("BEGIN")
        idle.execute("SELECT 1")
        idle_pid = idle.info.backend_pid
        holder.execute("BEGIN")
        holder.execute("UPDATE lockt SET v = 1 WHERE id = 1")
        for waiter in waiters:
            thread = threading.Thread(target=waiter.execute, args=("UPDATE lockt SET v = 2 WHERE id = 1",))
            thread.start()
            threads.append(thread)
            time.sleep(0.5)
        time.sleep(1.5)
        result = insights(pg, crafted)
    finally:
        idle.execute("ROLLBACK")
        holder.execute("ROLLBACK")
        for thread in threads:
            thread.join(10)
        for conn in [idle, holder] + waiters:
            conn.close()

    assert result["status"] == "warning"
    assert all(result["facts"][s]["status"] == "ok" for s in result["facts"]), result["facts"]
    unused = by_kind(result, "unused_index")
    assert set(unused) == {'"public"."big_v_unused"'}, unused
    assert unused['"public"."big_v_unused"']["recommendation"] == {
        "name": 'drop index "public"."big_v_unused"', "type": "sql", "database": crafted,
        "sql": 'DROP INDEX CONCURRENTLY IF EXISTS "public"."big_v_unused"'}
    # dup_a and dup_b are the same index; the planner used one of them: the other is the duplicate to drop.
    scanned = [i["name"] for i in result["facts"]["indexes"]["indexes"] if i["name"] in ("dup_a", "dup_b") and i["idx_scan"]]
    assert len(scanned) == 1
    other = '"public"."%s"' % ({"dup_a", "dup_b"} - set(scanned)).pop()
    dup = by_kind(result, "duplicate_index")
    assert set(dup) == {other} and '"public"."%s"' % scanned[0] in dup[other]["detail"]
    assert dup[other]["recommendation"]["sql"] == 'DROP INDEX CONCURRENTLY IF EXISTS %s' % other
    seq = by_kind(result, "seq_scans")
    assert set(seq) == {'"public"."big"'} and seq['"public"."big"']["recommendation"] is None
    dead = by_kind(result, "dead_tuples")
    assert set(dead) == {'"public"."churn"'}
    assert dead['"public"."churn"']["recommendation"] == {
        "name": 'vacuum analyze "public"."churn"', "type": "vacuum_analyze", "database": crafted, "tables": ['"public"."churn"']}
    bloat = by_kind(result, "table_bloat")
    assert set(bloat) == {'"public"."churn"'} and bloat['"public"."churn"']["recommendation"]["type"] == "vacuum_analyze"
    ibloat = by_kind(result, "index_bloat")
    assert set(ibloat) == {'"public"."churn_pkey"'}
    assert ibloat['"public"."churn_pkey"']["recommendation"]["type"] == "reindex"
    assert ibloat['"public"."churn_pkey"']["recommendation"]["indexes"] == ['"public"."churn_pkey"']

    idle_f = by_kind(result, "idle_in_transaction")["pid %d" % idle_pid]
    assert idle_f["severity"] == "warning" and idle_f["recommendation"] is None
    assert "wk-idle-app" in idle_f["detail"] and "idle in transaction for" in idle_f["detail"]
    session = [s for s in result["facts"]["activity"]["idle_in_transaction"] if s["pid"] == idle_pid][0]
    assert session["idle_s"] >= 1 and session["query_start"]

    waits = by_kind(result, "lock_wait")
    holder_pid = [s["pid"] for s in result["facts"]["activity"]["idle_in_transaction"] if s["application_name"] == "wk-holder"][0]
    waiter_pids = [w["pid"] for w in result["facts"]["locks"]["waits"]]
    assert len(waiter_pids) == 2 and len(waits) == 2
    for pid in waiter_pids:
        assert ("root blocker pid %d" % holder_pid) in waits["pid %d" % pid]["detail"]
        assert waits["pid %d" % pid]["recommendation"] is None
    assert [s["pid"] for s in result["facts"]["locks"]["root_blockers"]] == [holder_pid]
    assert "lock_wait" in {f["kind"] for f in result["findings"]} and "statements" in result["facts"]
    assert result["facts"]["statements"]["installed"] is False and "not installed" in result["facts"]["statements"]["note"]

    # The maintenance window runs the recommended tasks as roles/maintenance/tasks/run_one.yml does.
    types = sorted(t["type"] for t in result["recommendations"])
    assert types == ["reindex", "sql", "sql", "vacuum_analyze"], result["recommendations"]
    with psycopg.connect(pg.conninfo(crafted), autocommit=True) as conn:
        for task in result["recommendations"]:
            if task["type"] == "vacuum_analyze":
                conn.execute("VACUUM (ANALYZE) %s" % ", ".join(task["tables"]))
            elif task["type"] == "reindex":
                for index in task["indexes"]:
                    conn.execute("REINDEX INDEX CONCURRENTLY %s" % index)
            else:
                conn.execute(task["sql"])
    after = insights(pg, crafted)
    kinds = {f["kind"] for f in after["findings"]}
    assert not kinds & {"unused_index", "duplicate_index", "dead_tuples", "index_bloat"}, after["findings"]
    assert all(f["recommendation"] is None for f in after["findings"]), after["findings"]
    assert after["recommendations"] == []


def test_lock_timeout_skips_section_instead_of_waiting(pg, crafted):
    holder = connect(pg, crafted, "wk-exclusive")
    try:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE big IN ACCESS EXCLUSIVE MODE")
        started = time.time()
        result = insights(pg, crafted, sections=["connections", "tables"], timeouts={"lock": "300ms", "statement": "20s"})
        elapsed = time.time() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    tables = result["facts"]["tables"]
    assert tables["status"] == "skipped" and "lock_timeout (300 ms)" in tables["reason"], tables
    assert tables["duration_s"] < 2
    assert result["facts"]["connections"]["status"] == "ok" and set(result["facts"]) == {"connections", "tables"}
    assert by_kind(result, "section_skipped")["section tables"]["severity"] == "info"
    assert elapsed < 30


def test_check_mode_same_result(pg, crafted):
    res = helpers.run_module(MODULE, {"connection": conn_args(pg), "database": crafted, "sections": ["indexes"],
                                      "thresholds": SMALL}, check_mode=True)
    assert not res.failed and not res.changed
    normal = insights(pg, crafted, sections=["indexes"])
    assert res["insights"]["findings"] == normal["findings"]
    assert {i["name"] for i in res["insights"]["facts"]["indexes"]["indexes"]} >= {"big_pkey", "churn_pkey", "lockt_pkey"}


def test_server_down_clear_error(pg):
    port = helpers.closed_port()
    res = helpers.run_module(MODULE, {"connection": conn_args(pg, login_port=port)})
    assert res.failed
    assert res["step"] == "connect" and res["port"] == port and res["host"] == pg.host
    assert "cannot connect to PostgreSQL 127.0.0.1:%d" % port in res["msg"] and "is PostgreSQL running" in res["msg"]
    assert "Traceback" not in res["msg"]


def test_wrong_password_never_in_result(pg):
    secret = "wrong-secret-%s" % uuid.uuid4().hex[:8]
    res = helpers.run_module(MODULE, {"connection": conn_args(pg, login_password=secret)})
    assert res.failed and res["step"] == "connect"
    assert "password authentication failed" in res["msg"]
    assert secret not in json.dumps(dict(res)) and secret not in res["stdout"]


def test_bad_threshold_and_timeout(pg):
    res = helpers.run_module(MODULE, {"connection": conn_args(pg), "thresholds": {"no_such": 1}})
    assert res.failed and "unknown threshold 'no_such'" in res["msg"]
    res = helpers.run_module(MODULE, {"connection": conn_args(pg), "thresholds": {"seq_scan_min": "many"}})
    assert res.failed and "seq_scan_min must be a number" in res["msg"]
    res = helpers.run_module(MODULE, {"connection": conn_args(pg), "timeouts": {"lock": "soon"}})
    assert res.failed and "invalid timeouts" in res["msg"]
    res = helpers.run_module(MODULE, {"connection": conn_args(pg), "timeouts": {"statement": "0"}})
    assert res.failed and "would disable the timeout" in res["msg"]


def test_top_statements_when_pg_stat_statements_is_installed(tmp_path):
    """A private cluster with pg_stat_statements preloaded: present only in the database where the extension is created."""
    cluster = wk_services.start_postgres(str(tmp_path / "pgss"))
    try:
        cluster.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        cluster.stop()
        cluster.start()
        cluster.psql("CREATE DATABASE withpgss")
        cluster.psql("CREATE EXTENSION pg_stat_statements", dbname="withpgss")
        cluster.psql("CREATE TABLE t AS SELECT g FROM generate_series(1, 20000) g; SELECT sum(g) FROM t WHERE g % 7 = 3", dbname="withpgss")
        base = {"connection": conn_args(cluster), "sections": ["statements"]}
        res = helpers.run_module(MODULE, dict(base, database="withpgss"))
        assert not res.failed, res.get("msg")
        facts = res["insights"]["facts"]["statements"]
        assert facts["status"] == "ok" and facts["installed"] is True and facts["version"]
        assert any("g % $1 = $2" in s["query"] or "g % 7" in s["query"] for s in facts["top"]), facts["top"]
        assert {f["kind"] for f in res["insights"]["findings"]} == {"top_statement"}
        res = helpers.run_module(MODULE, dict(base, database="postgres"))
        assert res["insights"]["facts"]["statements"]["installed"] is False
    finally:
        cluster.destroy()
