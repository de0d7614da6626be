# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the runbook tests across a fleet of SSH hosts (``fleet_factory`` in tests/conftest.py).

Each host runs its own PostgreSQL (Debian's cluster of the fleet image, on 127.0.0.1 inside the
container); the machine runs moto bound to the fleet network's gateway address, the one address
of this machine the containers can reach. Secrets (the database password) travel on stdin into the
containers, never in argv.
"""

import json
import os

import wk_fleet

import helpers

PG_PORT = 5432
PG_USER = "backup"
PASSFILE = "/etc/watchkeeper/pgpass"
# application_name of the session that holds a table lock (so it can be found and ended by name).
LOCKER_APP = "wk-test-locker"
# The query psql runs as the locker; terminating its backend releases the lock.
LOCK_SQL = "BEGIN; LOCK TABLE public.items IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(%d);"


def host_exec(fleet, host, argv, input_text=None, check=True, timeout=180):
    """``docker exec -i`` into a host with ``input_text`` on stdin (for SQL and files that hold secrets)."""
    res = wk_fleet.docker("exec", "-i", fleet.container(host), *argv, check=False, docker_host=fleet.docker_host,
                          input=input_text or "", timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError("%s on %s exited %d: %s" % (argv[:3], host, res.returncode, (res.stderr or res.stdout)[-2000:]))
    return res


def psql(fleet, host, sql, dbname="postgres", check=True, timeout=180):
    """Run SQL (on stdin) as the postgres superuser inside the host; returns the unaligned output."""
    res = host_exec(fleet, host, ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-A", "-t", "-v",
                                  "ON_ERROR_STOP=1", "-d", dbname], input_text=sql, check=check, timeout=timeout)
    return res.stdout.strip()


def start_postgres(fleet, host, dbname, password, rows):
    """Start the host's own PostgreSQL 15 cluster and create ``dbname`` with ``public.items`` (``rows`` rows)
    and the login role ``backup`` (password auth on 127.0.0.1, read-only on every table); write the
    role's passfile (mode 0600) for the backup module."""
    fleet.exec(host, ["systemctl", "start", "postgresql"], timeout=180)
    helpers.wait_for(lambda: fleet.exec(host, ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(PG_PORT)],
                                        check=False).returncode == 0, timeout=120, what="PostgreSQL on %s" % host)
    psql(fleet, host, "CREATE ROLE %s LOGIN PASSWORD '%s';\nGRANT pg_read_all_data TO %s;\nCREATE DATABASE %s;\n"
         % (PG_USER, password, PG_USER, dbname))
    psql(fleet, host, "CREATE TABLE public.items (id int PRIMARY KEY, host text NOT NULL, note text);\n"
         "INSERT INTO public.items SELECT g, '%s', md5(g::text) FROM generate_series(1, %d) g;\n" % (host, rows),
         dbname=dbname)
    host_exec(fleet, host, ["sh", "-c", "umask 077 && mkdir -p %s && cat > %s"
                            % (os.path.dirname(PASSFILE), PASSFILE)],
              input_text="127.0.0.1:%d:%s:%s:%s\n" % (PG_PORT, dbname, PG_USER, password))


def table_checksum(fleet, host, dbname, checksum_sql, table="public.items"):
    """(rows, checksum) of a table on the host, computed with the SQL the manifest documents."""
    schema, name = table.split(".", 1)
    out = psql(fleet, host, checksum_sql.replace("<schema>.<table>", '"%s"."%s"' % (schema, name)) + ";", dbname=dbname)
    rows, checksum = out.split("|")
    return int(rows), checksum


# --------------------------------------------------------------------------- holding a host's backup in place

def hold_table_lock(fleet, host, dbname, seconds=600):
    """Start a session on the host that holds ACCESS EXCLUSIVE on ``public.items`` for up to ``seconds``
    (a bound, never forever); returns the Background thread running it. Every reader of the table,
    the backup's snapshot fingerprint and pg_dump included, waits until ``release_table_lock``."""
    script = "PGAPPNAME=%s exec runuser -u postgres -- psql -X -q -d %s -c '%s'" % (LOCKER_APP, dbname, LOCK_SQL % seconds)
    thread = helpers.Background(fleet.exec, host, ["sh", "-c", script], check=False, timeout=seconds + 60)
    thread.start()
    held = ("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = '%s' "
            "AND l.mode = 'AccessExclusiveLock' AND l.granted" % LOCKER_APP)
    helpers.wait_for(lambda: psql(fleet, host, held) != "0", timeout=120, interval=0.3,
                     what="the table lock on %s" % host)
    return thread


def waiting_backup_sessions(fleet, host, dbname):
    """Sessions of the backup role on the host that wait for a lock in ``dbname`` (the backup has reached them)."""
    out = psql(fleet, host, "SELECT count(*) FROM pg_stat_activity WHERE usename = '%s' AND datname = '%s' "
                            "AND wait_event_type = 'Lock'" % (PG_USER, dbname))
    return int(out)


def release_table_lock(fleet, host, thread, end_backup_sessions=True):
    """End the locker (and the backup role's sessions, so a stranded backup fails at its source at once
    instead of streaming into a network it no longer has); wait for the locker's thread."""
    names = "application_name = '%s'" % LOCKER_APP
    if end_backup_sessions:
        names = "(%s OR usename = '%s')" % (names, PG_USER)
    psql(fleet, host, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE %s AND pid <> pg_backend_pid()"
         % names)
    thread.result(timeout=120)


def module_processes(fleet, host, module="backup"):
    """Pids of the collection module ``module`` running on the host (AnsiballZ wrappers and their Python)."""
    res = fleet.exec(host, ["pgrep", "-f", "AnsiballZ_%s.py" % module], check=False)
    return [int(p) for p in res.stdout.split()]


def wait_no_module(fleet, host, module="backup", timeout=300):
    helpers.wait_for(lambda: not module_processes(fleet, host, module), timeout=timeout, interval=0.5,
                     what="the stranded %s module on %s to end" % (module, host))


# --------------------------------------------------------------------------- the play

def write_vars(path, data):
    """A private extra-vars file (JSON is YAML), so credentials never appear in argv."""
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=1)
    return str(path)


def run_backup_play(fleet, vars_file, control_dir, target="db", timeout=900):
    """``playbooks/backup.yml`` from the controller over SSH; returns (rc, json callback data, stdout, stderr).

    ``control_dir`` is this module's own ssh ControlPath directory: a fleet reusing the addresses of a
    fleet that is gone never meets that fleet's persistent connections."""
    playbook = os.path.join(helpers.collections_path(), "ansible_collections", "watchkeeper", "ops", "playbooks",
                            "backup.yml")
    env = {"ANSIBLE_SHOW_CUSTOM_STATS": "1", "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_dir),
           "ANSIBLE_FORKS": "5"}
    return helpers.run_playbook(playbook, inventory=fleet.inventory, env=env, timeout=timeout,
                                args=("-e", "backup_target=%s" % target, "-e", "@%s" % vars_file))


def task_names_of(data, host):
    """Names of the tasks that have a result for ``host`` in the json callback output, in play order
    (role tasks are named ``<role> : <task>``)."""
    return [task["task"]["name"] for play in data["plays"] for task in play["tasks"] if host in task["hosts"]]


def summary(data):
    return data["global_custom_stats"]["watchkeeper_backup"]


def describe(rc, data, stdout, stderr):
    """What to print when a play assertion fails (the summary and stats, or the raw tails)."""
    if data is None:
        return "rc %s, no JSON\nstdout: %s\nstderr: %s" % (rc, stdout[-3000:], stderr[-3000:])
    failures = []
    for play in data.get("plays") or []:
        for task in play.get("tasks") or []:
            for host, res in (task.get("hosts") or {}).items():
                if res.get("failed") or res.get("unreachable"):
                    failures.append("%s | %s: %s" % (host, (task.get("task") or {}).get("name"), str(res.get("msg"))[:800]))
                    failures += ["  item %s: %s" % (item.get("item"), str(item.get("msg"))[:800])
                                 for item in res.get("results") or [] if item.get("failed")][:3]
    return "rc %s\nfailed tasks:\n%s\nstats: %s\nsummary: %s\nstderr: %s" % (
        rc, "\n".join(failures[:10]), json.dumps(data.get("stats"), indent=1),
        json.dumps(data.get("global_custom_stats"), indent=1, default=str)[:6000], stderr[-2000:])


def s3_manifests(client, bucket, prefix):
    """Manifest keys under ``prefix/`` in the bucket (boto3, out of band)."""
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix.rstrip("/") + "/"):
        keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(helpers.MANIFEST_SUFFIX)]
    return sorted(keys)


def read_json(client, bucket, key):
    return json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8"))
