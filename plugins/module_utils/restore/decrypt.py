# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decryption for restores: private keys or a passphrase, in a private ``GNUPGHOME`` per run.

* ``private_keys`` (files or armored text) are imported into a throwaway home that is removed at
  the end; the host's keyrings are never read or changed. A protected key's passphrase comes from
  ``private_key_passphrase_file`` (gpg reads the file itself; the passphrase never reaches argv).
* Symmetric backups: ``passphrase_file`` (recommended) or ``passphrase`` (through an inherited pipe).
* Before anything is downloaded, ``check_backup`` compares the manifest's recipients with the
  imported keys, so a wrong key fails at once, naming both sides.
* ``public_key_sources`` exports the public halves, so a safety backup taken before a forced
  restore can be encrypted for the same people without asking for their public keys again.
"""

import os
import shutil
import subprocess
import tempfile

from ansible_collections.watchkeeper.ops.plugins.module_utils.crypto import HAS_GNUPG, gpg_version, key_label, read_key_source
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import CryptoError

try:
    import gnupg
except ImportError:
    pass


class DecryptionPlan(object):
    """Keys and passphrases for ``gpg --decrypt``; ``argv()`` builds one gpg command per object."""

    def __init__(self, spec, tmp_dir=None):
        spec = spec or {}
        self.gpg_path = spec.get("gpg_path") or "gpg"
        self.key_sources = spec.get("private_keys") or []
        self.key_passphrase_file = spec.get("private_key_passphrase_file")
        self.passphrase_file = spec.get("passphrase_file")
        self.passphrase = spec.get("passphrase")
        self.secrets = [self.passphrase] if self.passphrase else []
        self.home = None
        self.fingerprints = []  # primary and subkey fingerprints of the imported secret keys
        self.primary = []
        self.tmp_dir = tmp_dir
        if self.passphrase_file and self.passphrase:
            raise CryptoError("give either passphrase_file or passphrase, not both", step="decryption")
        for path in (self.key_passphrase_file, self.passphrase_file):
            if path:
                _read_secret_file(path)

    def prepare(self):
        """Create the private home and import the private keys (only when some are given)."""
        if self.home is not None:
            return self
        if gpg_version(self.gpg_path) is None:
            raise CryptoError("cannot run %s" % self.gpg_path, step="decryption", hint="install the Debian package 'gnupg'")
        self.home = tempfile.mkdtemp(prefix="wk-gpg-", dir=self.tmp_dir)
        os.chmod(self.home, 0o700)
        if self.key_sources:
            self._import_keys()
        return self

    def _import_keys(self):
        if not HAS_GNUPG:
            raise CryptoError("the Python library python-gnupg is required to import private keys", step="decryption",
                              hint="pip install python-gnupg, or apt install python3-gnupg")
        gpg = gnupg.GPG(gpgbinary=self.gpg_path, gnupghome=self.home)
        for source in self.key_sources:
            res = gpg.import_keys(read_key_source(source, "private key", "decryption"))
            if not res.fingerprints:
                raise CryptoError("no OpenPGP key found in %s" % key_label(source), step="decryption")
        secret = gpg.list_keys(secret=True)
        if not secret:
            raise CryptoError("private_keys holds only PUBLIC keys; restores need the private key "
                              "(gpg --armor --export-secret-keys FINGERPRINT)", step="decryption")
        for key in secret:
            self.primary.append(key["fingerprint"])
            self.fingerprints.append(key["fingerprint"])
            for sub in key.get("subkeys", []):
                if len(sub) > 2 and sub[2]:
                    self.fingerprints.append(sub[2])

    def check_backup(self, encryption):
        """Fail before downloading when this plan cannot decrypt a backup with ``encryption`` facts."""
        mode = (encryption or {}).get("mode", "none")
        if mode == "none":
            return
        if mode == "symmetric":
            if not (self.passphrase_file or self.passphrase):
                raise CryptoError("the backup is encrypted with a passphrase; give decryption.passphrase_file",
                                  step="decryption")
            return
        if not self.key_sources:
            raise CryptoError("the backup is encrypted for %s; give the matching private key in decryption.private_keys"
                              % _names(encryption), step="decryption")
        wanted = [r.get("fingerprint", "").upper() for r in encryption.get("recipients", [])]
        if wanted and not any(w in self.fingerprints for w in wanted):
            raise CryptoError("the backup is encrypted for %s, but decryption.private_keys holds %s"
                              % (_names(encryption), ", ".join(self.primary) or "no key"), step="decryption",
                              hint="give the private key of one of the backup's recipients")

    def argv(self):
        """``(argv, pass_fds)`` of one ``gpg --decrypt`` reading stdin, writing stdout."""
        self.prepare()
        argv = [self.gpg_path, "--homedir", self.home, "--batch", "--no-tty", "--quiet", "--no-greeting",
                "--pinentry-mode", "loopback", "--output", "-"]
        pass_fds = ()
        if self.passphrase_file:
            argv += ["--passphrase-file", self.passphrase_file]
        elif self.passphrase:
            read_fd, write_fd = os.pipe()
            os.write(write_fd, self.passphrase.encode("utf-8") + b"\n")
            os.close(write_fd)
            argv += ["--passphrase-fd", str(read_fd)]
            pass_fds = (read_fd,)
        elif self.key_passphrase_file:
            argv += ["--passphrase-file", self.key_passphrase_file]
        argv += ["--decrypt"]
        return argv, pass_fds

    def env(self):
        env = dict(os.environ)
        env["GNUPGHOME"] = self.home or ""
        env.pop("GPG_AGENT_INFO", None)
        return env

    def public_key_sources(self):
        """Armored public keys of the imported private keys (for a safety backup)."""
        self.prepare()
        out = subprocess.run([self.gpg_path, "--homedir", self.home, "--batch", "--armor", "--export"] + self.primary,
                             capture_output=True, env=self.env(), check=False)
        if out.returncode != 0 or not out.stdout:
            raise CryptoError("cannot export the public keys of private_keys: %s" % out.stderr.decode("utf-8", "replace"),
                              step="decryption")
        return [out.stdout.decode("ascii")]

    def cleanup(self):
        if self.home and os.path.isdir(self.home):
            subprocess.run(["gpgconf", "--homedir", self.home, "--kill", "all"], capture_output=True, check=False)
            shutil.rmtree(self.home, ignore_errors=True)
        self.home = None


def explain_gpg_failure(stderr):
    """A hint for the usual gpg failures (stderr text already redacted)."""
    text = stderr.lower()
    if "no secret key" in text:
        return "the private key of the backup's recipient is not in decryption.private_keys"
    if "bad passphrase" in text or "bad session key" in text or "bad key" in text:
        return "wrong passphrase (decryption.passphrase_file or private_key_passphrase_file)"
    if "invalid packet" in text or "mdc" in text or "integrity" in text or "unexpected eof" in text:
        return "the stored object is damaged or truncated"
    return None


def _names(encryption):
    out = []
    for rec in encryption.get("recipients", []):
        uids = rec.get("uids") or []
        out.append("%s (%s)" % (rec.get("fingerprint"), uids[0]) if uids else rec.get("fingerprint"))
    return ", ".join(out) or "unknown recipients"


def _read_secret_file(path):
    try:
        with open(path, "rb") as handle:
            content = handle.read().strip()
    except OSError as exc:
        raise CryptoError("cannot read %s: %s" % (path, exc.strerror), step="decryption")
    if not content:
        raise CryptoError("%s is empty" % path, step="decryption")
