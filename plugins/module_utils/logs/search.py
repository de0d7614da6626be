# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The log search engine: every file of the selected streams is scanned in a worker process (``scan`` on bytes,
``workers`` for the time limit), then the newest hits of all files are merged newest first, their context is
completed across file boundaries (the end of the older rotated file, the start of the newer one) and the lines
are decoded and masked."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import io
import os
import re

from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import scan, selection, timestamps, workers
from ansible_collections.watchkeeper.ops.plugins.module_utils.logs.sources import open_binary

WORKERS = max(1, min(2, os.cpu_count() or 1))
_OLDEST = datetime.datetime(1, 1, 1, tzinfo=timestamps.UTC)


class SearchError(ValueError):
    """A pattern or option that cannot be searched with (the message says why)."""


def _mask_function(enabled):
    if not enabled:
        return lambda text: text
    try:
        from ansible_collections.watchkeeper.ops.plugins.module_utils.logs.redact import mask
    except ImportError:  # pragma: no cover - redact.py lands with the lead's change
        return lambda text: text
    return mask


def compile_pattern(pattern, regex=False, ignore_case=False):
    """(compiled bytes regex or None, literal bytes or None); SearchError for an empty pattern or a bad regex."""
    if pattern is None or pattern == "":
        raise SearchError("pattern must not be empty")
    raw = pattern.encode("utf-8")
    if not regex and b"\n" in raw:
        raise SearchError("a literal pattern cannot contain a newline (lines are searched one by one)")
    flags = re.M | (re.I if ignore_case else 0)
    if regex:
        try:
            return re.compile(raw, flags), None
        except re.error as exc:
            raise SearchError("invalid regex %r: %s" % (pattern, exc))
    if ignore_case:
        return re.compile(re.escape(raw), flags), None
    return None, raw


def make_query(pattern, regex=False, ignore_case=False, since=None, until=None, min_level=None, before=0, after=0,
               limit=100, zone=None):
    for name, value in (("before", before), ("after", after), ("limit", limit)):
        if value < 0:
            raise SearchError("%s must be >= 0" % name)
    compiled, literal = compile_pattern(pattern, regex, ignore_case)
    return scan.Query(compiled, literal, since, until, min_level, before, after, limit, timestamps.get_zone(zone))


def _check_time(log_file, query):
    if query.since is None and query.until is None:
        return False
    if log_file.first_ts is None or log_file.last_ts is None:
        return True
    return (query.since is not None and log_file.first_ts < query.since) or \
        (query.until is not None and log_file.last_ts > query.until)


def _year_hint(log_file, query):
    if log_file.mtime is not None:
        return log_file.mtime.astimezone(query.zone)
    try:
        return timestamps.epoch_to_datetime(os.stat(log_file.path).st_mtime).astimezone(query.zone)
    except OSError:
        return query.until


def _chunks(stream, log_file, damage=None):
    if stream.records is not None:
        return [b"\n".join(record[2].encode("utf-8", "replace") for record in stream.records) + b"\n"]
    return scan.blocks(log_file.path, log_file.compressed, damage)


def read_head(log_file, count):
    if count <= 0:
        return []
    with open_binary(log_file.path) as handle:
        lines = []
        for line in handle:
            lines.append(line.rstrip(b"\n").rstrip(b"\r"))
            if len(lines) >= count:
                break
    return lines


def read_tail(log_file, count):
    if count <= 0:
        return []
    if log_file.compressed:
        tail = []
        with open_binary(log_file.path) as handle:
            for line in handle:
                tail.append(line.rstrip(b"\n").rstrip(b"\r"))
                if len(tail) > count:
                    del tail[0]
        return tail
    with io.open(log_file.path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        step = 64 * 1024
        while True:
            start = max(0, size - step)
            handle.seek(start)
            data = handle.read(size - start)
            lines = data.rstrip(b"\n").split(b"\n")
            if start == 0 or len(lines) > count:
                return [line.rstrip(b"\r") for line in lines[-count:]]
            step *= 4


def _stitch(hit, stream, index, results, query):
    """Complete a hit's context from the neighbour files of its stream (all of them, pruned ones too)."""
    files = stream.all_files
    file_pos = files.index(stream.files[index]) if stream.records is None else 0
    missing_before = query.before - len(hit.before)
    if missing_before > 0 and hit.number - len(hit.before) == 1 and file_pos > 0:
        older = files[file_pos - 1]
        known = results.get(older.path)
        tail = known.tail if known is not None and known.tail is not None else None
        if tail is None or len(tail) < missing_before:
            tail = read_tail(older, missing_before)
        hit.before = tail[len(tail) - missing_before:] + hit.before if len(tail) > missing_before else tail + hit.before
    missing_after = query.after - len(hit.after)
    this = results.get(stream.files[index].path)
    at_end = this is not None and this.complete and hit.number + len(hit.after) == this.lines
    if missing_after > 0 and at_end and file_pos + 1 < len(files):
        newer = files[file_pos + 1]
        known = results.get(newer.path)
        head = known.head if known is not None and len(known.head) >= missing_after else read_head(newer, missing_after)
        hit.after = hit.after + head[:missing_after]


def _decode(data):
    return data.decode("utf-8", "replace")


def search(streams, query, file_timeout=10.0, on_timeout="fail", warn=None, mask_secrets=True,
           prefer_line_host=False, workers_count=None):
    """{matches, counts, truncated, files: {scanned}, timed_out} of ``query`` over ``streams`` (already pruned)."""
    jobs = []
    for si, stream in enumerate(streams):
        for fi, log_file in enumerate(stream.files):
            jobs.append(((si, fi), log_file.path))
    jobs.sort(key=lambda job: -_size(streams[job[0][0]].files[job[0][1]]))
    skipped = []

    def job(key, progress):
        stream = streams[key[0]]
        log_file = stream.files[key[1]]
        damage = []
        result = scan.scan(_chunks(stream, log_file, damage), query, _year_hint(log_file, query), _check_time(log_file, query),
                           progress, fold=stream.records is None and not prefer_line_host)
        result.damaged = damage[0] if damage else None
        return result

    def skip(label):
        skipped.append(label)
        if warn:
            warn("pattern matching on %s exceeded file_timeout (%.1f s); the file was skipped" % (label, file_timeout))

    results, by_path = {}, {}
    for key, result in workers.run(jobs, job, file_timeout, workers_count or WORKERS,
                                   skip if on_timeout == "warn" else None):
        results[key] = result
        by_path[streams[key[0]].files[key[1]].path] = result
    total, by_host, by_program, candidates, damaged = 0, {}, {}, [], []
    for (si, fi), result in sorted(results.items()):
        stream = streams[si]
        if getattr(result, "damaged", None):
            damaged.append({"file": stream.files[fi].path, "error": result.damaged})
            if warn:
                warn("%s: %s" % (stream.files[fi].path, result.damaged))
        total += result.count
        if result.count:
            by_host[stream.host or ""] = by_host.get(stream.host or "", 0) + result.count
            by_program[stream.program or ""] = by_program.get(stream.program or "", 0) + result.count
        for hit in result.hits:
            candidates.append((hit.ts or _OLDEST, si, fi, hit.number, hit))
    candidates.sort(key=lambda item: item[:4], reverse=True)
    mask = _mask_function(mask_secrets)
    matches = []
    for _ts, si, fi, _number, hit in candidates[:query.limit]:
        stream = streams[si]
        log_file = stream.files[fi]
        if stream.records is None:
            _stitch(hit, stream, fi, by_path, query)
        line = _decode(hit.line)
        host = stream.host
        if prefer_line_host or stream.records is not None:
            parsed = timestamps.parse_line(line, query.zone)
            host = parsed.host or host
        matches.append({
            "host": host, "program": stream.program, "file": log_file.path, "line_number": hit.number,
            "timestamp": timestamps.to_utc_iso(hit.ts), "level": timestamps.level_name(hit.level),
            "line": mask(line), "before": [mask(_decode(text)) for text in hit.before],
            "after": [mask(_decode(text)) for text in hit.after],
        })
    return {"matches": matches, "counts": {"total": total, "by_host": by_host, "by_program": by_program},
            "truncated": total > query.limit, "files": {"scanned": len(results), "damaged": damaged},
            "timed_out": skipped}


def _size(log_file):
    try:
        return os.path.getsize(log_file.path)
    except OSError:
        return 0


def run(params, now=None, warn=None):
    """The log_search module's result for its parameters (SelectionError, SearchError, LogSourceError...)."""
    zone, since, until, min_level = selection.selection(params, now)
    query = make_query(params["pattern"], params.get("regex", False), params.get("ignore_case", False), since, until,
                       min_level, params.get("before") or 0, params.get("after") or 0, params.get("limit", 100), zone)
    if params.get("file_timeout", 10.0) <= 0:
        raise SearchError("file_timeout must be > 0")
    found, pruned = selection.streams(params, since, until, zone)
    result = search(found, query, params.get("file_timeout", 10.0), params.get("on_timeout", "fail"), warn,
                    params.get("mask_secrets", True), bool(params.get("paths")))
    result["files"]["pruned"] = pruned
    result["window"] = {"since": timestamps.to_utc_iso(since), "until": timestamps.to_utc_iso(until)}
    return result
