# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runbooks across SSH hosts: ``playbooks/backup.yml`` from the controller over a fleet of two database
hosts (containers with systemd and sshd, ``fleet_factory``), each backing up its own PostgreSQL to one
S3 bucket (moto on this machine, bound to the fleet network's gateway) under a prefix of its own.

One fleet and one moto serve the whole module; every test writes to a fresh bucket.
"""

import os
import shutil
import tempfile
import time
import uuid

import pytest

import wk_services

import fleet_helpers as fh
import helpers


JOB = "app-db"
DBNAME = "app"
# Each host's table has its own size, so a manifest under a host's prefix proves whose data it holds.
ROWS = {"db1": 300, "db2": 700}
BACKUP_TASK = "Back up each selected job"


@pytest.fixture(scope="module")
def work():
    path = tempfile.mkdtemp(prefix="wk-fleetrb-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def db_fleet(fleet_factory):
    """Two hosts in group ``db``, each with PostgreSQL started, the database ``app`` and the role ``backup``."""
    fleet = fleet_factory(["db1:db", "db2:db"])
    password = uuid.uuid4().hex
    for host, rows in ROWS.items():
        fh.start_postgres(fleet, host, DBNAME, password, rows)
    fleet.pg_password = password
    return fleet


@pytest.fixture(scope="module")
def fleet_moto(db_fleet, work):
    """moto on the fleet gateway's address (a free port there): reachable from the hosts and the controller."""
    proc = wk_services.start_moto(os.path.join(work, "moto"), host=db_fleet.gateway)
    yield proc
    proc.stop()


@pytest.fixture
def bucket(fleet_moto):
    import boto3
    client = boto3.client("s3", endpoint_url=fleet_moto.info["endpoint"], region_name="us-east-1",
                          aws_access_key_id=helpers.S3_ACCESS, aws_secret_access_key=helpers.S3_SECRET)
    name = "wk-fleet-%s" % uuid.uuid4().hex[:10]
    client.create_bucket(Bucket=name)
    return name, client


def destination(moto, bucket_name, prefix):
    return helpers.s3_dest(moto, bucket_name, prefix=prefix)


def play_vars(work, moto, bucket_name, gpg_keys):
    """The role's variables for both hosts, in a private extra-vars file."""
    return fh.write_vars(os.path.join(work, "vars-%s.json" % bucket_name), {
        # The fleet image has gnupg, zstd and postgresql-client-15 preinstalled, and the containers have
        # no route to an apt mirror, so the apt step stays off.
        "backup_install_packages": False,
        # The pip step runs, without an index: it proves the preinstalled libraries satisfy the role's
        # requirements (it would fail if one were missing, since nothing can be downloaded).
        "backup_install_python_packages": True,
        "backup_pip_extra_args": "--no-index",
        "backup_public_keys": [{"name": "backup.asc", "src": gpg_keys["public_key"]}],
        "backup_encryption": {"mode": "public_key"},
        # One bucket, one prefix per host (templated on each host).
        "backup_destinations": [destination(moto, bucket_name, "{{ inventory_hostname }}")],
        "backup_jobs": [{"name": JOB, "source": {
            "type": "postgres", "database": DBNAME, "login_host": "127.0.0.1", "login_port": fh.PG_PORT,
            "login_user": fh.PG_USER, "passfile": fh.PASSFILE, "checksum_tables": ["public.items"]}}],
        "backup_max_age": "1h",
        "backup_lock_timeout": 120,
        "backup_metrics_dir": "/var/tmp",  # node_exporter's textfile directory stand-in (must exist on the host)
    })


def jobs_by_host(summary):
    return {job["host"]: job for job in summary["jobs"]}


def info(moto, bucket_name, host):
    """backup_info from the controller (localhost) against the bucket, for one host's prefix."""
    return helpers.assert_ok(helpers.run_module("watchkeeper.ops.backup_info", {
        "job": JOB, "destination": destination(moto, bucket_name, host), "max_age": "1h", "cache_dir": ""}))


def test_backup_playbook_backs_up_each_host_to_its_own_prefix(db_fleet, fleet_moto, bucket, gpg_keys, work):
    name, client = bucket
    rc, data, out, err = fh.run_backup_play(db_fleet, play_vars(work, fleet_moto, name, gpg_keys),
                                            os.path.join(work, "cp"))
    assert rc == 0 and data is not None, fh.describe(rc, data, out, err)
    stats = data["stats"]
    assert sorted(stats) == ["db1", "db2"], stats
    assert all(s["unreachable"] == 0 and s["failures"] == 0 for s in stats.values()), stats

    # The set_stats summary (AWX artifacts) names both hosts, each with an ok job.
    summary = fh.summary(data)
    assert summary["status"] == "ok" and summary["errors"] == [], summary
    jobs = jobs_by_host(summary)
    assert sorted(jobs) == ["db1", "db2"], summary
    for host, job in jobs.items():
        assert job["job"] == JOB and job["status"] == "ok" and job["backup_id"], job
        assert [d["status"] for d in job["destinations"]] == ["ok"], job
    assert jobs["db1"]["backup_id"] != jobs["db2"]["backup_id"]
    # Neither the S3 secret (a role variable) nor the database password (the hosts' passfile) reaches the output.
    for secret in (helpers.S3_SECRET, db_fleet.pg_password):
        assert secret not in out and secret not in err

    for host in ROWS:
        # Prometheus textfile metrics of the job, on the host that ran it.
        prom = db_fleet.exec(host, ["cat", "/var/tmp/watchkeeper_backup_%s.prom" % JOB]).stdout.splitlines()
        assert 'watchkeeper_backup_last_status{wk_job="%s"} 1' % JOB in prom, prom
        stamps = [line for line in prom if line.startswith("watchkeeper_backup_last_success_timestamp_seconds{")]
        assert len(stamps) == 1 and abs(float(stamps[0].split()[-1]) - time.time()) < 900, prom
        assert any(line.startswith('watchkeeper_backup_destination_last_success_timestamp_seconds{destination="s3",wk_job="%s"}'
                                   % JOB) for line in prom), prom
        assert not any("last_failure" in line for line in prom), prom
        assert 'watchkeeper_backup_max_age_seconds{wk_job="%s"} 3600' % JOB in prom, prom  # backup_max_age: 1h
        # The role copied the public key (and only it) to the host.
        assert db_fleet.exec(host, ["cat", "/etc/watchkeeper/keys/backup.asc"]).stdout == open(gpg_keys["public_key"]).read()
        # backup_info from the controller: one fresh, valid backup under the host's prefix: the one the summary names.
        found = info(fleet_moto, name, host)
        assert found["count"] == 1 and found["valid_count"] == 1 and not found["stale"], found
        assert found["latest"]["backup_id"] == jobs[host]["backup_id"]
        assert found["destination"]["location"].rstrip("/").endswith("/%s" % host), found["destination"]

        # The manifest under the host's prefix describes that host's own database (rows and checksum
        # recomputed there), written by that host.
        keys = fh.s3_manifests(client, name, host)
        assert keys == ["%s/%s" % (host, found["latest"]["manifest_key"])], keys
        manifest = fh.read_json(client, name, keys[0])
        assert manifest["runner"]["host"] == host, manifest["runner"]
        entry = manifest["fingerprint"]["tables"]["public.items"]
        assert entry["rows"] == ROWS[host]
        assert (entry["rows"], entry["checksum"]) == fh.table_checksum(
            db_fleet, host, DBNAME, manifest["fingerprint"]["checksum_sql"])
        assert manifest["encryption"]["mode"] == "public_key"

        # Encrypted to the test key: the controller decrypts the dump with the private key alone.
        dump = [o for o in manifest["objects"] if o["role"] == "dump"][0]
        encrypted = os.path.join(work, "%s-%s.gpg" % (name, host))
        client.download_file(name, "%s/%s" % (host, dump["key"]), encrypted)  # keys are relative to the prefix
        assert helpers.sha256_file(encrypted) == dump["sha256"]
        plain = os.path.join(work, "%s-%s.dump" % (name, host))
        helpers.decode(encrypted, plain, gpg_home=gpg_keys["private_home"])
        with open(plain, "rb") as handle:
            assert handle.read(5) == b"PGDMP"


def test_a_host_cut_off_mid_play_is_named_and_the_others_finish(db_fleet, fleet_moto, bucket, gpg_keys, work):
    name, client = bucket
    vars_file = play_vars(work, fleet_moto, name, gpg_keys)
    control_dir = os.path.join(work, "cp")
    # db2's backup cannot read its table until the lock is released: the play is held on db2 in its backup task.
    locker = fh.hold_table_lock(db_fleet, "db2", DBNAME)
    released = False
    try:
        play = helpers.Background(fh.run_backup_play, db_fleet, vars_file, control_dir)
        play.start()
        # The marker: db2's backup module is running and waits for the lock (the play reached the backup task).
        helpers.wait_for(lambda: fh.waiting_backup_sessions(db_fleet, "db2", DBNAME) > 0 or not play.is_alive(),
                         timeout=600, interval=0.5, what="db2's backup to wait for the table lock")
        assert play.is_alive(), "the play ended before db2's backup started: %s" % (
            fh.describe(*play.value) if play.value else play.error)
        db_fleet.cut("db2")
        rc, data, out, err = play.result(timeout=900)
        # The stranded backup on db2 fails at its source once its sessions end; wait until it is gone, so it
        # cannot finish after the heal.
        fh.release_table_lock(db_fleet, "db2", locker)
        released = True
        fh.wait_no_module(db_fleet, "db2")
    finally:
        if not released:
            fh.release_table_lock(db_fleet, "db2", locker)
        db_fleet.heal("db2")

    assert data is not None, fh.describe(rc, data, out, err)
    assert rc == 4, fh.describe(rc, data, out, err)  # ansible-playbook's exit status when a host was unreachable
    stats = data["stats"]
    assert stats["db2"]["unreachable"] > 0, stats
    assert stats["db1"]["unreachable"] == 0 and stats["db1"]["failures"] == 0, stats
    # db2 went unreachable in the backup task itself (cut mid-play, not before it): that task is the last with a
    # result for db2 (its result is censored by no_log, so the stats above say "unreachable").
    tasks = fh.task_names_of(data, "db2")
    assert tasks[-1].endswith(BACKUP_TASK), tasks
    assert fh.task_names_of(data, "db1")[-1] == "Fail this host when a job or a check failed"

    # The summary: db1's job ok, db2 named in the errors, the run failed.
    summary = fh.summary(data)
    assert summary["status"] == "failed", summary
    jobs = jobs_by_host(summary)
    assert sorted(jobs) == ["db1"] and jobs["db1"]["status"] == "ok" and jobs["db1"]["backup_id"], summary
    assert [e["host"] for e in summary["errors"]] == ["db2"], summary
    assert "unreachable" in summary["errors"][0]["msg"], summary

    # db1's backup is in the bucket; db2 wrote no manifest.
    db1_keys = fh.s3_manifests(client, name, "db1")
    assert len(db1_keys) == 1 and jobs["db1"]["backup_id"] in db1_keys[0], db1_keys
    assert fh.s3_manifests(client, name, "db2") == []

    # Healed, the same run completes on both hosts.
    rc, data, out, err = fh.run_backup_play(db_fleet, vars_file, control_dir)
    assert rc == 0 and data is not None, fh.describe(rc, data, out, err)
    summary = fh.summary(data)
    assert summary["status"] == "ok" and summary["errors"] == [], summary
    jobs = jobs_by_host(summary)
    assert sorted(jobs) == ["db1", "db2"] and all(j["status"] == "ok" for j in jobs.values()), summary
    assert len(fh.s3_manifests(client, name, "db1")) == 2
    db2_keys = fh.s3_manifests(client, name, "db2")
    assert len(db2_keys) == 1 and jobs["db2"]["backup_id"] in db2_keys[0], db2_keys
    assert info(fleet_moto, name, "db2")["latest"]["backup_id"] == jobs["db2"]["backup_id"]
