"""PostgreSQL for ``wk_services``: a private cluster (initdb + pg_ctl; through ``runuser -u postgres`` when we
are root, because PostgreSQL refuses to run as root), password auth on 127.0.0.1."""

import glob
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile

from wk_svc_common import LOOPBACK, free_port, wait_port


def pg_bindir(major=None):
    """The bin directory of the newest (or the given) PostgreSQL server installed the Debian way."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if major is not None:
        dirs = [d for d in dirs if d.split("/")[4] == str(major)]
    if not dirs:
        found = shutil.which("postgres") or shutil.which("pg_ctl")
        if found:
            return os.path.dirname(found)
        raise RuntimeError("no PostgreSQL server found: install the Debian package 'postgresql'")
    return os.path.dirname(dirs[-1])


def _as_postgres(argv):
    """Run argv as the postgres user when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + argv
    return argv


def _postgres_can_reach(path):
    """Whether the postgres user can enter every directory down to ``path`` (always true unless root)."""
    if os.geteuid() != 0:
        return True
    parts = os.path.abspath(path).split(os.sep)
    for depth in range(2, len(parts) + 1):
        directory = os.sep.join(parts[:depth])
        try:
            mode = os.stat(directory).st_mode
        except FileNotFoundError:
            return True  # created later by us, mode 0755
        if not mode & 0o001:
            return False
    return True


def _chown_postgres(path):
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)


class PostgresCluster:
    """A private PostgreSQL cluster: superuser ``postgres`` with ``password``, TCP on loopback."""

    def __init__(self, base_dir, port, password, bindir):
        self.base_dir = base_dir
        # The data and socket directories live in base_dir unless the postgres user cannot reach it
        # (a checkout under /root, mode 0700) or the socket path would pass the 107-byte limit of a
        # Unix socket: then in /tmp, under a name derived from base_dir.
        spare = os.path.join(tempfile.gettempdir(), "wkpg-%s" % hashlib.sha1(base_dir.encode()).hexdigest()[:12])
        home = base_dir if _postgres_can_reach(base_dir) else spare
        self.home = home
        self.datadir = os.path.join(home, "data")
        self.sockdir = os.path.join(home, "sock")
        if len(self.sockdir) > 80:
            self.sockdir = os.path.join(spare, "sock")
        self.port = port
        self.password = password
        self.bindir = bindir
        self.host = LOOPBACK
        self.user = "postgres"
        self.log_path = os.path.join(home, "postgres.log")

    @property
    def major(self):
        return int(self.bindir.split("/")[-2]) if self.bindir.startswith("/usr/lib/postgresql/") else None

    def conninfo(self, dbname="postgres", user=None, password=None):
        return "host=%s port=%d dbname=%s user=%s password=%s" % (
            self.host, self.port, dbname, user or self.user, password if password is not None else self.password)

    def env(self):
        """Environment for libpq tools run against this cluster (password through a file, not argv)."""
        env = dict(os.environ)
        passfile = os.path.join(self.base_dir, "pgpass")
        env.update({"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user, "PGPASSFILE": passfile})
        return env

    def psql(self, sql, dbname="postgres", check=True):
        """Run SQL through psql as the superuser; returns stdout (unaligned, tuples only)."""
        argv = [os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dbname, "-c", sql]
        res = subprocess.run(argv, env=self.env(), capture_output=True, text=True, check=False)
        if check and res.returncode != 0:
            raise RuntimeError("psql failed (%d): %s" % (res.returncode, res.stderr.strip()))
        return res.stdout.strip()

    def running(self):
        res = subprocess.run(_as_postgres([os.path.join(self.bindir, "pg_ctl"), "status", "-D", self.datadir]),
                             capture_output=True, check=False)
        return res.returncode == 0

    def start(self):
        os.makedirs(self.base_dir, exist_ok=True)
        os.chmod(self.base_dir, 0o755)
        for path in (self.datadir, self.sockdir):
            if not os.path.isdir(path):
                os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
                os.makedirs(path)
                os.chmod(path, 0o700)
                _chown_postgres(path)
        if not os.path.exists(os.path.join(self.datadir, "PG_VERSION")):
            pwfile = os.path.join(self.home, "initdb.pw")
            with open(pwfile, "w") as handle:
                handle.write(self.password + "\n")
            _chown_postgres(pwfile)
            try:
                subprocess.run(_as_postgres([
                    os.path.join(self.bindir, "initdb"), "-D", self.datadir, "-U", "postgres", "--pwfile", pwfile,
                    "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
                ]), check=True, capture_output=True)
            finally:
                os.unlink(pwfile)
        with open(os.path.join(self.base_dir, "pgpass"), "w") as handle:
            handle.write("*:*:*:postgres:%s\n" % self.password)
        os.chmod(os.path.join(self.base_dir, "pgpass"), 0o600)
        if not self.running():
            if not os.path.exists(self.log_path):
                open(self.log_path, "a").close()
            _chown_postgres(self.log_path)
            opts = "-p %d -k %s -c listen_addresses=%s -c fsync=off -c full_page_writes=off -c max_connections=60" % (
                self.port, self.sockdir, LOOPBACK)
            subprocess.run(_as_postgres([os.path.join(self.bindir, "pg_ctl"), "start", "-w", "-t", "60", "-D", self.datadir,
                                         "-l", self.log_path, "-o", opts]), check=True, capture_output=True)
        wait_port(self.port, name="postgres")
        self._save_state()
        return self

    def stop(self):
        if os.path.exists(os.path.join(self.datadir, "postmaster.pid")):
            subprocess.run(_as_postgres([os.path.join(self.bindir, "pg_ctl"), "stop", "-m", "fast", "-w", "-D", self.datadir]),
                           capture_output=True, check=False)

    def destroy(self):
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)
        for path in (self.datadir, self.sockdir):
            if not path.startswith(self.base_dir + os.sep):
                shutil.rmtree(os.path.dirname(path), ignore_errors=True)

    def _save_state(self):
        with open(os.path.join(self.base_dir, "cluster.json"), "w") as handle:
            json.dump({"port": self.port, "password": self.password, "bindir": self.bindir}, handle)
        os.chmod(os.path.join(self.base_dir, "cluster.json"), 0o600)

    @classmethod
    def load(cls, base_dir):
        with open(os.path.join(base_dir, "cluster.json")) as handle:
            state = json.load(handle)
        return cls(base_dir, state["port"], state["password"], state["bindir"])


def start_postgres(base_dir, port=None, password="wk-test-superuser", major=None):
    """Start (or re-attach to) a private cluster in ``base_dir``."""
    if os.path.exists(os.path.join(base_dir, "cluster.json")):
        cluster = PostgresCluster.load(base_dir)
        return cluster.start()
    cluster = PostgresCluster(base_dir, port or free_port(), password, pg_bindir(major))
    if cluster.home != base_dir and os.path.isdir(cluster.home):
        # Data left in /tmp by a cluster whose base_dir (and cluster.json) was removed without
        # ``destroy``: it belongs to nobody now; stop it and start afresh.
        cluster.stop()
        shutil.rmtree(cluster.home, ignore_errors=True)
    return cluster.start()
