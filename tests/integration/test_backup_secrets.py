# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AC6: keys and secrets.

* public-key mode: the module's throwaway GNUPGHOME is gone after the run, the host keyrings are
  untouched, nothing the module had can decrypt (``gpg -d`` without the private home fails, with it
  succeeds), and a key file holding a private key is refused;
* symmetric mode restores with ``gpg --passphrase-file``; a wrong passphrase does not decrypt;
* no secret (login password, passphrase, S3 secret key) appears in the task result, in
  ``ansible-playbook -vvv`` output, or in any process's command line while a backup runs, and the
  children (pg_dump, gpg, zstd) have no PGPASSWORD in their environment.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import uuid

import pytest

from helpers import (
    SLOW_COMPRESSION, Background, Store, assert_failed, assert_ok, backup_args, decode, gpg_env, local_dest,
    new_job,
    pg_source, pg_tool, public_key_encryption, run_module, run_playbook, s3_dest, sh, tree_state)
from secret_helpers import ProcSampler, assert_no_secret


@pytest.fixture
def reader_role(pg, big_db):
    """A login role with a distinctive password that may read every table."""
    role = "wk_reader_%s" % uuid.uuid4().hex[:8]
    password = "Pg-Secret-%s" % uuid.uuid4().hex
    pg.psql("CREATE ROLE %s LOGIN PASSWORD '%s'; GRANT pg_read_all_data TO %s" % (role, password, role))
    yield role, password
    pg.psql("DROP ROLE IF EXISTS %s" % role, check=False)


@pytest.fixture
def host_keyring(gpg_keys):
    """A GNUPGHOME and HOME of the 'host' (what the module must never read or change).

    A short path of its own: gpg-agent's socket lives in the home, and a Unix socket path has ~108 bytes at most
    (pytest's tmp_path under pytest-xdist is too long)."""
    home = pathlib.Path(tempfile.mkdtemp(prefix="wk-hh-"))
    gnupg = home / ".gnupg"
    gnupg.mkdir(parents=True, mode=0o700)
    subprocess.run(["gpg", "--homedir", str(gnupg), "--batch", "--import", gpg_keys["public_key"]], check=True,
                   capture_output=True)
    subprocess.run(["gpgconf", "--homedir", str(gnupg), "--kill", "all"], check=False, capture_output=True)
    yield str(home), str(gnupg)
    subprocess.run(["gpgconf", "--homedir", str(gnupg), "--kill", "all"], check=False, capture_output=True)
    shutil.rmtree(str(home), ignore_errors=True)


def run_sampled(args, secrets, env=None):
    sampler = ProcSampler(secrets)
    sampler.start()
    try:
        result = Background(run_module, "watchkeeper.ops.backup", args, env=env)
        result.start()
        value = result.result(900)
    finally:
        sampler.stop.set()
        sampler.join(30)
    return value, sampler


@pytest.mark.parametrize("mode", ["public_key", "symmetric"])
def test_no_secret_in_the_process_table_and_no_key_left(mode, pg, big_db, reader_role, gpg_keys, host_keyring, tmp_path,
                                                        moto, s3_bucket, scratch):
    role, pg_password = reader_role
    s3_secret = "wkS3Secret-%s" % uuid.uuid4().hex
    passphrase = "Passphrase-%s" % uuid.uuid4().hex
    secrets = [pg_password, s3_secret] + ([passphrase] if mode == "symmetric" else [])
    host_home, host_gnupg = host_keyring
    keyring_before = tree_state(host_home)
    encryption = public_key_encryption(gpg_keys) if mode == "public_key" else {"mode": "symmetric", "passphrase": passphrase}
    dests = [local_dest(tmp_path / "nas"), s3_dest(moto, s3_bucket[0], secret_key=s3_secret)]
    args = backup_args(new_job("secret"), pg_source(pg, big_db, login_user=role, login_password=pg_password), dests,
                       encryption, tmp_path / "state", compression=SLOW_COMPRESSION, tmp_dir=scratch)
    result, sampler = run_sampled(args, secrets, env={"GNUPGHOME": host_gnupg, "HOME": host_home})
    assert_ok(result)
    assert {"pg_dump", "gpg", "zstd"} <= sampler.seen, (sampler.seen, sampler.rounds)
    assert sampler.leaks == []
    assert_no_secret(result, secrets)
    # The password reached pg_dump as a private file, which is gone now; so is the GnuPG home.
    assert sampler.passfiles and all(mode_ in (0o600, None) for mode_ in sampler.passfiles.values()), sampler.passfiles
    assert not any(os.path.exists(p) for p in sampler.passfiles), sampler.passfiles
    assert sampler.homedirs and host_gnupg not in sampler.homedirs
    assert not any(os.path.exists(h) for h in sampler.homedirs)
    assert os.listdir(scratch) == []
    assert tree_state(host_home) == keyring_before

    dump = result["manifest"]["objects"][0]
    enc = os.path.join(str(tmp_path / "nas"), dump["key"])
    if mode == "public_key":
        packets = sh("gpg --batch --list-packets '%s' 2>&1 || true" % enc, env=gpg_env(host_gnupg)).stdout
        assert "pubkey enc packet" in packets and "symkey enc packet" not in packets, packets
        # Neither an empty keyring nor the host's (public) keyring decrypts; the private home does.
        for home in (str(tmp_path / "empty-gnupg"), host_gnupg):
            os.makedirs(home, mode=0o700, exist_ok=True)
            failed = decode(enc, str(tmp_path / "nope"), gpg_home=home, check=False)
            assert failed.returncode != 0 and "No secret key" in failed.stderr, failed.stderr
        decode(enc, str(tmp_path / "dump"), gpg_home=gpg_keys["private_home"])
    else:
        with open(str(tmp_path / "pass"), "w") as handle:
            handle.write(passphrase + "\n")
        decode(enc, str(tmp_path / "dump"), passphrase_file=str(tmp_path / "pass"))
    assert os.path.getsize(str(tmp_path / "dump")) == dump["raw_bytes"]
    toc = subprocess.run([pg_tool(pg, "pg_restore"), "-l", str(tmp_path / "dump")], capture_output=True, text=True,
                         check=True)
    assert "TABLE DATA public blobs" in toc.stdout


@pytest.mark.parametrize("how", ["file", "inline", "bundle"])
def test_a_private_key_is_refused(how, gpg_keys, tmp_path, scratch):
    secret_key = subprocess.run(["gpg", "--homedir", gpg_keys["private_home"], "--batch", "--pinentry-mode", "loopback",
                                 "--passphrase", "", "--armor", "--export-secret-keys", gpg_keys["fingerprint"]],
                                check=True, capture_output=True, text=True).stdout
    assert "PRIVATE KEY BLOCK" in secret_key
    material = secret_key.splitlines()[3]  # a line of the armored secret key
    path = str(tmp_path / "key.asc")
    with open(path, "w") as handle:
        if how == "bundle":  # a public key file that also carries the secret key
            with open(gpg_keys["public_key"]) as public:
                handle.write(public.read())
        handle.write(secret_key)
    keys = [secret_key] if how == "inline" else [gpg_keys["public_key"], path]
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "a").write_text("a")
    result = assert_failed(run_module("watchkeeper.ops.backup", backup_args(
        new_job("privkey"), {"type": "files", "paths": [str(tmp_path / "tree")]}, [local_dest(tmp_path / "nas")],
        {"mode": "public_key", "public_keys": keys}, tmp_path / "state", tmp_dir=scratch)))
    assert "PRIVATE key" in result["msg"], result["msg"]
    assert result["step"] == "encryption"
    assert material not in result["stdout"] + result["stderr"]
    assert Store.local(tmp_path / "nas").listing() == {}
    assert os.listdir(scratch) == [], "the throwaway keyring holding the private key was left behind"


def test_symmetric_passphrase_file_restores_and_a_wrong_one_does_not(gpg_keys, tmp_path, scratch):
    tree = tmp_path / "tree"
    (tree / "d").mkdir(parents=True)
    (tree / "d" / "data.bin").write_bytes(os.urandom(300000))
    (tree / "notes.txt").write_text("symmetric backup\n")
    with open(gpg_keys["passphrase_file"]) as handle:
        passphrase = handle.read().strip()
    result = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        new_job("sym"), {"type": "files", "paths": [str(tree)]}, [local_dest(tmp_path / "nas")],
        {"mode": "symmetric", "passphrase_file": gpg_keys["passphrase_file"]}, tmp_path / "state", tmp_dir=scratch)))
    assert_no_secret(result, [passphrase])
    assert result["manifest"]["encryption"]["mode"] == "symmetric"
    tar_obj = result["manifest"]["objects"][0]
    enc = os.path.join(str(tmp_path / "nas"), tar_obj["key"])
    packets = sh("gpg --batch --list-packets '%s' 2>&1 || true" % enc).stdout
    assert "symkey enc packet" in packets and "pubkey enc packet" not in packets
    decode(enc, str(tmp_path / "out.tar"), passphrase_file=gpg_keys["passphrase_file"])
    (tmp_path / "restore").mkdir()
    sh("tar -x -C '%s' -f '%s'" % (tmp_path / "restore", tmp_path / "out.tar"))
    assert tree_state(str(tmp_path / "restore" / str(tree).lstrip("/"))) == tree_state(str(tree))
    wrong = tmp_path / "wrong-pass"
    wrong.write_text("not the passphrase\n")
    failed = decode(enc, str(tmp_path / "wrong.tar"), passphrase_file=str(wrong), check=False)
    assert failed.returncode != 0
    assert "decryption failed" in failed.stderr or "Bad session key" in failed.stderr, failed.stderr
    assert os.path.getsize(str(tmp_path / "wrong.tar")) == 0


def test_no_secret_in_verbose_ansible_output(pg, pg_db, reader_role, tmp_path, moto, s3_bucket, scratch):
    role, pg_password = reader_role
    s3_secret = "wkS3Secret-%s" % uuid.uuid4().hex
    passphrase = "Passphrase-%s" % uuid.uuid4().hex
    secrets = [pg_password, s3_secret, passphrase]
    pg.psql("CREATE TABLE t AS SELECT generate_series(1, 100) AS id", dbname=pg_db)
    dests = [local_dest(tmp_path / "nas"), s3_dest(moto, s3_bucket[0], secret_key=s3_secret)]
    ok = backup_args(new_job("vvv"), pg_source(pg, pg_db, login_user=role, login_password=pg_password), dests,
                     {"mode": "symmetric", "passphrase": passphrase}, tmp_path / "state", tmp_dir=scratch)
    conninfo = dict(ok, source={"type": "postgres", "conninfo": "host=%s port=%d dbname=%s user=%s password=%s" % (
        pg.host, pg.port, pg_db, role, pg_password)})
    bad_db = dict(ok, source=pg_source(pg, "no_such_db", login_user=role, login_password=pg_password))
    bad_bucket = dict(ok, destinations=[s3_dest(moto, "wk-missing-%s" % uuid.uuid4().hex[:8], secret_key=s3_secret)])
    tasks = [{"name": name, "watchkeeper.ops.backup": args, "register": "r_%s" % name, "ignore_errors": True}
             for name, args in (("ok", ok), ("conninfo", conninfo), ("bad_db", bad_db), ("bad_bucket", bad_bucket))]
    play = [{"hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": tasks}]
    path = str(tmp_path / "play.yml")
    with open(path, "w") as handle:
        json.dump(play, handle)
    code, data, stdout, stderr = run_playbook(path, args=["-vvv"])
    assert data is not None, stderr[-3000:]
    results = {t["task"]["name"]: t["hosts"]["localhost"] for t in data["plays"][0]["tasks"]}
    assert not results["ok"].get("failed") and not results["conninfo"].get("failed"), results
    assert results["bad_db"]["failed"] and "does not exist" in results["bad_db"]["msg"]
    assert results["bad_bucket"]["failed"] and "does not exist" in results["bad_bucket"]["msg"]
    assert "AnsiballZ_backup" in stdout + stderr  # -vvv really was verbose
    for secret in secrets:
        assert secret not in stdout, secret
        assert secret not in stderr, secret
