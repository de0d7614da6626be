# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``restore: restore_globals`` (issue 11 follow-up): the backup's ``pg_dumpall --globals-only`` object is
replayed on a NEW server (a second private cluster) before the database that needs its roles.

* Missing roles come back with their attributes, password hash and memberships, and the restored
  database keeps its owners; a role that already exists on the new server with other attributes is
  left untouched and reported (and ``restore_globals_existing: fail`` refuses before anything runs).
* A backup taken without ``include_globals`` fails clearly, before anything is downloaded.
* No password hash appears in any result.
"""

import json
import uuid

import pytest

import wk_services
from helpers import assert_failed, assert_ok, fill_database, local_dest, new_job
from restore_helpers import key_decryption, pg_backup, restore, server


@pytest.fixture(scope="module")
def new_server(tmp_path_factory):
    """A second, empty cluster: the 'new server' a disaster recovery rebuilds on."""
    cluster = wk_services.start_postgres(str(tmp_path_factory.mktemp("pg-new")))
    yield cluster
    cluster.destroy()


def _args(job, dest, state, cluster, gpg_keys, database, **extra):
    args = {"job": job, "destinations": [dest], "ops_state": str(state), "server": server(cluster),
            "decryption": key_decryption(gpg_keys), "target": {"database": database}, "timeout": 900}
    args.update(extra)
    return args


def _role(cluster, name):
    return cluster.psql("SELECT rolcanlogin, rolconnlimit, rolcreatedb FROM pg_roles WHERE rolname = '%s'" % name)


def _hash(cluster, name):
    return cluster.psql("SELECT rolpassword FROM pg_authid WHERE rolname = '%s'" % name)


def test_restore_globals_creates_missing_roles_and_leaves_existing_ones_alone(pg, pg_db, gpg_keys, new_server, tmp_path):
    tag = uuid.uuid4().hex[:8]
    owner, group, quoted, pre = "wk_g_%s_owner" % tag, "wk_g_%s_grp" % tag, "Wk G %s; odd" % tag, "wk_g_%s_pre" % tag
    fill_database(pg, pg_db, scale=1, json_rows=50)
    pg.psql("CREATE ROLE %s NOLOGIN; CREATE ROLE %s LOGIN CONNECTION LIMIT 7 PASSWORD 'pw-%s'; GRANT %s TO %s; "
            "CREATE ROLE \"%s\" LOGIN CREATEDB; CREATE ROLE %s LOGIN CONNECTION LIMIT 7"
            % (group, owner, uuid.uuid4().hex, group, owner, quoted, pre))
    pg.psql("ALTER TABLE docs OWNER TO %s" % owner, dbname=pg_db)
    job = new_job("globals")
    dest = local_dest(tmp_path / "nas")
    state = tmp_path / "state"
    # The role that already exists on the new server differs from the backup's (NOLOGIN, limit 2).
    new_server.psql("CREATE ROLE %s NOLOGIN CONNECTION LIMIT 2" % pre)
    target = "app_%s" % tag
    try:
        pg_backup(pg, pg_db, job, [dest], gpg_keys, state, include_globals=True)

        # check_mode: plans against the new server's roles, creates nothing.
        res = assert_ok(restore(_args(job, dest, state, new_server, gpg_keys, target, restore_globals=True),
                                check_mode=True))
        assert {owner, group, quoted} <= set(res["globals"]["would_create"])
        assert pre in res["globals"]["roles_existing"] and "postgres" in res["globals"]["roles_existing"]
        assert _role(new_server, owner) == ""

        # restore_globals_existing: fail refuses before any statement runs.
        res = assert_failed(restore(_args(job, dest, state, new_server, gpg_keys, target, restore_globals=True,
                                          restore_globals_existing="fail")))
        assert res["step"] == "globals" and pre in res["msg"] and "already exist" in res["msg"], res["msg"]
        assert _role(new_server, owner) == "" and _role(new_server, pre) == "f|2|f"

        res = assert_ok(restore(_args(job, dest, state, new_server, gpg_keys, target, restore_globals=True)))
        report = res["globals"]
        assert {owner, group, quoted} <= set(report["roles_created"]), report
        assert pre in report["roles_existing"] and "postgres" in report["roles_existing"]
        skipped = [s["statement"] for s in report["skipped"]]
        assert "ALTER ROLE %s" % pre in skipped and "CREATE ROLE %s" % pre in skipped
        assert report["statements"]["applied"] > 0 and report["object"].endswith(".globals.sql.zst.gpg")
        # created with their attributes, memberships and the very same password hash
        assert _role(new_server, owner) == "t|7|f"
        assert _role(new_server, quoted) == "t|-1|t"
        assert _hash(new_server, owner) == _hash(pg, owner) and _hash(new_server, owner).startswith("SCRAM-SHA-256$")
        assert new_server.psql("SELECT pg_has_role('%s', '%s', 'MEMBER')" % (owner, group)) == "t"
        # the existing role is untouched
        assert _role(new_server, pre) == "f|2|f"
        # the database restored with its owners (pg_restore without --no-owner needs the roles)
        assert new_server.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'docs'", dbname=target) == owner
        assert int(new_server.psql("SELECT count(*) FROM docs", dbname=target)) == 50
        # never a password hash in the result
        assert "SCRAM-SHA-256" not in json.dumps(dict(res), default=str)
    finally:
        new_server.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % target, check=False)
        pg.psql("DROP OWNED BY %s" % owner, dbname=pg_db, check=False)
        for cluster in (pg, new_server):
            cluster.psql("DROP ROLE IF EXISTS %s, %s, \"%s\", %s" % (owner, group, quoted, pre), check=False)


def test_restore_globals_without_a_globals_object_fails_before_any_download(pg, pg_db, gpg_keys, new_server, tmp_path):
    fill_database(pg, pg_db, scale=1, json_rows=10)
    job = new_job("noglobals")
    dest = local_dest(tmp_path / "nas")
    backup = pg_backup(pg, pg_db, job, [dest], gpg_keys, tmp_path / "state")
    target = "app_%s" % uuid.uuid4().hex[:8]
    for check_mode in (True, False):
        res = assert_failed(restore(_args(job, dest, tmp_path / "state", new_server, gpg_keys, target,
                                          restore_globals=True), check_mode=check_mode))
        assert res["step"] == "globals" and "no globals object" in res["msg"] and backup["backup_id"] in res["msg"]
        assert "include_globals" in res["msg"]
        assert res["rto"]["download_decrypt_s"] == 0
    assert new_server.psql("SELECT count(*) FROM pg_database WHERE datname = '%s'" % target) == "0"
