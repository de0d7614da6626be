"""The ``backup_pg`` bench's database: ``wkbench`` in the cached cluster (``.wk/bench/pg``), pgbench
tables plus >= 1 GB of JSON ``events`` with varied text, built in parallel SQL batches, checked before
reuse, and described in the report."""

import json
import os
import threading
import time

from wkbench_env import DB, log, run

SCHEMA_VERSION = "wk-bench-v1"
MIN_DB_BYTES = 1.0e9

# Words for the events' text: common English words plus some domain words; drawn with a skewed
# (power) distribution so some words are frequent and others rare, like real text.
WORDS = """
the of and to in is you that it he was for on are as with his they at be this have from or one had by word
but not what all were we when your can said there use an each which she do how their if will up other about
out many then them these so some her would make like him into time has look two more write go see number no
way could people my than first water been call who oil its now find long down day did get come made may part
order customer payment invoice shipping delivered package returned refund account login password session
error timeout retry failed success pending cancelled approved declined warehouse product catalog price
discount coupon cart checkout address street city country postal phone email newsletter subscription
monthly annual premium basic trial support ticket request response service server database cache queue
worker job task schedule backup restore network latency bandwidth upload download file folder document
report dashboard chart metric alert warning critical notice info debug trace user admin manager team
project release version build deploy rollback feature bug fix issue comment review merge branch commit
green blue red yellow black white small large medium quick slow fast new old good great best better
happy sad busy quiet early late morning evening night today tomorrow yesterday week month year hour minute
second kitchen garden window table chair lamp phone laptop tablet screen keyboard mouse camera printer
coffee tea water bread cheese apple orange banana tomato potato rice pasta chicken salmon salad soup
travel flight hotel booking train ticket station airport luggage passport visa beach mountain river lake
forest island village market museum theater concert festival holiday weekend birthday wedding party gift
because however although therefore meanwhile moreover otherwise perhaps usually sometimes often never
always already almost enough quite rather really simply very again also only just still even yet soon
""".split()

KINDS = ["page_view", "click", "search", "add_to_cart", "purchase", "signup", "login", "logout", "error", "api_call"]
STATUSES = ["ok", "ok", "ok", "ok", "ok", "pending", "failed", "retry", "cancelled", "ok"]
OSES = ["linux", "windows", "macos", "ios", "android", "chromeos"]


def _sql_array(items):
    return "ARRAY[%s]::text[]" % ",".join("'%s'" % w.replace("'", "''") for w in items)


def events_insert_sql(lo, hi):
    """Rows lo..hi of ``events``: jsonb with words, numbers, timestamps, ids (varied, not constant)."""
    words = _sql_array(WORDS)
    return """
INSERT INTO events (id, created_at, kind, payload)
SELECT g, t.ts, c.kinds[1 + floor(random() * array_length(c.kinds, 1))::int],
  jsonb_build_object(
    'event_id', md5(g::text || random()::text),
    'user_id', 1 + floor(power(random(), 3) * 250000)::int,
    'ts', to_char(t.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'ip', concat_ws('.', 10, floor(random() * 256)::int, floor(random() * 256)::int, floor(random() * 256)::int),
    'amount', round((random() * random() * 1000)::numeric, 2),
    'quantity', 1 + floor(random() * 12)::int,
    'status', c.statuses[1 + floor(random() * array_length(c.statuses, 1))::int],
    -- "+ 0 * s" ties each aggregate to its own sub-select (else it aggregates the outer query)
    'title', (SELECT string_agg(w.a[1 + floor(power(random(), 2) * w.n)::int + 0 * s], ' ')
              FROM generate_series(1, 2 + (g %% 5)) s),
    'message', (SELECT string_agg(w.a[1 + floor(power(random(), 2) * w.n)::int + 0 * s], ' ')
                FROM generate_series(1, 6 + ((g::bigint * 7919) %% 34)::int) s),
    'tags', (SELECT jsonb_agg(w.a[1 + floor(random() * w.n)::int + 0 * s]) FROM generate_series(1, 1 + (g %% 4)) s),
    'client', jsonb_build_object('os', c.oses[1 + floor(random() * array_length(c.oses, 1))::int],
                                 'version', concat(floor(random() * 5)::int, '.', floor(random() * 20)::int, '.',
                                                   floor(random() * 100)::int),
                                 'latency_ms', round((random() * random() * 2000)::numeric, 1))
  )
FROM generate_series(%d, %d) g
CROSS JOIN (SELECT %s AS a, %d AS n) w
CROSS JOIN (SELECT %s AS kinds, %s AS statuses, %s AS oses) c
CROSS JOIN LATERAL (SELECT timestamptz '2025-01-01 00:00:00+00' + g * interval '17 seconds'
                           + random() * interval '16 seconds' AS ts) t
""" % (lo, hi, words, len(WORDS), _sql_array(KINDS), _sql_array(STATUSES), _sql_array(OSES))


def db_size(cluster):
    out = cluster.psql("SELECT pg_database_size('%s')" % DB, check=False)
    return int(out) if out.strip().isdigit() else 0


def database_ready(cluster):
    if cluster.psql("SELECT 1 FROM pg_database WHERE datname = '%s'" % DB) != "1":
        return False, "missing"
    meta = cluster.psql("SELECT value FROM bench_meta WHERE key = 'schema'", dbname=DB, check=False)
    if meta != SCHEMA_VERSION:
        return False, "incomplete or older build (%r)" % meta
    size = db_size(cluster)
    if size < MIN_DB_BYTES:
        return False, "too small (%d bytes)" % size
    return True, "%d bytes" % size


def build_database(cluster, scale, events, workers):
    started = time.monotonic()
    log("building database %s: pgbench -i -s %d, then %d events rows (takes a few minutes)" % (DB, scale, events))
    cluster.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB)
    cluster.psql("CREATE DATABASE %s" % DB)
    run([os.path.join(cluster.bindir, "pgbench"), "-i", "-q", "-s", str(scale), "-I", "dtGvp", DB],
        env=cluster.env(), capture_output=True)
    log("pgbench tables done in %.0fs (%d bytes so far)" % (time.monotonic() - started, db_size(cluster)))
    cluster.psql("CREATE TABLE events (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, kind text NOT NULL, "
                 "payload jsonb NOT NULL)", dbname=DB)
    cluster.psql("CREATE TABLE bench_meta (key text PRIMARY KEY, value text)", dbname=DB)
    batch = 100000
    next_id = [1]
    lock = threading.Lock()
    errors = []

    def insert_batches(limit):
        while not errors:
            with lock:
                lo = next_id[0]
                if lo > limit:
                    return
                hi = min(limit, lo + batch - 1)
                next_id[0] = hi + 1
            try:
                cluster.psql(events_insert_sql(lo, hi), dbname=DB)
            except Exception as exc:  # pylint: disable=broad-except
                errors.append(exc)
                return

    def fill(limit):
        threads = [threading.Thread(target=insert_batches, args=(limit,), daemon=True) for index in range(workers)]  # pylint: disable=unused-variable
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
        if errors:
            raise errors[0]

    fill(events)
    # Top up until the database (tables + indexes, as pg_database_size counts) reaches 1.0e9 bytes.
    while db_size(cluster) < MIN_DB_BYTES * 1.02:
        events += 200000
        log("database below %.2g bytes: adding events up to %d" % (MIN_DB_BYTES, events))
        fill(events)
    cluster.psql("VACUUM (ANALYZE) events", dbname=DB)
    cluster.psql("VACUUM (ANALYZE)", dbname=DB)
    rows = cluster.psql("SELECT count(*) FROM events", dbname=DB)
    cluster.psql("INSERT INTO bench_meta VALUES ('scale', '%d'), ('events', '%s'), ('built_at', now()::text), "
                 "('schema', '%s')" % (scale, rows, SCHEMA_VERSION), dbname=DB)
    cluster.psql("CHECKPOINT")
    log("database built in %.0fs: %d bytes" % (time.monotonic() - started, db_size(cluster)))
    return time.monotonic() - started


def database_facts(cluster):
    facts = {"name": DB, "db_bytes": db_size(cluster)}
    facts["rows"] = {}
    for table in cluster.psql("SELECT relname FROM pg_stat_user_tables ORDER BY 1", dbname=DB).split():
        facts["rows"][table] = int(cluster.psql('SELECT count(*) FROM "%s"' % table, dbname=DB))
    sizes = cluster.psql("SELECT relname || '=' || pg_total_relation_size(relid) FROM pg_stat_user_tables ORDER BY 1",
                         dbname=DB)
    facts["table_bytes"] = {k: int(v) for k, v in (line.split("=", 1) for line in sizes.splitlines() if "=" in line)}
    meta = cluster.psql("SELECT key || '=' || value FROM bench_meta ORDER BY 1", dbname=DB)
    facts["meta"] = dict(line.split("=", 1) for line in meta.splitlines() if "=" in line)
    facts["sample_event"] = json.loads(cluster.psql("SELECT payload::text FROM events WHERE id = 4242", dbname=DB))
    return facts
