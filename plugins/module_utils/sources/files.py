# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""File-tree sources: the tree walk shared by both modes, and the ``full`` mode (one tar stream).

Paths are stored like GNU tar stores them: absolute paths without the leading ``/``
(``/srv/app/uploads/a.png`` -> ``srv/app/uploads/a.png``), so ``tar -x -C /restore`` recreates
them under ``/restore``. Every snapshot also stores a *file list* object (encrypted like the data,
because paths can be sensitive): every path with its type, size, mode, mtime and SHA-256.

``exclude`` patterns are shell globs: a pattern with a ``/`` matches the stored path, one without
matches any path component's name (``*.tmp``, ``cache``). Excluded directories are not entered.
Symlinks are stored as links, never followed; sockets, FIFOs and devices are skipped and counted.
"""

import fnmatch
import hashlib
import operator
import os
import stat
import tarfile

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import SourceError
from ansible_collections.watchkeeper.ops.plugins.module_utils.filelist import FILELIST_VERSION, encode, iso_ns
from ansible_collections.watchkeeper.ops.plugins.module_utils.pipeline import FunctionProducer
from ansible_collections.watchkeeper.ops.plugins.module_utils.sources.base import Artifact, Source

READ_CHUNK = 1024 * 1024
S_ISREG, S_ISDIR = stat.S_ISREG, stat.S_ISDIR
_NAME = operator.attrgetter("name")


class Entry(object):
    __slots__ = ("abspath", "name", "st", "kind")

    def __init__(self, abspath, name, st, kind):
        self.abspath = abspath
        self.name = name
        self.st = st
        self.kind = kind  # file, dir, symlink


def _excluded(name, patterns):
    base = name.rsplit("/", 1)[-1]
    for pattern in patterns:
        if "/" in pattern:
            if fnmatch.fnmatchcase(name, pattern.lstrip("/")):
                return True
        elif fnmatch.fnmatchcase(base, pattern):
            return True
    return False


class Walker(object):
    """Iterates ``Entry`` objects for ``paths`` in a stable order; counts what it skipped."""

    def __init__(self, paths, exclude=()):
        self.paths = [os.path.abspath(p) for p in paths]
        self.exclude = list(exclude or ())
        self.skipped_special = 0
        self.vanished = []

    def check(self):
        if not self.paths:
            raise SourceError("a files source needs at least one path", step="check")
        for path in self.paths:
            if not os.path.lexists(path):
                raise SourceError("path %s does not exist" % path, step="check")

    def __iter__(self):
        for root in self.paths:
            yield from self._walk(root)

    def _entry(self, abspath, st):
        name = abspath.lstrip("/")
        mode = st.st_mode
        if stat.S_ISREG(mode):
            return Entry(abspath, name, st, "file")
        if stat.S_ISDIR(mode):
            return Entry(abspath, name, st, "dir")
        if stat.S_ISLNK(mode):
            return Entry(abspath, name, st, "symlink")
        self.skipped_special += 1
        return None

    def _walk(self, top):
        try:
            st = os.lstat(top)
        except FileNotFoundError:
            self.vanished.append(top)
            return
        entry = self._entry(top, st)
        if entry is None or _excluded(entry.name, self.exclude):
            return
        yield entry
        if entry.kind != "dir":
            return
        try:
            with os.scandir(top) as scan:
                children = sorted(scan, key=_NAME)
        except FileNotFoundError:
            self.vanished.append(top)
            return
        except OSError as exc:
            raise SourceError("cannot list directory %s: %s" % (top, exc.strerror), step="read")
        exclude = self.exclude
        for child in children:
            path = child.path
            name = path.lstrip("/")
            if exclude and _excluded(name, exclude):
                continue
            try:
                cst = child.stat(follow_symlinks=False)
            except FileNotFoundError:
                self.vanished.append(path)
                continue
            if S_ISREG(cst.st_mode):  # the common case, without the general classification
                yield Entry(path, name, cst, "file")
            elif S_ISDIR(cst.st_mode):
                yield from self._walk(path)
            else:
                centry = self._entry(path, cst)
                if centry is not None:
                    yield centry


def entry_record(entry, **extra):
    """The file-list record of an entry (path, type, size, mode, mtime, and what ``extra`` adds), as version 2 of
    the list stores it (``filelist.py``: no ``mtime_ns``, it is ``mtime``)."""
    st = entry.st
    record = {"path": entry.name, "type": entry.kind, "mode": "%04o" % (st.st_mode & 0o7777),
              "mtime": iso_ns(st.st_mtime_ns), "uid": st.st_uid, "gid": st.st_gid}
    if entry.kind == "file":
        record["size"] = st.st_size
    elif entry.kind == "symlink":
        record["target"] = os.readlink(entry.abspath)
    if extra:
        record.update(extra)
    return record


class _ExactReader(object):
    """Reads exactly ``size`` bytes of a file for tar, hashing them; pads with zeros (and flags the
    entry) when the file shrank while we read it."""

    def __init__(self, handle, size):
        self.handle = handle
        self.remaining = size
        self.digest = hashlib.sha256()
        self.shrank = False

    def read(self, n=-1):
        if self.remaining <= 0:
            return b""
        want = self.remaining if n is None or n < 0 else min(n, self.remaining)
        data = self.handle.read(want)
        if not data:
            self.shrank = True
            data = b"\0" * want
        self.remaining -= len(data)
        self.digest.update(data)
        return data


def filelist_artifact(source, records_fn):
    """The file-list object (``filelist.py``, version 2), streamed after the data it describes."""
    def produce(out):
        header = {"mode": source.mode, "roots": source.walker.paths}
        header.update(source.filelist_extra())
        out.write(encode(header, records_fn()))
    return Artifact("filelist", ".json", FunctionProducer("filelist", produce))


class FilesSource(Source):
    """``mode: full``: one tar stream of the whole tree, then the file list."""

    kind = "files"
    mode = "full"

    def __init__(self, spec, tmp_dir=None):
        super(FilesSource, self).__init__(spec, tmp_dir)
        self.walker = Walker(spec.get("paths") or [], spec.get("exclude") or [])
        self.skip_unreadable = bool(spec.get("skip_unreadable"))
        self.records = []
        self.unreadable = []
        self.changed = []
        self.total_bytes = 0

    def check(self):
        self.walker.check()
        return {"kind": "files", "mode": self.mode, "paths": self.walker.paths, "exclude": self.walker.exclude,
                "tool": "tar (POSIX pax)"}

    def estimate_bytes(self):
        return sum(e.st.st_size for e in Walker(self.walker.paths, self.walker.exclude) if e.kind == "file")

    def open_file(self, entry):
        """Open a file for reading; None when it vanished or (with skip_unreadable) cannot be read."""
        try:
            return open(entry.abspath, "rb")
        except FileNotFoundError:
            self.walker.vanished.append(entry.abspath)
        except OSError as exc:
            if not self.skip_unreadable:
                raise SourceError("cannot read %s: %s" % (entry.abspath, exc.strerror), step="read",
                                  hint="fix permissions, exclude the path, or set skip_unreadable")
            self.unreadable.append(entry.abspath)
        return None

    def _tar(self, out):
        tar = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT, bufsize=READ_CHUNK)
        try:
            for entry in self.walker:
                info = tarfile.TarInfo(entry.name)
                st = entry.st
                info.mode = stat.S_IMODE(st.st_mode)
                info.mtime = st.st_mtime
                info.uid, info.gid = st.st_uid, st.st_gid
                if entry.kind == "dir":
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                    self.records.append(entry_record(entry))
                elif entry.kind == "symlink":
                    info.type = tarfile.SYMTYPE
                    info.linkname = os.readlink(entry.abspath)
                    tar.addfile(info)
                    self.records.append(entry_record(entry))
                else:
                    handle = self.open_file(entry)
                    if handle is None:
                        continue
                    with handle:
                        info.size = st.st_size
                        reader = _ExactReader(handle, st.st_size)
                        tar.addfile(info, reader)
                        after = os.fstat(handle.fileno())
                    extra = {"sha256": reader.digest.hexdigest()}
                    if reader.shrank or after.st_mtime_ns != st.st_mtime_ns or after.st_size != st.st_size:
                        extra["changed_during_backup"] = True
                        self.changed.append(entry.name)
                    self.total_bytes += st.st_size
                    self.records.append(entry_record(entry, **extra))
        finally:
            tar.close()

    def artifacts(self, ctx):
        yield Artifact("tar", ".tar", FunctionProducer("tar", self._tar))
        yield filelist_artifact(self, lambda: self.records)

    def filelist_extra(self):
        return {}

    def summary(self):
        files = [r for r in self.records if r["type"] == "file"]
        return {"mode": self.mode, "count": len(files), "entries": len(self.records), "bytes": self.total_bytes,
                "skipped_special": self.walker.skipped_special, "vanished": len(self.walker.vanished),
                "unreadable": len(self.unreadable), "changed_during_backup": len(self.changed),
                "filelist_version": FILELIST_VERSION}

    def manifest_extra(self):
        return {"files": self.summary()}
