# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Signatures of checkpoints: an HMAC-SHA256 key file, or a GnuPG detached signature (python-gnupg).

A checkpoint ``<seq>.json`` gets a detached signature next to it: ``<seq>.json.sig`` (HMAC: canonical JSON
``{"alg": "hmac-sha256", "key_id": ..., "sig": <hex>}``) or ``<seq>.json.asc`` (GnuPG, ASCII armoured).
The key id of an HMAC key is the first 16 hex digits of SHA-256 over ``"watchkeeper-audit-key:" + key``:
it names the key without revealing it. A verifier knows a set of trusted keys (HMAC key files, a GnuPG
keyring with optional fingerprints); a checkpoint whose signature needs any other key is reported as
signed by an unknown key.
"""

import hashlib
import hmac
import json
import os
import tempfile

try:
    import gnupg
    HAS_GNUPG = True
except ImportError:
    HAS_GNUPG = False

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.record import canonical
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError

SIG_SUFFIXES = (".sig", ".asc")


def read_key_file(path):
    """The bytes of an HMAC key file (hex text or raw bytes, at least 16 bytes of key)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        raise ConfigError("cannot read the audit key file %s: %s" % (path, exc.strerror or exc), step="sign")
    text = raw.strip()
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = raw
    if len(key) < 16:
        raise ConfigError("the audit key file %s holds %d bytes of key; at least 16 are needed" % (path, len(key)), step="sign")
    return key


def key_id(key):
    return hashlib.sha256(b"watchkeeper-audit-key:" + key).hexdigest()[:16]


def create_key_file(path):
    """Create a new random HMAC key file (mode 0600) unless one exists; returns its path."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(os.urandom(32).hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path


class HmacSigner(object):
    suffix = ".sig"
    alg = "hmac-sha256"

    def __init__(self, key):
        self.key = key
        self.key_id = key_id(key)

    def sign(self, data):
        sig = hmac.new(self.key, data, hashlib.sha256).hexdigest()
        return canonical({"alg": self.alg, "key_id": self.key_id, "sig": sig}) + b"\n"


class GpgSigner(object):
    suffix = ".asc"
    alg = "gpg"

    def __init__(self, gpg_home, key, passphrase_file=None):
        if not HAS_GNUPG:
            raise ConfigError("GnuPG signatures need the Python library python-gnupg", step="sign")
        self.gpg = gnupg.GPG(gnupghome=gpg_home) if gpg_home else gnupg.GPG()
        self.key = key
        self.passphrase = None
        if passphrase_file:
            with open(passphrase_file) as handle:
                self.passphrase = handle.read().rstrip("\n")
        keys = self.gpg.list_keys(True, keys=[key])
        if not keys:
            raise ConfigError("no GnuPG secret key %s in %s" % (key, gpg_home or "the default keyring"), step="sign")
        self.key_id = keys[0]["fingerprint"]

    def sign(self, data):
        signed = self.gpg.sign(data, keyid=self.key, detach=True, passphrase=self.passphrase)
        if not signed.data:
            raise ConfigError("GnuPG could not sign the checkpoint: %s" % (signed.status or signed.stderr[-300:]), step="sign")
        return signed.data


class Verifier(object):
    """Checks checkpoint signatures against trusted HMAC keys and a GnuPG keyring."""

    def __init__(self, hmac_keys=(), gpg_home=None, gpg_fingerprints=()):
        self.hmac = {key_id(k): k for k in hmac_keys}
        self.gpg = None
        self.fingerprints = set(f.replace(" ", "").upper() for f in gpg_fingerprints or ())
        if gpg_home:
            if not HAS_GNUPG:
                raise ConfigError("GnuPG signatures need the Python library python-gnupg", step="verify")
            self.gpg = gnupg.GPG(gnupghome=gpg_home)
        if not self.hmac and self.gpg is None:
            raise ConfigError("no trusted key: give hmac_key_files or gpg_home", step="verify")

    def check(self, data, suffix, sig):
        """``None`` when ``sig`` is a good signature of ``data`` by a trusted key, else why not."""
        if suffix == ".sig":
            try:
                doc = json.loads(sig)
                kid, value = doc["key_id"], doc["sig"]
            except (ValueError, KeyError, TypeError):
                return "malformed HMAC signature"
            key = self.hmac.get(kid)
            if key is None:
                return "signed by an unknown key %s" % kid
            if not hmac.compare_digest(hmac.new(key, data, hashlib.sha256).hexdigest(), str(value)):
                return "bad HMAC signature for key %s" % kid
            return None
        if self.gpg is None:
            return "GnuPG signature but no gpg_home to check it"
        return self._check_gpg(data, sig)

    def _check_gpg(self, data, sig):
        fd, path = tempfile.mkstemp(prefix="wk-audit-sig-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(sig)
            result = self.gpg.verify_data(path, data)
        finally:
            os.unlink(path)
        if not result.valid:
            if result.status == "no public key" or getattr(result, "key_status", None):
                return "signed by an unknown key %s" % (result.key_id or "?")
            return "bad GnuPG signature (%s)" % (result.status or "invalid")
        fpr = (result.pubkey_fingerprint or result.fingerprint or "").upper()
        if self.fingerprints and fpr not in self.fingerprints:
            return "signed by an unknown key %s (not in gpg_fingerprints)" % fpr
        return None
