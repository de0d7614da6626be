"""GCS protocol for ``wk_services``: ``gcp-storage-emulator`` (in memory)."""

import os

from wk_svc_common import LOOPBACK, Process, _venv_bin, free_port, wait_port


def start_gcs(work_dir, port=None):
    """gcp-storage-emulator on loopback; clients use STORAGE_EMULATOR_HOST=http://127.0.0.1:<port>."""
    port = port or free_port()
    os.makedirs(work_dir, exist_ok=True)
    log = os.path.join(work_dir, "gcs.log")
    proc = Process("gcs", [_venv_bin("gcp-storage-emulator"), "start", "--host", LOOPBACK, "--port", str(port),
                           "--in-memory", "-q"], log, port=port,
                   endpoint="http://%s:%d" % (LOOPBACK, port))
    wait_port(port, proc=proc.proc, name="gcp-storage-emulator", log=log)
    return proc
