# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An incremental reader of ``pg_dump -Fc -Z0`` streams that digests every table's data (pure, no I/O).

``DumpDigest().feed(bytes)`` any number of times (any read boundaries), then ``finish()``. It knows the
archive header and the table of contents (``dumpId`` -> desc, namespace, tag, copy statement) and, for
every ``TABLE DATA`` block, the SHA-256 and length of the block's **framed** bytes (every chunk's length
int and bytes, up to and including the int 0 that ends the block); for large objects one digest over
every ``BLOBS`` block (oid, chunks, end markers) and their count.

Layout (``src/bin/pg_dump/pg_backup_archiver.c`` ReadHead/ReadToc, ``pg_backup_custom.c``): header
``PGDMP``, vmaj, vmin, vrev, intSize, offSize, format; the compression (an int before 1.15, one byte
after); the creation time (7 ints); the database name, server and pg_dump versions; then the TOC.
Ints are a sign byte and ``intSize`` little-endian bytes; strings an int length (-1: NULL) and bytes.
On a pipe the data blocks follow the TOC in order: ``BLK_DATA`` (1) and the dumpId, then chunks, an
int 0 ends the block; ``BLK_BLOBS`` (3): the dumpId, then per large object its oid, chunks and an int
0; oid 0 ends the block.

Speed: a table's block is hashed as it arrives, never walked row by row. pg_dump writes one chunk per
``COPY`` row and ends every table's data with the chunk ``\\.\\n\\n\\n`` and the int 0. ``COPY`` text
never holds a NUL byte, so that 15-byte pattern can only be the terminator (a NUL is always part of a
frame's length int) and ``bytes.find`` locates each block's end at C speed; a short carry handles
patterns split across reads.
"""

import hashlib

MAGIC = b"PGDMP"
FORMAT_CUSTOM = 1
BLK_DATA = 1
BLK_BLOBS = 3
SUPPORTED = ((1, 14), (1, 15), (1, 16))  # PostgreSQL 12-15, 16, 17/18
METHOD = "copy-sha256-v2"


class DumpFormatError(Exception):
    """The stream is not a dump this reader can digest (the reason says why)."""


class UnsupportedDump(DumpFormatError):
    """A well-formed dump of a version or kind this reader does not know (compressed, other format)."""


class TruncatedDump(DumpFormatError):
    """The stream ended inside the header, the TOC or a data block."""


class _NeedMore(Exception):
    pass


class _Cursor(object):
    """Reads ints and strings from ``data`` at ``pos``; raises ``_NeedMore`` at the end of the bytes."""

    def __init__(self, data, pos, int_size=4):
        self.data = data
        self.pos = pos
        self.int_size = int_size

    def take(self, count):
        end = self.pos + count
        if end > len(self.data):
            raise _NeedMore()
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def byte(self):
        return self.take(1)[0]

    def int(self):
        raw = self.take(1 + self.int_size)
        value = int.from_bytes(raw[1:], "little")
        return -value if raw[0] else value

    def str(self):
        length = self.int()
        if length < 0:
            return None
        return bytes(self.take(length)).decode("utf-8", "replace")


class DumpDigest(object):
    """Feed a custom-format stream; ``tables`` (``"schema.table"`` -> ``{"sha256", "bytes"}``),
    ``large_objects`` (``{"count", "sha256", "bytes"}``) and ``archive`` (versions) describe it."""

    def __init__(self):
        self.archive = {}
        self.entries = {}  # dumpId -> {"desc", "namespace", "tag", "copy"}
        self.tables = {}
        self.large_objects = {"count": 0, "sha256": None, "bytes": 0}
        self.total_bytes = 0
        self._state = "head"
        self._pending = b""
        self._int_size = 4
        self._toc_left = None
        self._end = None
        self._block = None  # (name, hash, size) of the table block being read
        self._carry = b""
        self._blobs = None  # hashlib object over every BLOBS block
        self._blob_state = None  # "oid", "len" or a count of chunk bytes still to read
        self._done = False

    # -- public ---------------------------------------------------------------------------------
    def feed(self, data):
        if self._done:
            raise DumpFormatError("data fed after finish()")
        if not data:
            return
        self.total_bytes += len(data)
        if self._pending:
            data = self._pending + bytes(data)
            self._pending = b""
        elif not isinstance(data, bytes):
            data = bytes(data)
        pos = 0
        size = len(data)
        while pos < size:
            if self._state == "data":
                pos = self._feed_table(data, pos)
            elif self._state == "blobs" and isinstance(self._blob_state, int):
                take = min(self._blob_state, size - pos)
                self._blobs.update(memoryview(data)[pos:pos + take])
                self.large_objects["bytes"] += take
                self._blob_state -= take
                pos += take
                if not self._blob_state:
                    self._blob_state = "len"
            else:
                try:
                    pos = self._structure(data, pos)
                except _NeedMore:
                    self._pending = data[pos:]
                    return

    def finish(self):
        """Check that the stream ended between two blocks; returns ``self``."""
        self._done = True
        if self._state in ("head", "toc"):
            raise TruncatedDump("the dump ends inside its %s" % ("header" if self._state == "head" else "table of contents"))
        if self._state != "blocks" or self._pending:
            where = self._block[0] if self._state == "data" else "large objects" if self._state == "blobs" else "a block"
            raise TruncatedDump("the dump ends inside the data of %s" % where)
        if self._blobs is not None:
            self.large_objects["sha256"] = self._blobs.hexdigest()
        return self

    def summary(self):
        out = {"method": METHOD, "archive": dict(self.archive), "tables": dict(self.tables)}
        if self.large_objects["count"]:
            out["large_objects"] = dict(self.large_objects)
        return out

    # -- structure: header, TOC, block headers, large-object framing ----------------------------
    def _structure(self, data, pos):
        cur = _Cursor(data, pos, self._int_size)
        if self._state == "head":
            self._header(cur)
            self._state = "toc"
        elif self._state == "toc":
            if self._toc_left is None:
                self._toc_left = cur.int()
            elif self._toc_left > 0:
                self._toc_entry(cur)
                self._toc_left -= 1
            if self._toc_left == 0:
                self._state = "blocks"
        elif self._state == "blocks":
            self._block_header(cur)
        elif self._state == "blobs":
            self._blob_frame(cur)
        return cur.pos

    def _header(self, cur):
        if bytes(cur.take(5)) != MAGIC:
            raise DumpFormatError("not a pg_dump custom-format archive (no PGDMP header)")
        vmaj, vmin, vrev = cur.byte(), cur.byte(), cur.byte()
        version = "%d.%d.%d" % (vmaj, vmin, vrev)
        if (vmaj, vmin) not in SUPPORTED:
            raise UnsupportedDump("archive version %s is not one this collection digests (%s)" % (
                version, ", ".join("%d.%d" % v for v in SUPPORTED)))
        int_size, off_size, fmt = cur.byte(), cur.byte(), cur.byte()
        if fmt != FORMAT_CUSTOM:
            raise UnsupportedDump("archive format %d is not the custom format" % fmt)
        if not 1 <= int_size <= 8 or not 1 <= off_size <= 16:
            raise DumpFormatError("implausible integer sizes %d/%d in the archive header" % (int_size, off_size))
        cur.int_size = self._int_size = int_size
        if vmin >= 15:
            compression = cur.byte()
        else:
            compression = cur.int()
        if compression != 0:
            raise UnsupportedDump("the archive's data is compressed (pg_dump without -Z0)")
        for _field in range(7):  # creation time
            cur.int()
        dbname = cur.str()
        remote, dumper = cur.str(), cur.str()
        self._off_size = off_size
        self._vmin = vmin
        self._end = (b"\x00" + (5).to_bytes(int_size, "little") + b"\\.\n\n\n" + b"\x00" * (1 + int_size))
        self.archive = {"version": version, "int_size": int_size, "database": dbname, "server_version": remote,
                        "pg_dump_version": dumper}

    def _toc_entry(self, cur):
        dump_id = cur.int()
        cur.int()  # hadDumper
        cur.str()  # tableoid
        cur.str()  # oid
        tag = cur.str()
        desc = cur.str()
        cur.int()  # section
        cur.str()  # defn
        cur.str()  # dropStmt
        copy = cur.str()
        namespace = cur.str()
        cur.str()  # tablespace
        cur.str()  # tableam
        if self._vmin >= 16:
            cur.int()  # relkind
        cur.str()  # owner
        cur.str()  # "false" (WITH OIDS)
        while cur.str() is not None:  # dependencies
            pass
        cur.take(1 + self._off_size)  # custom format: data offset flag and offset
        self.entries[dump_id] = {"desc": desc, "namespace": namespace, "tag": tag, "copy": copy}

    def _block_header(self, cur):
        kind = cur.byte()
        dump_id = cur.int()
        entry = self.entries.get(dump_id)
        if entry is None:
            raise DumpFormatError("a data block names dumpId %d, which the table of contents does not hold" % dump_id)
        if kind == BLK_DATA:
            if entry["desc"] != "TABLE DATA":
                raise UnsupportedDump("a data block of a %s entry (%s)" % (entry["desc"], entry["tag"]))
            name = "%s.%s" % (entry["namespace"], entry["tag"])
            if name in self.tables:
                raise DumpFormatError("two data blocks for table %s" % name)
            self._block = (name, hashlib.sha256(), 0)
            self._carry = b""
            self._state = "data"
        elif kind == BLK_BLOBS:
            if self._blobs is None:
                self._blobs = hashlib.sha256()
            self._state = "blobs"
            self._blob_state = "oid"
        else:
            raise DumpFormatError("unknown data block type %d" % kind)

    def _blob_frame(self, cur):
        value = cur.int()
        raw = bytes(cur.data[cur.pos - 1 - self._int_size:cur.pos])
        self._blobs.update(raw)
        self.large_objects["bytes"] += len(raw)
        if self._blob_state == "oid":
            if value == 0:
                self._state = "blocks"
                self._blob_state = None
            else:
                self.large_objects["count"] += 1
                self._blob_state = "len"
        elif value == 0:  # end of this large object
            self._blob_state = "oid"
        elif value < 0:
            raise DumpFormatError("negative chunk length in the large objects")
        else:
            self._blob_state = value

    # -- table data: hash at C speed up to the terminator ---------------------------------------
    def _feed_table(self, data, pos):
        name, digest, size = self._block
        end_pattern = self._end
        overlap = len(end_pattern) - 1
        end = -1
        if self._carry:
            joint = self._carry + data[pos:pos + overlap]
            found = joint.find(end_pattern)
            if found >= 0:
                end = pos + found + len(end_pattern) - len(self._carry)
        if end < 0:
            found = data.find(end_pattern, pos)
            if found >= 0:
                end = found + len(end_pattern)
        view = memoryview(data)
        if end < 0:
            digest.update(view[pos:])
            size += len(data) - pos
            self._carry = (self._carry + data[max(pos, len(data) - overlap):])[-overlap:]
            self._block = (name, digest, size)
            return len(data)
        digest.update(view[pos:end])
        size += end - pos
        self.tables[name] = {"sha256": digest.hexdigest(), "bytes": size}
        self._block = None
        self._carry = b""
        self._state = "blocks"
        return end
