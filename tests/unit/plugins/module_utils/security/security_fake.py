"""A HostContext whose files live under a temporary root and whose commands answer from a table."""

import os

from ansible_collections.watchkeeper.ops.plugins.module_utils.security.context import HostContext


class FakeHost(HostContext):
    def __init__(self, root, params=None, commands=None, now=None):
        super(FakeHost, self).__init__(params or {}, root=str(root), now=now)
        self.commands = commands or {}
        self.cache["container"] = False

    def write(self, path, text, mode=0o644):
        full = self.path(path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as handle:
            handle.write(text)
        os.chmod(full, mode)
        return full

    def run(self, argv, timeout=60):
        for key, answer in self.commands.items():
            if tuple(argv[:len(key)]) == key:
                return answer
        return (127, "", "%s: not found" % argv[0])
