# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Content fingerprints of every table from the ``pg_dump -Fc -Z0`` stream, on the backup side.

* ``StreamFingerprint`` is the tap on the dump's first hop (``pipeline.ProcessProducer(tap=...)``): it
  feeds ``pgdump_format.DumpDigest`` and keeps the time spent. A dump it cannot read (an archive version
  it does not know, compressed data) turns it off for the rest of the stream: the backup goes on with
  the SQL row counts alone and the manifest says why (``content.status: unavailable``).
* ``COPY`` text depends on a few session settings pg_dump does not set itself (``TimeZone`` for
  ``timestamptz``, ``bytea_output``, ``lc_monetary`` for ``money``) and on the client encoding (the
  database's). They are read in the snapshot transaction and recorded, so that verification dumps the
  restored data with the same ones and compares byte for byte.
* ``merge`` joins the SQL part (row counts, optional md5 checksums of ``checksum_tables``) and the
  stream's digests into the manifest's ``fingerprint`` (method ``copy-sha256-v2``).
"""

import time

from ansible_collections.watchkeeper.ops.plugins.module_utils import pgdump_format

COPY_SETTINGS = ("TimeZone", "bytea_output", "lc_monetary", "server_encoding")
COPY_SETTINGS_SQL = "SELECT %s" % ", ".join("current_setting('%s')" % name for name in COPY_SETTINGS)
LEGACY_METHOD = "rows+md5sum-v1"


def read_settings(cursor):
    """The session settings that shape ``COPY`` text, as the backup's connection sees them."""
    cursor.execute(COPY_SETTINGS_SQL)
    return dict(zip(COPY_SETTINGS, cursor.fetchone()))


def pgoptions(settings):
    """``PGOPTIONS`` that give a libpq session the recorded settings (spaces escaped as libpq wants)."""
    parts = []
    for name in ("TimeZone", "bytea_output", "lc_monetary"):
        value = (settings or {}).get(name)
        if value:
            parts.append("-c %s=%s" % (name, str(value).replace("\\", "\\\\").replace(" ", "\\ ")))
    return " ".join(parts)


class StreamFingerprint(object):
    """The dump stream's tap: digests of every table; never raises into the pipeline."""

    def __init__(self):
        self.parser = pgdump_format.DumpDigest()
        self.error = None
        self.seconds = 0.0

    def tap(self, data):
        if self.error is not None:
            return
        started = time.perf_counter()
        try:
            self.parser.feed(data)
        except pgdump_format.DumpFormatError as exc:
            self.error = str(exc)
        finally:
            self.seconds += time.perf_counter() - started

    def finish(self):
        """The stream's summary, or None (then ``error`` says why)."""
        if self.error is None:
            try:
                self.parser.finish()
            except pgdump_format.DumpFormatError as exc:
                self.error = str(exc)
        return None if self.error is not None else self.parser.summary()


def merge(sql_fp, stream, settings, pg_dump_version, seconds, error=None):
    """The manifest's ``fingerprint``: ``sql_fp`` (rows per table, md5 of ``checksum_tables``) with the
    stream's ``sha256``/``bytes`` added to every table it holds. ``stream`` None: the legacy method and
    ``content.status: unavailable`` with ``error``."""
    out = dict(sql_fp)
    tables = dict((name, dict(entry)) for name, entry in sql_fp["tables"].items())
    content = {"status": "unavailable", "method": pgdump_format.METHOD, "reason": error,
               "duration_s": round(seconds, 3), "settings": settings}
    if stream is None:
        out.update(method=LEGACY_METHOD, tables=tables, content=content)
        return out
    for name, digest in stream["tables"].items():
        entry = tables.setdefault(name, {})
        entry["sha256"] = digest["sha256"]
        entry["bytes"] = digest["bytes"]
    for name, entry in tables.items():
        if "sha256" not in entry and not entry.get("data_excluded"):
            entry["sha256"] = None  # the dump holds no data block for it
    content.update(status="ok", reason=None, archive=stream["archive"],
                   pg_dump_major=_major(pg_dump_version), pg_dump_version=pg_dump_version,
                   tables_digested=len(stream["tables"]), bytes=sum(d["bytes"] for d in stream["tables"].values()))
    if stream.get("large_objects"):
        content["large_objects"] = stream["large_objects"]
    out.update(method=pgdump_format.METHOD, tables=tables, content=content)
    return out


def _major(version):
    try:
        return int(str(version).split(".", maxsplit=1)[0])
    except (TypeError, ValueError):
        return None
