"""Redis for ``wk_services``: Debian's ``redis-server`` without persistence, in a throwaway directory."""

import os
import shutil

from wk_svc_common import LOOPBACK, Process, free_port, wait_port


def start_redis(work_dir, port=None):
    """redis-server on loopback, no persistence; ``stop()`` ends it (SIGTERM to its process group)."""
    port = port or free_port()
    os.makedirs(work_dir, exist_ok=True)
    log = os.path.join(work_dir, "redis.log")
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = Process("redis", [binary, "--bind", LOOPBACK, "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", work_dir, "--protected-mode", "yes"], log, port=port, host=LOOPBACK)
    wait_port(port, proc=proc.proc, name="redis-server", log=log)
    return proc
