"""What one ``backup_pg`` run stands on, set up before and removed after the measurements: the cached
PostgreSQL cluster (started, and its database built or reused), a work directory ``.wk/bench/run-<pid>-*``,
a throwaway GnuPG key pair and passphrase file, and the moto S3 server and GCS emulator on loopback."""

import os
import tempfile
import uuid

from wkbench_env import BENCH_DIR, DB, PG_DIR, code_state, log, run  # first: it sets sys.path for the next two
from wkbench_db import build_database, database_ready
from wkbench_procs import kill_gpg_agents, record_services, remove_stale_workdirs, remove_workdir
from wkbench_profile import Ours

import wk_services
from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.postgres import find_tool


class Workspace(object):
    def __init__(self, args):
        self.args = args
        self.cluster = None
        self.moto = None
        self.gcs = None
        self.work = None
        self.gpg_homes = []
        self.ours = Ours()

    # -- setup -----------------------------------------------------------------------------
    def setup(self):
        self.code_before = code_state()
        os.makedirs(BENCH_DIR, exist_ok=True)
        remove_stale_workdirs()
        self.work = tempfile.mkdtemp(prefix="run-%d-" % os.getpid(), dir=BENCH_DIR)
        os.chmod(self.work, 0o755)
        log("work dir %s" % self.work)
        self.cluster = wk_services.start_postgres(PG_DIR)
        log("PostgreSQL %s on 127.0.0.1:%d (cluster %s)" % (
            self.cluster.psql("SHOW server_version"), self.cluster.port, PG_DIR))
        ready, why = database_ready(self.cluster)
        self.build_s = None
        if self.args.rebuild or not ready:
            if not ready:
                log("database %s: %s -> building" % (DB, why))
            self.build_s = build_database(self.cluster, self.args.scale, self.args.events, len(os.sched_getaffinity(0)))
        else:
            log("reusing cached database %s (%s)" % (DB, why))
        major = int(self.cluster.psql("SELECT current_setting('server_version_num')::int / 10000"))
        self.pg_dump, self.pg_dump_version = find_tool("pg_dump", major)
        log("pg_dump the module picks: %s (%s)" % (self.pg_dump, self.pg_dump_version))
        self._make_keys()
        self.pg_env = self.cluster.env()
        with open(os.path.join(self.cluster.datadir, "postmaster.pid")) as handle:
            self.ours = Ours(int(handle.readline().strip()), marker=self.work)

    def _gpg(self, home, *argv, **kwargs):
        return run(["gpg", "--homedir", home, "--batch", "--no-tty", "--pinentry-mode", "loopback"] + list(argv),
                   capture_output=True, **kwargs)

    def _make_keys(self):
        """A throwaway key pair (private key only in keyhome) and a passphrase file for the story."""
        self.keyhome = os.path.join(self.work, "gpg-private")
        os.makedirs(self.keyhome, mode=0o700)
        self.gpg_homes.append(self.keyhome)
        self._gpg(self.keyhome, "--passphrase", "", "--quick-gen-key", "WK Bench <wk-bench@example.invalid>",
                  "ed25519", "cert", "never")
        out = self._gpg(self.keyhome, "--list-keys", "--with-colons").stdout.decode()
        self.fpr = [line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:")][0]
        self._gpg(self.keyhome, "--passphrase", "", "--quick-add-key", self.fpr, "cv25519", "encr", "never")
        self.public_key = os.path.join(self.work, "backup-public.asc")
        with open(self.public_key, "wb") as handle:
            handle.write(self._gpg(self.keyhome, "--armor", "--export", self.fpr).stdout)
        self.passphrase_file = os.path.join(self.work, "story.pass")
        with open(self.passphrase_file, "w") as handle:
            handle.write("story passphrase %s\n" % uuid.uuid4().hex)
        os.chmod(self.passphrase_file, 0o600)
        self.story_home = os.path.join(self.work, "gpg-story")
        os.makedirs(self.story_home, mode=0o700)
        self.gpg_homes.append(self.story_home)

    def start_object_stores(self):
        self.moto = wk_services.start_moto(os.path.join(self.work, "moto"))
        self.gcs = wk_services.start_gcs(os.path.join(self.work, "gcs"))
        import boto3
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage as gcs_storage
        self.s3 = boto3.client("s3", endpoint_url=self.moto.info["endpoint"], region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing-secret")
        self.gcs_client = gcs_storage.Client(project="wk-bench", credentials=AnonymousCredentials(),
                                             client_options={"api_endpoint": self.gcs.info["endpoint"]})
        log("moto S3 on %s, GCS emulator on %s" % (self.moto.info["endpoint"], self.gcs.info["endpoint"]))
        record_services(self.work, (self.moto, self.gcs))

    # -- teardown --------------------------------------------------------------------------
    def teardown(self):
        for service in (self.moto, self.gcs):
            if service is not None:
                try:
                    service.stop()
                except Exception as exc:  # pylint: disable=broad-except
                    log("stopping %s: %s" % (service.name, exc))
        kill_gpg_agents(self.gpg_homes)
        if self.work:
            remove_workdir(self.work)
        if self.cluster is not None:
            log("stopping the cached PostgreSQL cluster (data kept in %s)" % PG_DIR)
            self.cluster.stop()
