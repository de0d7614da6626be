"""Bucket judges against fake boto3 clients (the real thing runs against moto in tests/integration), and the SSH
algorithm rule as a property: exactly the weak entries of any list are named."""

from hypothesis import given, strategies as st

from security_fake import FakeHost

from ansible_collections.watchkeeper.ops.plugins.module_utils.security import buckets, ssh


class ClientError(Exception):
    def __init__(self, code):
        super(ClientError, self).__init__(code)
        self.response = {"Error": {"Code": code}}


class FakeS3(object):
    def __init__(self, pab=None, grants=(), encryption=None, versioning=None, lock=False, delete_error=None):
        self.pab, self.grants, self.encryption, self.versioning = pab, list(grants), encryption, versioning
        self.lock, self.delete_error, self.puts = lock, delete_error, []

    def get_public_access_block(self, Bucket):
        if self.pab is None:
            raise ClientError("NoSuchPublicAccessBlockConfiguration")
        return {"PublicAccessBlockConfiguration": self.pab}

    def get_bucket_acl(self, Bucket):
        return {"Grants": self.grants}

    def get_bucket_encryption(self, Bucket):
        if not self.encryption:
            raise ClientError("ServerSideEncryptionConfigurationNotFoundError")
        return {"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": self.encryption}}]}}

    def get_bucket_versioning(self, Bucket):
        return {"Status": self.versioning} if self.versioning else {}

    def get_object_lock_configuration(self, Bucket):
        if not self.lock:
            raise ClientError("ObjectLockConfigurationNotFoundError")
        return {"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}}

    def put_object(self, Bucket, Key, Body):
        self.puts.append(Key)

    def delete_object(self, Bucket, Key):
        if self.delete_error:
            raise ClientError(self.delete_error)


class Storage(object):
    def __init__(self, client):
        self.client = client


SPEC = {"type": "s3", "bucket": "b", "prefix": "backups/"}
ALL_BLOCKED = dict((k, True) for k in buckets.PAB_KEYS)
PUBLIC_READ = {"Grantee": {"URI": buckets.PUBLIC_GRANTEES[0], "Type": "Group"}, "Permission": "READ"}


def test_public_access():
    assert buckets.s3_public(Storage(FakeS3(pab=ALL_BLOCKED)), SPEC)[0] == "pass"
    status, evidence = buckets.s3_public(Storage(FakeS3(pab=dict(ALL_BLOCKED, RestrictPublicBuckets=False))), SPEC)
    assert status == "fail" and "RestrictPublicBuckets=False" in evidence
    status, evidence = buckets.s3_public(Storage(FakeS3(pab=ALL_BLOCKED, grants=[PUBLIC_READ])), SPEC)
    assert status == "fail" and evidence.endswith("AllUsers READ")
    assert buckets.s3_public(Storage(FakeS3()), SPEC)[1].startswith("public access block missing")


def test_encryption_versioning_and_lock():
    assert buckets.s3_encryption(Storage(FakeS3(encryption="aws:kms")), SPEC) == ("pass", "default encryption aws:kms")
    assert buckets.s3_encryption(Storage(FakeS3()), SPEC) == ("fail", "default encryption none")
    assert buckets.s3_versioning(Storage(FakeS3(versioning="Suspended")), SPEC)[0] == "fail"
    assert buckets.s3_versioning(Storage(FakeS3(versioning="Suspended", lock=True)), SPEC)[0] == "pass"
    assert buckets.s3_versioning(Storage(FakeS3(versioning="Enabled")), SPEC)[1] == "versioning Enabled; Object Lock off"


def test_canary_under_the_prefix_and_only_access_denied_passes():
    client = FakeS3(delete_error="AccessDenied")
    assert buckets.s3_canary(Storage(client), SPEC)[0] == "pass"
    assert client.puts == ["backups/_ops_state/security_audit/canary"]
    assert buckets.s3_canary(Storage(FakeS3()), SPEC)[0] == "fail"
    try:
        buckets.s3_canary(Storage(FakeS3(delete_error="SlowDown")), SPEC)
    except ClientError:
        pass
    else:
        raise AssertionError("a throttled delete is not a refusal")


def test_no_bucket_is_not_applicable(tmp_path):
    assert buckets.check_public(FakeHost(tmp_path))["status"] == "not_applicable"


MACS = ["hmac-sha2-256", "hmac-sha2-512-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha1", "hmac-md5",
        "umac-64@openssh.com", "hmac-sha1-96", "hmac-ripemd160"]
WEAK_MACS = set(MACS[3:])


@given(st.lists(st.sampled_from(MACS), min_size=1, unique=True))
def test_the_mac_rule_names_exactly_the_weak_entries(chosen):
    ctx = FakeHost("/nonexistent", commands={("/usr/sbin/sshd", "-T"): (0, "macs %s\n" % ",".join(chosen), "")})
    result = ssh.check_macs(ctx)
    weak = [m for m in chosen if m in WEAK_MACS]
    assert result["status"] == ("fail" if weak else "pass")
    if weak:
        assert result["evidence"].endswith("(weak: %s)" % ",".join(weak))
