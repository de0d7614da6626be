# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seeded faults for the health_facts tests: a nearly full tmpfs, a short-lived certificate, Redis with a password."""

import os
import shutil
import subprocess
import tempfile

import pytest

from wk_svc_common import LOOPBACK, Process, free_port, wait_port  # pylint: disable=import-error


@pytest.fixture
def full_tmpfs():
    """A 4 MiB tmpfs filled to 96 % (needs root and mount); yields its mount point, unmounted afterwards."""
    point = tempfile.mkdtemp(prefix="wk-health-tmpfs-")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "wk-health-tmpfs", point], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        os.rmdir(point)
        pytest.skip("cannot mount a tmpfs here: %s" % mounted.stderr.strip())
    try:
        st = os.statvfs(point)
        size = st.f_blocks * st.f_frsize
        with open(os.path.join(point, "fill"), "wb") as handle:
            handle.write(b"\0" * int(size * 0.96))
        yield point
    finally:
        subprocess.run(["umount", point], check=False)
        os.rmdir(point)


def short_cert(work_dir, days=2):
    """A self-signed certificate for 127.0.0.1 valid ``days`` days; returns (cert, key) paths."""
    crt, key = os.path.join(work_dir, "short.crt"), os.path.join(work_dir, "short.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", str(days),
                    "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    return crt, key


def tls_server_block(crt, key, port):
    """An nginx ``http``-level server block on ``LOOPBACK:port`` serving ``crt``."""
    return ("server { listen %s:%d ssl; ssl_certificate %s; ssl_certificate_key %s; "
            "location / { return 200 'tls ok'; } }" % (LOOPBACK, port, crt, key))


@pytest.fixture
def redis_with_password():
    """A throwaway redis-server requiring a password; yields ``{port, password}``."""
    work_dir = tempfile.mkdtemp(prefix="wk-health-redis-")
    port = free_port()
    password = "s3cret-%s" % os.getpid()
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = Process("redis-auth", [binary, "--bind", LOOPBACK, "--port", str(port), "--save", "", "--appendonly", "no",
                                  "--dir", work_dir, "--requirepass", password], os.path.join(work_dir, "redis.log"),
                   port=port, host=LOOPBACK)
    try:
        wait_port(port, proc=proc.proc, name="redis-server", log=os.path.join(work_dir, "redis.log"))
        yield {"port": port, "password": password}
    finally:
        proc.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
