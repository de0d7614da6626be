"""The timed part of ``restore_pg``: bare ``pg_restore``, ``restore_verify`` without and with data checks,
the backup with and without its fingerprint, plus informational bare rows (decode alone; ``pg_restore``
run the module's way), the CPU-profiled pass, and the cleanup of what the restores create.

Builds on ``wkbench_measure.Bench`` (the cached cluster, work dir, key pair, contention control,
``measure_one``) and adds: a plain dump file made once with ``pg_dump -Fc -Z0 -f``, one stored backup
(public-key encryption, default compression, content fingerprint of every table; ``checksum_tables`` only
with ``--checksum-tables``), its private key
exported for ``restore_verify``, and a short scratch/temporary root for the module's GnuPG home."""

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid

from wkbench_env import DB, PG_DIR, log, run  # first: it sets sys.path for ansible_run and the collection
from wkbench_measure import Bench
from wkbench_profile import CpuSampler

import ansible_run
from ansible_collections.watchkeeper.ops.plugins.module_utils import rundir
from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.postgres import find_tool

JOB = "bench-restore"
BARE_DB_PREFIX = "wkbench_rb_"          # databases of the bare pg_restore rows: wkbench_rb_<pid>_<n>
SCRATCH_PREFIX = "wk_scratch_bench_restore_"  # restore_verify's scratch databases for JOB
TMP_PREFIX = "wkrb-"                     # /tmp/wkrb-<pid>-*: the module's tmp_dir (short: gpg-agent socket path)
PHASES = ("select_s", "download_decrypt_s", "restore_data_s", "indexes_constraints_s", "checks_s", "cleanup_s",
          "restore_s", "total_s")
MODULE_FLAGS = ["--no-password", "--exit-on-error", "--no-privileges", "--no-subscriptions", "--no-publications"]


def _restore_label(titles):
    """Stage of a restore-side process from its command lines, or None (keep the backup bench's label)."""
    cmd = " ".join(titles)
    first = cmd.split(" ", 1)[0]
    if first.endswith("pg_restore"):
        return "pg_restore (client)"
    if "autovacuum worker" in cmd:
        return "postgres autovacuum (ANALYZE/VACUUM of new tables)"
    if "parallel worker" in cmd:
        return "postgres parallel workers (check scans, index builds)"
    if any(word in cmd for word in ("checkpointer", "walwriter", "background writer")):
        return "postgres checkpointer / walwriter / bgwriter"
    if SCRATCH_PREFIX in cmd or BARE_DB_PREFIX in cmd:
        if any(word in cmd for word in ("COPY", "CREATE INDEX", "ALTER TABLE", "CREATE TABLE")):
            return "postgres backends restoring (COPY, CREATE INDEX, constraints)"
        if "SELECT" in cmd:
            return "postgres backends checking (fingerprint, assertions)"
        return "postgres backend (other: idle, SET)"
    if "AnsiballZ_restore_verify" in cmd:
        return "module python (read, SHA-256, relay to gpg; checks client)"
    return None


class RestoreSampler(CpuSampler):
    """``CpuSampler`` with the restore's stages (pg_restore, restoring vs checking backends, autovacuum)."""

    def _sample(self):
        super(RestoreSampler, self)._sample()
        for key, label in list(self.label.items()):
            if label not in (self.FOREIGN, "kernel threads"):
                self.label[key] = _restore_label(self.titles.get(key) or ()) or label


class RestoreBench(Bench):
    def __init__(self, args):
        super(RestoreBench, self).__init__(args)
        self.fingerprint = True     # source.fingerprint of the next backup module run
        self.db_counter = 0
        self.tmp_root = None
        self.dump_file = None
        self.decoded_file = None
        self.stored_object = None
        self.restore_dest = None
        self.jobs = len(os.sched_getaffinity(0))

    # -- setup -----------------------------------------------------------------------------
    def setup(self):
        super(RestoreBench, self).setup()
        self._sweep_stale()
        self.tmp_root = tempfile.mkdtemp(prefix="%s%d-" % (TMP_PREFIX, os.getpid()), dir="/tmp")
        major = int(self.cluster.psql("SELECT current_setting('server_version_num')::int / 10000"))
        self.pg_restore, self.pg_restore_version = find_tool("pg_restore", major)
        log("pg_restore the module picks: %s (%s); -j %d" % (self.pg_restore, self.pg_restore_version, self.jobs))
        sizes = self.cluster.psql("SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON "
                                  "n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public' "
                                  "ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 2", dbname=DB)
        # Every table is checked by content now; the SQL md5 of the two biggest only when asked (old figures).
        self.checksum_tables = sizes.split() if getattr(self.args, "checksum_tables", False) else []
        self.scale = int(self.cluster.psql("SELECT count(*) FROM pgbench_branches", dbname=DB))
        private = os.path.join(self.work, "restore-private.asc")
        with open(private, "wb") as handle:
            os.chmod(private, 0o600)
            handle.write(self._gpg(self.keyhome, "--passphrase", "", "--armor", "--export-secret-keys",
                                   self.fpr).stdout)
        self.private_key = private
        self.dump_file = os.path.join(self.work, "wkbench.pgdump")
        log("plain dump file: pg_dump -Fc -Z0 -f %s" % self.dump_file)
        run([self.pg_dump, "-Fc", "-Z0", "-f", self.dump_file, DB], env=self.pg_env, capture_output=True)
        self.restore_dest = os.path.join(self.work, "restore-dest")
        os.makedirs(self.restore_dest)
        log("one backup into %s (checksum_tables %s)" % (self.restore_dest, ", ".join(self.checksum_tables) or "none"))
        result = self._backup([{"name": "local", "type": "local", "path": self.restore_dest}])
        if result.failed or result.get("status") != "ok":
            raise RuntimeError("the backup to restore from failed: %s" % (result.get("msg") or result.get("stderr")))
        self.backup_facts = {"backup_id": result.get("backup_id"), "sizes": result.get("sizes"),
                             "timings": result.get("timings"),
                             "fingerprint_tables": len(((result.get("manifest") or {}).get("fingerprint") or {})
                                                       .get("tables") or {})}
        found = glob.glob(os.path.join(self.restore_dest, "**", "*.pgdump.zst.gpg"), recursive=True)
        self.stored_object = found[0]
        self.decoded_file = os.path.join(self.work, "decoded.pgdump")
        self.decode(record=False, path=self.decoded_file)

    def _sweep_stale(self):
        """Databases and /tmp dirs of bench runs killed with -9 (their pid is gone)."""
        for path in glob.glob("/tmp/%s*" % TMP_PREFIX):
            try:
                pid = int(os.path.basename(path)[len(TMP_PREFIX):].split("-")[0])
            except ValueError:
                continue
            if pid != os.getpid() and not os.path.exists("/proc/%d" % pid):
                log("removing %s left by an interrupted run" % path)
                self._remove_tmp(path)
        names = self.cluster.psql("SELECT datname FROM pg_database WHERE datname LIKE '%s%%'"
                                  % BARE_DB_PREFIX.replace("_", "\\_")).split()
        for name in names:
            try:
                pid = int(name[len(BARE_DB_PREFIX):].split("_")[0])
            except ValueError:
                continue
            if pid != os.getpid() and not os.path.exists("/proc/%d" % pid):
                log("dropping database %s left by an interrupted run" % name)
                self._drop(name)

    @staticmethod
    def _remove_tmp(path):
        for entry in os.listdir(path):
            if entry.startswith(rundir.PREFIX):
                rundir.remove(os.path.join(path, entry))  # stops the gpg-agents of its GnuPG homes first
        shutil.rmtree(path, ignore_errors=True)

    def _drop(self, name):
        self.cluster.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name, check=False)

    # -- helpers ----------------------------------------------------------------------------
    def quiet(self):
        """Before each measurement: flush the previous run's dirty pages (CHECKPOINT, sync), so that its
        writeback does not fall into the next one; then wait for an idle machine."""
        self.cluster.psql("CHECKPOINT", check=False)
        os.sync()
        return super(RestoreBench, self).quiet()

    def _module_args(self, dests, level=3, threads=0):
        args = super(RestoreBench, self)._module_args(dests, level, threads)
        args["job"] = JOB
        args["source"]["checksum_tables"] = list(self.checksum_tables)
        args["source"]["fingerprint"] = self.fingerprint
        return args

    def _backup(self, dests):
        os.makedirs(os.path.join(self.work, "tmp"), exist_ok=True)
        return ansible_run.run_module("watchkeeper.ops.backup", self._module_args(dests), timeout=3600)

    def _new_db(self):
        self.db_counter += 1
        name = "%s%d_%d" % (BARE_DB_PREFIX, os.getpid(), self.db_counter)
        self.cluster.psql('CREATE DATABASE "%s" TEMPLATE template0' % name)
        return name

    def _failed(self, name, seconds, msg):
        self.errors.append({"measurement": name, "msg": msg})
        log("%s FAILED: %s" % (name, msg))
        self.record(name, seconds, failed=True, msg=msg)
        return seconds

    # -- measurements ----------------------------------------------------------------------
    def bare_pg_restore(self, name="pg_restore", decoded=False, two_pass=False, record=True):
        """``pg_restore -j N --no-owner -d DB FILE`` from the plain dump file (``pg_dump -f``: with data offsets).
        ``decoded``: from the decoded backup file instead (written through a pipe: no data offsets), with the
        module's flags and PGOPTIONS; ``two_pass``: the module's two passes (pre-data+data, then post-data)."""
        dbname = self._new_db()
        env = dict(self.pg_env)
        base = [self.pg_restore, "-j", str(self.jobs), "--no-owner", "--dbname=%s" % dbname]
        if decoded:
            env["PGOPTIONS"] = "-c synchronous_commit=off"
            base += MODULE_FLAGS  # besides --no-owner
        path = self.decoded_file if decoded else self.dump_file
        passes = ([base + ["--section=pre-data", "--section=data", path], base + ["--section=post-data", path]]
                  if two_pass else [base + [path]])
        split = []
        try:
            started = time.monotonic()
            for argv in passes:
                t0 = time.monotonic()
                proc = subprocess.run(argv, env=env, capture_output=True, check=False)
                split.append(round(time.monotonic() - t0, 3))
                if proc.returncode != 0:
                    msg = proc.stderr.decode("utf-8", "replace")[-2000:]
                    if not record:
                        raise RuntimeError("%s failed: %s" % (name, msg))
                    return self._failed(name, time.monotonic() - started, msg)
            seconds = time.monotonic() - started
        finally:
            self._drop(dbname)
        if record:
            self.record(name, seconds, passes_s=split)
        return seconds

    def decode(self, record=True, path=None):
        """Informational: ``gpg -d < stored object | zstd -d > file`` (the module's decode without the module)."""
        target = path or os.path.join(self.work, "decode.out")
        try:
            started = time.monotonic()
            with open(self.stored_object, "rb") as src, open(target, "wb") as out:
                gpg = subprocess.Popen(["gpg", "--homedir", self.keyhome, "--batch", "--no-tty", "--quiet",
                                        "--pinentry-mode", "loopback", "--passphrase", "", "--decrypt"],
                                       stdin=src, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                zstd = subprocess.Popen(["zstd", "-d", "-q", "-c"], stdin=gpg.stdout, stdout=out)
                gpg.stdout.close()
                codes = [zstd.wait(), gpg.wait()]
            seconds = time.monotonic() - started
            if any(codes):
                raise RuntimeError("gpg -d | zstd -d failed: exit codes %s" % codes)
            size = os.path.getsize(target)
        finally:
            if path is None and os.path.exists(target):
                os.unlink(target)
        if record:
            self.record("decode", seconds, bytes=size)
        return seconds

    def restore_verify(self, name, checks):
        args = {
            "job": JOB,
            "destinations": [{"name": "local", "type": "local", "path": self.restore_dest}],
            "decryption": {"private_keys": [self.private_key]},
            "server": {"login_host": self.cluster.host, "login_port": self.cluster.port,
                       "login_user": self.cluster.user, "passfile": os.path.join(PG_DIR, "pgpass")},
            "checks": checks,
            "jobs": self.jobs,
            "scratch_dir": os.path.join(self.work, "scratch"),
            "tmp_dir": self.tmp_root,
            "ops_state": os.path.join(self.work, "state"),
        }
        started = time.monotonic()
        result = ansible_run.run_module("watchkeeper.ops.restore_verify", args, timeout=3600)
        seconds = time.monotonic() - started
        if result.failed or not result.get("passed"):
            return self._failed(name, seconds, result.get("msg") or result.get("stderr", "")[-2000:])
        rto = result.get("rto") or {}
        self.record(name, seconds, module_total_s=rto.get("total_s"), restore_s=rto.get("restore_s"), rto=rto,
                    checks=len(result.get("checks") or []), scratch_removed=(result.get("scratch") or {}).get("removed"),
                    content_checks=sum(1 for c in result.get("checks") or [] if c.get("kind") == "content"))
        return seconds

    def restore_phase(self):
        return self.restore_verify("restore", {"fingerprint": False})

    def restore_with_checks(self):
        content = getattr(self.args, "content", None) or "database"
        return self.restore_verify("restore_verify", {"fingerprint": True, "content": content, "assertions": [
            {"name": "every pgbench branch", "sql": "select count(*) from pgbench_branches", "op": "eq",
             "value": self.scale},
            {"name": "events present", "sql": "select max(id) from events", "op": "ge", "value": 1000000}]})

    def backup(self, fingerprint, name=None):
        name = name or ("backup_fp" if fingerprint else "backup_nofp")
        dest = os.path.join(self.work, "dest-%s" % uuid.uuid4().hex[:8])
        os.makedirs(dest)
        self.fingerprint = fingerprint
        try:
            started = time.monotonic()
            result = self._backup([{"name": "local", "type": "local", "path": dest}])
            seconds = time.monotonic() - started
        finally:
            self.fingerprint = True
            shutil.rmtree(dest, ignore_errors=True)
        if result.failed or result.get("status") != "ok":
            return self._failed(name, seconds, result.get("msg") or result.get("stderr", "")[-2000:])
        timings = result.get("timings") or {}
        fp = (result.get("manifest") or {}).get("fingerprint") or {}
        self.record(name, seconds, module_total_s=timings.get("total_s"), timings=timings,
                    fingerprint_s=fp.get("duration_s"), fingerprint_content_s=(fp.get("content") or {}).get("duration_s"),
                    bytes=(result.get("sizes") or {}).get("stored_bytes"))
        return seconds

    # -- the plan ----------------------------------------------------------------------------
    def plan(self):
        items = [("pg_restore", self.bare_pg_restore), ("restore", self.restore_phase),
                 ("restore_verify", self.restore_with_checks),
                 ("backup_fp", lambda: self.backup(True)), ("backup_nofp", lambda: self.backup(False))]
        extra = []
        if not self.args.no_info:
            # the module's way since it runs pg_restore once: the decoded file (no data offsets), its flags and PGOPTIONS
            extra = [("pg_restore_module_way", lambda: self.bare_pg_restore("pg_restore_module_way", decoded=True)),
                     ("decode", self.decode)]
        if self.args.split:
            extra[:0] = [("pg_restore_2pass", lambda: self.bare_pg_restore("pg_restore_2pass", two_pass=True))]
        items[1:1] = extra
        return items

    def measure(self):
        items = self.plan()
        for index in range(self.args.runs):
            for name, fn in items:
                self.measure_one(name, fn, "round %d/%d" % (index + 1, self.args.runs))

    def profile(self):
        """One extra, unrecorded pass of each main row with CPU sampling."""
        out = {}
        todo = [("pg_restore", lambda: self.bare_pg_restore(record=False)),
                ("restore", lambda: self._unrecorded_as("restore", self.restore_phase)),
                ("restore_verify", lambda: self._unrecorded_as("restore_verify", self.restore_with_checks)),
                ("backup_fp", lambda: self._unrecorded_as("backup_fp", lambda: self.backup(True)))]
        for name, fn in todo:
            self.quiet()
            log("profile: %s with /proc sampling" % name)
            sampler = RestoreSampler(self.ours)
            sampler.start()
            try:
                fn()
            finally:
                out[name] = sampler.stop()
            log("profile %s: %s" % (name, ", ".join("%s %.1fs (%.0f%%)" % (s["stage"], s["cpu_s"], s["pct_of_one_core"])
                                                    for s in out[name]["stages"][:6])))
        return out

    def _unrecorded_as(self, name, fn):
        """Run a recording measurement and take its record back out (keeps its rto for the profile)."""
        fn()
        self.raw[name].pop()
        return self.extra[name].pop()

    # -- teardown --------------------------------------------------------------------------
    def teardown(self):
        if self.cluster is not None:
            try:
                self._sweep_ours()
            except Exception as exc:  # pylint: disable=broad-except
                log("dropping the bench's databases: %s" % exc)
        if self.tmp_root:
            self._remove_tmp(self.tmp_root)
        super(RestoreBench, self).teardown()

    def _sweep_ours(self):
        """Drop this run's bare-restore databases and any scratch database of JOB (a module run stopped by
        Ctrl-C could not drop its own)."""
        rows = self.cluster.psql("SELECT datname FROM pg_database WHERE datname LIKE '%s%d\\_%%' OR datname LIKE '%s%%'"
                                 % (BARE_DB_PREFIX.replace("_", "\\_"), os.getpid(),
                                    SCRATCH_PREFIX.replace("_", "\\_")), check=False)
        for name in rows.split():
            log("dropping database %s" % name)
            self._drop(name)
