"""Throwaway peer services on loopback for tests, the demo, molecule and the benchmarks.

Each service is a real server started as a child process and stopped by its handle:

* PostgreSQL: a private cluster (initdb + pg_ctl; through ``runuser -u postgres`` when we are
  root, because PostgreSQL refuses to run as root), password auth on 127.0.0.1;
* S3 protocol: ``moto`` server;
* GCS protocol: ``gcp-storage-emulator`` (in memory);
* SMTP: ``aiosmtpd`` writing every message into a Maildir;
* nginx: Debian's binary, not daemonised, with its own prefix and config in a throwaway directory;
* Redis: Debian's ``redis-server`` without persistence, in a throwaway directory.

Used as a library (``start_postgres(...)`` etc. return a handle with ``stop()``) and as a CLI:

    python scripts/wk_services.py postgres start --dir .wk/demo/pg --port 55432
    python scripts/wk_services.py postgres stop --dir .wk/demo/pg
"""

import argparse
import glob
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

LOOPBACK = "127.0.0.1"


def free_port(host=LOOPBACK):
    """Return a TCP port on ``host`` (loopback by default) that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_port(port, timeout=30.0, proc=None, name="service", log=None, host=LOOPBACK):
    """Wait until something accepts TCP connections on ``host:port`` (loopback by default)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            detail = _tail(log) if log else ""
            raise RuntimeError("%s exited with %s before listening on %d\n%s" % (name, proc.returncode, port, detail))
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("%s did not listen on %s:%d within %.0fs" % (name, host, port, timeout))


def _tail(path, lines=20):
    try:
        with open(path, "r", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def _venv_bin(name):
    """A console script next to the running interpreter (the venv), else from PATH."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else (shutil.which(name) or name)


class Process:
    """A child process with a log file; ``stop()`` terminates it and its process group."""

    def __init__(self, name, argv, log_path, env=None, port=None, **info):
        self.name = name
        self.port = port
        self.log_path = log_path
        self.info = info
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=env, start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def stop(self, timeout=10.0):
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)


# --------------------------------------------------------------------------- PostgreSQL

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


# --------------------------------------------------------------------------- S3 / GCS / SMTP

def start_moto(work_dir, port=None, host=LOOPBACK):
    """moto's S3-protocol server (endpoint ``http://<host>:<port>``), on loopback by default.

    ``host`` may name another address of this machine, such as a test fleet network's gateway, so
    that containers on that network reach the server; wildcard addresses are refused (the server
    must never listen on every interface)."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        raise ValueError("start_moto: bind a single address of this machine, not the wildcard %r" % host)
    port = port or free_port(host)
    os.makedirs(work_dir, exist_ok=True)
    log = os.path.join(work_dir, "moto.log")
    proc = Process("moto", [_venv_bin("moto_server"), "-H", host, "-p", str(port)], log, port=port,
                   endpoint="http://%s:%d" % (host, port), host=host)
    wait_port(port, proc=proc.proc, name="moto_server", log=log, host=host)
    return proc


def start_gcs(work_dir, port=None):
    """gcp-storage-emulator on loopback; clients use STORAGE_EMULATOR_HOST=http://127.0.0.1:<port>."""
    port = port or free_port()
    os.makedirs(work_dir, exist_ok=True)
    log = os.path.join(work_dir, "gcs.log")
    proc = Process("gcs", [_venv_bin("gcp-storage-emulator"), "start", "--host", LOOPBACK, "--port", str(port),
                           "--in-memory", "-q"], log, port=port,
                   endpoint="http://%s:%d" % (LOOPBACK, port))
    wait_port(port, proc=proc.proc, name="gcp-storage-emulator", log=log)
    return proc


def start_smtp(work_dir, port=None):
    """aiosmtpd on loopback, every message stored in ``<work_dir>/maildir``."""
    port = port or free_port()
    maildir = os.path.join(work_dir, "maildir")
    os.makedirs(work_dir, exist_ok=True)
    log = os.path.join(work_dir, "smtp.log")
    proc = Process("smtp", [sys.executable, "-m", "aiosmtpd", "-n", "-l", "%s:%d" % (LOOPBACK, port),
                            "-c", "aiosmtpd.handlers.Mailbox", maildir], log, port=port, maildir=maildir)
    wait_port(port, proc=proc.proc, name="aiosmtpd", log=log)
    return proc


def http_ok(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - loopback only
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- nginx / Redis

NGINX_CONF = """daemon off; master_process on; worker_processes 1; %(user)s
pid %(dir)s/nginx.pid; error_log %(dir)s/error.log notice;
events { worker_connections 64; }
http {
    access_log %(dir)s/access.log;
    client_body_temp_path %(dir)s/tmp/body; proxy_temp_path %(dir)s/tmp/proxy; fastcgi_temp_path %(dir)s/tmp/fcgi;
    uwsgi_temp_path %(dir)s/tmp/uwsgi; scgi_temp_path %(dir)s/tmp/scgi;
%(http)s
    server {
        listen %(listen)s:%(port)d; server_name localhost;
%(server)s
    }
}
"""


class Nginx(Process):
    """An nginx master in the foreground; ``conf`` is its config, ``command(...)`` its argv for -t / -s."""

    def command(self, *args):
        return [self.info["binary"], "-p", self.info["prefix"], "-c", self.info["conf"]] + list(args)


def start_nginx(work_dir, http="", server="", port=None, listen=LOOPBACK):
    """nginx with ``http`` lines in its http block and ``server`` lines in one server on ``listen:port``."""
    port = port or free_port()
    os.makedirs(os.path.join(work_dir, "tmp"), exist_ok=True)
    conf = os.path.join(work_dir, "nginx.conf")
    user = "user root;" if os.geteuid() == 0 else ""
    with open(conf, "w") as handle:
        handle.write(NGINX_CONF % {"dir": work_dir, "http": http, "server": server, "port": port, "listen": listen,
                                   "user": user})
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    log = os.path.join(work_dir, "nginx.out")
    check = subprocess.run([binary, "-p", work_dir, "-c", conf, "-t"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise RuntimeError("nginx -t failed: %s" % check.stderr)
    proc = Nginx("nginx", [binary, "-p", work_dir, "-c", conf], log, port=port, binary=binary, prefix=work_dir,
                 conf=conf, url="http://%s:%d" % (LOOPBACK, port))
    wait_port(port, proc=proc.proc, name="nginx", log=os.path.join(work_dir, "error.log"))
    return proc


def start_redis(work_dir, port=None):
    """redis-server on loopback, no persistence; ``stop()`` ends it (SIGTERM to its process group)."""
    port = port or free_port()
    os.makedirs(work_dir, exist_ok=True)
    log = os.path.join(work_dir, "redis.log")
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = Process("redis", [binary, "--bind", LOOPBACK, "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", work_dir, "--protected-mode", "yes"], log, port=port, host=LOOPBACK)
    wait_port(port, proc=proc.proc, name="redis-server", log=log)
    return proc


# --------------------------------------------------------------------------- CLI

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("service", choices=["postgres"])
    parser.add_argument("action", choices=["start", "stop", "destroy", "info"])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    base = os.path.abspath(args.dir)
    if args.action == "start":
        cluster = start_postgres(base, port=args.port)
        print(json.dumps({"host": cluster.host, "port": cluster.port, "bindir": cluster.bindir,
                          "passfile": os.path.join(base, "pgpass")}))
    elif os.path.exists(os.path.join(base, "cluster.json")):
        cluster = PostgresCluster.load(base)
        if args.action == "stop":
            cluster.stop()
        elif args.action == "destroy":
            cluster.destroy()
        else:
            print(json.dumps({"host": cluster.host, "port": cluster.port, "running": cluster.running()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
