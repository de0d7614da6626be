"""SMTP for ``wk_services``: ``aiosmtpd`` writing every message into a Maildir."""

import os
import sys

from wk_svc_common import LOOPBACK, Process, free_port, wait_port


def start_smtp(work_dir, port=None, host=LOOPBACK):
    """aiosmtpd on loopback (or ``host``, e.g. a test fleet's gateway), every message stored in ``<work_dir>/maildir``."""
    port = port or free_port(host)
    maildir = os.path.join(work_dir, "maildir")
    os.makedirs(work_dir, exist_ok=True)
    log = os.path.join(work_dir, "smtp.log")
    proc = Process("smtp", [sys.executable, "-m", "aiosmtpd", "-n", "-l", "%s:%d" % (host, port),
                            "-c", "aiosmtpd.handlers.Mailbox", maildir], log, port=port, maildir=maildir)
    wait_port(port, proc=proc.proc, name="aiosmtpd", log=log, host=host)
    return proc
