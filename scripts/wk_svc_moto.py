"""S3 protocol for ``wk_services``: ``moto`` server."""

import os

from wk_svc_common import LOOPBACK, Process, _venv_bin, free_port, wait_port


def start_moto(work_dir, port=None, host=LOOPBACK):
    """moto's S3-protocol server (endpoint ``http://<host>:<port>``), on loopback by default.

    ``host`` may name another address of this machine, such as a test fleet network's gateway, so
    that containers on that network reach the server; wildcard addresses are refused (the server
    must never listen on every interface)."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        raise ValueError("start_moto: bind a single address of this machine, not the wildcard %r" % host)
    port = port or free_port(host)
    os.makedirs(work_dir, exist_ok=True)
    log = os.path.join(work_dir, "moto.log")
    proc = Process("moto", [_venv_bin("moto_server"), "-H", host, "-p", str(port)], log, port=port,
                   endpoint="http://%s:%d" % (host, port), host=host)
    wait_port(port, proc=proc.proc, name="moto_server", log=log, host=host)
    return proc
