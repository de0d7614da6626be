"""Pure parts of PostgreSQL restores: cutting tables into page ranges, and phases from pg_restore's log."""

from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.pg_restore import PhaseClock
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.postgres import chunk_plan

TABLES = st.lists(st.tuples(st.just("public"), st.from_regex(r"\At[0-9]{1,3}\Z"), st.integers(min_value=0, max_value=10 ** 6)),
                  max_size=12, unique_by=lambda t: t[1])


@given(TABLES, st.integers(min_value=1, max_value=8), st.booleans())
def test_ranges_cover_every_page_of_every_table_exactly_once(tables, parallel, split):
    tasks = chunk_plan(tables, parallel, split)
    for schema, table, pages in tables:
        ranges = [(low, high) for s, t, low, high in tasks if (s, t) == (schema, table)]
        if len(ranges) == 1:
            assert ranges == [(None, None)]
            continue
        assert split and parallel > 1
        assert ranges[0][0] == 0 and ranges[-1][1] is None
        for (_low, high), (low, _high) in zip(ranges, ranges[1:]):
            assert high == low  # contiguous, no gap, no overlap
        assert all(low < high for low, high in ranges[:-1]) and ranges[-1][0] < pages


def test_the_biggest_work_comes_first_and_small_tables_stay_whole():
    tasks = chunk_plan([("public", "small", 10), ("public", "big", 100000), ("public", "mid", 3000)], 2)
    assert tasks[0][1] == "big" and len([t for t in tasks if t[1] == "big"]) == 8
    assert ("public", "small", None, None) in tasks and ("public", "mid", None, None) in tasks
    assert chunk_plan([("public", "big", 100000)], 2, split=False) == [("public", "big", None, None)]


def _phases(lines):
    clock = PhaseClock(0.0)
    for when, text in lines:
        clock.line(text, when)
    return clock.phases(10.0)


def test_parallel_log_ends_the_data_phase_at_the_last_finished_load():
    assert _phases([
        (0.1, "pg_restore: entering main parallel loop"),
        (0.2, "pg_restore: launching item 1 TABLE DATA a"), (0.2, 'pg_restore: processing data for table "public.a"'),
        (3.0, "pg_restore: finished item 1 TABLE DATA a"),
        (3.1, "pg_restore: launching item 7 CONSTRAINT a a_pkey"),
        (6.0, "pg_restore: finished item 2 TABLE DATA b"),
        (6.1, "pg_restore: launching item 8 INDEX b_idx"),
    ]) == {"restore_data_s": 6.0, "indexes_constraints_s": 4.0}


def test_serial_log_ends_the_data_phase_at_the_first_event_after_the_last_load():
    assert _phases([
        (0.5, 'pg_restore: processing data for table "public.a"'),
        (2.0, 'pg_restore: processing data for table "public.b"'),
        (7.5, 'pg_restore: creating CONSTRAINT "public.a a_pkey"'),
    ]) == {"restore_data_s": 7.5, "indexes_constraints_s": 2.5}
    assert _phases([(0.5, 'pg_restore: processing data for table "public.a"')]) == {
        "restore_data_s": 10.0, "indexes_constraints_s": 0.0}
    assert _phases([]) == {"restore_data_s": 10.0, "indexes_constraints_s": 0.0}
