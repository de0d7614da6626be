# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bucket rules of ``watchkeeper.ops.security_audit`` (issue 14, acceptance 5).

S3: a moto server of its own with IAM enforced (``INITIAL_NO_AUTH_ACTION_COUNT``: moto authenticates and authorizes
every request after that many; the first three create the admin user, its policy and its key). A public-read bucket
whose writer key may delete fails WK-BKT-001..004; a locked-down bucket (public access block, default encryption,
versioning, a writer denied s3:DeleteObject) passes all four.

GCS: gcp-storage-emulator, as far as it goes: it keeps versioning and encryption metadata, but has no IAM, so a
delete is never refused there (WK-BKT-004 fails for every bucket) and public access prevention is not enforced."""

import json
import os
import uuid

import pytest

import helpers

import wk_svc_common

REGION = "us-east-1"
NO_AUTH_ACTIONS = 3
ALL_S3 = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
NO_DELETE = {"Effect": "Deny", "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"], "Resource": "*"}


@pytest.fixture(scope="module")
def iam_moto(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("moto-iam"))
    port = wk_svc_common.free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(NO_AUTH_ACTIONS))
    proc = wk_svc_common.Process("moto-iam", [wk_svc_common._venv_bin("moto_server"), "-H", wk_svc_common.LOOPBACK,  # pylint: disable=protected-access
                                              "-p", str(port)], os.path.join(work, "moto.log"), env=env, port=port)
    wk_svc_common.wait_port(port, proc=proc.proc, name="moto_server", log=proc.log_path)
    endpoint = "http://%s:%d" % (wk_svc_common.LOOPBACK, port)
    yield endpoint, admin_key(endpoint)
    proc.stop()


def client(service, endpoint, key):
    import boto3
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key[0], aws_secret_access_key=key[1])


def admin_key(endpoint):
    """The three unauthenticated actions: the admin user, its policy, its key."""
    iam = client("iam", endpoint, ("testing", "testing-secret"))
    iam.create_user(UserName="admin")
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    made = iam.create_access_key(UserName="admin")["AccessKey"]
    return made["AccessKeyId"], made["SecretAccessKey"]


def writer_key(endpoint, admin, statements):
    iam = client("iam", endpoint, admin)
    name = "writer-%s" % uuid.uuid4().hex[:8]
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="backup-writer",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    made = iam.create_access_key(UserName=name)["AccessKey"]
    return made["AccessKeyId"], made["SecretAccessKey"]


def spec(endpoint, bucket, key):
    return {"name": bucket, "type": "s3", "bucket": bucket, "endpoint_url": endpoint, "region": REGION,
            "access_key": key[0], "secret_key": key[1]}


def audit(buckets, check_mode=False):
    result = helpers.run_module("watchkeeper.ops.security_audit", {"areas": ["buckets"], "buckets": buckets},
                                check_mode=check_mode)
    helpers.assert_ok(result)
    return result


def by_rule(result, subject):
    return dict((f["id"], f) for f in result["findings"] if f["subject"] == subject)


@pytest.fixture(scope="module")
def s3_buckets(iam_moto):
    endpoint, admin = iam_moto
    s3 = client("s3", endpoint, admin)
    public = "wk-public-%s" % uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=public, ACL="public-read")
    locked = "wk-locked-%s" % uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=locked)
    s3.put_public_access_block(Bucket=locked, PublicAccessBlockConfiguration=dict(
        BlockPublicAcls=True, IgnorePublicAcls=True, BlockPublicPolicy=True, RestrictPublicBuckets=True))
    s3.put_bucket_encryption(Bucket=locked, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_versioning(Bucket=locked, VersioningConfiguration={"Status": "Enabled"})
    can_delete = writer_key(endpoint, admin, [ALL_S3])
    cannot_delete = writer_key(endpoint, admin, [ALL_S3, NO_DELETE])
    return {"public": spec(endpoint, public, can_delete), "locked": spec(endpoint, locked, cannot_delete), "s3": s3,
            "secrets": [can_delete[1], cannot_delete[1], admin[1]]}


def test_moto_enforces_the_writer_policies(s3_buckets):
    """The premise of the delete test: with IAM on, the locked-down writer's delete is refused by moto itself."""
    locked = s3_buckets["locked"]
    writer = client("s3", locked["endpoint_url"], (locked["access_key"], locked["secret_key"]))
    writer.put_object(Bucket=locked["bucket"], Key="premise", Body=b"x")
    with pytest.raises(Exception) as refused:
        writer.delete_object(Bucket=locked["bucket"], Key="premise")
    assert "AccessDenied" in str(refused.value)
    with pytest.raises(Exception):
        client("s3", locked["endpoint_url"], ("AKIAUNKNOWN0000000000", "nope")).list_objects_v2(Bucket=locked["bucket"])


def test_a_public_bucket_with_a_deleting_writer_fails_and_a_locked_down_bucket_passes(s3_buckets):
    result = audit([s3_buckets["public"], s3_buckets["locked"]])
    public = by_rule(result, "s3://%s" % s3_buckets["public"]["bucket"])
    locked = by_rule(result, "s3://%s" % s3_buckets["locked"]["bucket"])
    assert dict((i, f["status"]) for i, f in public.items()) == {
        "WK-BKT-001": "fail", "WK-BKT-002": "fail", "WK-BKT-003": "fail", "WK-BKT-004": "fail"}, public
    assert dict((i, f["status"]) for i, f in locked.items()) == {
        "WK-BKT-001": "pass", "WK-BKT-002": "pass", "WK-BKT-003": "pass", "WK-BKT-004": "pass"}, locked
    assert "AllUsers READ" in public["WK-BKT-001"]["evidence"]
    assert "succeeded" in public["WK-BKT-004"]["evidence"] and "refused (AccessDenied)" in locked["WK-BKT-004"]["evidence"]
    assert result["failed_rules"] == ["WK-BKT-001", "WK-BKT-002", "WK-BKT-003", "WK-BKT-004"]
    assert not any(secret in result["stdout"] for secret in s3_buckets["secrets"])


def test_check_mode_writes_no_canary(s3_buckets):
    s3, public = s3_buckets["s3"], s3_buckets["public"]["bucket"]
    s3.delete_object(Bucket=public, Key="_ops_state/security_audit/canary")
    result = audit([s3_buckets["public"]], check_mode=True)
    assert by_rule(result, "s3://%s" % public)["WK-BKT-004"]["status"] == "not_applicable"
    assert s3.list_objects_v2(Bucket=public).get("KeyCount") == 0
    assert result["changed"] is False


def test_an_unreachable_bucket_is_an_error_finding_not_a_pass(s3_buckets):
    bad = dict(s3_buckets["locked"], endpoint_url="http://127.0.0.1:%d" % helpers.closed_port(), retries=0, timeout=2)
    result = audit([bad])
    statuses = set(f["status"] for f in result["findings"])
    assert statuses == {"error"}, result["findings"]


def test_gcs_emulator_what_it_supports(gcs, gcs_bucket):
    name, gclient = gcs_bucket
    bucket = gclient.get_bucket(name)
    bucket.versioning_enabled = True
    bucket.patch()
    result = audit([helpers.gcs_dest(gcs.info["endpoint"], name)])
    found = dict((i, f["status"]) for i, f in by_rule(result, "gs://%s" % name).items())
    assert found["WK-BKT-002"] == "pass"  # GCS encrypts every object at rest
    assert found["WK-BKT-003"] == "pass"  # versioning, as the emulator keeps it
    assert found["WK-BKT-004"] == "fail"  # no IAM in the emulator: every delete succeeds
    assert found["WK-BKT-001"] in ("fail", "error")  # no public access prevention nor IAM policy in the emulator
