# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GCS-only behaviour, against gcp-storage-emulator: endpoint routing, sessions, credentials."""

import json
import os
import socket
import time

import pytest
from google.api_core import exceptions as gexc

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ChecksumMismatch, StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage import gcs as gcsmod
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage
from storage_testing import sha

MIB = 1024 * 1024


@pytest.fixture
def spec(gcs_bucket, gcs):
    return {"type": "gcs", "name": "gcsdest", "bucket": gcs_bucket[0], "prefix": "pre", "endpoint_url": gcs.info["endpoint"],
            "anonymous": True, "project": "wk-test", "part_size_mb": 1, "timeout": 10, "retries": 1}


@pytest.fixture
def client(gcs_bucket):
    return gcs_bucket[1]


def test_resumable_upload_goes_to_the_configured_endpoint(spec, client, monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    st = open_storage(spec)
    assert "STORAGE_EMULATOR_HOST" not in os.environ  # nothing leaks into other destinations
    writer = st.open_writer("routed")
    data = os.urandom(2 * MIB + 5)
    writer.write(data)  # two full chunks are sent now
    upload_obj = writer.stream._upload_and_transport[0]
    assert upload_obj.resumable_url.startswith(spec["endpoint_url"] + "/upload/")
    assert upload_obj.bytes_uploaded == 2 * MIB
    result = writer.commit(len(data), sha(data))
    blob = client.bucket(spec["bucket"]).get_blob("pre/routed")
    assert result["md5"] == blob.md5_hash and result["generation"] == blob.generation
    # (the emulator's download omits x-goog-* headers, so the library then resets generation to None)
    assert blob.size == len(data) and blob.download_as_bytes() == data
    assert result["md5_confirmed"] is True


@pytest.mark.parametrize("part_size_mb,expected", [(1, MIB), (5, 5 * MIB), (16, 16 * MIB)])
def test_chunk_size_is_part_size(spec, part_size_mb, expected):
    st = open_storage(dict(spec, part_size_mb=part_size_mb))
    assert st.chunk_size == expected and st.chunk_size % (256 * 1024) == 0
    writer = st.open_writer("c")
    assert writer.stream._chunk_size == expected
    writer.abort()


def test_abort_after_chunks_were_sent_leaves_nothing(spec, client):
    st = open_storage(spec)
    writer = st.open_writer("cancelled")
    writer.write(os.urandom(3 * MIB))
    assert writer.stream._upload_and_transport is not None
    writer.abort()
    # real GCS answers 499 to the documented cancel; the emulator does not implement it (501)
    assert writer.cancel_status in (499, 204, 200, 404, 410, 501)
    assert writer.stream.closed
    assert client.bucket(spec["bucket"]).get_blob("pre/cancelled") is None
    assert st.stat("cancelled") is None


def test_object_created_concurrently_is_not_replaced(spec, client):
    st = open_storage(spec)
    writer = st.open_writer("race")
    writer.write(os.urandom(MIB + 10))
    client.bucket(spec["bucket"]).blob("pre/race").upload_from_string(b"the other writer's object")
    with pytest.raises(StorageError, match="already exists"):
        writer.commit(MIB + 10, "0" * 64)
    assert client.bucket(spec["bucket"]).blob("pre/race").download_as_bytes() == b"the other writer's object"


def test_md5_mismatch_removes_the_object(spec, client):
    st = open_storage(spec)
    writer = st.open_writer("corrupt")
    writer.write(b"payload")
    writer.md5.update(b"a byte the server never saw")
    with pytest.raises(ChecksumMismatch, match="was removed"):
        writer.commit(7, sha(b"payload"))
    assert client.bucket(spec["bucket"]).get_blob("pre/corrupt") is None


@pytest.mark.parametrize("operation", ["stat", "list", "write", "get"])
def test_silent_endpoint_is_bounded_by_timeout(spec, operation):
    with socket.socket() as sink:
        sink.bind(("127.0.0.1", 0))
        sink.listen(16)  # accepts connections, never answers
        st = open_storage(dict(spec, endpoint_url="http://127.0.0.1:%d" % sink.getsockname()[1], timeout=1, retries=1))
        start = time.monotonic()
        with pytest.raises(StorageError, match="unreachable") as info:
            if operation == "stat":
                st.stat("k")
            elif operation == "list":
                list(st.list())
            elif operation == "get":
                st.get_bytes("k")
            else:
                st.open_writer("k")
        assert time.monotonic() - start < 5  # google's default retry deadline would be 120 s
        assert "gcsdest" in str(info.value)


def test_probe_reports_write_permission(spec):
    state = open_storage(spec).probe()
    assert state["reachable"] is True and state["writable"] is True
    assert "anonymous" in state["detail"]


@pytest.fixture
def service_account(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()

    def make(name, email):
        path = tmp_path / ("%s.json" % name)
        path.write_text(json.dumps({"type": "service_account", "project_id": "proj-%s" % name, "private_key_id": "k1",
                                    "private_key": pem, "client_email": email, "client_id": "1",
                                    "token_uri": "https://oauth2.googleapis.com/token"}))
        return str(path)
    return make, pem


def test_credentials_precedence(spec, service_account, monkeypatch):
    make, _pem = service_account
    explicit, gac, awx = make("explicit", "a@x.iam.gserviceaccount.com"), make("gac", "b@x.iam.gserviceaccount.com"), \
        make("awx", "c@x.iam.gserviceaccount.com")
    base = dict(spec, anonymous=False, project=None)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", gac)
    monkeypatch.setenv("GCE_CREDENTIALS_FILE_PATH", awx)
    monkeypatch.setenv("GCE_PROJECT", "awx-project")
    st = open_storage(dict(base, credentials_file=explicit))
    assert st.client._credentials.service_account_email == "a@x.iam.gserviceaccount.com"
    assert st.credentials_source.startswith("credentials_file") and st.client.project == "proj-explicit"
    st = open_storage(base)
    assert st.client._credentials.service_account_email == "b@x.iam.gserviceaccount.com"
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    st = open_storage(base)
    assert st.client._credentials.service_account_email == "c@x.iam.gserviceaccount.com"
    assert st.credentials_source.startswith("GCE_CREDENTIALS_FILE_PATH")
    assert open_storage(dict(base, project="explicit-project")).client.project == "explicit-project"
    anon = open_storage(dict(base, anonymous=True))
    assert anon.credentials_source == "anonymous"


def test_bad_credentials_file_is_clear_and_secret_free(spec, service_account, tmp_path):
    _make, pem = service_account
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"type": "service_account", "private_key": pem}))
    with pytest.raises(StorageError, match="cannot load Google credentials from credentials_file") as info:
        open_storage(dict(spec, anonymous=False, credentials_file=str(broken)))
    assert "PRIVATE KEY" not in str(info.value) and pem[40:80] not in str(info.value)
    with pytest.raises(StorageError, match="missing.json"):
        open_storage(dict(spec, anonymous=False, credentials_file=str(tmp_path / "missing.json")))


@pytest.mark.parametrize("exc,step,expected", [
    (gexc.Forbidden("no storage.objects.create"), "upload", "access denied (HTTP 403)"),
    (gexc.Unauthorized("bad token"), "read", "credentials were rejected"),
    (gexc.NotFound("b"), "probe", "bucket"),
    (gexc.PreconditionFailed("gen"), "commit", "already exists"),
    (gexc.ServiceUnavailable("later"), "upload", "HTTP 503"),
    (gexc.RetryError("deadline", ConnectionRefusedError(111, "refused")), "list", "unreachable"),
])
def test_errors_are_translated(spec, exc, step, expected):
    err = open_storage(spec).error(exc, "doing it", step)
    assert isinstance(err, StorageError) and expected in str(err) and err.destination == "gcsdest" and err.step == step


def test_missing_library_is_reported(spec, monkeypatch):
    monkeypatch.setattr(gcsmod, "HAS_GCS", False)
    with pytest.raises(StorageError, match="google-cloud-storage"):
        open_storage(spec)


def test_describe(spec):
    assert open_storage(spec).describe() == "gs://%s/pre" % spec["bucket"]
    assert open_storage(dict(spec, prefix="")).describe() == "gs://%s" % spec["bucket"]
    assert open_storage(spec).location("a/b") == "gs://%s/pre/a/b" % spec["bucket"]
