# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets during a restore: the database password, the backup's passphrase and the S3 secret key never
appear in any process's command line, in our tools' environments, in the task result or in verbose
output; pg_restore gets a private password file (0600) that is gone afterwards, and so is the GnuPG home."""

import os
import uuid

from helpers import Background, assert_ok, backup_args, fill_database, local_dest, new_job, pg_source, run_module, s3_dest
from restore_helpers import restore_verify, verify_args
from secret_helpers import ProcSampler, assert_no_secret


def test_no_secret_leaks_while_restoring(pg, pg_db, tmp_path, moto, s3_bucket):
    fill_database(pg, pg_db, scale=2, json_rows=2000)
    passphrase = "Restore-Passphrase-%s" % uuid.uuid4().hex
    s3_secret = "wkS3Secret-%s" % uuid.uuid4().hex
    role, password = "wk_restorer_%s" % uuid.uuid4().hex[:8], "Pg-Restore-%s" % uuid.uuid4().hex
    pg.psql("CREATE ROLE %s LOGIN SUPERUSER PASSWORD '%s'" % (role, password))
    try:
        job = new_job("secrets")
        dest = s3_dest(moto, s3_bucket[0], secret_key=s3_secret)
        enc = {"mode": "symmetric", "passphrase": passphrase}
        assert_ok(run_module("watchkeeper.ops.backup", backup_args(job, pg_source(pg, pg_db), [dest], enc, tmp_path / "s")))
        args = verify_args(job, [local_dest(tmp_path / "empty"), dest], tmp_path / "s", decryption={"passphrase": passphrase},
                           server={"login_host": pg.host, "login_port": pg.port, "login_user": role, "login_password": password})
        secrets = [passphrase, s3_secret, password]
        sampler = ProcSampler(secrets)
        sampler.start()
        try:
            run = Background(restore_verify, args, env={"ANSIBLE_VERBOSITY": "3"})
            run.start()
            result = assert_ok(run.result(900))
        finally:
            sampler.stop.set()
            sampler.join(30)
        assert sampler.leaks == []
        assert {"pg_restore", "gpg", "zstd"} <= sampler.seen, sampler.seen
        assert sampler.passfiles and all(mode in (0o600, None) for mode in sampler.passfiles.values())
        assert not any(os.path.exists(path) for path in sampler.passfiles)
        assert sampler.homedirs and not any(os.path.exists(home) for home in sampler.homedirs)
        assert_no_secret(result, secrets)
    finally:
        pg.psql("DROP ROLE IF EXISTS %s" % role, check=False)
