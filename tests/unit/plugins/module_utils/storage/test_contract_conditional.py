# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The storage contract, part two: conditional writes for shared state (``create_exclusive``, ``read_versioned``,
``replace_if``), against every backend on a real peer.

``local`` writes into tmp_path, ``s3`` talks to moto_server, ``gcs`` to fake-gcs-server (gcp-storage-emulator
ignores ``if_generation_match``, so the GCS leg of this contract runs where preconditions are honoured). What the
store holds is read back through a client that does not go through the code under test.
"""

import concurrent.futures
import threading

import pytest

from fake_gcs import fake_gcs, fake_gcs_bucket  # noqa: F401  pylint: disable=unused-import
from test_contract import ACCESS, PREFIX, SECRET, Backend

KEY = "_ops_state/app-db/job.lock"


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
                "region": "us-east-1", "access_key": ACCESS, "secret_key": SECRET, "timeout": 10, "retries": 1}
        return Backend(kind, spec, client=client)
    bucket, client = request.getfixturevalue("fake_gcs_bucket")
    server = request.getfixturevalue("fake_gcs")
    spec = {"type": "gcs", "name": "offsite-gcs", "bucket": bucket, "prefix": PREFIX, "endpoint_url": server.info["endpoint"],
            "anonymous": True, "project": "wk-test", "timeout": 10, "retries": 1}
    return Backend(kind, spec, client=client)


def full(backend, key):
    return key if backend.kind == "local" else backend.full(key)


@pytest.fixture
def storage(backend):
    st = backend.make()
    yield st
    st.close()


def test_create_exclusive_creates_once(backend, storage):
    version = storage.create_exclusive(KEY, b'{"run_id": "a"}')
    assert version
    assert storage.create_exclusive(KEY, b'{"run_id": "b"}') is None
    assert backend.raw_read(full(backend, KEY)) == b'{"run_id": "a"}'
    assert backend.raw_keys() == [full(backend, KEY)]  # no partial file or sidecar visible as an object
    assert [o.key for o in storage.list("_ops_state/")] == [KEY]


def test_read_versioned_and_replace_if(backend, storage):
    assert storage.read_versioned(KEY) is None
    first = storage.create_exclusive(KEY, b"one")
    got = storage.read_versioned(KEY)
    assert got.data == b"one" and got.version == first
    second = storage.replace_if(KEY, b"two", first)
    assert second and second != first
    assert storage.replace_if(KEY, b"stale", first) is None  # the version read before is gone
    assert backend.raw_read(full(backend, KEY)) == b"two"
    assert storage.read_versioned(KEY).version == second
    assert storage.replace_if("_ops_state/app-db/missing.lock", b"x", second) is None


def test_one_of_many_concurrent_creates_wins(backend):
    """Eight clients (own connections) create the same key at once: exactly one wins, and its content is stored."""
    barrier = threading.Barrier(8)

    def create(number):
        st = backend.make()
        try:
            barrier.wait()
            return number, st.create_exclusive(KEY, b"run-%d" % number)
        finally:
            st.close()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(create, range(8)))
    winners = [n for n, version in results if version]
    assert len(winners) == 1
    assert backend.raw_read(full(backend, KEY)) == b"run-%d" % winners[0]


def test_one_of_many_concurrent_replaces_wins(backend, storage):
    """Breakers that all read the same stale version: exactly one replace succeeds."""
    stale = storage.create_exclusive(KEY, b"stale")
    barrier = threading.Barrier(6)

    def replace(number):
        st = backend.make()
        try:
            barrier.wait()
            return number, st.replace_if(KEY, b"breaker-%d" % number, stale)
        finally:
            st.close()

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        results = list(pool.map(replace, range(6)))
    winners = [n for n, version in results if version]
    assert len(winners) == 1
    assert backend.raw_read(full(backend, KEY)) == b"breaker-%d" % winners[0]


def test_s3_conditional_writes_send_content_md5(request):  # the s3 leg only
    """S3 refuses a PutObject without Content-MD5 (or a checksum header) into a bucket with a default Object Lock
    retention, and moto does not enforce it: the headers botocore actually sends are read from its request events."""
    bucket, _client = request.getfixturevalue("s3_bucket")
    moto = request.getfixturevalue("moto")
    spec = {"type": "s3", "name": "offsite-s3", "bucket": bucket, "prefix": PREFIX, "endpoint_url": moto.info["endpoint"],
            "region": "us-east-1", "access_key": ACCESS, "secret_key": SECRET, "timeout": 10, "retries": 1}
    st = Backend("s3", spec).make()
    seen = []
    st.client.meta.events.register("before-send.s3.PutObject", lambda request, **kw: seen.append(dict(request.headers)))
    try:
        version = st.create_exclusive(KEY, b'{"run_id": "a"}')
        assert st.replace_if(KEY, b'{"run_id": "b"}', version)
    finally:
        st.close()
    assert len(seen) == 2 and all("Content-MD5" in headers for headers in seen), seen
