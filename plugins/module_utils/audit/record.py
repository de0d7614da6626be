# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Audit records: canonical encoding, the hash chain and argument fingerprints.

A record is one JSON line, the canonical encoding (sorted keys, no spaces, UTF-8, no NaN) of::

    {"chain": <chain id>, "data": {...}, "hash": <hex>, "prev_hash": <hex>, "seq": <int>, "ts": <UTC time>}

``hash`` is the SHA-256 of the canonical encoding of the same record without ``hash``. Because keys are
sorted, ``hash`` is always followed by ``prev_hash``, ``seq`` and ``ts`` only, none of which can hold an
object: the verifier finds the record's own ``"hash"`` member as the last one in the line, removes it and
hashes the remaining bytes, without decoding the JSON (``split_line``). The bytes as written are what is
hashed, so re-encoding a record differently is a modification too.

Argument values are never stored: ``fingerprint_args`` keeps each argument name with
``HMAC-SHA256(chain argument key, canonical JSON of the value)``.
"""

import datetime
import hashlib
import hmac
import json
import math

GENESIS = "0" * 64
HASH_MEMBER = b',"hash":"'
PREV_MEMBER = b'","prev_hash":"'
SEQ_MEMBER = b'","seq":'
TS_MEMBER = b',"ts":"'


class RecordError(ValueError):
    """A line that is not a well-formed record (``reason`` says why)."""


def canonical(obj):
    """The canonical bytes of a JSON value: sorted keys, no spaces, UTF-8, no NaN or infinity."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                      default=str).encode("utf-8")


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def fmt_ts(when):
    """``2026-12-05T09:07:01.123456Z``: fixed width, sorts as text."""
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text):
    """A record time, or an ISO 8601 time given by a user (naive means UTC)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    when = datetime.datetime.fromisoformat(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)


def make_record(chain, seq, prev_hash, data, ts):
    """The line (bytes, with the newline) and the hash of a new record."""
    body = {"chain": chain, "data": data, "prev_hash": prev_hash, "seq": seq, "ts": ts}
    digest = hashlib.sha256(canonical(body)).hexdigest()
    body["hash"] = digest
    return canonical(body) + b"\n", digest


def split_line(line):
    """``(hash, prev_hash, seq, ts, hashed_bytes)`` of one line (without its newline), no JSON decoding.

    Raises ``RecordError`` when the line does not have the record's shape."""
    pos = line.rfind(HASH_MEMBER)
    if pos < 0 or not line.startswith(b'{"chain":"') or not line.endswith(b'"}'):
        raise RecordError("not a record line")
    end = pos + 9 + 64
    if line[end:end + 15] != PREV_MEMBER or line[end + 79:end + 87] != SEQ_MEMBER:
        raise RecordError("record members out of place")
    rest = line[end + 87:]
    cut = rest.find(TS_MEMBER)
    if cut < 1:
        raise RecordError("record has no seq or ts")
    try:
        seq = int(rest[:cut])
        digest = line[pos + 9:end].decode("ascii")
        prev = line[end + 15:end + 79].decode("ascii")
        ts = rest[cut + 7:-2].decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise RecordError("record has a malformed seq, hash or time")
    return digest, prev, seq, ts, line[:pos] + line[end + 1:]


def line_hash_ok(digest, hashed):
    return hashlib.sha256(hashed).hexdigest() == digest


def decode(line):
    """The record as a dict (queries and tests; the verifier does not need it)."""
    return json.loads(line)


def reference_check(line):
    """Slow and obvious: decode, re-encode without ``hash``, compare. Used to test ``split_line``."""
    rec = json.loads(line)
    digest = rec.pop("hash")
    return canonical(dict(rec, hash=digest)) == line and hashlib.sha256(canonical(rec)).hexdigest() == digest


def value_fingerprint(key, value):
    """``hmac-sha256:<hex>`` of a value's canonical JSON under the chain's argument key."""
    return "hmac-sha256:" + hmac.new(key, canonical(value), hashlib.sha256).hexdigest()


def fingerprint_args(key, args):
    """``{name: fingerprint}`` of a task's arguments; the values themselves are never kept."""
    out = {}
    for name in sorted(args or {}, key=str):
        if str(name).startswith("_ansible_"):
            continue  # Ansible's own plumbing, not the task's arguments
        try:
            out[str(name)] = value_fingerprint(key, _plain(args[name]))
        except (TypeError, ValueError):
            out[str(name)] = value_fingerprint(key, repr(args[name]))
    return out


def _plain(value):
    """Ansible's tagged strings, tuples and sets as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)
