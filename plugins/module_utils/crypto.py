# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GnuPG for the stream: recipients, passphrases and the ``gpg`` stage.

* Keys are imported with python-gnupg into a private, throwaway ``GNUPGHOME`` per run, so the
  host's keyrings are never read or changed and nothing is left behind.
* ``public_key`` mode (recommended): the run holds only public keys. A key file that also
  carries a *secret* key is refused, so a backup host can never end up able to read backups.
* ``symmetric`` mode: the passphrase reaches gpg through ``--passphrase-file`` (a path the user
  gave) or an inherited pipe (``--passphrase-fd``); it never appears in argv, results or logs.
* The stream is already zstd-compressed, so gpg runs with ``--compress-algo none``.
"""

import os
import shutil
import subprocess
import tempfile

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import CryptoError
from ansible_collections.watchkeeper.ops.plugins.module_utils.pipeline import Stage

try:
    import gnupg
    HAS_GNUPG = True
except ImportError:
    HAS_GNUPG = False

MODES = ("public_key", "symmetric", "none")
ARMOR_HEADER = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
# Any armored block is key *text*, never a path: a pasted private key must reach the secret-key
# check below (and be refused), not an error message that would print it.
ARMOR_ANY = "-----BEGIN PGP "
PRIVATE_ARMOR = "-----BEGIN PGP PRIVATE KEY BLOCK-----"


def gpg_version(gpg_path="gpg"):
    try:
        out = subprocess.run([gpg_path, "--version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return None
    first = out.splitlines()[0] if out else ""
    return first.split()[-1] if first else None


class EncryptionPlan(object):
    """What the stream needs for encryption: an optional ``stage`` and the manifest ``facts``."""

    def __init__(self, mode, facts, home=None, gpg_path="gpg"):
        self.mode = mode
        self.facts = facts
        self.home = home
        self.gpg_path = gpg_path
        self.secrets = []
        self._args = None
        self._passphrase = None
        self._passphrase_file = None

    def make_stage(self):
        """A fresh gpg ``Stage`` (one per stream: a passphrase pipe can be read only once)."""
        if self.mode == "none":
            return None
        argv = [self.gpg_path, "--homedir", self.home, "--batch", "--no-tty", "--quiet", "--no-greeting",
                "--compress-algo", "none", "--cipher-algo", self.facts["cipher"], "--output", "-"]
        pass_fds = ()
        if self.mode == "public_key":
            argv += ["--trust-model", "always", "--encrypt"]
            for recipient in self.facts["recipients"]:
                argv += ["--recipient", recipient["fingerprint"]]
        else:
            argv += ["--pinentry-mode", "loopback", "--s2k-digest-algo", "SHA512", "--s2k-count", "65011712"]
            if self._passphrase_file:
                argv += ["--passphrase-file", self._passphrase_file]
            else:
                read_fd, write_fd = os.pipe()
                os.write(write_fd, self._passphrase.encode("utf-8") + b"\n")
                os.close(write_fd)
                argv += ["--passphrase-fd", str(read_fd)]
                pass_fds = (read_fd,)
            argv += ["--symmetric"]
        return Stage("gpg", argv, env=_gpg_env(self.home), pass_fds=pass_fds)

    def cleanup(self):
        if self.home and os.path.isdir(self.home):
            subprocess.run(["gpgconf", "--homedir", self.home, "--kill", "all"], capture_output=True, check=False)
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None


def _gpg_env(home):
    env = dict(os.environ)
    env["GNUPGHOME"] = home
    env.pop("GPG_AGENT_INFO", None)
    return env


def prepare_encryption(spec, tmp_dir=None):
    """Validate the ``encryption`` options and return an ``EncryptionPlan``.

    ``spec``: mode, public_keys (files or armored text), recipients (optional fingerprints to
    select), passphrase_file, passphrase, cipher, gpg_path.
    """
    spec = spec or {}
    mode = spec.get("mode") or "public_key"
    if mode not in MODES:
        raise CryptoError("unknown encryption mode %r (expected %s)" % (mode, ", ".join(MODES)), step="encryption")
    gpg_path = spec.get("gpg_path") or "gpg"
    cipher = spec.get("cipher") or "AES256"
    if mode == "none":
        return EncryptionPlan("none", {"mode": "none"})
    version = gpg_version(gpg_path)
    if version is None:
        raise CryptoError("cannot run %s" % gpg_path, step="encryption", hint="install the Debian package 'gnupg'")
    home = tempfile.mkdtemp(prefix="wk-gpg-", dir=tmp_dir)
    os.chmod(home, 0o700)
    facts = {"mode": mode, "tool": "gnupg", "tool_version": version, "cipher": cipher}
    plan = EncryptionPlan(mode, facts, home=home, gpg_path=gpg_path)
    try:
        if mode == "public_key":
            facts["recipients"] = _import_recipients(spec, home, gpg_path)
        else:
            _symmetric(spec, plan)
            facts["recipients"] = []
    except Exception:
        plan.cleanup()
        raise
    return plan


def _symmetric(spec, plan):
    passphrase_file = spec.get("passphrase_file")
    passphrase = spec.get("passphrase")
    if passphrase_file and passphrase:
        raise CryptoError("give either passphrase_file or passphrase, not both", step="encryption")
    if passphrase_file:
        try:
            with open(passphrase_file, "rb") as handle:
                content = handle.read().strip()
        except OSError as exc:
            raise CryptoError("cannot read passphrase_file %s: %s" % (passphrase_file, exc.strerror), step="encryption")
        if not content:
            raise CryptoError("passphrase_file %s is empty" % passphrase_file, step="encryption")
        plan._passphrase_file = passphrase_file
        plan.secrets.append(content.decode("utf-8", "replace"))
    elif passphrase:
        plan._passphrase = passphrase
        plan.secrets.append(passphrase)
    else:
        raise CryptoError("symmetric encryption needs passphrase_file (recommended) or passphrase", step="encryption")


def _import_recipients(spec, home, gpg_path):
    if not HAS_GNUPG:
        raise CryptoError("the Python library python-gnupg is required for public-key encryption", step="encryption",
                          hint="pip install python-gnupg, or apt install python3-gnupg")
    sources = spec.get("public_keys") or []
    if not sources:
        raise CryptoError("public_key encryption needs at least one entry in public_keys", step="encryption",
                          hint="export the recipient's public key with 'gpg --armor --export FINGERPRINT'")
    gpg = gnupg.GPG(gpgbinary=gpg_path, gnupghome=home)
    imported = []
    for source in sources:
        text = read_key_source(source)
        # Refused before the import as well: gpg imports a secret key's secret part through gpg-agent, and when the
        # agent cannot start (a loaded or locked-down host) only the public part lands and the check below sees none.
        if PRIVATE_ARMOR in (text.decode("latin-1") if isinstance(text, bytes) else str(text)):
            raise CryptoError("%s contains a PRIVATE key; give only public keys (gpg --armor --export FINGERPRINT) "
                              "so backup hosts cannot read backups" % key_label(source), step="encryption")
        res = gpg.import_keys(text)
        if not res.fingerprints:
            raise CryptoError("no OpenPGP public key found in %s" % key_label(source), step="encryption")
        imported.extend(res.fingerprints)
    if gpg.list_keys(secret=True):
        raise CryptoError("a key in public_keys contains a PRIVATE key; give only public keys "
                          "(gpg --armor --export FINGERPRINT) so backup hosts cannot read backups", step="encryption")
    keys = {k["fingerprint"]: k for k in gpg.list_keys()}
    wanted = [r.upper().replace(" ", "") for r in (spec.get("recipients") or [])]
    selected = []
    if wanted:
        for want in wanted:
            match = [fpr for fpr in keys if fpr.endswith(want)]
            if not match:
                raise CryptoError("recipient %s is not among the imported public keys" % want, step="encryption")
            selected.extend(m for m in match if m not in selected)
    else:
        selected = list(keys)
    recipients = []
    for fpr in selected:
        key = keys[fpr]
        caps = key.get("cap", "")
        if "E" not in caps or key.get("trust") in ("e", "r", "d"):
            raise CryptoError("key %s (%s) cannot encrypt: it has no usable encryption subkey (expired or revoked?)"
                              % (fpr, ", ".join(key.get("uids", []))), step="encryption")
        recipients.append({"fingerprint": fpr, "uids": key.get("uids", []), "expires": key.get("expires") or None})
    return recipients


def read_key_source(source, what="public key", step="encryption"):
    """Key text from armored text given inline, or from a file."""
    if source.lstrip().startswith(ARMOR_ANY):
        return source
    try:
        with open(source, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CryptoError("cannot read %s file %s: %s" % (what, source, exc.strerror), step=step)


def key_label(source):
    """How to name a key source in messages without printing key text."""
    return "an inline key" if source.lstrip().startswith(ARMOR_ANY) else source
