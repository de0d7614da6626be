# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build a ``Source`` from the ``source`` option (``type``: postgres, sqlite, files)."""

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError

TYPES = ("postgres", "sqlite", "files")


def make_source(spec, tmp_dir=None):
    kind = spec.get("type")
    if kind == "postgres":
        from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.postgres import PostgresSource
        return PostgresSource(spec, tmp_dir)
    if kind == "sqlite":
        from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.sqlite import SqliteSource
        return SqliteSource(spec, tmp_dir)
    if kind == "files":
        if (spec.get("mode") or "full") == "incremental":
            from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.files_incremental import IncrementalFilesSource
            return IncrementalFilesSource(spec, tmp_dir)
        from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.files import FilesSource
        return FilesSource(spec, tmp_dir)
    raise ConfigError("unknown source type %r (expected one of %s)" % (kind, ", ".join(TYPES)), step="configure")
