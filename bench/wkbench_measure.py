"""The timed part of ``backup_pg``: bare ``pg_dump``, the story's pipeline, the ``backup`` module (one
destination, three destinations, zstd variants), the shell pipeline, each run round-robin with contention
control, plus the unmeasured CPU-profiled pass and the compression-only codec scan."""

import os
import shutil
import subprocess
import time
import uuid

from wkbench_env import DB, PG_DIR, S3_ENV, log, run  # first: it sets sys.path for ansible_run
from wkbench_profile import CpuSampler, LoadMeter, wait_quiet
from wkbench_workspace import Workspace

import ansible_run


class Bench(Workspace):
    """The measurements: every run's seconds in ``raw`` and its details in ``extra``, by name."""

    def __init__(self, args):
        super(Bench, self).__init__(args)
        self.raw = {}       # name -> list of seconds
        self.extra = {}     # name -> list of dicts (bytes, module timings...)
        self.errors = []
        self.discarded = []     # runs measured while other processes loaded the machine (re-run)

    # -- measurements ----------------------------------------------------------------------
    def record(self, name, seconds, **extra):
        self.raw.setdefault(name, []).append(round(seconds, 3))
        self.extra.setdefault(name, []).append(extra)

    def warm_up(self):
        log("warm-up: pg_dump -Fc -Z0 > /dev/null (fills the page cache for every variant)")
        self.bare_pg_dump(record=False)

    def bare_pg_dump(self, record=True):
        started = time.monotonic()
        with open(os.devnull, "wb") as null:
            run([self.pg_dump, "-Fc", "-Z0", DB], stdout=null, stderr=subprocess.PIPE, env=self.pg_env)
        seconds = time.monotonic() - started
        if record:
            self.record("pg_dump", seconds)
        return seconds

    def story(self):
        path = os.path.join(self.work, "story.dump")
        env = dict(os.environ, GNUPGHOME=self.story_home)
        try:
            started = time.monotonic()
            run([self.pg_dump, "--compress=9", "-Fc", "-f", path, DB], env=self.pg_env, capture_output=True)
            dumped = time.monotonic()
            run(["gpg", "--batch", "--symmetric", "--cipher-algo", "AES256", "--passphrase-file", self.passphrase_file,
                 "--pinentry-mode", "loopback", "--output", path + ".gpg", path], env=env, capture_output=True)
            done = time.monotonic()
            dump_bytes = os.path.getsize(path)
            size = os.path.getsize(path + ".gpg")
        finally:
            for name in (path, path + ".gpg"):
                if os.path.exists(name):
                    os.unlink(name)
        self.record("story", done - started, pg_dump_s=round(dumped - started, 3), gpg_s=round(done - dumped, 3),
                    dump_bytes=dump_bytes, bytes=size)
        return done - started

    def shell_pipeline(self, level=3, threads=0, name="shell"):
        """pg_dump -Fc -Z0 | zstd | gpg --encrypt > FILE with plain OS pipes: the module's work, minus the module."""
        path = os.path.join(self.work, "shell.pgdump.zst.gpg")
        procs = []
        try:
            started = time.monotonic()
            with open(path, "wb") as out:
                dump = subprocess.Popen([self.pg_dump, "-Fc", "-Z0", DB], stdout=subprocess.PIPE, env=self.pg_env)
                procs.append(dump)
                zstd = subprocess.Popen(["zstd", "-q", "-c", "-%d" % level, "-T%d" % threads], stdin=dump.stdout,
                                        stdout=subprocess.PIPE)
                procs.append(zstd)
                dump.stdout.close()
                gpg = subprocess.Popen(["gpg", "--homedir", self.keyhome, "--batch", "--no-tty", "--quiet",
                                        "--trust-model", "always", "--compress-algo", "none", "--cipher-algo", "AES256",
                                        "--encrypt", "--recipient", self.fpr, "--output", "-"],
                                       stdin=zstd.stdout, stdout=out)
                procs.append(gpg)
                zstd.stdout.close()
                codes = [p.wait() for p in procs]
            seconds = time.monotonic() - started
            if any(codes):
                raise RuntimeError("shell pipeline failed: exit codes %s" % codes)
            size = os.path.getsize(path)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if os.path.exists(path):
                os.unlink(path)
        self.record(name, seconds, bytes=size, level=level, threads=threads)
        return seconds

    def _module_args(self, dests, level=None, threads=0):
        args = {
            "job": "bench-pg",
            "source": {"type": "postgres", "database": DB, "login_host": self.cluster.host,
                       "login_port": self.cluster.port, "login_user": self.cluster.user,
                       "passfile": os.path.join(PG_DIR, "pgpass")},
            "encryption": {"mode": "public_key", "public_keys": [self.public_key]},
            "destinations": dests,
            "ops_state": os.path.join(self.work, "state"),
            "tmp_dir": os.path.join(self.work, "tmp"),
        }
        if level is not None:  # None: the module's default (level auto: chosen from the cores, threads 0)
            args["compression"] = {"level": level, "threads": threads}
        return args

    def module_backup(self, name, fanout=False, level=None, threads=0):
        run_dir = os.path.join(self.work, "dest-%s" % uuid.uuid4().hex[:8])
        os.makedirs(run_dir)
        os.makedirs(os.path.join(self.work, "tmp"), exist_ok=True)
        dests = [{"name": "local", "type": "local", "path": run_dir}]
        env = {}
        bucket = None
        if fanout:
            bucket = "wk-bench-%s" % uuid.uuid4().hex[:12]
            self.s3.create_bucket(Bucket=bucket)
            self.gcs_client.create_bucket(bucket)
            dests += [{"name": "s3", "type": "s3", "bucket": bucket, "endpoint_url": self.moto.info["endpoint"],
                       "region": "us-east-1"},
                      {"name": "gcs", "type": "gcs", "bucket": bucket, "endpoint_url": self.gcs.info["endpoint"],
                       "anonymous": True, "project": "wk-bench"}]
            env.update(S3_ENV)
        try:
            started = time.monotonic()
            result = ansible_run.run_module("watchkeeper.ops.backup", self._module_args(dests, level, threads), env=env,
                                            timeout=3600)
            seconds = time.monotonic() - started
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
            if bucket:
                self._drop_buckets(bucket)
        if result.failed or result.get("status") != "ok":
            msg = result.get("msg") or result.get("stderr", "")[-2000:]
            self.errors.append({"measurement": name, "msg": msg, "step": result.get("step"),
                                "destination": result.get("destination")})
            log("%s FAILED: %s" % (name, msg))
            self.record(name, seconds, failed=True, msg=msg)
            return seconds
        timings = result.get("timings") or {}
        sizes = result.get("sizes") or {}
        fingerprint = (result.get("manifest") or {}).get("fingerprint") or {}
        compression = (result.get("manifest") or {}).get("compression") or {}
        self.record(name, seconds, module_total_s=timings.get("total_s"), timings=timings,
                    fingerprint_content_s=(fingerprint.get("content") or {}).get("duration_s"),
                    fingerprint_sql_s=fingerprint.get("duration_s"), fingerprint_method=fingerprint.get("method"),
                    bytes=sizes.get("stored_bytes"), raw_bytes=sizes.get("raw_bytes"),
                    compressed_bytes=sizes.get("compressed_bytes"),
                    destinations={d["name"]: {"status": d["status"], "stored_bytes": d.get("stored_bytes")}
                                  for d in result.get("destinations", [])},
                    level=compression.get("level", level), level_requested=compression.get("level_requested", level),
                    threads=compression.get("threads", threads))
        return seconds

    def _drop_buckets(self, bucket):
        try:
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for obj in page.get("Contents", []):
                    self.s3.delete_object(Bucket=bucket, Key=obj["Key"])
            for up in self.s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
                self.s3.abort_multipart_upload(Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"])
            self.s3.delete_bucket(Bucket=bucket)
        except Exception as exc:  # pylint: disable=broad-except
            log("cleaning S3 bucket %s: %s" % (bucket, exc))
        try:
            self.gcs_client.bucket(bucket).delete(force=True)
        except Exception as exc:  # pylint: disable=broad-except
            log("cleaning GCS bucket %s: %s" % (bucket, exc))

    # -- the plan ----------------------------------------------------------------------------
    def plan(self):
        """(name, callable) of one round, in the order run; every round runs every item once."""
        items = [("pg_dump", self.bare_pg_dump), ("story", self.story),
                 ("backup", lambda: self.module_backup("backup")),
                 ("fanout3", lambda: self.module_backup("fanout3", fanout=True))]
        if not self.args.no_shell:
            items.append(("shell", self.shell_pipeline))
        for level in self.args.levels:
            for threads in self.args.threads:
                name = "backup_l%d_t%d" % (level, threads)
                items.append((name, lambda n=name, l=level, t=threads: self.module_backup(n, level=l, threads=t)))
                if self.args.variant_shell:
                    sname = "shell_l%d_t%d" % (level, threads)
                    items.append((sname, lambda n=sname, l=level, t=threads: self.shell_pipeline(l, t, n)))
        return items

    def quiet(self):
        """Wait (bounded) until other processes leave the machine idle; returns the wait facts."""
        if self.args.quiet_wait <= 0:
            return {}
        waited, busy, reached = wait_quiet(self.args.quiet_wait, self.args.quiet_threshold)
        if not reached:
            log("machine still %.0f%% busy after %.0fs: measuring anyway (the run records the foreign load)"
                % (busy, waited))
        return {"quiet_wait_s": round(waited, 1), "quiet_reached": reached}

    def measure_one(self, name, fn, label):
        attempts = 0
        while True:
            waited = self.quiet()
            log("%s: %s ..." % (label, name))
            meter = LoadMeter(self.ours).start()
            seconds = fn()
            load = meter.stop()
            extra = self.extra[name][-1]
            extra.update(waited, load=load)
            log("%s: %s %.2fs%s%s; machine busy %.0f%%, not the bench %.0f%%" % (
                label, name, seconds, (" %d bytes" % extra["bytes"]) if extra.get("bytes") else "",
                (" (module total_s %.2f)" % extra["module_total_s"]) if extra.get("module_total_s") else "",
                load["machine_busy_pct"], load["foreign_pct"]))
            if load["foreign_pct"] > self.args.max_foreign and attempts < self.args.retries:
                attempts += 1
                entry = dict(self.extra[name].pop(), measurement=name, seconds=self.raw[name].pop())
                self.discarded.append(entry)
                log("%s: other processes used %.0f%% of the machine during %s: discarded, measuring again (%d/%d)"
                    % (label, load["foreign_pct"], name, attempts, self.args.retries))
                continue
            return seconds

    def measure(self):
        self.quiet()
        self.warm_up()
        items = self.plan()
        for index in range(self.args.runs):
            for name, fn in items:
                self.measure_one(name, fn, "round %d/%d" % (index + 1, self.args.runs))

    def profile(self):
        """One extra pass per variant with CPU sampling (not part of the medians)."""
        out = {}
        todo = [("pg_dump", lambda: self.bare_pg_dump(record=False)),
                ("backup", lambda: self._unrecorded(lambda: self.module_backup("_profile_backup"))),
                ("fanout3", lambda: self._unrecorded(lambda: self.module_backup("_profile_fanout3", fanout=True)))]
        if not self.args.no_shell:
            todo.append(("shell", lambda: self._unrecorded(lambda: self.shell_pipeline(name="_profile_shell"))))
        for name, fn in todo:
            self.quiet()
            log("profile: %s with /proc sampling" % name)
            sampler = CpuSampler(self.ours)
            sampler.start()
            try:
                fn()
            finally:
                out[name] = sampler.stop()
            log("profile %s: %s" % (name, ", ".join("%s %.1fs (%.0f%%)" % (s["stage"], s["cpu_s"], s["pct_of_one_core"])
                                                    for s in out[name]["stages"][:6])))
        return out

    def codec_scan(self):
        """Compression alone, on one dump file: zstd at each --scan-levels (and each --threads given),
        and gzip -9 (about what pg_dump --compress=9 does), for the bytes/CPU trade-off."""
        path = os.path.join(self.work, "scan.pgdump")
        out = {"raw_bytes": None, "rows": []}
        try:
            run([self.pg_dump, "-Fc", "-Z0", "-f", path, DB], env=self.pg_env, capture_output=True)
            out["raw_bytes"] = os.path.getsize(path)
            with open(path, "rb") as handle:  # into the page cache
                while handle.read(16 * 1024 * 1024):
                    pass
            threads = self.args.threads or [0]
            jobs = [("zstd -%d -T%d" % (lvl, thr), ["zstd", "-q", "-c", "-%d" % lvl, "-T%d" % thr, path])
                    for lvl in self.args.scan_levels for thr in threads]
            jobs.append(("gzip -9", ["gzip", "-9", "-c", path]))
            for label, argv in jobs:
                self.quiet()
                target = path + ".out"
                meter = LoadMeter(self.ours).start()
                usage0 = os.times()
                started = time.monotonic()
                with open(target, "wb") as handle:
                    run(argv, stdout=handle)
                seconds = time.monotonic() - started
                usage1 = os.times()
                load = meter.stop()
                size = os.path.getsize(target)
                os.unlink(target)
                cpu = (usage1.children_user - usage0.children_user) + (usage1.children_system - usage0.children_system)
                row = {"codec": label, "seconds": round(seconds, 2), "cpu_s": round(cpu, 2), "bytes": size,
                       "ratio": round(out["raw_bytes"] / float(size), 2),
                       "raw_mb_per_cpu_s": round(out["raw_bytes"] / 1e6 / cpu, 1) if cpu else None,
                       "foreign_pct": load["foreign_pct"]}
                out["rows"].append(row)
                log("codec scan: %-14s %6.2fs wall %6.2fs cpu %13s bytes (x%.2f), not the bench %.0f%%"
                    % (label, seconds, cpu, "{:,}".format(size), row["ratio"], load["foreign_pct"]))
        finally:
            for name in (path, path + ".out"):
                if os.path.exists(name):
                    os.unlink(name)
        return out

    def _unrecorded(self, fn):
        before = set(self.raw)
        fn()
        for key in set(self.raw) - before:
            if key.startswith("_profile"):
                self.raw.pop(key, None)
                self.extra.pop(key, None)
