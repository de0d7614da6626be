"""audit_query's filters and exports over a trail written by the spool."""

import csv
import io
import json

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import query, record
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.spool import Spool
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.local import LocalStorage


@pytest.fixture
def runs(tmp_path):
    spool = Spool(str(tmp_path), hostname="ctl")
    spool.open()
    t0 = record.parse_ts("2026-11-01T10:00:00Z")
    plays = [("r1", "/p/playbooks/backup.yml", {"user": "awx", "awx": {"job_id": 11, "user": "alice"}}),
             ("r2", "/p/playbooks/restore.yml", {"user": "bob"})]
    for day, (run, playbook, who) in enumerate(plays):
        when = t0.replace(day=1 + day)
        spool.append({"event": "play_start", "run": run, "playbook": playbook, "who": who, "play": "p", "hosts": ["db1", "db2"]}, when)
        for host, outcome, action in (("db1", "changed", "watchkeeper.ops.backup"), ("db2", "failed", "ansible.builtin.copy")):
            spool.append({"event": "task", "run": run, "task": "t", "host": host, "outcome": outcome, "action": action}, when)
        spool.append({"event": "run_end", "run": run, "playbook": playbook, "who": who}, when)
    spool.close()
    return LocalStorage({"type": "local", "path": str(tmp_path)})


def seqs(storage, **filters):
    return [rec["seq"] for rec, _run, _seg in query.search(storage, "", query.Filters(**filters))]


def test_filters(runs):
    assert seqs(runs) == list(range(1, 9))
    assert seqs(runs, users=["alice"]) == [1, 2, 3, 4]
    assert seqs(runs, users=["bob"], hosts=["db2"]) == [7]
    assert seqs(runs, job_ids=["11"], outcomes=["failed"]) == [3]
    assert seqs(runs, playbooks=["playbooks/restore.yml"], events=["run_end"]) == [8]
    assert seqs(runs, actions=["backup"]) == [2, 6]
    assert seqs(runs, since="2026-11-02T00:00:00", hosts=["db1"]) == [6], "the run's who is known before the window"
    assert seqs(runs, until="2026-11-01T23:00:00+00:00", events=["task"]) == [2, 3]


def test_rows_carry_the_run_context_and_export(runs):
    found = list(query.search(runs, "", query.Filters(hosts=["db2"])))
    rows = [query.flat(rec, run) for rec, run, _seg in found]
    assert [(r["user"], r["awx_user"], r["awx_job_id"], r["playbook"]) for r in rows] == [
        ("awx", "alice", 11, "/p/playbooks/backup.yml"), ("bob", None, None, "/p/playbooks/restore.yml")]
    table = list(csv.DictReader(io.StringIO(query.to_csv(rows).decode())))
    assert [t["host"] for t in table] == ["db2", "db2"] and list(table[0]) == query.COLUMNS
    doc = json.loads(query.to_json([rec for rec, _r, _s in found], {"hosts": ["db2"]}))
    assert doc["count"] == 2 and all(record.reference_check(record.canonical(r)) for r in doc["records"]), \
        "exported records keep their hashes and still check"


def test_bad_time_is_refused():
    with pytest.raises(ValueError):
        query.Filters(since="last tuesday")
