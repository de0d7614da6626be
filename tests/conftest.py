"""Shared pytest fixtures: the collection on sys.path and real peer services on loopback.

Services are started once per session (they take a second or two each) and stopped at the end;
tests isolate themselves with fresh databases, buckets and directories.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import uuid

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(TESTS, "support"))

import ansible_run  # noqa: E402  pylint: disable=wrong-import-position

COLLECTIONS_ROOT = ansible_run.collections_path()
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)

import wk_services  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def services_dir():
    path = tempfile.mkdtemp(prefix="wk-services-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg(services_dir):
    """A private PostgreSQL cluster (superuser ``postgres`` / ``pg.password``) on 127.0.0.1."""
    cluster = wk_services.start_postgres(os.path.join(services_dir, "pg"))
    yield cluster
    cluster.destroy()


@pytest.fixture
def pg_db(pg):
    """A fresh, empty database in the session cluster; dropped afterwards."""
    name = "t_%s" % uuid.uuid4().hex[:10]
    pg.psql("CREATE DATABASE %s" % name)
    yield name
    pg.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name, check=False)


@pytest.fixture(scope="session")
def moto(services_dir):
    """moto's S3 server; ``moto.info['endpoint']`` is its URL."""
    proc = wk_services.start_moto(os.path.join(services_dir, "moto"))
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def s3_env():
    """Fake credentials for moto (never real ones)."""
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def s3_bucket(moto, s3_env, monkeypatch):
    """A fresh bucket in moto; returns (bucket name, boto3 client for out-of-band checks)."""
    import boto3
    for key, value in s3_env.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=moto.info["endpoint"], region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing-secret")
    name = "wk-%s" % uuid.uuid4().hex[:12]
    client.create_bucket(Bucket=name)
    return name, client


@pytest.fixture(scope="session")
def gcs(services_dir):
    """gcp-storage-emulator; ``gcs.info['endpoint']`` is its URL."""
    proc = wk_services.start_gcs(os.path.join(services_dir, "gcs"))
    yield proc
    proc.stop()


@pytest.fixture
def gcs_bucket(gcs):
    """A fresh bucket in the GCS emulator; returns (bucket name, google.cloud.storage client)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs_storage
    client = gcs_storage.Client(project="wk-test", credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": gcs.info["endpoint"]})
    name = "wk-%s" % uuid.uuid4().hex[:12]
    client.create_bucket(name)
    return name, client


@pytest.fixture(scope="session")
def smtp(services_dir):
    """aiosmtpd on loopback; messages land in ``smtp.info['maildir']``."""
    proc = wk_services.start_smtp(os.path.join(services_dir, "smtp"))
    yield proc
    proc.stop()


def _gpg(home, *args, **kwargs):
    return subprocess.run(["gpg", "--homedir", home, "--batch", "--no-tty", "--pinentry-mode", "loopback"] + list(args),
                          check=True, capture_output=True, **kwargs)


@pytest.fixture(scope="session")
def gpg_keys(services_dir):
    """A throwaway key pair: the private key lives only in ``private_home``.

    Returns a dict with ``private_home`` (GNUPGHOME holding the secret key), ``public_key``
    (armored public key file), ``private_key`` (armored secret key file, for restores),
    ``fingerprint`` and ``passphrase_file`` (for symmetric mode).
    """
    base = os.path.join(services_dir, "gpg")
    home = os.path.join(base, "private-home")
    os.makedirs(home, mode=0o700)
    _gpg(home, "--passphrase", "", "--quick-gen-key", "Watchkeeper Test <wk-test@example.invalid>", "ed25519", "cert", "never")
    out = _gpg(home, "--list-keys", "--with-colons").stdout.decode()
    fpr = [line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:")][0]
    _gpg(home, "--passphrase", "", "--quick-add-key", fpr, "cv25519", "encr", "never")
    public_key = os.path.join(base, "backup-public.asc")
    with open(public_key, "wb") as handle:
        handle.write(_gpg(home, "--armor", "--export", fpr).stdout)
    private_key = os.path.join(base, "restore-private.asc")
    with open(private_key, "wb") as handle:
        handle.write(_gpg(home, "--armor", "--export-secret-keys", fpr).stdout)
    os.chmod(private_key, 0o600)
    passphrase_file = os.path.join(base, "passphrase")
    with open(passphrase_file, "w") as handle:
        handle.write("correct horse battery staple %s\n" % uuid.uuid4().hex)
    os.chmod(passphrase_file, 0o600)
    return {"private_home": home, "public_key": public_key, "private_key": private_key, "fingerprint": fpr,
            "passphrase_file": passphrase_file}


@pytest.fixture(scope="session")
def redis(services_dir):
    """redis-server on loopback (no persistence); ``redis.port``. Tests use their own keys."""
    proc = wk_services.start_redis(os.path.join(services_dir, "redis"))
    yield proc
    proc.stop()


@pytest.fixture
def nginx_factory():
    """``start(work_dir, http=..., server=...)`` -> a foreground nginx on loopback, stopped afterwards."""
    started = []

    def start(work_dir, http="", server=""):
        proc = wk_services.start_nginx(work_dir, http=http, server=server)
        started.append(proc)
        return proc
    yield start
    for proc in started:
        proc.stop()


# --------------------------------------------------------------------------- Docker Engine and fleets

@pytest.fixture(scope="session")
def docker_host():
    """DOCKER_HOST of an Engine that answers (scripts/test.sh starts the project's own if none runs)."""
    import wk_engine
    host = wk_engine.ensure()
    os.environ["DOCKER_HOST"] = host
    return host


@pytest.fixture(scope="session")
def fleet_image(docker_host):
    """The fleet image (built once, reused while its inputs do not change)."""
    import wk_images
    return os.environ.get("WK_FLEET_IMAGE") or wk_images.build(docker_host=docker_host)["fleet"]


@pytest.fixture(scope="module")
def fleet_factory(fleet_image, docker_host, request):
    """``make(["db1:db", "db2:db"])`` -> a running ``wk_fleet.Fleet`` owned by this worker process.

    Fleets are named after the xdist worker and the test module, so two workers never share one;
    they are removed at the end of the module (or by the next ``up`` if this process is killed)."""
    import wk_fleet
    made = []
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
    module = request.module.__name__.rsplit(".", 1)[-1].replace("test_", "")[:12].replace("_", "")

    def make(hosts, suffix=""):
        name = "%s-%s%s%d" % (worker, module, suffix, len(made))
        fleet = wk_fleet.up(wk_fleet.parse_hosts(hosts), name, owner_pid=os.getpid(), image=fleet_image,
                            docker_host=docker_host)
        made.append(fleet)
        return fleet
    yield make
    for fleet in made:
        fleet.down()
