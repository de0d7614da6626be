"""The chain walk names the first broken place for every kind of tampering, and passes an untouched trail."""

import json
import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import record
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.sign import HmacSigner, Verifier
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.verify import verify
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError

from trailkit import KEY, OTHER_KEY, Trail, build  # pylint: disable=import-error

SEG2 = "segments/000000000006.jsonl"


def run(trail, keys=(KEY,), **kw):
    return verify(trail.storage, "", Verifier(list(keys)), **kw)


def first(trail, **kw):
    result = run(trail, **kw)
    assert not result["ok"], "tampering went unnoticed"
    return result["first_break"]


def test_untouched_trail_passes_with_coverage(trail):
    result = run(trail)
    assert result["ok"] and result["first_break"] is None and result["gaps"] == []
    (chain,) = result["chains"]
    assert (chain["records"], chain["sealed_seq"], chain["unsealed_records"], chain["checkpoints"]) == (17, 15, 2, 3)
    assert [(c["first_seq"], c["last_seq"]) for c in result["coverage"]] == [(1, 17)]
    assert result["coverage"][0]["from"] <= result["coverage"][0]["to"]


def test_sealed_only_refuses_the_open_tail(trail):
    brk = first(trail, sealed_only=True)
    assert brk["where"] == "segments/000000000016.jsonl" and "no checkpoint" in brk["reason"]


def test_one_byte_changed(trail):
    lines = trail.lines(SEG2)
    lines[1] = lines[1].replace(b'"outcome":"ok"', b'"outcome":"Ok"')
    trail.write_lines(SEG2, lines)
    brk = first(trail)
    assert (brk["where"], brk["line"], brk["seq"]) == (SEG2, 2, 7)
    assert "modified" in brk["reason"]


def test_record_deleted(trail):
    lines = trail.lines(SEG2)
    del lines[1]
    trail.write_lines(SEG2, lines)
    brk = first(trail)
    assert (brk["where"], brk["line"], brk["seq"]) == (SEG2, 2, 7)
    assert "record 7 is missing" in brk["reason"]


def test_record_inserted_with_a_valid_hash(trail):
    lines = trail.lines(SEG2)
    prev = json.loads(lines[1])
    forged, _digest = record.make_record(trail.chain, 8, prev["hash"], {"event": "task", "task": "forged"}, prev["ts"])
    lines.insert(2, forged[:-1])
    trail.write_lines(SEG2, lines)
    brk = first(trail)
    assert (brk["where"], brk["line"]) == (SEG2, 4)
    assert "out of order" in brk["reason"]


def test_two_records_swapped(trail):
    lines = trail.lines(SEG2)
    lines[1], lines[2] = lines[2], lines[1]
    trail.write_lines(SEG2, lines)
    brk = first(trail)
    assert (brk["where"], brk["line"], brk["seq"]) == (SEG2, 2, 7)


def test_tail_truncated_behind_the_last_checkpoint(trail):
    seg = "segments/000000000011.jsonl"
    trail.write_lines(seg, trail.lines(seg)[:3])
    brk = first(trail)
    assert brk["where"] == seg and "truncated" in brk["reason"] and brk["seq"] == 14
    result = run(trail)
    assert len(result["chains"][0]["breaks"]) == 1, "one cut, one break"
    assert [(g["from_seq"], g["to_seq"]) for g in result["gaps"]] == [(14, 15)]


def test_last_segment_removed_with_nothing_after_it(trail):
    os.unlink(trail.path("segments/000000000016.jsonl"))
    os.unlink(trail.path("segments/000000000011.jsonl"))
    brk = first(trail)
    assert brk["where"] == "segments/000000000011.jsonl" and "missing" in brk["reason"]


def test_segment_removed(trail):
    os.unlink(trail.path(SEG2))
    result = run(trail)
    brk = result["first_break"]
    assert brk["where"] == SEG2 and "missing" in brk["reason"]
    assert [(g["from_seq"], g["to_seq"]) for g in result["gaps"]] == [(6, 10)]
    assert [(c["first_seq"], c["last_seq"]) for c in result["coverage"]] == [(1, 5), (11, 17)]
    gap = result["gaps"][0]
    assert gap["after"] < gap["before"]


def test_checkpoint_resigned_with_another_key(trail):
    name = "checkpoints/000000000010.json"
    with open(trail.path(name), "rb") as handle:
        data = handle.read()
    with open(trail.path(name + ".sig"), "wb") as handle:
        handle.write(HmacSigner(OTHER_KEY).sign(data))
    brk = first(trail)
    assert brk["where"] == name and "unknown key" in brk["reason"]


def test_checkpoint_rewritten_after_the_segment_was_rewritten(trail):
    """Re-hashing a whole segment and its checkpoint still needs the key: the old signature no longer fits."""
    name = "checkpoints/000000000010.json"
    body = json.loads(open(trail.path(name), "rb").read())
    body["head_hash"] = "f" * 64
    with open(trail.path(name), "wb") as handle:
        handle.write(record.canonical(body) + b"\n")
    brk = first(trail)
    assert brk["where"] == name and "bad HMAC signature" in brk["reason"]


def test_checkpoint_removed(trail):
    os.unlink(trail.path("checkpoints/000000000005.json"))
    os.unlink(trail.path("checkpoints/000000000005.json.sig"))
    brk = first(trail)
    assert brk["where"] == "segments/000000000001.jsonl" and "no checkpoint" in brk["reason"]


def test_no_trusted_key_is_a_config_error():
    with pytest.raises(ConfigError):
        Verifier([])


def test_a_directory_without_chains_is_not_ok(tmp_path):
    empty = Trail(tmp_path, type("S", (), {"chain": "none"})())
    assert not run(empty)["ok"]


@given(st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_byte_changed_in_a_sealed_segment_is_found(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("spool")
    trail = Trail(root, build(root, sizes=(4, 4), tail=0))
    seg = data.draw(st.sampled_from(["segments/000000000001.jsonl", "segments/000000000005.jsonl"]))
    with open(trail.path(seg), "rb") as handle:
        raw = bytearray(handle.read())
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] = data.draw(st.integers(0, 255).filter(lambda b: b != raw[pos]))
    with open(trail.path(seg), "wb") as handle:
        handle.write(bytes(raw))
    result = run(trail)
    assert not result["ok"] and result["first_break"]["where"] == seg
    shutil.rmtree(str(root))


@pytest.mark.parametrize("tamper", ["none", "byte", "remove"])
def test_parallel_scan_gives_the_same_answer(trail, tamper):
    if tamper == "byte":
        lines = trail.lines(SEG2)
        lines[3] = lines[3].replace(b'"host":"h', b'"host":"H')
        trail.write_lines(SEG2, lines)
    elif tamper == "remove":
        os.unlink(trail.path(SEG2))
    serial = run(trail)
    parallel = run(trail, workers=2)
    assert parallel == serial
