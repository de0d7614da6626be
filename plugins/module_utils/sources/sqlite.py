# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SQLite source: a consistent copy through SQLite's online backup API, while the app writes.

The backup API needs a database file to copy into, so the copy lands in ``tmp_dir`` (scratch
space the size of the database; removed as soon as it has been streamed). The fingerprint
(row count of every table) is taken from that copy, so it describes exactly the stored data.
"""

import os
import sqlite3
import tempfile
import time

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import SourceError
from ansible_collections.watchkeeper.ops.plugins.module_utils.pipeline import FunctionProducer
from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.base import Artifact, Source

MAGIC = b"SQLite format 3\x00"
COPY_CHUNK = 4 * 1024 * 1024


def _quote(name):
    return '"%s"' % name.replace('"', '""')


def table_counts(conn):
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: {"rows": conn.execute("SELECT count(*) FROM %s" % _quote(name)).fetchone()[0]} for name in names}


class SqliteSource(Source):
    kind = "sqlite"

    def __init__(self, spec, tmp_dir=None):
        super(SqliteSource, self).__init__(spec, tmp_dir)
        self.path = spec.get("path")
        if not self.path:
            raise SourceError("an sqlite source needs 'path'", step="check")
        self.copy_path = None
        self.fingerprint = None

    def check(self):
        try:
            with open(self.path, "rb") as handle:
                magic = handle.read(16)
        except OSError as exc:
            raise SourceError("cannot read SQLite database %s: %s" % (self.path, exc.strerror), step="check")
        if magic != MAGIC:
            raise SourceError("%s is not an SQLite 3 database" % self.path, step="check")
        return {"kind": "sqlite", "path": os.path.abspath(self.path), "sqlite_version": sqlite3.sqlite_version,
                "tool": "sqlite3 online backup API"}

    def estimate_bytes(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return None

    def _snapshot(self):
        started = time.monotonic()
        fd, self.copy_path = tempfile.mkstemp(prefix="wk-sqlite-", suffix=".db", dir=self.tmp_dir)
        os.close(fd)
        try:
            src = sqlite3.connect(self.path, timeout=30)
            dst = sqlite3.connect(self.copy_path)
            try:
                src.backup(dst)  # one step: a consistent snapshot even while the app writes
                dst.execute("PRAGMA journal_mode=DELETE")
                self.fingerprint = {"method": "rows-v1", "tables": table_counts(dst)}
            finally:
                dst.close()
                src.close()
        except sqlite3.Error as exc:
            raise SourceError("SQLite backup of %s failed: %s" % (self.path, exc), step="snapshot")
        self.fingerprint["table_count"] = len(self.fingerprint["tables"])
        self.fingerprint["total_rows"] = sum(t["rows"] for t in self.fingerprint["tables"].values())
        self.fingerprint["duration_s"] = round(time.monotonic() - started, 3)

    def artifacts(self, ctx):
        def produce(out):
            self._snapshot()
            with open(self.copy_path, "rb") as handle:
                for block in iter(lambda: handle.read(COPY_CHUNK), b""):
                    out.write(block)
            os.unlink(self.copy_path)
            self.copy_path = None

        yield Artifact("db", ".sqlite", FunctionProducer("sqlite-backup", produce))

    def manifest_extra(self):
        return {"fingerprint": self.fingerprint} if self.fingerprint else {}

    def close(self):
        if self.copy_path and os.path.exists(self.copy_path):
            os.unlink(self.copy_path)
            self.copy_path = None
