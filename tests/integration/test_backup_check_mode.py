# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AC5: check mode writes nothing and reports the plan; it fails when the real run would fail.

"Nothing" is checked out of band: a full listing (keys and sizes) of every destination, the
whole ``ops_state`` tree and the scratch directory (contents, modes), and the database (list of
databases, row counts and content hashes of every table) are equal before and after.
"""

import json
import os
import socket

import pytest

from helpers import (
    Store, assert_failed, assert_ok, backup_args, closed_port, fill_database, gcs_dest, local_dest, new_job, pg_source,
    public_key_encryption, run_module, s3_dest, tree_state)


def db_state(pg, dbname):
    tables = pg.psql("SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 1", dbname=dbname).split()
    content = {t: pg.psql("SELECT count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM %s x" % t,
                          dbname=dbname) for t in tables}
    return {"databases": pg.psql("SELECT datname FROM pg_database ORDER BY 1").split(),
            "roles": pg.psql("SELECT rolname FROM pg_roles ORDER BY 1").split(), "tables": content}


def snapshot(stores, state, scratch, pg, dbname):
    return {"stores": {name: store.listing() for name, store in stores.items()},
            "state": tree_state(str(state)) if os.path.exists(str(state)) else None,
            "scratch": tree_state(scratch), "db": db_state(pg, dbname) if dbname else None}


@pytest.fixture
def setup(pg, pg_db, gpg_keys, tmp_path, moto, s3_bucket, gcs, gcs_bucket, scratch):
    fill_database(pg, pg_db, scale=1, json_rows=500)
    dests = [local_dest(tmp_path / "nas", name="nas"), s3_dest(moto, s3_bucket[0]),
             gcs_dest(gcs.info["endpoint"], gcs_bucket[0])]
    stores = {"nas": Store.local(tmp_path / "nas"), "s3": Store.s3(s3_bucket), "gcs": Store.gcs(gcs_bucket)}
    job = new_job("plan")
    args = backup_args(job, pg_source(pg, pg_db, include_globals=True, checksum_tables=["public.docs"]), dests,
                       public_key_encryption(gpg_keys), tmp_path / "state", tmp_dir=scratch)
    return args, stores


def test_check_mode_writes_nothing_and_reports_the_plan(setup, pg, pg_db, tmp_path, scratch):
    args, stores = setup
    state = tmp_path / "state"
    assert_ok(run_module("watchkeeper.ops.backup", args))  # an earlier backup: state and destinations are not empty
    before = snapshot(stores, state, scratch, pg, pg_db)
    assert all(before["stores"].values()) and before["state"] is not None

    result = assert_ok(run_module("watchkeeper.ops.backup", args, check_mode=True))
    after = snapshot(stores, state, scratch, pg, pg_db)
    assert after == before

    assert result["status"] == "planned"
    plan = result["plan"]
    backup_id = plan["backup_id"]
    assert result["backup_id"] == backup_id
    assert plan["source"]["reachable"] is True
    facts = plan["source"]["facts"]
    assert (facts["kind"], facts["database"], facts["globals"]) == ("postgres", pg_db, True)
    assert facts["server_version"]
    real_size = int(pg.psql("SELECT pg_database_size('%s')" % pg_db))
    assert 0.5 * real_size <= plan["source"]["estimate_bytes"] <= 2 * real_size
    assert plan["encryption"]["mode"] == "public_key" and plan["encryption"]["recipients"]
    assert plan["lock"]["held_by"] is None
    job = args["job"]
    assert any(k.endswith(".pgdump.zst.gpg") and backup_id in k for k in plan["keys"])
    assert any(k.endswith(".globals.sql.zst.gpg") for k in plan["keys"])
    assert any(k.endswith(".manifest.json") for k in plan["keys"])
    names = [d["name"] for d in plan["destinations"]]
    assert names == ["nas", "s3", "gcs"]
    for dest in plan["destinations"]:
        assert dest["reachable"] is True, dest
        assert dest["writable"] is not False, dest
        assert len(dest["keys"]) == len(plan["keys"])
        assert all(job in k and backup_id in k for k in dest["keys"])
    by_name = {d["name"]: d for d in plan["destinations"]}
    assert by_name["nas"]["writable"] is True and by_name["nas"]["free_bytes"] > 0
    assert by_name["nas"]["keys"][0].startswith(str(tmp_path / "nas") + "/")
    assert by_name["s3"]["keys"][0].startswith("s3://%s/" % stores["s3"].bucket)
    assert by_name["gcs"]["keys"][0].startswith("gs://%s/" % stores["gcs"].bucket)


@pytest.mark.parametrize("broken", ["gcs_down", "s3_no_bucket", "wrong_password"])
def test_check_mode_fails_when_the_run_would_fail(broken, setup, pg, pg_db, tmp_path, scratch):
    args, stores = setup
    state = tmp_path / "state"
    dests = [dict(d) for d in args["destinations"]]
    source = dict(args["source"])
    if broken == "gcs_down":
        dests[2].update(endpoint_url="http://127.0.0.1:%d" % closed_port(), timeout=5, retries=0)
    elif broken == "s3_no_bucket":
        dests[1]["bucket"] = "wk-no-such-bucket-%s" % os.urandom(4).hex()
    else:
        source["login_password"] = "not-the-password"
    before = snapshot(stores, state, scratch, pg, pg_db)
    result = assert_failed(run_module("watchkeeper.ops.backup", dict(args, destinations=dests, source=source),
                                      check_mode=True))
    assert snapshot(stores, state, scratch, pg, pg_db) == before
    assert result["msg"].startswith("check mode: the backup would fail")
    plan = result["plan"]
    by_name = {d["name"]: d for d in plan["destinations"]}
    if broken == "wrong_password":
        assert "password authentication failed" in result["msg"]
        assert plan["source"]["reachable"] is False
        assert all(d["reachable"] for d in plan["destinations"])
    else:
        bad = "gcs" if broken == "gcs_down" else "s3"
        assert "destination %s" % bad in result["msg"], result["msg"]
        assert by_name[bad]["reachable"] is False
        assert [n for n, d in by_name.items() if not d["reachable"]] == [bad]
        if broken == "s3_no_bucket":
            assert "does not exist" in by_name["s3"]["detail"]


def test_check_mode_of_an_incremental_file_job_keeps_its_index(gpg_keys, tmp_path, scratch):
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    for i in range(50):
        (tree / "sub" / ("f%02d" % i)).write_bytes(os.urandom(1000 + i))
    nas = tmp_path / "nas"
    stores = {"nas": Store.local(nas)}
    args = backup_args(new_job("planfiles"), {"type": "files", "mode": "incremental", "paths": [str(tree)]},
                       [local_dest(nas)], public_key_encryption(gpg_keys), tmp_path / "state", tmp_dir=scratch)
    assert_ok(run_module("watchkeeper.ops.backup", args))
    (tree / "sub" / "f00").write_bytes(b"changed since the last backup")
    (tree / "new").write_bytes(b"new file")
    # A live run holds the lock: check mode reports it and leaves the lock file alone.
    with open("/proc/self/stat") as handle:
        data = handle.read()
    holder = {"run_id": "f" * 32, "lock": "job-" + args["job"], "host": socket.gethostname(), "pid": os.getpid(),
              "pid_start": data[data.rindex(")") + 2:].split()[19], "user": "root", "module": "backup",
              "started_at": "2026-01-01T00:00:00Z", "expires_at": "2999-01-01T00:00:00Z"}
    with open(str(tmp_path / "state" / "locks" / ("job-%s.lock" % args["job"])), "w") as handle:
        json.dump(holder, handle)
    before = snapshot(stores, tmp_path / "state", scratch, None, None)
    assert any(k.startswith("index/") for k in before["state"])
    result = assert_ok(run_module("watchkeeper.ops.backup", args, check_mode=True))
    assert snapshot(stores, tmp_path / "state", scratch, None, None) == before
    plan = result["plan"]
    assert plan["lock"]["held_by"] == holder
    assert plan["source"]["facts"]["mode"] == "incremental"
    assert plan["source"]["estimate_bytes"] == sum(f.stat().st_size for f in tree.rglob("*") if f.is_file())
    assert any("packs/" in k for k in plan["keys"]) and any(k.endswith(".filelist.json.zst.gpg") for k in plan["keys"])
