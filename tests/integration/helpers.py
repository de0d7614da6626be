# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared helpers of the integration tests.

Everything that *verifies* a backup here uses only standard tools and clients: boto3 and
google-cloud-storage (or a plain file copy) to download, ``sha256``, ``gpg -d``, ``zstd -d``,
``pg_restore``, ``psql``, ``tar``, ``sqlite3``. No collection code is imported, so a restore that
works here works for an operator who only has the README.
"""

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))

from ansible_run import collections_path, run_module, run_playbook  # noqa: E402,F401 pylint: disable=wrong-import-position,unused-import

S3_ACCESS = "testing"
S3_SECRET = "testing-secret"
MANIFEST_SUFFIX = ".manifest.json"

# zstd at a high level on one thread is the brake that makes a backup of ``big_db`` (conftest) last
# several seconds (tens of MB of incompressible hex), so tests can watch or kill a run mid-stream.
SLOW_COMPRESSION = {"level": 9, "threads": 1}
BIG_RANDOM_MB = 24


# --------------------------------------------------------------------------- destinations

def local_dest(path, name="local"):
    os.makedirs(path, exist_ok=True)
    return {"name": name, "type": "local", "path": str(path)}


def s3_dest(moto, bucket, name="s3", **extra):
    spec = {"name": name, "type": "s3", "bucket": bucket, "endpoint_url": moto.info["endpoint"],
            "access_key": S3_ACCESS, "secret_key": S3_SECRET, "region": "us-east-1"}
    spec.update(extra)
    return spec


def gcs_dest(endpoint, bucket, name="gcs", **extra):
    spec = {"name": name, "type": "gcs", "bucket": bucket, "endpoint_url": endpoint, "anonymous": True,
            "project": "wk-test"}
    spec.update(extra)
    return spec


def closed_port():
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Store(object):
    """Out-of-band access to one destination: list, download, read; never collection code."""

    def __init__(self, kind, root=None, client=None, bucket=None):
        self.kind = kind
        self.root = root
        self.client = client
        self.bucket = bucket

    @classmethod
    def local(cls, root):
        return cls("local", root=str(root))

    @classmethod
    def s3(cls, s3_bucket):
        return cls("s3", bucket=s3_bucket[0], client=s3_bucket[1])

    @classmethod
    def gcs(cls, gcs_bucket):
        return cls("gcs", bucket=gcs_bucket[0], client=gcs_bucket[1])

    def listing(self, shared_state=False):
        """Every object (key -> size), partial files included for local. The shared state the modules keep under
        ``_ops_state/`` (job locks, verification records: docs/several-controllers.md) only with ``shared_state``."""
        out = self._listing()
        return out if shared_state else dict((k, v) for k, v in out.items() if "_ops_state" not in k.split("/"))

    def _listing(self):
        out = {}
        if self.kind == "local":
            for dirpath, _dirs, files in os.walk(self.root):
                for name in files:
                    path = os.path.join(dirpath, name)
                    out[os.path.relpath(path, self.root)] = os.path.getsize(path)
        elif self.kind == "s3":
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                for obj in page.get("Contents", []):
                    out[obj["Key"]] = obj["Size"]
        else:
            for blob in self.client.list_blobs(self.bucket):
                out[blob.name] = blob.size
        return out

    def manifests(self):
        return sorted(k for k in self.listing() if k.endswith(MANIFEST_SUFFIX))

    def download(self, key, path):
        if self.kind == "local":
            shutil.copyfile(os.path.join(self.root, key), path)
        elif self.kind == "s3":
            self.client.download_file(self.bucket, key, str(path))
        else:
            self.client.bucket(self.bucket).blob(key).download_to_filename(str(path))
        return path

    def read(self, key):
        if self.kind == "local":
            with open(os.path.join(self.root, key), "rb") as handle:
                return handle.read()
        if self.kind == "s3":
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return self.client.bucket(self.bucket).blob(key).download_as_bytes()

    def write(self, key, data):
        if self.kind == "local":
            path = os.path.join(self.root, key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)
        elif self.kind == "s3":
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        else:
            self.client.bucket(self.bucket).blob(key).upload_from_string(data)

    def manifest(self, key):
        return json.loads(self.read(key).decode("utf-8"))

    def open_multipart_uploads(self):
        assert self.kind == "s3"
        return self.client.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])


def moto_requests(moto, bucket):
    """The request lines moto_server logged for ``bucket`` (what really went over the wire)."""
    with open(moto.log_path, errors="replace") as handle:
        return [line for line in handle if "/%s/" % bucket in line or "/%s " % bucket in line]


# --------------------------------------------------------------------------- decoding by hand

def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def sh(script, env=None, check=True, timeout=600):
    """Run a bash script; returns CompletedProcess (text)."""
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", script], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("script failed (%d): %s\nstdout: %s\nstderr: %s"
                             % (proc.returncode, script, proc.stdout[-2000:], proc.stderr[-3000:]))
    return proc


def gpg_env(home):
    env = dict(os.environ)
    env["GNUPGHOME"] = home
    return env


def decode(encrypted, out, gpg_home=None, passphrase_file=None, check=True):
    """``gpg -d | zstd -d > out`` exactly as the README says (public key or passphrase file)."""
    with tempfile.TemporaryDirectory(prefix="wk-gpg-restore-") as empty_home:
        if passphrase_file:
            gpg = "gpg --batch --quiet --pinentry-mode loopback --passphrase-file '%s' -d '%s'" % (
                passphrase_file, encrypted)
        else:
            gpg = "gpg --batch --quiet -d '%s'" % encrypted
        return sh("%s | zstd -d -q -c > '%s'" % (gpg, out), env=gpg_env(gpg_home or empty_home), check=check)


# --------------------------------------------------------------------------- PostgreSQL

def pg_tool(pg, name):
    return os.path.join(pg.bindir, name)


def fill_database(pg, dbname, scale=2, json_rows=5000):
    """pgbench tables (scale ``scale``) plus ``public.docs``: JSON rows with varied text."""
    subprocess.run([pg_tool(pg, "pgbench"), "-i", "-q", "-s", str(scale), dbname], env=pg.env(), check=True,
                   capture_output=True)
    pg.psql("""
        CREATE TABLE public.docs (id serial PRIMARY KEY, body jsonb NOT NULL, note text);
        INSERT INTO public.docs (body, note)
        SELECT jsonb_build_object('n', g, 'name', 'Ünïcødé ' || md5(g::text),
                                  'tags', jsonb_build_array('a', g %% 7, 'ß'),
                                  'nested', jsonb_build_object('q', E'quote '' and \\\\ backslash', 'x', g * 1.5)),
               CASE WHEN g %% 3 = 0 THEN NULL ELSE repeat(E'line\\ttab\\n', g %% 11) || '日本語 ' || g END
        FROM generate_series(1, %d) g;
    """ % json_rows, dbname=dbname)


def pg_restore_into(pg, dump_path, dbname):
    pg.psql("CREATE DATABASE %s" % dbname)
    proc = subprocess.run([pg_tool(pg, "pg_restore"), "--exit-on-error", "--no-owner", "-d", dbname, str(dump_path)],
                          env=pg.env(), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, "pg_restore failed: %s" % proc.stderr[-3000:]


def table_rows(pg, dbname, tables):
    return {t: int(pg.psql("SELECT count(*) FROM ONLY %s" % t, dbname=dbname)) for t in tables}


def table_checksum(pg, dbname, checksum_sql, table):
    """Recompute a table checksum with the SQL the manifest documents (``<schema>.<table>``)."""
    schema, name = table.split(".", 1)
    sql = checksum_sql.replace("<schema>.<table>", '"%s"."%s"' % (schema, name))
    out = pg.psql(sql, dbname=dbname)
    rows, checksum = out.split("|")
    return int(rows), checksum


def verify_fingerprint(pg, dbname, fingerprint):
    """Every table's row count and every recorded checksum equal the manifest's fingerprint."""
    tables = fingerprint["tables"]
    restored = pg.psql("SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
                       dbname=dbname).split()
    assert sorted(restored) == sorted(tables), (restored, sorted(tables))
    assert table_rows(pg, dbname, tables) == {t: v["rows"] for t, v in tables.items()}
    checked = 0
    for table, entry in tables.items():
        if "checksum" in entry:
            assert table_checksum(pg, dbname, fingerprint["checksum_sql"], table) == (entry["rows"], entry["checksum"])
            checked += 1
    return checked


def drop_db(pg, dbname):
    pg.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % dbname, check=False)


def pg_source(pg, dbname, **extra):
    spec = {"type": "postgres", "database": dbname, "login_host": pg.host, "login_port": pg.port, "login_user": "postgres",
            "login_password": pg.password}
    spec.update(extra)
    return spec


# --------------------------------------------------------------------------- module arguments

def public_key_encryption(gpg_keys):
    return {"mode": "public_key", "public_keys": [gpg_keys["public_key"]]}


def backup_args(job, source, destinations, encryption, ops_state, **extra):
    args = {"job": job, "source": source, "destinations": destinations, "encryption": encryption,
            "ops_state": str(ops_state), "lock_timeout": 0, "timeout": 900}
    args.update(extra)
    return args


def new_job(prefix="job"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def info(job, destination, env=None, **extra):
    args = {"job": job, "destination": destination}
    args.update(extra)
    return run_module("watchkeeper.ops.backup_info", args, env=env)


def assert_ok(result):
    assert not result.failed, "module failed: %s" % json.dumps(
        {k: v for k, v in result.items() if k not in ("stdout", "stderr")}, indent=1, default=str)[:6000]
    return result


def assert_failed(result):
    assert result.failed, "module unexpectedly succeeded: %s" % json.dumps(
        {k: v for k, v in result.items() if k not in ("stdout", "stderr")}, indent=1, default=str)[:4000]
    return result


# --------------------------------------------------------------------------- running the module in-process

def module_cmd(args_path):
    """argv that runs the backup module directly (no ansible-playbook), reading args from a JSON file."""
    return [sys.executable, "-m", "ansible_collections.watchkeeper.ops.plugins.modules.backup", str(args_path)]


def write_module_args(path, args):
    with open(path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    return path


def module_env(extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = collections_path() + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def descendants(pid):
    """Pids of every living descendant of ``pid`` (by /proc/*/stat ppid)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                data = handle.read()
        except OSError:
            continue
        ppid = int(data[data.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def find_procs(predicate):
    """Pids whose cmdline (list of bytes) satisfies ``predicate``."""
    out = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if argv[0] and predicate(argv):
            out.append(int(entry))
    return out


def has_env(pid, name, value):
    """True when process ``pid`` was started with ``name=value`` in its environment (tests running in parallel
    workers mark their own module processes this way, so that a kill never hits another test's)."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as handle:
            return ("%s=%s" % (name, value)).encode() in handle.read().split(b"\0")
    except OSError:
        return False


def wait_for(predicate, timeout=60.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


class Background(threading.Thread):
    """Run ``fn`` in a thread and keep its return value or exception."""

    def __init__(self, fn, *args, **kwargs):
        super(Background, self).__init__(daemon=True)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.value = None
        self.error = None

    def run(self):
        try:
            self.value = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # pylint: disable=broad-except
            self.error = exc

    def result(self, timeout=900):
        self.join(timeout)
        assert not self.is_alive(), "background call did not finish within %ss" % timeout
        if self.error is not None:
            raise self.error
        return self.value


def tree_state(root):
    """path -> (type, mode, size, sha256 or link target) for a whole tree (for before/after compares)."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                out[rel] = ("dir", oct(st.st_mode & 0o7777))
            else:
                out[rel] = ("file", oct(st.st_mode & 0o7777), st.st_size, sha256_file(path))
    return out


# Debian's Chromium for the report renderings (headless; the background-networking flags keep it off the closed network).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@contextlib.contextmanager
def report_page(html_path, shot, width=1280, height=900):
    """A self-contained HTML report opened in headless Chromium: its full-page screenshot is written to ``shot``
    and the page is yielded for assertions; nothing but ``file://`` may have been requested."""
    if not os.path.exists(CHROMIUM):
        import pytest
        pytest.skip("%s is not installed: cannot render the report (apt-get install chromium)" % CHROMIUM)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            requests = []
            page.on("request", lambda req: requests.append(req.url))
            page.goto("file://" + str(html_path))
            page.screenshot(path=str(shot), full_page=True)
            assert all(url.startswith("file://") for url in requests), requests
            yield page
        finally:
            browser.close()
