"""Audit records: canonical encoding, the fast line split against the obvious decode, argument fingerprints."""

import json

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import record

KEYS = st.text(min_size=1, max_size=12)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 12, 10 ** 12), st.text(max_size=40))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
                      max_leaves=12)
DATA = st.dictionaries(KEYS, VALUES, max_size=6)
TS = "2026-12-05T09:07:01.123456Z"


@given(DATA, st.integers(1, 10 ** 12), st.text("0123456789abcdef", min_size=64, max_size=64))
@settings(max_examples=300)
def test_split_line_agrees_with_decoding(data, seq, prev):
    line, digest = record.make_record("chain-1", seq, prev, data, TS)
    assert line.endswith(b"\n") and line.count(b"\n") == 1, "one record, one line"
    body = line[:-1]
    got_digest, got_prev, got_seq, got_ts, hashed = record.split_line(body)
    assert (got_digest, got_prev, got_seq, got_ts) == (digest, prev, seq, TS)
    assert record.line_hash_ok(got_digest, hashed)
    assert record.reference_check(body)
    assert json.loads(body)["data"] == json.loads(record.canonical(data))


@given(DATA, st.data())
@settings(max_examples=300)
def test_any_changed_byte_is_caught(data, draw):
    body = record.make_record("chain-1", 7, record.GENESIS, data, TS)[0][:-1]
    pos = draw.draw(st.integers(0, len(body) - 1))
    new = draw.draw(st.integers(0, 255).filter(lambda b: b != body[pos]))
    forged = body[:pos] + bytes([new]) + body[pos + 1:]
    try:
        digest, _prev, _seq, _ts, hashed = record.split_line(forged)
    except record.RecordError:
        return
    assert not record.line_hash_ok(digest, hashed), "a changed byte must change the hash check"


def test_canonical_is_sorted_compact_utf8():
    assert record.canonical({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode("utf-8")
    with pytest.raises(ValueError):
        record.canonical({"x": float("nan")})


@pytest.mark.parametrize("line", [b"", b"{}", b'{"chain":"x","hash":"zz"}', b"not json at all",
                                  b'{"chain":"c","data":{},"hash":"' + b"a" * 64 + b'","prev_hash":"' + b"0" * 64 + b'","seq":x,"ts":"t"}'])
def test_malformed_lines_are_refused(line):
    with pytest.raises(record.RecordError):
        record.split_line(line)


def test_nested_hash_keys_do_not_confuse_the_split():
    data = {"args": {"hash": "hmac-sha256:00"}, "task": ',"hash":"' + "f" * 64}
    body = record.make_record("c", 3, record.GENESIS, data, TS)[0][:-1]
    digest, _prev, seq, _ts, hashed = record.split_line(body)
    assert seq == 3 and record.line_hash_ok(digest, hashed)


def test_fingerprints_keep_names_never_values():
    key = b"k" * 32
    args = {"password": "Sup3r-S3cret!", "login_host": "db1", "_ansible_check_mode": False, "nested": {"token": "abc"}}
    out = record.fingerprint_args(key, args)
    assert sorted(out) == ["login_host", "nested", "password"]
    text = json.dumps(out)
    for secret in ("Sup3r-S3cret!", "abc", "db1", "token"):
        assert secret not in text
    assert out["password"] == record.value_fingerprint(key, "Sup3r-S3cret!")
    assert out["password"] != record.fingerprint_args(b"j" * 32, args)["password"], "the key matters"


def test_times_round_trip():
    when = record.parse_ts("2026-12-05T09:07:01.5+01:00")
    assert record.fmt_ts(when) == "2026-12-05T08:07:01.500000Z"
    assert record.parse_ts("2026-12-05T08:07:01") == record.parse_ts("2026-12-05T08:07:01Z")
