# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 14, acceptance 3: shipping to a bucket that is unreachable during a run.

Run 1 ships to an S3 endpoint on a closed port: the play succeeds, the callback warns, the spool keeps the sealed
records and nothing is marked shipped. Run 2 ships to moto (S3 with Object Lock): the backlog of run 1 and run 2
arrives, every object carries the Object Lock retention, and ``audit_verify`` reading the bucket finds one chain
with no gap. ``audit_query`` then exports the population of task records of run 2's AWX job from the bucket.
"""

import csv
import json
import os
import sys

from helpers import closed_port, run_module, run_playbook

PLAY = [{"hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
         "tasks": [{"name": "Say hello", "ansible.builtin.command": "echo hello", "changed_when": False},
                   {"name": "Fail but go on", "ansible.builtin.fail": {"msg": "expected"}, "ignore_errors": True}]}]


def env_for(tmp, endpoint, bucket):
    destination = {"type": "s3", "bucket": bucket, "endpoint_url": endpoint, "region": "us-east-1"}
    return {"ANSIBLE_CALLBACKS_ENABLED": "watchkeeper.ops.audit", "WATCHKEEPER_AUDIT_SPOOL": str(tmp / "spool"),
            "WATCHKEEPER_AUDIT_HMAC_KEY_FILE": str(tmp / "ck.key"), "WATCHKEEPER_AUDIT_DESTINATION": json.dumps(destination),
            "WATCHKEEPER_AUDIT_SHIP_TIMEOUT": "3", "WATCHKEEPER_AUDIT_OBJECT_LOCK_DAYS": "1"}


def keys(client, bucket):
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_unreachable_bucket_then_backlog_shipped(moto, s3_env, tmp_path):
    import boto3
    client = boto3.client("s3", endpoint_url=moto.info["endpoint"], region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing-secret")
    bucket = "wk-audit-%s" % os.urandom(4).hex()
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    (tmp_path / "ck.key").write_text("ab" * 32 + "\n")
    play = tmp_path / "play.yml"
    play.write_text(json.dumps(PLAY))

    down = env_for(tmp_path, "http://127.0.0.1:%d" % closed_port(), bucket)
    down.update(s3_env)
    code, _data, stdout, stderr = run_playbook(str(play), env=down, extra_vars={"awx_job_id": 1, "awx_user_name": "alice"})
    assert code == 0, "an unreachable destination never fails the play:\n" + stdout[-2000:] + stderr[-2000:]
    assert "could not ship the audit trail" in stderr + stdout
    assert keys(client, bucket) == []
    spool = tmp_path / "spool"
    chain = (spool / "current").read_text().strip()
    assert sorted(os.listdir(str(spool / chain / "checkpoints"))) == ["000000000004.json", "000000000004.json.sig"]
    assert not (spool / "shipped").exists() or not os.listdir(str(spool / "shipped"))

    up = env_for(tmp_path, moto.info["endpoint"], bucket)
    up.update(s3_env)
    code, _data, stdout, stderr = run_playbook(str(play), env=up, extra_vars={"awx_job_id": 2, "awx_user_name": "bob"})
    assert code == 0 and "could not ship" not in stderr + stdout, stderr[-2000:]
    assert keys(client, bucket) == ["audit/%s/%s" % (chain, k) for k in (
        "chain.json", "checkpoints/000000000004.json", "checkpoints/000000000004.json.sig",
        "checkpoints/000000000008.json", "checkpoints/000000000008.json.sig",
        "segments/000000000001.jsonl", "segments/000000000005.jsonl")]
    head = client.head_object(Bucket=bucket, Key="audit/%s/segments/000000000001.jsonl" % chain)
    assert head.get("ObjectLockMode") == "GOVERNANCE" and head.get("ObjectLockRetainUntilDate")

    dest = {"type": "s3", "bucket": bucket, "endpoint_url": moto.info["endpoint"], "region": "us-east-1",
            "access_key": "testing", "secret_key": "testing-secret"}
    result = run_module("watchkeeper.ops.audit_verify", {"destination": dest, "hmac_key_files": [str(tmp_path / "ck.key")],
                                                         "sealed_only": True})
    assert result["ok"] and not result.failed, result.get("msg")
    assert result["records"] == 8 and result["gaps"] == []
    assert [(c["first_seq"], c["last_seq"]) for c in result["coverage"]] == [(1, 8)]

    export = tmp_path / "job2.csv"
    result = run_module("watchkeeper.ops.audit_query", {"destination": dest, "job_ids": ["2"], "events": ["task"],
                                                        "export_path": str(export), "format": "csv"})
    assert not result.failed and result["count"] == 2 and result["changed"]
    with open(str(export)) as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["task"], r["outcome"], r["awx_user"]) for r in rows] == [("Say hello", "ok", "bob"), ("Fail but go on", "failed", "bob")]
