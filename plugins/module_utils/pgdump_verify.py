# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Content digests on the verification side: the same reader over a dump file or over fresh dumps of a database.

* ``digest_file``: the decoded dump a restore downloads (``content: dump``). Proves that the dump holds
  exactly the data that was fingerprinted while it streamed, before ``pg_restore`` reads it.
* ``digest_database``: ``pg_dump -Fc -Z0 --data-only`` of the restored database in ``parallel``
  processes, each with a group of tables (exact quoted ``-t`` patterns, groups balanced greedily by the
  backup's bytes; large objects in the first one), with the session settings the backup recorded
  (``TimeZone``, ``bytea_output``, ``lc_monetary`` and the client encoding). Same tool, same framing, so the
  digests match the backup's byte for byte when the data is the same, with no per-row Python.
"""

import os
import subprocess
import threading

from ansible_collections.watchkeeper.ops.plugins.module_utils import pgdump_content, pgdump_format
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import SourceError
from ansible_collections.watchkeeper.ops.plugins.module_utils.pipeline_io import grow_pipe

READ_SIZE = 4 * 1024 * 1024


def digest_file(path):
    """``DumpDigest.summary()`` of a custom-format dump file; raises ``pgdump_format.DumpFormatError``."""
    parser = pgdump_format.DumpDigest()
    with open(path, "rb", buffering=0) as handle:
        while True:
            data = handle.read(READ_SIZE)
            if not data:
                break
            parser.feed(data)
    return parser.finish().summary()


def quote_pattern(qualified):
    schema, table = qualified.split(".", 1)
    return '"%s"."%s"' % (schema.replace('"', '""'), table.replace('"', '""'))


def plan_groups(sizes, parallel):
    """``[[table, ...], ...]``: at most ``parallel`` groups, biggest tables first into the lightest group."""
    groups = [[0, []] for _index in range(max(1, min(parallel, len(sizes) or 1)))]
    for name in sorted(sizes, key=lambda n: (-(sizes[n] or 0), n)):
        lightest = min(groups, key=lambda g: g[0])
        lightest[0] += sizes[name] or 0
        lightest[1].append(name)
    return [names for _weight, names in groups if names]


class _Dump(threading.Thread):
    def __init__(self, argv, env):
        super(_Dump, self).__init__(name="content-pg_dump", daemon=True)
        self.argv = argv
        self.env = env
        self.parser = pgdump_format.DumpDigest()
        self.error = None
        self.proc = None

    def run(self):
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=self.env)
            stderr = []
            reader = threading.Thread(target=lambda: stderr.append(self.proc.stderr.read()), daemon=True)
            reader.start()
            fd = self.proc.stdout.fileno()
            grow_pipe(fd)  # 1 MB reads instead of 64 kB ones
            while True:
                data = os.read(fd, READ_SIZE)
                if not data:
                    break
                self.parser.feed(data)
            code = self.proc.wait()
            reader.join()
            if code != 0:
                text = b"".join(stderr).decode("utf-8", "replace").strip()
                self.error = "pg_dump exited with status %d: %s" % (code, text[-2000:])
                return
            self.parser.finish()
        except (OSError, pgdump_format.DumpFormatError) as exc:
            self.error = str(exc)
            self.kill()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()


def digest_database(pg_dump, env, dbname, sizes, content, parallel=2, timeout=None):
    """Digests of ``sizes`` (``{"schema.table": bytes}``, the tables to read) and, when the backup had large
    objects, of those, from ``pg_dump`` of ``dbname``. ``content`` is the manifest's ``fingerprint.content``
    (settings). Returns ``{"tables": {name: {"sha256", "bytes"}}, "large_objects": {...}|None}``."""
    settings = content.get("settings") or {}
    env = dict(env)
    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " " + pgdump_content.pgoptions(settings)).strip()
    base = [pg_dump, "--format=custom", "--compress=0", "--data-only", "--no-password", "--no-sync"]
    if settings.get("server_encoding") and settings["server_encoding"] != "SQL_ASCII":
        base.append("--encoding=%s" % settings["server_encoding"])
    want_blobs = bool((content.get("large_objects") or {}).get("count"))
    groups = plan_groups(sizes, parallel)
    if not groups and not want_blobs:
        return {"tables": {}, "large_objects": None}
    dumps = []
    for index, names in enumerate(groups or [[]]):
        argv = list(base)
        for name in names:
            argv.append("--table=%s" % quote_pattern(name))
        if want_blobs and index == 0:
            argv.append("--blobs")
        argv.append("--dbname=%s" % dbname)
        dumps.append(_Dump(argv, env))
    for dump in dumps:
        dump.start()
    for dump in dumps:
        dump.join(timeout)
        if dump.is_alive():
            for other in dumps:
                other.kill()
            raise SourceError("the content check's pg_dump did not finish within %ss" % timeout, step="checks")
    errors = [d.error for d in dumps if d.error]
    if errors:
        raise SourceError("content check of database %s failed: %s" % (dbname, errors[0]), step="checks")
    tables = {}
    blobs = None
    for dump in dumps:
        tables.update(dump.parser.tables)
        if dump.parser.large_objects["count"]:
            blobs = dict(dump.parser.large_objects)
    return {"tables": tables, "large_objects": blobs}
