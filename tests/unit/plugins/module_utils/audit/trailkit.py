"""Helpers of the audit unit tests: a small trail written through the real spool."""

import os

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.sign import HmacSigner
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.spool import Spool
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.local import LocalStorage

KEY = b"0123456789abcdef0123456789abcdef"
OTHER_KEY = b"fedcba9876543210fedcba9876543210"


def build(root, sizes=(5, 5, 5), tail=2, key=KEY):
    spool = Spool(str(root), hostname="ctl-1")
    spool.open()
    signer = HmacSigner(key)
    n = 0
    for size in sizes:
        for _number in range(size):
            n += 1
            spool.append({"event": "task", "task": "t%d" % n, "host": "h%d" % (n % 3), "outcome": "ok", "run": "r1"})
        spool.seal(signer, "run_end")
    for _number in range(tail):
        n += 1
        spool.append({"event": "task", "task": "t%d" % n, "host": "h0", "outcome": "changed", "run": "r2"})
    spool.close()
    return spool


class Trail(object):
    def __init__(self, root, spool):
        self.root = str(root)
        self.spool = spool
        self.chain = spool.chain
        self.storage = LocalStorage({"type": "local", "path": self.root, "name": "spool"})

    def path(self, rel):
        return os.path.join(self.root, self.chain, rel)

    def lines(self, rel):
        with open(self.path(rel), "rb") as handle:
            return handle.read().split(b"\n")[:-1]

    def write_lines(self, rel, lines):
        with open(self.path(rel), "wb") as handle:
            handle.write(b"".join(line + b"\n" for line in lines))
