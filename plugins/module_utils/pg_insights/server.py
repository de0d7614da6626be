# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-wide sections: connections, activity (idle in transaction, long queries), lock waits,
cache hit ratio, replication and slots, transaction-ID age. Each takes a cursor and returns facts
(plain JSON types); none takes a lock on a user relation."""

CLIENTS = "backend_type = 'client backend' AND pid <> pg_backend_pid()"


def _epoch(value):
    return None if value is None else round(float(value), 1)


def _iso(value):
    return None if value is None else value.isoformat()


def connections(cur, options):
    cur.execute("SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1")
    by_state = dict((state, int(count)) for state, count in cur.fetchall())
    cur.execute("SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int")
    max_conn, reserved = cur.fetchone()
    return {"by_state": by_state, "total": sum(by_state.values()), "max_connections": max_conn,
            "superuser_reserved_connections": reserved}


def _sessions(cur, where, order, options):
    cur.execute(
        "SELECT pid, datname, usename, application_name, client_addr::text, state, "
        "extract(epoch FROM now() - xact_start), extract(epoch FROM now() - query_start), "
        "extract(epoch FROM now() - state_change), query_start, left(query, %%s), wait_event_type, wait_event "
        "FROM pg_stat_activity WHERE %s AND %s ORDER BY %s LIMIT %%s" % (CLIENTS, where, order),
        (options["query_chars"], options["max_rows"]))
    return [{"pid": r[0], "database": r[1], "user": r[2], "application_name": r[3], "client_addr": r[4], "state": r[5],
             "xact_s": _epoch(r[6]), "query_s": _epoch(r[7]), "idle_s": _epoch(r[8]), "query_start": _iso(r[9]),
             "query": r[10], "wait_event_type": r[11], "wait_event": r[12]} for r in cur.fetchall()]


def activity(cur, options):
    return {"idle_in_transaction": _sessions(cur, "state IN ('idle in transaction', 'idle in transaction (aborted)')",
                                             "state_change", options),
            "long_queries": _sessions(cur, "state = 'active' AND query_start IS NOT NULL", "query_start", options)}


def locks(cur, options):
    cur.execute(
        "SELECT pid, pg_blocking_pids(pid), datname, application_name, wait_event_type, wait_event, "
        "extract(epoch FROM now() - coalesce(state_change, query_start)), left(query, %s) "
        "FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0 ORDER BY state_change LIMIT %s",
        (options["query_chars"], options["max_rows"]))
    waits = [{"pid": r[0], "blocked_by": list(r[1]), "database": r[2], "application_name": r[3], "wait_event_type": r[4],
              "wait_event": r[5], "wait_s": _epoch(r[6]), "query": r[7]} for r in cur.fetchall()]
    blockers = sorted(set(p for w in waits for p in w["blocked_by"]) - set(w["pid"] for w in waits))
    sessions = []
    if blockers:
        cur.execute("SELECT pid, state, application_name, extract(epoch FROM now() - xact_start), left(query, %s) "
                    "FROM pg_stat_activity WHERE pid = ANY(%s)", (options["query_chars"], blockers))
        sessions = [{"pid": r[0], "state": r[1], "application_name": r[2], "xact_s": _epoch(r[3]), "query": r[4]}
                    for r in cur.fetchall()]
    return {"waits": waits, "root_blockers": sessions}


def cache(cur, options):
    cur.execute("SELECT current_database(), coalesce(blks_hit, 0), coalesce(blks_read, 0), stats_reset "
                "FROM pg_stat_database WHERE datname = current_database()")
    name, hit, read, reset = cur.fetchone()
    return {"database": name, "blks_hit": int(hit), "blks_read": int(read), "stats_reset": _iso(reset),
            "ratio": round(hit / float(hit + read), 6) if hit + read else None}


def replication(cur, options):
    cur.execute("SELECT pg_is_in_recovery()")
    standby = cur.fetchone()[0]
    current = "pg_last_wal_receive_lsn()" if standby else "pg_current_wal_lsn()"
    replicas = []
    if not standby:
        cur.execute("SELECT application_name, client_addr::text, state, sync_state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), "
                    "extract(epoch FROM replay_lag), extract(epoch FROM write_lag), extract(epoch FROM flush_lag) "
                    "FROM pg_stat_replication ORDER BY 1")
        replicas = [{"application_name": r[0], "client_addr": r[1], "state": r[2], "sync_state": r[3],
                     "lag_bytes": None if r[4] is None else int(r[4]), "lag_s": _epoch(r[5]), "write_lag_s": _epoch(r[6]),
                     "flush_lag_s": _epoch(r[7])} for r in cur.fetchall()]
    cur.execute("SELECT slot_name, slot_type, database, active, pg_wal_lsn_diff(%s, restart_lsn), wal_status "
                "FROM pg_replication_slots ORDER BY 1" % current)
    slots = [{"slot_name": r[0], "slot_type": r[1], "database": r[2], "active": r[3],
              "retained_bytes": None if r[4] is None else int(r[4]), "wal_status": r[5]} for r in cur.fetchall()]
    return {"in_recovery": standby, "replicas": replicas, "slots": slots}


def wraparound(cur, options):
    cur.execute("SELECT datname, age(datfrozenxid), mxid_age(datminmxid), current_setting('autovacuum_freeze_max_age')::bigint "
                "FROM pg_database WHERE datallowconn ORDER BY 2 DESC")
    rows = cur.fetchall()
    return {"databases": [{"datname": r[0], "xid_age": int(r[1]), "mxid_age": int(r[2])} for r in rows],
            "autovacuum_freeze_max_age": int(rows[0][3]) if rows else None, "limit": 2 ** 31}
