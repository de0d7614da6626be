"""Checkpoint signatures: HMAC key files and real GnuPG detached signatures; unknown and bad keys are named."""

import os
import subprocess

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import sign
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.verify import verify
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError

from trailkit import KEY, OTHER_KEY, Trail, build  # pylint: disable=import-error

DATA = b'{"chain":"c","seq":5}\n'


def gpg_home(tmp_path, name):
    home = str(tmp_path / name)
    os.makedirs(home, mode=0o700)
    subprocess.run(["gpg", "--homedir", home, "--batch", "--passphrase", "", "--quick-gen-key",
                    "%s <%s@example.invalid>" % (name, name), "ed25519", "sign", "never"], check=True, capture_output=True)
    out = subprocess.run(["gpg", "--homedir", home, "--list-keys", "--with-colons"], check=True, capture_output=True, text=True).stdout
    return home, [line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:")][0]


def test_key_files(tmp_path):
    hex_file = tmp_path / "hex.key"
    hex_file.write_text(KEY.hex() + "\n")
    raw_file = tmp_path / "raw.key"
    raw_file.write_bytes(b"\x00\xff" * 16)
    assert sign.read_key_file(str(hex_file)) == KEY
    assert sign.read_key_file(str(raw_file)) == b"\x00\xff" * 16
    short = tmp_path / "short.key"
    short.write_text("abcd")
    with pytest.raises(ConfigError, match="at least 16"):
        sign.read_key_file(str(short))
    with pytest.raises(ConfigError, match="cannot read"):
        sign.read_key_file(str(tmp_path / "absent.key"))
    made = sign.create_key_file(str(tmp_path / "new.key"))
    assert oct(os.stat(made).st_mode & 0o777) == "0o600" and len(sign.read_key_file(made)) == 32
    with pytest.raises(OSError):
        sign.create_key_file(made)


def test_hmac_signatures():
    sig = sign.HmacSigner(KEY).sign(DATA)
    assert sign.Verifier([KEY]).check(DATA, ".sig", sig) is None
    assert "unknown key" in sign.Verifier([OTHER_KEY]).check(DATA, ".sig", sig)
    assert "bad HMAC" in sign.Verifier([KEY]).check(DATA + b" ", ".sig", sig)
    assert "malformed" in sign.Verifier([KEY]).check(DATA, ".sig", b"garbage")
    assert KEY.hex() not in sig.decode(), "a signature never holds its key"


def test_gpg_signatures(tmp_path):
    home, fpr = gpg_home(tmp_path, "signer")
    other_home, other_fpr = gpg_home(tmp_path, "intruder")
    sig = sign.GpgSigner(home, fpr).sign(DATA)
    assert b"BEGIN PGP SIGNATURE" in sig
    assert sign.Verifier(gpg_home=home).check(DATA, ".asc", sig) is None
    assert sign.Verifier(gpg_home=home, gpg_fingerprints=[fpr]).check(DATA, ".asc", sig) is None
    assert "unknown key" in sign.Verifier(gpg_home=home, gpg_fingerprints=[other_fpr]).check(DATA, ".asc", sig)
    assert "bad GnuPG" in sign.Verifier(gpg_home=home).check(DATA + b"x", ".asc", sig)
    intruder = sign.GpgSigner(other_home, other_fpr).sign(DATA)
    assert "unknown key" in sign.Verifier(gpg_home=home).check(DATA, ".asc", intruder)
    assert "no gpg_home" in sign.Verifier([KEY]).check(DATA, ".asc", sig)
    with pytest.raises(ConfigError, match="no GnuPG secret key"):
        sign.GpgSigner(home, "nobody@example.invalid")


def test_gpg_signed_trail_verifies(tmp_path):
    home, fpr = gpg_home(tmp_path, "signer")
    root = tmp_path / "spool"
    spool = build(root, sizes=(3,), tail=0)
    spool.open()
    spool.append({"event": "x"})
    assert spool.seal(sign.GpgSigner(home, fpr), "run_end") == "checkpoints/000000000004.json"
    spool.close()
    trail = Trail(root, spool)
    assert os.path.exists(trail.path("checkpoints/000000000004.json.asc"))
    result = verify(trail.storage, "", sign.Verifier([KEY], gpg_home=home))
    assert result["ok"], result["first_break"]
    assert not verify(trail.storage, "", sign.Verifier([KEY]))["ok"]
