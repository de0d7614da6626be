"""GnuPG preparation with real gpg: recipients, refusal of private keys, passphrases, cleanup."""

import os
import subprocess

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils import crypto
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import CryptoError
from ansible_collections.watchkeeper.ops.plugins.module_utils.pipeline import ProcessProducer, run_stream
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.local import LocalStorage


def encrypt(tmp_path, plan, data=b"secret payload " * 1000):
    src = tmp_path / "plain"
    src.write_bytes(data)
    storage = LocalStorage({"name": "l", "path": str(tmp_path)})
    writer = storage.open_writer("out.gpg")
    result = run_stream(ProcessProducer("cat", ["cat", str(src)]), [plan.make_stage()], {"l": writer})
    writer.commit(result.stored_bytes, result.sha256)
    return str(tmp_path / "out.gpg"), data


def gpg_decrypt(path, home=None, passphrase_file=None):
    argv = ["gpg", "--batch", "--no-tty", "--quiet", "--pinentry-mode", "loopback"]
    if home:
        argv += ["--homedir", home]
    if passphrase_file:
        argv += ["--passphrase-file", passphrase_file]
    return subprocess.run(argv + ["--decrypt", path], capture_output=True, check=False)


def test_public_key_mode_encrypts_for_the_recipient_only(tmp_path, gpg_keys):
    plan = crypto.prepare_encryption({"mode": "public_key", "public_keys": [gpg_keys["public_key"]]}, str(tmp_path))
    home = plan.home
    assert [r["fingerprint"] for r in plan.facts["recipients"]] == [gpg_keys["fingerprint"]]
    out, data = encrypt(tmp_path, plan)
    plan.cleanup()
    assert not os.path.exists(home)
    assert gpg_decrypt(out, home=gpg_keys["private_home"]).stdout == data
    empty = tmp_path / "empty-home"
    empty.mkdir(mode=0o700)
    assert gpg_decrypt(out, home=str(empty)).returncode != 0


def test_inline_armored_key_is_accepted(tmp_path, gpg_keys):
    armored = open(gpg_keys["public_key"]).read()
    plan = crypto.prepare_encryption({"public_keys": [armored]}, str(tmp_path))
    assert plan.facts["recipients"][0]["fingerprint"] == gpg_keys["fingerprint"]
    plan.cleanup()


def test_a_private_key_is_refused(tmp_path, gpg_keys):
    secret = tmp_path / "secret.asc"
    secret.write_bytes(subprocess.run(["gpg", "--homedir", gpg_keys["private_home"], "--batch", "--pinentry-mode", "loopback",
                                       "--passphrase", "", "--armor", "--export-secret-keys"], capture_output=True, check=True).stdout)
    with pytest.raises(CryptoError, match="PRIVATE key"):
        crypto.prepare_encryption({"public_keys": [str(secret)]}, str(tmp_path))
    assert not [d for d in os.listdir(tmp_path) if d.startswith("wk-gpg-")]


@pytest.mark.parametrize("spec,message", [
    ({"mode": "public_key", "public_keys": []}, "at least one"),
    ({"mode": "public_key", "public_keys": ["/nonexistent.asc"]}, "cannot read public key file"),
    ({"mode": "symmetric"}, "needs passphrase_file"),
    ({"mode": "symmetric", "passphrase_file": "/nonexistent"}, "cannot read passphrase_file"),
    ({"mode": "rot13"}, "unknown encryption mode"),
])
def test_bad_encryption_options(tmp_path, spec, message):
    with pytest.raises(CryptoError, match=message):
        crypto.prepare_encryption(spec, str(tmp_path))


def test_garbage_key_file_and_unknown_recipient(tmp_path, gpg_keys):
    junk = tmp_path / "junk.asc"
    junk.write_text("not a key")
    with pytest.raises(CryptoError, match="no OpenPGP public key"):
        crypto.prepare_encryption({"public_keys": [str(junk)]}, str(tmp_path))
    with pytest.raises(CryptoError, match="not among the imported"):
        crypto.prepare_encryption({"public_keys": [gpg_keys["public_key"]], "recipients": ["DEADBEEF"]}, str(tmp_path))


def test_symmetric_with_passphrase_file(tmp_path, gpg_keys):
    plan = crypto.prepare_encryption({"mode": "symmetric", "passphrase_file": gpg_keys["passphrase_file"]}, str(tmp_path))
    stage = plan.make_stage()
    assert gpg_keys["passphrase_file"] in stage.argv
    assert open(gpg_keys["passphrase_file"]).read().strip() not in " ".join(stage.argv)
    out, data = encrypt(tmp_path, plan)
    plan.cleanup()
    assert gpg_decrypt(out, passphrase_file=gpg_keys["passphrase_file"]).stdout == data
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase\n")
    assert gpg_decrypt(out, passphrase_file=str(wrong)).returncode != 0


def test_symmetric_inline_passphrase_goes_through_a_pipe(tmp_path):
    plan = crypto.prepare_encryption({"mode": "symmetric", "passphrase": "inline-Passphrase-42"}, str(tmp_path))
    stage = plan.make_stage()
    assert "inline-Passphrase-42" not in " ".join(stage.argv) and "--passphrase-fd" in stage.argv
    for fd in stage.pass_fds:
        os.close(fd)
    out, data = encrypt(tmp_path, plan)
    plan.cleanup()
    pfile = tmp_path / "p"
    pfile.write_text("inline-Passphrase-42\n")
    assert gpg_decrypt(out, passphrase_file=str(pfile)).stdout == data
    assert "inline-Passphrase-42" in plan.secrets


def test_mode_none_has_no_stage(tmp_path):
    plan = crypto.prepare_encryption({"mode": "none"}, str(tmp_path))
    assert plan.make_stage() is None and plan.facts == {"mode": "none"}
