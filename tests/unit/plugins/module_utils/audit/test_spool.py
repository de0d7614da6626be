"""The spool: append with a gap-free seq, seal into signed segments, recover the head, repair a torn write."""

import datetime
import json
import multiprocessing
import os

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import record
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.sign import HmacSigner
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.spool import Spool

from trailkit import KEY  # pylint: disable=import-error


def all_records(root, chain):
    out = []
    seg_dir = os.path.join(root, chain, "segments")
    for name in sorted(os.listdir(seg_dir)):
        with open(os.path.join(seg_dir, name), "rb") as handle:
            out.extend(json.loads(line) for line in handle.read().split(b"\n") if line)
    return out


def assert_chained(records):
    prev = record.GENESIS
    for number, rec in enumerate(records, 1):
        assert rec["seq"] == number and rec["prev_hash"] == prev
        prev = rec["hash"]


def test_layout_modes_and_shipping_order(trail):
    root = trail.root
    assert oct(os.stat(root).st_mode & 0o777) == "0o700"
    assert oct(os.stat(os.path.join(root, "args.key")).st_mode & 0o777) == "0o600"
    assert sorted(os.listdir(os.path.join(root, trail.chain, "segments"))) == [
        "000000000001.jsonl", "000000000006.jsonl", "000000000011.jsonl", "000000000016.jsonl"]
    files = trail.spool.sealed_files()
    assert files[0] == "chain.json"
    assert files[1:4] == ["segments/000000000001.jsonl", "checkpoints/000000000005.json.sig", "checkpoints/000000000005.json"]
    assert "segments/000000000016.jsonl" not in files, "the open segment is not shipped"
    records = all_records(root, trail.chain)
    assert_chained(records)
    assert len(records) == 17
    ck = json.loads(open(trail.path("checkpoints/000000000010.json"), "rb").read())
    assert (ck["first_seq"], ck["seq"], ck["records"], ck["head_hash"]) == (6, 10, 5, records[9]["hash"])
    assert ck["prev_checkpoint"] == "checkpoints/000000000005.json"


def test_a_second_process_continues_the_chain(trail):
    again = Spool(trail.root, hostname="ctl-1")
    assert again.open() == trail.chain, "the chain id is created once"
    assert again.head() == (17, all_records(trail.root, trail.chain)[-1]["hash"])
    assert again.append({"event": "task"}) == 18
    again.close()
    assert_chained(all_records(trail.root, trail.chain))


def test_seal_with_nothing_new_does_nothing(trail):
    spool = Spool(trail.root)
    spool.open()
    assert spool.seal(HmacSigner(KEY), "run_end") == "checkpoints/000000000017.json"
    assert spool.seal(HmacSigner(KEY), "run_end") is None
    assert spool.append({"event": "x"}) == 18
    assert os.path.exists(trail.path("segments/000000000018.jsonl"))
    spool.close()


def test_torn_write_is_cut_and_recorded(trail):
    with open(trail.path("segments/000000000016.jsonl"), "ab") as handle:
        handle.write(b'{"chain":"half a rec')
    spool = Spool(trail.root)
    spool.open()
    assert spool.append({"event": "task"}) == 19, "seq 18 is the repair record"
    spool.close()
    records = all_records(trail.root, trail.chain)
    assert_chained(records)
    assert records[17]["data"] == {"event": "spool_repair", "dropped_bytes": len(b'{"chain":"half a rec')}


def test_seal_due_after_the_interval(tmp_path):
    spool = Spool(str(tmp_path / "s"))
    spool.open()
    assert not spool.seal_due(3600)
    old = record.utc_now() - datetime.timedelta(hours=2)
    spool.append({"event": "x"}, when=old)
    assert spool.seal_due(3600) and not spool.seal_due(3600 * 3)
    spool.close()


def _writer(root, count):
    spool = Spool(root)
    spool.open()
    for i in range(count):
        spool.append({"event": "task", "i": i, "pid": os.getpid()})
        if i % 17 == 0:
            spool.seal(HmacSigner(KEY), "interval")
    spool.close()


def test_concurrent_processes_share_one_gap_free_chain(tmp_path):
    root = str(tmp_path / "s")
    Spool(root).open()
    procs = [multiprocessing.Process(target=_writer, args=(root, 60)) for _number in range(3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    with open(os.path.join(root, "current")) as handle:
        chain = handle.read().strip()
    records = all_records(root, chain)
    assert len(records) == 180
    assert_chained(records)
    assert len({r["data"]["pid"] for r in records}) == 3
