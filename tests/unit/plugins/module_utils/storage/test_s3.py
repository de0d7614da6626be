# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3-only behaviour, against moto_server: headers on the wire, storage options, concurrency."""

import base64
import hashlib
import os
import socket
import threading
import time

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings, strategies as st_

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ChecksumMismatch, StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage import s3 as s3mod
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage
import storage_testing
from storage_testing import sha

MIB = 1024 * 1024
SECRET = "wkS3Secret/DoNotLeak+abcdefghijklmnopqrstuv"


@pytest.fixture
def spec(s3_bucket, moto):
    return {"type": "s3", "name": "s3dest", "bucket": s3_bucket[0], "prefix": "pre", "endpoint_url": moto.info["endpoint"],
            "region": "us-east-1", "access_key": "AKIAWKS3TEST00000001", "secret_key": SECRET, "part_size_mb": 5,
            "timeout": 10, "retries": 1, "upload_concurrency": 2}


@pytest.fixture
def client(s3_bucket):
    return s3_bucket[1]


def upload(st, key, data):
    return storage_testing.upload(st, key, data, chunk=MIB)


def capture(st, sink):
    """Record (operation, headers, md5-of-body) for every request the storage's client sends."""
    def before_send(request, event_name, **_kwargs):
        body = request.body
        if hasattr(body, "read"):
            pos = body.tell()
            raw = body.read()
            body.seek(pos)
        else:
            raw = body or b""
        raw = raw.encode() if isinstance(raw, str) else raw
        sink.append((event_name.rsplit(".", 1)[-1], dict(request.headers), base64.b64encode(hashlib.md5(raw).digest()).decode(), len(raw)))
    st.client.meta.events.register("before-send.s3", before_send)


def test_content_md5_sent_and_correct_for_every_part(spec):
    st = open_storage(spec)
    sent = []
    capture(st, sent)
    upload(st, "big", os.urandom(11 * MIB))
    upload(st, "small", b"tiny object")
    for name in ("UploadPart", "PutObject"):
        reqs = [r for r in sent if r[0] == name]
        assert reqs, "no %s sent" % name
        for _name, headers, body_md5, _size in reqs:
            header = headers.get("Content-MD5")
            assert header is not None and (header.decode() if isinstance(header, bytes) else header) == body_md5
    assert sorted(r[3] for r in sent if r[0] == "UploadPart") == [MIB, 5 * MIB, 5 * MIB]
    # no aws-chunked CRC trailers (request_checksum_calculation=when_required)
    assert not any("x-amz-trailer" in {k.lower() for k in r[1]} for r in sent)


def test_if_none_match_sent_and_detected(spec):
    st = open_storage(spec)
    sent = []
    capture(st, sent)
    upload(st, "a", b"x" * 10)
    put = [r for r in sent if r[0] == "PutObject"][0]
    assert put[1].get("If-None-Match") in ("*", b"*")
    assert st.conditional_writes_enforced() is True


def test_endpoint_without_if_none_match_falls_back_to_head(spec):
    st = open_storage(spec)
    calls = []

    def fake_put(**kwargs):
        calls.append(sorted(kwargs))
        if "IfNoneMatch" in kwargs:
            raise ClientError({"Error": {"Code": "NotImplemented", "Message": "A header you provided implies functionality "
                                         "that is not implemented"}, "ResponseMetadata": {"HTTPStatusCode": 501}}, "PutObject")
        return {"ETag": '"x"'}
    assert st.conditional("upload", "put", fake_put, Bucket="b", Key="k") == {"ETag": '"x"'}
    assert len(calls) == 2 and "IfNoneMatch" not in calls[1]
    assert st.conditional_writes_enforced() is False
    st.conditional("upload", "put", fake_put, Bucket="b", Key="k")
    assert len(calls) == 3  # not tried again
    upload(st, "k2", b"data")  # still refuses to overwrite through HEAD
    with pytest.raises(StorageError, match="already exists"):
        st.put_bytes("k2", b"other")


def test_precondition_failure_is_not_mistaken_for_missing_support(spec):
    st = open_storage(spec)

    def fake_put(**kwargs):
        raise ClientError({"Error": {"Code": "PreconditionFailed", "Message": "At least one of the pre-conditions"},
                           "ResponseMetadata": {"HTTPStatusCode": 412}}, "PutObject")
    with pytest.raises(StorageError, match="already exists"):
        st.conditional("commit", "upload of k failed", fake_put, Bucket="b", Key="k")
    assert st.conditional_writes_enforced() is True


@pytest.mark.parametrize("size", [100, 7 * MIB])
def test_object_created_concurrently_is_not_replaced(spec, client, size):
    st = open_storage(spec)
    writer = st.open_writer("race")
    writer.write(os.urandom(size))
    client.put_object(Bucket=spec["bucket"], Key="pre/race", Body=b"the other writer's object")
    with pytest.raises(StorageError, match="already exists"):
        writer.commit(size, "0" * 64)
    assert client.get_object(Bucket=spec["bucket"], Key="pre/race")["Body"].read() == b"the other writer's object"
    assert client.list_multipart_uploads(Bucket=spec["bucket"]).get("Uploads", []) == []


@pytest.mark.parametrize("size", [1000, 6 * MIB])
def test_storage_class_and_encryption_applied(spec, client, size):
    st = open_storage(dict(spec, storage_class="STANDARD_IA", server_side_encryption="AES256"))
    upload(st, "enc", os.urandom(size))
    head = client.head_object(Bucket=spec["bucket"], Key="pre/enc")
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ServerSideEncryption"] == "AES256"


def test_kms_key_implies_aws_kms(spec):
    st = open_storage(dict(spec, kms_key_id="alias/backups"))
    assert st.put_args == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/backups"}
    with pytest.raises(StorageError, match="aws:kms"):
        open_storage(dict(spec, kms_key_id="alias/backups", server_side_encryption="AES256"))


def test_parts_in_flight_are_bounded_and_parallel(spec, monkeypatch):
    st = open_storage(dict(spec, upload_concurrency=3))
    lock = threading.Lock()
    state = {"now": 0, "max": 0}
    original = s3mod.S3Writer._upload_part

    def slow_part(self, number, body):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.15)
        try:
            return original(self, number, body)
        finally:
            with lock:
                state["now"] -= 1
    monkeypatch.setattr(s3mod.S3Writer, "_upload_part", slow_part)
    writer = st.open_writer("par")
    data = os.urandom(5 * MIB * 8 + 3)
    for start in range(0, len(data), MIB):
        writer.write(data[start:start + MIB])
        assert len(writer.inflight) <= 3
        assert len(writer.buf) < 5 * MIB
    result = writer.commit(len(data), sha(data))
    assert result["parts"] == 9
    assert state["max"] == 3
    assert st.get_bytes("par") == data


def test_failed_part_aborts_the_upload(spec, client, monkeypatch):
    st = open_storage(spec)
    original = s3mod.S3Writer._upload_part

    def failing(self, number, body):
        if number == 2:
            raise StorageError("injected part failure", step="upload", destination=st.name)
        return original(self, number, body)
    monkeypatch.setattr(s3mod.S3Writer, "_upload_part", failing)
    writer = st.open_writer("fail")
    with pytest.raises(StorageError, match="injected"):
        for attempt in range(6):  # pylint: disable=unused-variable
            writer.write(os.urandom(3 * MIB))
        writer.commit(18 * MIB, "0" * 64)
    assert writer.state == "aborted"
    assert client.list_multipart_uploads(Bucket=spec["bucket"]).get("Uploads", []) == []
    assert st.stat("fail") is None


def test_size_mismatch_after_upload_removes_object(spec, client, monkeypatch):
    st = open_storage(spec)
    writer = st.open_writer("short")
    writer.write(b"12345")
    real_head = st.client.head_object
    monkeypatch.setattr(st.client, "head_object", lambda **kw: dict(real_head(**kw), ContentLength=4))
    with pytest.raises(ChecksumMismatch, match="4 bytes"):
        writer.commit(5, sha(b"12345"))
    assert "Contents" not in client.list_objects_v2(Bucket=spec["bucket"])


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st_.lists(st_.integers(min_value=0, max_value=3 * MIB), min_size=1, max_size=5),
       tail=st_.sampled_from([None, -1, 0, 1]))
def test_any_chunking_round_trips(spec, sizes, tail):
    """Arbitrary write sizes, including totals just below, at and above a part boundary."""
    if tail is not None:
        total = sum(sizes)
        sizes = sizes + [(total // (5 * MIB) + 1) * 5 * MIB + tail - total]
    data = os.urandom(sum(sizes))
    st = open_storage(spec)
    writer = st.open_writer("h/%s" % os.urandom(6).hex())
    pos = 0
    for size in sizes:
        writer.write(data[pos:pos + size])
        pos += size
    result = writer.commit(len(data), sha(data))
    assert result["etag_confirmed"] is True
    assert b"".join(st.iter_read(result["key"])) == data


def test_part_size_grows_to_stay_under_10000_parts():
    assert s3mod._part_size(5 * MIB, 1) == 5 * MIB
    assert s3mod._part_size(5 * MIB, 1000) == 5 * MIB
    assert s3mod._part_size(5 * MIB, 1001) == 10 * MIB
    assert sum(s3mod._part_size(16 * MIB, n) for n in range(1, 10001)) > 5 * 1024 ** 4  # > 5 TiB
    assert s3mod._part_size(16 * MIB, 10000) == 5 * 1024 * MIB


@pytest.mark.parametrize("code,status,expected", [
    ("InvalidAccessKeyId", 403, "credentials were rejected"),
    ("SignatureDoesNotMatch", 403, "credentials were rejected"),
    ("AccessDenied", 403, "access denied"),
    ("NoSuchBucket", 404, "does not exist"),
    ("SlowDown", 503, "SlowDown (HTTP 503)"),
])
def test_client_errors_are_translated(spec, code, status, expected):
    st = open_storage(spec)
    with Stubber(st.client) as stub:
        stub.add_client_error("list_objects_v2", service_error_code=code, http_status_code=status,
                              service_message="signed with %s" % SECRET)
        with pytest.raises(StorageError) as info:
            list(st.list("x/"))
    text = str(info.value)
    assert expected in text and "s3dest" in text and "cannot list" in text
    assert SECRET not in text and "AKIAWKS3TEST00000001" not in text


def test_silent_endpoint_times_out(spec):
    with socket.socket() as sink:
        sink.bind(("127.0.0.1", 0))
        sink.listen(16)  # accepts connections, never answers
        st = open_storage(dict(spec, endpoint_url="http://127.0.0.1:%d" % sink.getsockname()[1], timeout=1, retries=0))
        start = time.monotonic()
        with pytest.raises(StorageError, match="unreachable"):
            st.stat("k")
        assert time.monotonic() - start < 4


def test_credentials_precedence(spec, tmp_path, monkeypatch):
    creds = tmp_path / "credentials"
    creds.write_text("[wk]\naws_access_key_id = AKIAFROMPROFILE00001\naws_secret_access_key = %s\n" % SECRET)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    explicit = open_storage(dict(spec, profile="wk"))
    assert explicit.client._request_signer._credentials.access_key == "AKIAWKS3TEST00000001"
    profile = open_storage(dict(spec, access_key=None, secret_key=None, profile="wk"))
    assert profile.client._request_signer._credentials.access_key == "AKIAFROMPROFILE00001"
    chain = open_storage(dict(spec, access_key=None, secret_key=None))
    assert chain.client._request_signer._credentials.access_key == os.environ["AWS_ACCESS_KEY_ID"]
    upload(profile, "via-profile", b"ok")
    with pytest.raises(StorageError, match="nope") as info:
        open_storage(dict(spec, access_key=None, secret_key=None, profile="nope"))
    assert SECRET not in str(info.value)
    with pytest.raises(StorageError, match="together"):
        open_storage(dict(spec, secret_key=None))


def test_missing_boto3_is_reported(spec, monkeypatch):
    monkeypatch.setattr(s3mod, "HAS_BOTO3", False)
    with pytest.raises(StorageError, match="boto3"):
        open_storage(spec)


def test_cleanup_reports_and_only_touches_the_prefix(spec, client):
    st = open_storage(spec)
    client.create_multipart_upload(Bucket=spec["bucket"], Key="pre/daily/x")
    client.create_multipart_upload(Bucket=spec["bucket"], Key="elsewhere/daily/y")
    assert [c.split(" ")[0] for c in st.cleanup_incomplete("daily/", 0)] == ["daily/x"]
    assert [u["Key"] for u in client.list_multipart_uploads(Bucket=spec["bucket"])["Uploads"]] == ["elsewhere/daily/y"]


def test_describe_and_keys(spec):
    assert open_storage(spec).describe() == "s3://%s/pre" % spec["bucket"]
    assert open_storage(dict(spec, prefix="/a/b/")).full_key("k") == "a/b/k"
    bare = open_storage(dict(spec, prefix=""))
    assert bare.describe() == "s3://%s" % spec["bucket"] and bare.full_key("/k") == "k"
    with pytest.raises(StorageError, match="invalid object key"):
        bare.full_key("a//b")
