# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rebuild a file backup into a directory and compare it with the backup's file list.

* ``full`` backups: the tar stream is extracted member by member; every file is hashed while it
  is written. Names are checked (no absolute paths, no ``..``, never written through a symlink),
  so a hostile archive cannot write outside the target.
* ``incremental`` backups: every pack is unpacked into a chunk store (each chunk's SHA-256 must
  equal its name), then every file is rebuilt from its chunks and hashed.
* ``compare`` (pure) turns the file list and what was rebuilt into checks naming every path that is
  missing, different or unexpected.
"""

import hashlib
import os
import shutil
import stat
import tarfile

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import PipelineError
from ansible_collections.watchkeeper.ops.plugins.module_utils.filelist import expand

CHUNK = 1024 * 1024
MAX_LISTED = 50


def _safe_path(root, name):
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or name.startswith("/") or ".." in parts:
        raise PipelineError("unsafe path %r in the archive" % name, step="extract")
    parent = root
    for part in parts[:-1]:
        parent = os.path.join(parent, part)
        if os.path.islink(parent):
            raise PipelineError("archive path %r goes through a symlink" % name, step="extract")
    return "/".join(parts), os.path.join(root, *parts)


def _write_file(dest, reader, mode):
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "wb") as out:
        for block in reader:
            digest.update(block)
            size += len(block)
            out.write(block)
    os.chmod(dest, mode)
    return digest.hexdigest(), size


def _blocks(fileobj):
    while True:
        block = fileobj.read(CHUNK)
        if not block:
            return
        yield block


class Tree(object):
    """What was rebuilt: ``entries`` path -> {type, sha256?, size?, target?}."""

    def __init__(self, root, apply_owner=False):
        self.root = root
        self.entries = {}
        self.dir_times = []
        self.apply_owner = apply_owner and os.geteuid() == 0

    def add_dir(self, name, mode, mtime, uid=None, gid=None):
        rel, dest = _safe_path(self.root, name)
        os.makedirs(dest, exist_ok=True)
        os.chmod(dest, mode | stat.S_IWUSR | stat.S_IXUSR)  # writable until the end
        self.dir_times.append((dest, mode, mtime, uid, gid))
        self.entries[rel] = {"type": "dir"}

    def add_symlink(self, name, target, uid=None, gid=None):
        rel, dest = _safe_path(self.root, name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.symlink(target, dest)
        if self.apply_owner and uid is not None:
            os.lchown(dest, uid, gid)
        self.entries[rel] = {"type": "symlink", "target": target}

    def add_file(self, name, blocks, mode, mtime_ns=None, uid=None, gid=None):
        rel, dest = _safe_path(self.root, name)
        sha, size = _write_file(dest, blocks, mode)
        if mtime_ns is not None:
            os.utime(dest, ns=(mtime_ns, mtime_ns))
        if self.apply_owner and uid is not None:
            os.lchown(dest, uid, gid)
        self.entries[rel] = {"type": "file", "sha256": sha, "size": size}

    def finish(self):
        """Directory modes and times last (deepest first: creating entries changes a directory's mtime)."""
        for dest, mode, mtime, uid, gid in sorted(self.dir_times, key=lambda d: -d[0].count("/")):
            os.chmod(dest, mode)
            if mtime is not None:
                os.utime(dest, ns=(mtime, mtime))
            if self.apply_owner and uid is not None:
                os.lchown(dest, uid, gid)


def extract_tar(stream, tree):
    """Extract a tar stream (full file backup) into ``tree``."""
    with tarfile.open(fileobj=stream, mode="r|", bufsize=CHUNK) as tar:
        for member in tar:
            mtime_ns = int(member.mtime * 1000000000) if member.mtime is not None else None
            if member.isdir():
                tree.add_dir(member.name, member.mode, mtime_ns, member.uid, member.gid)
            elif member.issym():
                tree.add_symlink(member.name, member.linkname, member.uid, member.gid)
            elif member.isfile():
                tree.add_file(member.name, _blocks(tar.extractfile(member)), member.mode & 0o7777, mtime_ns,
                              member.uid, member.gid)
            # other types are never written by the backup


def unpack_chunks(stream, blob_dir):
    """Unpack one pack (a tar of chunks named by their SHA-256) into ``blob_dir``; returns how many."""
    count = 0
    with tarfile.open(fileobj=stream, mode="r|", bufsize=CHUNK) as tar:
        for member in tar:
            if not member.isfile():
                continue
            name = os.path.basename(member.name)
            if len(name) != 64 or not all(c in "0123456789abcdef" for c in name):
                raise PipelineError("pack member %r is not a chunk name" % member.name, step="extract")
            tmp = os.path.join(blob_dir, name + ".part")
            sha, _size = _write_file(tmp, _blocks(tar.extractfile(member)), 0o600)
            if sha != name:
                os.unlink(tmp)
                raise PipelineError("chunk %s in the pack has SHA-256 %s" % (name, sha), step="extract")
            os.replace(tmp, os.path.join(blob_dir, name))
            count += 1
    return count


def rebuild_from_chunks(filelist, blob_dir, tree):
    """Rebuild every entry of an incremental file list (any version, ``filelist.py``) from the chunk store."""
    for entry in expand(filelist)["files"]:
        kind = entry["type"]
        mode = int(entry.get("mode", "0644"), 8)
        if kind == "dir":
            tree.add_dir(entry["path"], mode, entry.get("mtime_ns"), entry.get("uid"), entry.get("gid"))
        elif kind == "symlink":
            tree.add_symlink(entry["path"], entry["target"], entry.get("uid"), entry.get("gid"))
        elif kind == "file":
            chunks = entry.get("chunks", [entry.get("sha256")])
            missing = [c for c in chunks if not os.path.exists(os.path.join(blob_dir, c))]
            if missing:
                tree.entries[entry["path"]] = {"type": "file", "sha256": None, "size": None,
                                               "missing_chunks": len(missing)}
                continue
            tree.add_file(entry["path"], _chunk_blocks(blob_dir, chunks), mode, entry.get("mtime_ns"),
                          entry.get("uid"), entry.get("gid"))


def _chunk_blocks(blob_dir, chunks):
    for chunk in chunks:
        with open(os.path.join(blob_dir, chunk), "rb") as handle:
            yield from _blocks(handle)


def compare(filelist, found):
    """Checks: one summary per entry type, one per difference (the first ``MAX_LISTED`` of each)."""
    expected = dict((e["path"], e) for e in filelist["files"])
    problems = []
    for path in sorted(expected):
        want = expected[path]
        have = found.get(path)
        if have is None:
            problems.append((path, want["type"], "absent", "%s %s is missing from the restore" % (want["type"], path)))
        elif have["type"] != want["type"]:
            problems.append((path, want["type"], have["type"], "%s is a %s, expected a %s" % (path, have["type"], want["type"])))
        elif want["type"] == "file" and have.get("sha256") != want.get("sha256"):
            problems.append((path, want.get("sha256"), have.get("sha256"),
                             "file %s: SHA-256 %s expected, %s found" % (path, want.get("sha256"), have.get("sha256"))))
        elif want["type"] == "symlink" and have.get("target") != want.get("target"):
            problems.append((path, want.get("target"), have.get("target"), "symlink %s points to %s, expected %s" % (
                path, have.get("target"), want.get("target"))))
    for path in sorted(set(found) - set(expected)):
        problems.append((path, "absent", found[path]["type"], "%s %s is in the restore but not in the file list" % (
            found[path]["type"], path)))
    files = [e for e in filelist["files"] if e["type"] == "file"]
    summary = {"name": "files match the file list", "kind": "files", "passed": not problems,
               "expected": "%d entries (%d files, %d bytes)" % (len(expected), len(files), sum(e.get("size", 0) for e in files)),
               "found": "%d entries, %d differences" % (len(found), len(problems)),
               "detail": None if not problems else "%d differences, first: %s" % (len(problems), problems[0][3])}
    checks = [summary]
    for path, want, have, detail in problems[:MAX_LISTED]:
        checks.append({"name": "file %s" % path, "kind": "files", "path": path, "passed": False, "expected": want,
                       "found": have, "detail": detail})
    return checks


def remove_tree(path):
    """Remove a restored tree even where its modes made directories read-only."""
    for base, dirs, _files in os.walk(path):
        for name in dirs:
            full = os.path.join(base, name)
            if not os.path.islink(full):
                os.chmod(full, 0o700)
    if os.path.isdir(path):
        os.chmod(path, 0o700)
    shutil.rmtree(path, ignore_errors=True)
