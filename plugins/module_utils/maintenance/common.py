# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pieces shared by the maintenance-mode backends: the state document, the bypass secret, file writes.

The state document (what ``previous`` and ``state`` report, and what the Redis key holds apart from the
secret's digest) has the module's own option names, so a runbook can hand ``previous`` back to the
module to restore exactly what it found::

    {"state": "enabled", "mode": "full", "message": "...", "ends_at": "2026-11-27T03:00:00Z",
     "retry_after": 300, "allow_ips": ["10.0.0.0/8"], "bypass": true}

A disabled backend is ``{"state": "disabled"}``. ``bypass`` only says whether a secret is configured.
"""

import hashlib
import ipaddress
import json
import os
import re
import tempfile

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError

PUBLIC_KEYS = ("state", "mode", "message", "ends_at", "retry_after", "allow_ips", "bypass")
DISABLED_DEFAULTS = {"state": "disabled", "mode": "full", "message": "", "ends_at": None, "retry_after": 300,
                     "allow_ips": [], "bypass": False}
SECRET_RE = re.compile(r"^[A-Za-z0-9._~+/=-]{16,256}$")
DEFAULT_MESSAGE = "We are performing scheduled maintenance and will be back shortly."


def desired_state(params, secret):
    """The normalised target state from the module's options (validated; raises ConfigError)."""
    if params.get("state", "enabled") == "disabled":
        return {"state": "disabled"}
    ends_at = params.get("ends_at")
    if ends_at:
        try:
            ends_at = clock.isoformat(clock.parse_time(ends_at))
        except ValueError:
            raise ConfigError("ends_at %r is not an ISO 8601 time" % ends_at, step="configure",
                              hint="for example 2026-11-27T03:00:00Z")
    retry_after = int(params.get("retry_after") if params.get("retry_after") is not None else 300)
    if retry_after < 0:
        raise ConfigError("retry_after must be >= 0 seconds", step="configure")
    return {"state": "enabled", "mode": params.get("mode") or "full",
            "message": params.get("maintenance_message") or DEFAULT_MESSAGE, "ends_at": ends_at or None,
            "retry_after": retry_after, "allow_ips": normalise_ips(params.get("allow_ips") or []),
            "bypass": bool(secret)}


def normalise_ips(values):
    nets = []
    for value in values:
        try:
            net = ipaddress.ip_network(str(value).strip(), strict=False)
        except ValueError:
            raise ConfigError("allow_ips entry %r is not an IP address or network" % value, step="configure")
        text = str(net.network_address) if net.num_addresses == 1 else str(net)
        if text not in nets:
            nets.append(text)
    return sorted(nets)


def read_secret(path):
    """The bypass secret from ``path`` (first line, stripped). Errors never quote the file's content."""
    if not path:
        return None
    try:
        with open(path, "r", encoding="utf-8") as handle:
            secret = handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("cannot read bypass_secret_file %s: %s" % (path, getattr(exc, "strerror", None) or "not text"),
                          step="configure")
    if not SECRET_RE.match(secret):
        raise ConfigError("the bypass secret in %s must be 16 to 256 characters of A-Z a-z 0-9 . _ ~ + / = -" % path,
                          step="configure", hint="for example: openssl rand -hex 24 > %s" % path)
    return secret


def secret_digest(secret):
    """SHA-256 hex of the secret: what the Redis key stores so applications can compare without knowing it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest() if secret else None


def public_state(state):
    """Only the reportable keys (never a digest or a secret)."""
    if not state or state.get("state") != "enabled":
        return {"state": "disabled"}
    return {key: state.get(key) for key in PUBLIC_KEYS}


def stored_state(desired):
    """What a backend records as applied (``since`` is added by the backend that keeps it)."""
    return public_state(desired)


def same(left, right, ignore=("since",)):
    def strip(doc):
        return {k: v for k, v in (doc or {}).items() if k not in ignore}
    return strip(left) == strip(right)


def summary(states):
    """The overall state of several backends: enabled when any is; the first enabled one's details."""
    enabled = [state for state in states if state and state.get("state") == "enabled"]
    if not enabled:
        return {"state": "disabled"}
    overall = dict(enabled[0])
    overall["consistent"] = len(enabled) == len(states) and all(public_state(s) == public_state(enabled[0])
                                                                for s in enabled)
    return overall


def now_iso():
    return clock.isoformat(clock.now())


# --------------------------------------------------------------------------- files

def read_text(path):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def read_json(path):
    text = read_text(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def write_atomic(path, text, mode=0o644):
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".wk-tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def redact(text, secret):
    """``text`` (tool output) with the secret replaced, and only its tail."""
    text = (text or "").strip()
    if secret:
        text = text.replace(secret, "<redacted>")
    return text[-800:]
