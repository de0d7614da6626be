# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AC-031.11: ``backup_integrity`` over real backups made by ``watchkeeper.ops.backup``, through ansible-playbook.

* a byte flipped in one destination's copy (local, S3 on moto, GCS on the emulator): the task fails naming
  that destination and backup, the other destinations report it good; a corrupt shared pack makes every
  backup using it bad; check mode reports the same;
* Subset rotation reads every backup exactly once per cycle (frozen clock, 30 runs over 30 backups);
* an unreachable destination is reported failed while the others are still checked.

Damage is done and checked out of band (plain file writes, boto3, the GCS client, hashlib).
"""

import collections
import datetime
import hashlib
import json
import os
import sys
import socket
import tempfile
import time

from helpers import (
    Store, assert_failed, assert_ok, backup_args, closed_port, gcs_dest, local_dest, new_job, run_module, run_playbook,
    s3_dest)

T0 = datetime.datetime(2026, 3, 1, 2, 30, 0, tzinfo=datetime.timezone.utc)
MODULE = "watchkeeper.ops.backup_integrity"
SECRET = "testing-secret"  # what s3_dest gives moto


def iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(**delta):
    return {"WATCHKEEPER_NOW": iso(T0 + datetime.timedelta(**delta))}


def make_tree(root):
    os.makedirs(root)
    with open(os.path.join(root, "a.txt"), "w") as handle:
        handle.write("integrity\n")
    with open(os.path.join(root, "b.bin"), "wb") as handle:
        handle.write(os.urandom(150 * 1024))
    return str(root)


def sweep(job, dests, env=None, check_mode=False, **extra):
    args = {"job": job, "destinations": dests}
    args.update(extra)
    return run_module(MODULE, args, env=env, check_mode=check_mode)


def flip(store, key, offset=100):
    """Flip one bit of a stored object in place (same size); returns (original bytes, new SHA-256)."""
    original = store.read(key)
    data = bytearray(original)
    data[offset % len(data)] ^= 0x01
    if store.kind == "local":
        os.unlink(os.path.join(store.root, key))
    store.write(key, bytes(data))
    return original, hashlib.sha256(bytes(data)).hexdigest()


def restore(store, key, original):
    if store.kind == "local":
        os.unlink(os.path.join(store.root, key))
    store.write(key, original)


def test_a_flipped_byte_in_one_destination_names_it_and_the_others_stay_good(tmp_path, moto, s3_bucket, gcs, gcs_bucket,
                                                                             scratch):
    tree = make_tree(tmp_path / "tree")
    dests = [local_dest(tmp_path / "nas", name="nas"), s3_dest(moto, s3_bucket[0]), gcs_dest(gcs.info["endpoint"], gcs_bucket[0])]
    stores = {"nas": Store.local(tmp_path / "nas"), "s3": Store.s3(s3_bucket), "gcs": Store.gcs(gcs_bucket)}
    job = new_job("sweep")
    args = backup_args(job, {"type": "files", "mode": "incremental", "paths": [tree]}, dests, {"mode": "none"},
                       tmp_path / "state", tmp_dir=scratch)
    first = assert_ok(run_module("watchkeeper.ops.backup", args, env=at()))
    with open(os.path.join(tree, "c.bin"), "wb") as handle:
        handle.write(os.urandom(90 * 1024))
    second = assert_ok(run_module("watchkeeper.ops.backup", args, env=at(hours=1)))
    old_ids = (second["backup_id"], first["backup_id"])
    shared = [p for p in second["manifest"]["files"]["packs"] if not p["new"]]
    new = [p for p in second["manifest"]["files"]["packs"] if p["new"]]
    assert shared and new, second["manifest"]["files"]
    assert set(p["key"] for p in first["manifest"]["files"]["packs"]) == set(p["key"] for p in shared)

    clean = assert_ok(sweep(job, dests, env=at(hours=2)))
    assert clean["passed"] is True and clean["changed"] is False and clean["bad_backups"] == []
    assert clean["good_restore_points"] == {"nas": list(old_ids), "s3": list(old_ids), "gcs": list(old_ids)}
    for name, out in clean["destinations"].items():
        assert (out["status"], out["checked"], out["good"], out["bad"], out["skipped"]) == ("ok", 2, 2, 0, 0), name
        assert out["objects_read"] == 2 + len(shared) + len(new), "every pack is read once, shared or not"
        stored = sum(o["stored_bytes"] for m in (first, second) for o in m["manifest"]["objects"])
        assert out["bytes_read"] == stored + sum(p["stored_bytes"] for p in shared + new)
    assert clean["subset"] == {"slot": 0, "cycle": 1, "period_s": 86400, "period_start": "2026-03-01T00:00:00Z",
                               "next_period_start": "2026-03-02T00:00:00Z"}

    # One byte of the S3 copy of the second backup's new pack.
    pack = new[0]
    original, found = flip(stores["s3"], pack["key"])
    failed = assert_failed(sweep(job, dests, env=at(hours=2)))
    assert failed["passed"] is False and failed["changed"] is False
    assert "destination s3: backup %s is bad" % second["backup_id"] in failed["msg"]
    assert pack["sha256"] in failed["msg"] and found in failed["msg"] and job in failed["msg"]
    assert "nas" not in failed["msg"] and "destination gcs" not in failed["msg"]
    assert [(b["destination"], b["backup_id"]) for b in failed["bad_backups"]] == [("s3", second["backup_id"])]
    (problem,) = failed["bad_backups"][0]["problems"]
    assert pack["key"] in problem and "s3://%s/%s" % (s3_bucket[0], pack["key"]) in problem
    assert "SHA-256 of the stored bytes is %s, the manifest expects %s" % (found, pack["sha256"]) in problem
    assert failed["good_restore_points"] == {"nas": list(old_ids), "s3": [first["backup_id"]], "gcs": list(old_ids)}
    verdicts = dict((name, [(b["backup_id"], b["verdict"]) for b in out["backups"]])
                    for name, out in failed["destinations"].items())
    assert verdicts["nas"] == verdicts["gcs"] == [(second["backup_id"], "good"), (first["backup_id"], "good")]
    assert verdicts["s3"] == [(second["backup_id"], "bad"), (first["backup_id"], "good")]
    assert no_secret(failed)
    restore(stores["s3"], pack["key"], original)

    # A shared pack corrupted in GCS: both backups using it are bad there; reported only, and in check mode.
    original, found = flip(stores["gcs"], shared[0]["key"], offset=7)
    reported = assert_ok(sweep(job, dests, env=at(hours=2), check_mode=True, fail_on_bad=False))
    assert reported["passed"] is False and reported["changed"] is False
    assert sorted((b["destination"], b["backup_id"]) for b in reported["bad_backups"]) == [
        ("gcs", first["backup_id"]), ("gcs", second["backup_id"])]
    assert all(found in b["problems"][0] and shared[0]["key"] in b["problems"][0] for b in reported["bad_backups"])
    assert reported["destinations"]["gcs"]["objects_read"] == 2 + len(shared) + len(new)
    assert reported["good_restore_points"] == {"nas": list(old_ids), "s3": list(old_ids), "gcs": []}
    restore(stores["gcs"], shared[0]["key"], original)

    # Only the backup a restore would use.
    one = assert_ok(sweep(job, dests[:1], env=at(hours=2), backup_ids=[first["backup_id"]]))
    assert [(b["backup_id"], b["verdict"]) for b in one["destinations"]["nas"]["backups"]] == [
        (second["backup_id"], "skipped"), (first["backup_id"], "good")]


def no_secret(result):
    text = json.dumps({k: v for k, v in result.items() if k not in ("stdout", "stderr", "invocation")})
    return SECRET not in text


def test_subset_rotation_reads_every_backup_exactly_once_per_cycle(tmp_path, scratch):
    """Subset rotation reads every backup exactly once per cycle (frozen clock, 30 runs over 30 backups)."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_text("rotation\n")
    dests = [local_dest(tmp_path / "nas", name="nas")]
    job = new_job("rotate")
    backup = backup_args(job, {"type": "files", "paths": [str(tree)]}, dests, {"mode": "none"}, tmp_path / "state",
                         tmp_dir=scratch)
    backup_days = [iso(T0 + datetime.timedelta(days=d)) for d in range(30)]
    # The next 30 days, at another hour each (a late or early schedule changes nothing within the day).
    sweep_days = [iso(T0 + datetime.timedelta(days=30 + i, hours=(i * 7) % 20 - 2)) for i in range(30)]
    sweep_args = {"job": job, "destinations": dests, "subset": "1/30", "subset_period": "1d"}
    play = [{
        "hosts": "localhost", "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable,
                 "backup_days": backup_days, "sweep_days": sweep_days},
        "tasks": [
            {"name": "30 daily backups", "watchkeeper.ops.backup": backup, "loop": "{{ backup_days }}",
             "environment": {"WATCHKEEPER_NOW": "{{ item }}"}, "register": "made"},
            {"name": "30 daily sweeps of one thirtieth", MODULE: sweep_args, "loop": "{{ sweep_days }}",
             "environment": {"WATCHKEEPER_NOW": "{{ item }}"}, "register": "sweeps"},
            {"name": "one full sweep", MODULE: {"job": job, "destinations": dests},
             "environment": {"WATCHKEEPER_NOW": sweep_days[-1]}},
        ],
    }]
    fd, path = tempfile.mkstemp(suffix=".yml", prefix="wk-play-rotation-")
    with os.fdopen(fd, "w") as handle:
        json.dump(play, handle)
    try:
        code, data, stdout, stderr = run_playbook(path)
    finally:
        os.unlink(path)
    assert code == 0 and data, "playbook failed (rc %s)\n%s\n%s" % (code, stdout[-4000:], stderr[-3000:])
    tasks = [t["hosts"]["localhost"] for t in data["plays"][0]["tasks"]]
    made = tasks[0]["results"]
    assert [m["manifest"]["created_at"] for m in made] == backup_days
    ids = [m["backup_id"] for m in made]

    runs = tasks[1]["results"]
    assert len(runs) == 30 and not any(r.get("failed") for r in runs)
    reads = collections.Counter()
    slots = []
    for run in runs:
        out = run["destinations"]["nas"]
        assert out["status"] == "ok" and out["bad"] == 0 and run["passed"] is True and run["changed"] is False
        assert out["checked"] < 30 and out["checked"] + out["skipped"] == 30, "a run read everything"
        checked = [b["backup_id"] for b in out["backups"] if b["verdict"] != "skipped"]
        assert run["good_restore_points"]["nas"] == checked
        reads.update(checked)
        slots.append(run["subset"]["slot"])
        assert run["subset"]["cycle"] == 30 and run["subset"]["period_s"] == 86400
    assert sorted(reads) == sorted(ids) and set(reads.values()) == {1}, "every backup exactly once: %s" % reads
    assert sorted(slots) == list(range(30))
    assert max(r["destinations"]["nas"]["checked"] for r in runs) == 1  # one backup a day, one slot a day

    full = tasks[2]
    assert full["destinations"]["nas"]["checked"] == 30 and full["good_restore_points"]["nas"] == ids[::-1]


def test_an_unreachable_destination_fails_while_the_others_are_checked(tmp_path, scratch):
    tree = make_tree(tmp_path / "tree")
    nas = local_dest(tmp_path / "nas", name="nas")
    job = new_job("down")
    made = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        job, {"type": "files", "paths": [tree]}, [nas], {"mode": "none"}, tmp_path / "state", tmp_dir=scratch), env=at()))
    down = {"name": "offsite", "type": "s3", "bucket": "wk-nowhere", "endpoint_url": "http://127.0.0.1:%d" % closed_port(),
            "access_key": "testing", "secret_key": SECRET, "region": "us-east-1", "timeout": 3, "retries": 0}
    unmounted = {"name": "unmounted", "type": "local", "path": str(tmp_path / "not-mounted")}
    result = assert_failed(sweep(job, [down, nas, unmounted], env=at(hours=1)))
    assert result["passed"] is False
    by_name = result["destinations"]
    assert sorted(by_name) == ["nas", "offsite", "unmounted"]
    assert by_name["nas"]["status"] == "ok" and by_name["nas"]["good"] == 1 and by_name["nas"]["error"] is None
    assert result["good_restore_points"] == {"offsite": [], "nas": [made["backup_id"]], "unmounted": []}
    assert by_name["offsite"]["status"] == "failed" and "destination offsite" in by_name["offsite"]["error"]
    assert by_name["offsite"]["checked"] == 0 and by_name["offsite"]["location"] == "s3://wk-nowhere"
    assert by_name["unmounted"]["status"] == "failed" and "does not exist" in by_name["unmounted"]["error"]
    assert "destination offsite could not be checked" in result["msg"]
    assert "destination unmounted could not be checked" in result["msg"] and "destination nas" not in result["msg"]
    assert result["bad_backups"] == []
    assert no_secret(result)


def test_destinations_are_checked_in_parallel_and_a_hanging_one_hides_nothing(tmp_path, moto, s3_bucket, scratch):
    """A destination that accepts connections and never answers is given up after destination_timeout; the local and
    the moto destination listed after it are checked meanwhile (their checks start before the hanging one ends), and
    every result keeps the order of the destinations."""
    tree = make_tree(tmp_path / "tree")
    nas, s3 = local_dest(tmp_path / "nas", name="nas"), s3_dest(moto, s3_bucket[0])
    job = new_job("par")
    made = assert_ok(run_module("watchkeeper.ops.backup", backup_args(
        job, {"type": "files", "paths": [tree]}, [nas, s3], {"mode": "none"}, tmp_path / "state", tmp_dir=scratch),
        env=at()))
    with socket.socket() as blackhole:  # the kernel completes the handshake; nobody ever reads or answers
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(16)
        hung = {"name": "hung", "type": "s3", "bucket": "wk-hung", "access_key": "testing", "secret_key": SECRET,
                "endpoint_url": "http://127.0.0.1:%d" % blackhole.getsockname()[1], "region": "us-east-1",
                "timeout": 120, "retries": 0}
        started = time.monotonic()
        result = assert_failed(sweep(job, [hung, nas, s3], env=at(hours=1), destination_timeout=6))
        wall = time.monotonic() - started
    assert list(result["destinations"]) == ["hung", "nas", "s3"]
    assert list(result["good_restore_points"]) == ["hung", "nas", "s3"]
    by_name = result["destinations"]
    assert by_name["hung"]["status"] == "failed" and "did not finish within 6 s" in by_name["hung"]["error"]
    assert "destination hung could not be checked" in result["msg"]
    for name in ("nas", "s3"):
        assert by_name[name]["status"] == "ok" and by_name[name]["good"] == 1, by_name[name]
        assert result["good_restore_points"][name] == [made["backup_id"]]
        # overlap: checked while the hanging destination was still being waited for, not after it
        assert by_name[name]["started_at"] < by_name["hung"]["finished_at"], (by_name[name], by_name["hung"])
        assert by_name[name]["finished_at"] < by_name["hung"]["finished_at"]
    assert wall < 100  # the S3 client's own 120 s read timeout was never waited for
    assert no_secret(result)


def test_a_pack_whose_last_sweep_failed_is_never_referenced_again(tmp_path, scratch):
    """Incremental backup, a flipped byte in its pack (same size, so the listing alone does not show it), a sweep with
    the backup's ops_state fails and records it; the next incremental backup reads those files again into a new pack,
    says so, and its snapshot restores; a sweep that reads the repaired pack good lets backups reuse it again."""
    tree = make_tree(tmp_path / "tree")
    nas = local_dest(tmp_path / "nas", name="nas")
    store = Store.local(tmp_path / "nas")
    state = tmp_path / "state"
    job = new_job("repack")
    args = backup_args(job, {"type": "files", "mode": "incremental", "paths": [tree]}, [nas], {"mode": "none"}, state,
                       tmp_dir=scratch)
    first = assert_ok(run_module("watchkeeper.ops.backup", args, env=at()))
    (pack,) = first["manifest"]["files"]["packs"]
    assert first["manifest"]["files"]["filelist_version"] == 2
    original, _found = flip(store, pack["key"])

    checked_mode = assert_failed(sweep(job, [nas], env=at(hours=1), ops_state=str(state), check_mode=True))
    assert checked_mode["pack_record"] is None and not os.path.exists(str(state / "integrity"))
    failed = assert_failed(sweep(job, [nas], env=at(hours=1), ops_state=str(state)))
    assert failed["bad_backups"][0]["backup_id"] == first["backup_id"]
    assert failed["pack_record"] == str(state / "integrity" / ("%s.json" % job))

    with open(os.path.join(tree, "c.txt"), "w") as handle:
        handle.write("one more file\n")
    second = assert_ok(run_module("watchkeeper.ops.backup", args, env=at(hours=2)))
    files = second["manifest"]["files"]
    keys = [p["key"] for p in files["packs"]]
    assert pack["key"] not in keys and all(p["new"] for p in files["packs"]), files["packs"]
    assert [r["key"] for r in files["rejected_packs"]] == [pack["key"]]
    assert "SHA-256" in files["rejected_packs"][0]["reason"] and "destination nas" in files["rejected_packs"][0]["reason"]
    assert files["unchanged_files"] == 0 and files["read_bytes"] == os.path.getsize(os.path.join(tree, "b.bin")) + 10 + 14
    # the new snapshot restores on its own (the bad pack is still there, unrepaired)
    verified = assert_ok(run_module("watchkeeper.ops.restore_verify", {
        "job": job, "destinations": [nas], "ops_state": str(state), "backup_id": second["backup_id"], "timeout": 600,
        "scratch_dir": str(tmp_path / "scratch-restore")}))
    assert verified["passed"] is True and verified["backup_id"] == second["backup_id"]

    # Repaired, and read good by a sweep: the next backups may reuse it (the record says good now).
    restore(store, pack["key"], original)
    assert_ok(sweep(job, [nas], env=at(hours=3), ops_state=str(state), backup_ids=[first["backup_id"]]))
    with open(str(state / "integrity" / ("%s.json" % job))) as handle:
        assert json.load(handle)["packs"][pack["key"]]["nas"]["verdict"] == "good"
