"""SMTP for ``wk_services``: ``aiosmtpd`` writing every message into a Maildir."""

import os
import sys

from wk_svc_common import LOOPBACK, Process, free_port, wait_port


def start_smtp(work_dir, port=None):
    """aiosmtpd on loopback, every message stored in ``<work_dir>/maildir``."""
    port = port or free_port()
    maildir = os.path.join(work_dir, "maildir")
    os.makedirs(work_dir, exist_ok=True)
    log = os.path.join(work_dir, "smtp.log")
    proc = Process("smtp", [sys.executable, "-m", "aiosmtpd", "-n", "-l", "%s:%d" % (LOOPBACK, port),
                            "-c", "aiosmtpd.handlers.Mailbox", maildir], log, port=port, maildir=maildir)
    wait_port(port, proc=proc.proc, name="aiosmtpd", log=log)
    return proc
