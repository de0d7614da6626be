# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The storage contract (base.py), run against every backend on a real peer.

``local`` writes into tmp_path, ``s3`` talks to moto_server, ``gcs`` to gcp-storage-emulator.
Every test checks the backend's own answers *and* what the server (or the directory) really
holds, through a client that does not go through the code under test.
"""

import hashlib
import os
import socket
import time
import uuid

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.local import PARTIAL_MARK
from storage_testing import sha, upload

MIB = 1024 * 1024
ACCESS = "AKIAWKCONTRACTTEST01"
SECRET = "wkSecret/NeverPrintMe+0123456789abcdefXYZ"
PREFIX = "wk/contract"
REMOTE = ("s3", "gcs")


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Backend(object):
    """One destination under test plus out-of-band access to what it really stored."""

    def __init__(self, kind, spec, client=None, root=None):
        self.kind = kind
        self.spec = spec
        self.client = client
        self.root = root

    def make(self, **overrides):
        spec = dict(self.spec)
        spec.update(overrides)
        return open_storage(spec)

    def full(self, key, prefix=PREFIX):
        return "%s/%s" % (prefix, key) if prefix else key

    def raw_keys(self):
        """Every stored object name, relative to the bucket / directory root."""
        if self.kind == "local":
            out = []
            for dirpath, _dirs, files in os.walk(self.root):
                out.extend(os.path.relpath(os.path.join(dirpath, f), self.root).replace(os.sep, "/") for f in files)
            return sorted(out)
        if self.kind == "s3":
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.spec["bucket"])
            return sorted(o["Key"] for page in pages for o in page.get("Contents", []))
        return sorted(b.name for b in self.client.list_blobs(self.spec["bucket"]))

    def raw_read(self, full):
        if self.kind == "local":
            with open(os.path.join(self.root, full), "rb") as handle:
                return handle.read()
        if self.kind == "s3":
            return self.client.get_object(Bucket=self.spec["bucket"], Key=full)["Body"].read()
        return self.client.bucket(self.spec["bucket"]).blob(full).download_as_bytes()

    def open_uploads(self):
        """Unfinished uploads: S3 multipart uploads, local partial files (GCS sessions cannot be listed)."""
        if self.kind == "s3":
            return self.client.list_multipart_uploads(Bucket=self.spec["bucket"]).get("Uploads", [])
        if self.kind == "local":
            return [k for k in self.raw_keys() if PARTIAL_MARK in k]
        return []

    def start_orphan_upload(self, key):
        """Leave an interrupted upload behind, as a killed run would."""
        if self.kind == "s3":
            bucket, full = self.spec["bucket"], self.full(key)
            upload = self.client.create_multipart_upload(Bucket=bucket, Key=full)
            self.client.upload_part(Bucket=bucket, Key=full, UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 1024)
        elif self.kind == "local":
            path = os.path.join(self.root, key + PARTIAL_MARK + "deadbeef0000")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(b"partial")


@pytest.fixture(params=["local", "s3", "gcs"])
def backend(request, tmp_path):
    kind = request.param
    if kind == "local":
        root = tmp_path / "nas"
        root.mkdir()
        return Backend(kind, {"type": "local", "name": "nas", "path": str(root)}, root=str(root))
    if kind == "s3":
        bucket, client = request.getfixturevalue("s3_bucket")
        moto = request.getfixturevalue("moto")
        spec = {"type": "s3", "name": "offsite-s3", "bucket": bucket, "prefix": PREFIX, "endpoint_url": moto.info["endpoint"],
                "region": "us-east-1", "access_key": ACCESS, "secret_key": SECRET, "part_size_mb": 5, "timeout": 10,
                "retries": 1, "upload_concurrency": 2}
        return Backend(kind, spec, client=client)
    bucket, client = request.getfixturevalue("gcs_bucket")
    gcs = request.getfixturevalue("gcs")
    spec = {"type": "gcs", "name": "offsite-gcs", "bucket": bucket, "prefix": PREFIX, "endpoint_url": gcs.info["endpoint"],
            "anonymous": True, "project": "wk-test", "part_size_mb": 5, "timeout": 10, "retries": 1}
    return Backend(kind, spec, client=client)


@pytest.fixture
def storage(backend):
    st = backend.make()
    yield st
    st.close()


def assert_absent(backend, st, key):
    assert st.stat(key) is None
    assert key not in [o.key for o in st.list()]
    assert backend.full(key) not in backend.raw_keys()
    assert backend.open_uploads() == []


def test_streamed_write_round_trips(backend, storage):
    data = os.urandom(700 * 1024 + 13)
    writer = storage.open_writer("db/2026/dump.bin")
    for piece in (data[:1], memoryview(data)[1:300000], data[300000:300000], data[300000:]):
        writer.write(piece)
    result = writer.commit(len(data), sha(data))
    assert result["key"] == "db/2026/dump.bin" and result["size"] == len(data) and result["size_confirmed"] is True
    info = storage.stat("db/2026/dump.bin")
    assert info.key == "db/2026/dump.bin" and info.size == len(data) and info.mtime is not None
    assert [(o.key, o.size) for o in storage.list()] == [("db/2026/dump.bin", len(data))]
    assert b"".join(storage.iter_read("db/2026/dump.bin", chunk_size=64 * 1024)) == data
    assert storage.get_bytes("db/2026/dump.bin") == data
    assert backend.raw_keys() == [backend.full("db/2026/dump.bin", PREFIX if backend.kind in REMOTE else "")]
    assert backend.raw_read(backend.full("db/2026/dump.bin", PREFIX if backend.kind in REMOTE else "")) == data


def test_empty_object_round_trips(storage):
    assert upload(storage, "empty", b"")["size"] == 0
    assert storage.stat("empty").size == 0
    assert b"".join(storage.iter_read("empty")) == b"" and storage.get_bytes("empty") == b""


def test_object_larger_than_two_parts(backend, storage):
    data = os.urandom(12 * MIB + 12345)
    result = upload(storage, "big.bin", data, chunk=MIB + 7)
    if backend.kind == "s3":
        assert result["parts"] == 3 and result["etag_confirmed"] is True
    if backend.kind == "gcs":
        assert result["md5_confirmed"] is True and result["generation"]
    assert storage.stat("big.bin").size == len(data)
    digest = hashlib.sha256()
    for block in storage.iter_read("big.bin", chunk_size=MIB):
        assert len(block) <= MIB
        digest.update(block)
    assert digest.hexdigest() == sha(data)
    assert backend.open_uploads() == []


def test_commit_with_wrong_size_leaves_nothing(backend, storage):
    data = os.urandom(6 * MIB)  # more than one part: s3 has a multipart upload open by now
    writer = storage.open_writer("bad.bin")
    writer.write(data)
    with pytest.raises(StorageError) as info:
        writer.commit(len(data) + 1, sha(data))
    assert info.value.destination == backend.spec["name"]
    assert writer.state == "aborted"
    assert_absent(backend, storage, "bad.bin")


def test_abort_leaves_nothing_and_is_idempotent(backend, storage):
    writer = storage.open_writer("aborted.bin")
    writer.write(os.urandom(6 * MIB))
    writer.abort()
    writer.abort()
    assert not getattr(writer, "abort_error", None)
    assert_absent(backend, storage, "aborted.bin")
    with pytest.raises(StorageError):
        writer.write(b"more")
    with pytest.raises(StorageError):
        writer.commit(0, sha(b""))
    upload(storage, "aborted.bin", b"second try")  # the key is free again
    assert storage.get_bytes("aborted.bin") == b"second try"


def test_writer_never_replaces_existing_key(backend, storage):
    upload(storage, "once.bin", b"original")
    with pytest.raises(StorageError, match="already exists"):
        upload(storage, "once.bin", b"replacement")  # s3/gcs refuse in open_writer, local at commit
    assert storage.get_bytes("once.bin") == b"original"
    assert backend.open_uploads() == []
    assert [o.key for o in storage.list()] == ["once.bin"]


def test_put_bytes_refuses_overwrite_unless_asked(backend, storage):
    info = storage.put_bytes("manifests/m.json", b'{"v": 1}')
    assert info.key == "manifests/m.json" and info.size == 8
    with pytest.raises(StorageError, match="already exists") as exc:
        storage.put_bytes("manifests/m.json", b'{"v": 2}')
    assert exc.value.destination == backend.spec["name"]
    assert storage.get_bytes("manifests/m.json") == b'{"v": 1}'
    storage.put_bytes("manifests/m.json", b'{"v": 3, "x": 1}', overwrite=True)
    assert storage.get_bytes("manifests/m.json") == b'{"v": 3, "x": 1}'
    assert storage.stat("manifests/m.json").size == 16
    assert [k for k in backend.raw_keys() if k.endswith("m.json")] == [
        backend.full("manifests/m.json", PREFIX if backend.kind in REMOTE else "")]


def test_list_filters_by_prefix_and_returns_relative_keys(backend, storage):
    for key in ("daily/a", "daily/b/c", "weekly/d", "dailyish"):
        storage.put_bytes(key, key.encode())
    assert sorted(o.key for o in storage.list("daily/")) == ["daily/a", "daily/b/c"]
    assert sorted(o.key for o in storage.list("daily")) == ["daily/a", "daily/b/c", "dailyish"]
    assert sorted(o.key for o in storage.list()) == ["daily/a", "daily/b/c", "dailyish", "weekly/d"]
    assert list(storage.list("nothing/")) == []
    assert {o.key: o.size for o in storage.list("weekly/")} == {"weekly/d": 8}
    if backend.kind in REMOTE:
        assert all(k.startswith(PREFIX + "/") for k in backend.raw_keys())
        sibling = backend.make(prefix=PREFIX + "-other")  # a prefix that merely starts the same way
        sibling.put_bytes("daily/z", b"z")
        assert sorted(o.key for o in sibling.list()) == ["daily/z"]
        assert "daily/z" not in [o.key for o in storage.list()]


def test_delete(backend, storage):
    storage.delete("never/existed")
    storage.put_bytes("gone", b"1")
    storage.delete("gone")
    assert storage.stat("gone") is None
    assert backend.full("gone", PREFIX if backend.kind in REMOTE else "") not in backend.raw_keys()


def test_read_missing_key_is_an_error(storage):
    with pytest.raises(StorageError, match="not found"):
        storage.get_bytes("missing")
    with pytest.raises(StorageError, match="not found"):
        list(storage.iter_read("missing"))


def test_get_bytes_refuses_large_objects(storage):
    storage.put_bytes("m", b"x" * 100)
    with pytest.raises(StorageError, match="larger than"):
        storage.get_bytes("m", max_bytes=99)


def test_probe_reports_reachable(backend, storage):
    before = backend.raw_keys()
    state = storage.probe()
    assert state["reachable"] is True
    assert state["writable"] in (True, None)
    assert isinstance(state["detail"], str) and state["detail"]
    assert backend.raw_keys() == before  # probe never writes
    assert storage.describe() in ("s3://%s/%s" % (backend.spec.get("bucket"), PREFIX),
                                  "gs://%s/%s" % (backend.spec.get("bucket"), PREFIX), backend.root)


@pytest.mark.parametrize("operation", ["write", "list", "stat", "put"])
def test_unreachable_endpoint_fails_fast_and_names_destination(backend, operation):
    if backend.kind == "local":
        pytest.skip("a local destination has no endpoint (see the missing-root test)")
    st = backend.make(endpoint_url="http://127.0.0.1:%d" % closed_port(), timeout=2, retries=0)
    start = time.monotonic()
    with pytest.raises(StorageError) as info:
        if operation == "write":
            writer = st.open_writer("x")
            writer.write(b"data")
            writer.commit(4, sha(b"data"))
        elif operation == "list":
            list(st.list())
        elif operation == "stat":
            st.stat("x")
        else:
            st.put_bytes("x", b"data")
    assert time.monotonic() - start < 8
    assert info.value.destination == backend.spec["name"]
    assert "unreachable" in str(info.value) and backend.spec["name"] in str(info.value)
    assert SECRET not in str(info.value) and ACCESS not in str(info.value)
    state = st.probe()
    assert state["reachable"] is False and "unreachable" in state["detail"]


def test_missing_bucket_or_root_gives_clear_error(backend, tmp_path):
    if backend.kind == "local":
        st = backend.make(path=str(tmp_path / "not-mounted"))
    else:
        st = backend.make(bucket="wk-missing-%s" % uuid.uuid4().hex[:10])
    for action in (lambda: st.open_writer("k"), lambda: list(st.list()), lambda: st.put_bytes("k", b"v"),
                   lambda: st.stat("k") if backend.kind in REMOTE else st.open_writer("k")):
        with pytest.raises(StorageError, match="does not exist") as info:
            action()
        assert info.value.destination == backend.spec["name"]
        assert SECRET not in str(info.value) and ACCESS not in str(info.value)
    state = st.probe()
    assert state["reachable"] is False and "does not exist" in state["detail"]
    assert not os.path.exists(str(tmp_path / "not-mounted"))  # nothing created under a missing mount point


def test_cleanup_incomplete(backend, storage):
    backend.start_orphan_upload("daily/interrupted.bin")
    backend.start_orphan_upload("weekly/other.bin")
    if backend.kind == "gcs":
        assert storage.cleanup_incomplete("daily/", 0) == []  # sessions are never visible and expire by themselves
        return
    if backend.kind == "local":
        assert storage.cleanup_incomplete("daily/", older_than_s=3600) == []  # too young
    cleaned = storage.cleanup_incomplete("daily/", 0)
    assert len(cleaned) == 1 and "daily/interrupted.bin" in cleaned[0]
    left = backend.open_uploads()
    assert len(left) == 1
    assert "weekly/other.bin" in (left[0]["Key"] if backend.kind == "s3" else left[0])
    assert len(storage.cleanup_incomplete("", 0)) == 1
    assert backend.open_uploads() == []


def test_write_after_commit_is_refused(storage):
    writer = storage.open_writer("done")
    writer.write(b"abc")
    writer.commit(3, sha(b"abc"))
    with pytest.raises(StorageError):
        writer.write(b"more")
    with pytest.raises(StorageError):
        writer.commit(3, sha(b"abc"))
    writer.abort()  # a no-op once committed
    assert storage.get_bytes("done") == b"abc"


def test_holds_of_a_plain_object_and_a_hold_the_store_cannot_keep(backend, storage):
    storage.put_bytes("held/x", b"x")
    assert storage.holds("held/x") == [] and storage.holds("held/missing") == []
    with pytest.raises(StorageError) as err:  # local has no holds, the test buckets have no Object Lock, the
        storage.set_hold("held/x", True)      # emulator drops temporaryHold: each says so, none pretends
    assert err.value.destination == backend.spec["name"] and err.value.step == "hold"
    assert {"local": "no provider holds", "s3": "no S3 Object Lock", "gcs": "did not keep"}[backend.kind] in err.value.msg
    assert storage.holds("held/x") == [] and storage.get_bytes("held/x") == b"x"
