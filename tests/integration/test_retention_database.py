# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""retention_purge with target database on a real PostgreSQL (issue 4, database part).

1. A table purged while pgbench writes: no pgbench error; exactly the old, unheld rows are gone (id sets).
2. A range-partitioned table loses exactly its old partitions, keeps the straddling one with its young rows
   only, and keeps an old partition holding a held row, with the reason (with and without a DEFAULT partition).
3. max_runtime stops a large purge; the backlog reported equals the test's own count.
4. check_mode counts and deletes nothing (checksums of every row before and after).
5. Failures: database down; a table without a single-column key; bad SQL in condition (others still run);
   a lock held by another session (lock timeouts counted, then done; or a clear failure).
"""

import subprocess

import psycopg

from helpers import Background, assert_failed, assert_ok, closed_port, pg_tool, wait_for
from retention_db_helpers import (
    PRED, checksum, count, ids, make_events, make_partitioned, partitions, purge, server, table_row, table_spec)

PGBENCH_SCRIPT = """\\set aid random(1, 100000)
INSERT INTO events (created_at, kind, payload) VALUES ('2026-05-31 12:00:00+00', 'live', 'pgbench ' || :aid);
SELECT count(*) FROM events WHERE created_at > '2026-05-30 00:00:00+00';
"""


def test_purge_under_pgbench_load_removes_exactly_the_old_unheld_rows(pg, pg_db, tmp_path):
    make_events(pg, pg_db, 30000)
    subprocess.run([pg_tool(pg, "pgbench"), "-i", "-q", "-s", "1", pg_db], env=pg.env(), check=True, capture_output=True)
    old = ids(pg, pg_db, "SELECT id FROM events WHERE %s" % PRED)
    kept = ids(pg, pg_db, "SELECT id FROM events WHERE NOT (%s)" % PRED)
    assert len(old) > 10000 and len(kept) > 10000
    script = tmp_path / "events.sql"
    script.write_text(PGBENCH_SCRIPT)
    before = count(pg, pg_db, "SELECT count(*) FROM events WHERE kind = 'live'")
    bench = subprocess.Popen([pg_tool(pg, "pgbench"), "-n", "-c", "2", "-j", "1", "-T", "25", "-b", "tpcb-like@1",
                              "-f", "%s@1" % script, pg_db], env=pg.env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: count(pg, pg_db, "SELECT count(*) FROM events WHERE kind = 'live'") > before + 20,
                 what="pgbench writing")
        result = purge(pg, pg_db, [table_spec(batch_size=2000)], tmp_path / "state")
        still_running = bench.poll() is None
    finally:
        out, err = bench.communicate(timeout=120)
    assert_ok(result)
    assert still_running, "pgbench ended before the purge did: no load during the purge"
    assert bench.returncode == 0, (out, err)
    assert "aborted" not in out + err and "error" not in err.lower(), (out, err)
    assert "number of failed transactions: 0 " in out or "number of failed transactions" not in out, out
    after = ids(pg, pg_db, "SELECT id FROM events")
    assert after.isdisjoint(old)
    assert kept <= after
    assert count(pg, pg_db, "SELECT count(*) FROM events WHERE %s" % PRED) == 0
    row = table_row(result, "events")
    assert result.changed
    assert row["status"] == "ok" and row["mode"] == "batches" and row["cutoff"] == "2026-03-03T00:00:00Z"
    assert row["rows_deleted"] == len(old) == result["database"]["rows_deleted"]
    assert row["rows_held"] == count(pg, pg_db, "SELECT count(*) FROM events WHERE created_at < '2026-03-03' AND held")
    assert row["rows_held"] > 0 and row["backlog_rows"] == 0
    assert row["batches"] >= len(old) // 2000


def test_partitioned_table_loses_exactly_its_old_partitions(pg, pg_db, tmp_path):
    make_partitioned(pg, pg_db, "metrics", default=True)
    make_partitioned(pg, pg_db, "series", default=False)
    young = {t: ids(pg, pg_db, "SELECT id FROM %s WHERE created_at >= '2026-03-03'" % t) for t in ("metrics", "series")}
    result = purge(pg, pg_db, [table_spec("metrics", batch_size=200), table_spec("public.series", batch_size=200)],
                   tmp_path / "state")
    assert_ok(result)
    months = ["_2026_01", "_2026_03", "_2026_04", "_2026_05", "_2026_06"]
    assert partitions(pg, pg_db, "metrics") == ["metrics" + m for m in months] + ["metrics_default"]
    assert partitions(pg, pg_db, "series") == ["series" + m for m in months]
    for name in ("metrics", "series"):
        row = table_row(result, name if name == "metrics" else "public.series")
        assert row["mode"] == "partitions" and row["status"] == "ok"
        assert row["partitions_dropped"] == (["public.metrics_2026_02"] if name == "metrics" else
                                             ["public.series_2026_02", "public.series_old"])
        assert row["partitions_kept"] == [{"name": "public.%s_2026_01" % name, "reason": "1 held rows (hold_condition)"}]
        assert ids(pg, pg_db, "SELECT id FROM %s_2026_01" % name) == {1000}
        assert ids(pg, pg_db, "SELECT id FROM %s" % name) == young[name] | {1000}
        assert count(pg, pg_db, "SELECT count(*) FROM %s_2026_03 WHERE created_at < '2026-03-03'" % name) == 0
        assert count(pg, pg_db, "SELECT count(*) FROM %s_2026_03" % name) > 0
        assert row["rows_deleted"] == 4368 - len(young[name]) - 1
        assert row["rows_held"] == 1 and row["backlog_rows"] == 0
    assert count(pg, pg_db, "SELECT count(*) FROM metrics_default") == 0
    assert "DEFAULT" in table_row(result, "metrics")["detach"] and "detach" not in table_row(result, "public.series")
    assert count(pg, pg_db, "SELECT count(*) FROM pg_class WHERE relname IN ('metrics_2026_02', 'series_old')") == 0


def test_max_runtime_stops_and_reports_the_exact_backlog(pg, pg_db, tmp_path):
    make_events(pg, pg_db, 200000, held_every=1000)
    total = count(pg, pg_db, "SELECT count(*) FROM events WHERE %s" % PRED)
    make_events(pg, pg_db, 1000, table="later")
    # A pause between batches bounds the run by time, not by the machine's speed: at most ~30 batches of 100 rows
    # fit in 3 s, far fewer than the purge needs, so max_runtime always stops it (a quiet machine finished the
    # whole purge within a bare 1 s).
    result = purge(pg, pg_db, [table_spec(batch_size=100), table_spec("later")], tmp_path / "state", max_runtime="3s",
                   pause="0.1s")
    assert_ok(result)
    backlog = count(pg, pg_db, "SELECT count(*) FROM events WHERE %s" % PRED)
    later = count(pg, pg_db, "SELECT count(*) FROM later WHERE %s" % PRED)
    db = result["database"]
    assert db["stopped_by_max_runtime"] is True
    row, second = table_row(result, "events"), table_row(result, "later")
    assert row["status"] == "stopped" and second["status"] == "stopped"
    assert 0 < row["rows_deleted"] < total and backlog > 0
    assert row["backlog_rows"] == backlog and row["rows_deleted"] + backlog == total
    assert second["rows_deleted"] == 0 and second["backlog_rows"] == later > 0
    assert db["backlog_rows"] == backlog + later
    assert result.changed


def test_check_mode_reports_counts_and_deletes_nothing(pg, pg_db, tmp_path):
    make_events(pg, pg_db, 20000)
    make_partitioned(pg, pg_db, "metrics", default=True)
    sums = {t: checksum(pg, pg_db, t) for t in ("events", "metrics")}
    names = partitions(pg, pg_db, "metrics")
    result = purge(pg, pg_db, [table_spec(condition="kind = 'app'"), table_spec("metrics")], tmp_path / "state",
                   check_mode=True)
    assert_ok(result)
    assert not result.changed
    assert {t: checksum(pg, pg_db, t) for t in ("events", "metrics")} == sums
    assert partitions(pg, pg_db, "metrics") == names
    events, metrics = table_row(result, "events"), table_row(result, "metrics")
    assert events["rows_to_delete"] == count(pg, pg_db, "SELECT count(*) FROM events WHERE %s AND kind = 'app'" % PRED)
    assert events["rows_held"] == count(pg, pg_db, "SELECT count(*) FROM events WHERE created_at < '2026-03-03' "
                                                   "AND kind = 'app' AND held")
    assert events["rows_to_delete"] > 0 and events["rows_held"] > 0 and "rows_deleted" not in events
    assert metrics["rows_to_delete"] == count(pg, pg_db, "SELECT count(*) FROM metrics WHERE %s" % PRED)
    assert metrics["partitions_to_drop"] == ["public.metrics_2026_02"]
    assert metrics["partitions_kept"] == [{"name": "public.metrics_2026_01", "reason": "1 held rows (hold_condition)"}]
    assert events["cutoff"] == metrics["cutoff"] == "2026-03-03T00:00:00Z"
    assert result["database"]["rows_to_delete"] == events["rows_to_delete"] + metrics["rows_to_delete"]


def test_database_down_fails_clearly_and_touches_nothing(pg, tmp_path):
    spec = server(pg, "postgres", login_port=closed_port(), connect_timeout=3)
    result = assert_failed(purge(pg, "postgres", [table_spec()], tmp_path / "state", server_spec=spec))
    assert "cannot connect to PostgreSQL" in result["msg"] and str(spec["login_port"]) in result["msg"]
    assert pg.password not in result["stdout"]
    assert result["database"]["tables"] == [] and not result.changed


def test_one_bad_table_fails_the_task_and_the_others_still_run(pg, pg_db, tmp_path):
    make_events(pg, pg_db, 5000)
    pg.psql("CREATE TABLE nokey (id int, created_at timestamptz); INSERT INTO nokey VALUES (1, '2020-01-01'); "
            "CREATE TABLE twokey (a int, b int, created_at timestamptz, PRIMARY KEY (a, b))", dbname=pg_db)
    old = count(pg, pg_db, "SELECT count(*) FROM events WHERE %s" % PRED)
    tables = [table_spec("nokey", hold_condition=None), table_spec("twokey", hold_condition=None),
              table_spec(condition="kind = = 'app'"), table_spec("missing"), table_spec()]
    result = assert_failed(purge(pg, pg_db, tables, tmp_path / "state"))
    rows = result["database"]["tables"]
    assert [r["status"] for r in rows] == ["failed", "failed", "failed", "failed", "ok"]
    assert "nokey needs a single-column primary key" in rows[0]["error"] and "(it has none)" in rows[0]["error"]
    assert "(it has (a, b))" in rows[1]["error"]
    assert "table events: step delete batch" in rows[2]["error"] and "syntax error" in rows[2]["error"]
    assert "missing does not exist" in rows[3]["error"]
    for row in rows[:4]:
        assert row["error"] in result["msg"]
    assert rows[4]["rows_deleted"] == old and count(pg, pg_db, "SELECT count(*) FROM events WHERE %s" % PRED) == 0
    assert count(pg, pg_db, "SELECT count(*) FROM nokey") == 1


def _hold_lock(pg, dbname, table):
    conn = psycopg.connect(pg.conninfo(dbname))
    conn.execute("LOCK TABLE %s IN SHARE MODE" % table)
    return conn


def _purge_waits(pg, dbname, waiting):
    state = pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'watchkeeper-retention' AND "
                    "datname = '%s' AND wait_event_type = 'Lock'" % dbname)
    return (state != "0") == waiting


def test_lock_held_by_another_session_is_counted_and_then_passes(pg, pg_db, tmp_path):
    make_events(pg, pg_db, 5000)
    old = count(pg, pg_db, "SELECT count(*) FROM events WHERE %s" % PRED)
    blocker = _hold_lock(pg, pg_db, "events")
    try:
        run = Background(purge, pg, pg_db, [table_spec(lock_timeout="200ms")], tmp_path / "state")
        run.start()
        wait_for(lambda: _purge_waits(pg, pg_db, True), interval=0.01, what="the purge waiting for the lock")
        wait_for(lambda: _purge_waits(pg, pg_db, False), interval=0.01, what="the purge's lock timeout")
    finally:
        blocker.rollback()
        blocker.close()
    result = assert_ok(run.result())
    row = table_row(result, "events")
    assert row["lock_timeouts"] >= 1 and row["status"] == "ok"
    assert row["rows_deleted"] == old and count(pg, pg_db, "SELECT count(*) FROM events WHERE %s" % PRED) == 0


def test_lock_held_through_every_retry_fails_the_table_clearly(pg, pg_db, tmp_path):
    make_events(pg, pg_db, 2000)
    make_events(pg, pg_db, 2000, table="other")
    sums = checksum(pg, pg_db, "events")
    blocker = _hold_lock(pg, pg_db, "events")
    try:
        result = assert_failed(purge(pg, pg_db, [table_spec(lock_timeout="50ms"), table_spec("other")],
                                     tmp_path / "state"))
    finally:
        blocker.rollback()
        blocker.close()
    row = table_row(result, "events")
    assert row["status"] == "failed" and row["lock_timeouts"] == 6 and row["rows_deleted"] == 0
    assert "lock_timeout (50 ms) reached 6 times in a row" in result["msg"] and "table events" in result["msg"]
    assert checksum(pg, pg_db, "events") == sums
    assert table_row(result, "other")["status"] == "ok"
    assert count(pg, pg_db, "SELECT count(*) FROM other WHERE %s" % PRED) == 0


def test_detach_left_pending_by_an_interrupted_run_is_finalized(pg, pg_db, tmp_path):
    make_partitioned(pg, pg_db, "series", default=False)
    reader = psycopg.connect(pg.conninfo(pg_db))
    reader.execute("SELECT count(*) FROM series")  # an open transaction the concurrent detach must wait for
    detacher = psycopg.connect(pg.conninfo(pg_db), autocommit=True)
    pid = detacher.info.backend_pid
    run = Background(detacher.execute, "ALTER TABLE series DETACH PARTITION series_2026_02 CONCURRENTLY")
    run.start()
    try:
        wait_for(lambda: pg.psql("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %d" % pid) == "Lock",
                 interval=0.02, what="the detach waiting for the reader")
        pg.psql("SELECT pg_cancel_backend(%d)" % pid)
        try:
            run.result(60)
        except psycopg.errors.QueryCanceled:
            pass
    finally:
        reader.rollback()
        reader.close()
        detacher.close()
    assert pg.psql("SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = 'series_2026_02'::regclass",
                   dbname=pg_db) == "t"
    planned = assert_ok(purge(pg, pg_db, [table_spec("series")], tmp_path / "state", check_mode=True))
    assert table_row(planned, "series")["partitions_to_finalize"] == ["public.series_2026_02"]
    result = assert_ok(purge(pg, pg_db, [table_spec("series")], tmp_path / "state"))
    row = table_row(result, "series")
    assert row["partitions_finalized"] == ["public.series_2026_02"]
    assert sorted(row["partitions_dropped"]) == ["public.series_2026_02", "public.series_old"]
    assert count(pg, pg_db, "SELECT count(*) FROM pg_class WHERE relname = 'series_2026_02'") == 0
    assert count(pg, pg_db, "SELECT count(*) FROM series WHERE %s" % PRED) == 0
