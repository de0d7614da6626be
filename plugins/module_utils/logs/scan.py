# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scanning one file for a pattern, on bytes and in big blocks (the search engine's inner loop).

A file is read in blocks of complete lines (``.gz`` decompressed with zlib, every member). In each block the
pattern is searched over the whole buffer (``bytes.find`` for a literal, ``regex.search`` otherwise); only for a
hit are the line's boundaries, number (newlines counted with ``bytes.count``), timestamp and context found.
Lines are assumed in time order within a file: a block wholly before the window is only counted, the first line
of the window is found by bisection, reading stops at the first block past the window. Hits in a block that
straddles an edge are checked one by one. Only the last ``limit`` hits of a file are kept (the newest), with
their context; the others are counted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import io
import zlib

from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import sources, timestamps

PLAIN_BLOCK = 16 * 1024 * 1024
GZ_INPUT = 2 * 1024 * 1024
LOOKBACK_LINES = 200


class Query(object):
    """What to look for: a compiled bytes regex (``re.M``) or a literal, window, level and context sizes."""

    def __init__(self, regex=None, literal=None, since=None, until=None, min_level=None, before=0, after=0,
                 limit=100, zone=None):
        self.regex = regex
        self.literal = literal
        self.since = since
        self.until = until
        self.min_level = min_level
        self.before = before
        self.after = after
        self.limit = limit
        self.zone = zone


class Hit(object):
    __slots__ = ("start", "end", "number", "line", "before", "after", "ts", "level", "need_after")

    def __init__(self, start, end, number):
        self.start = start
        self.end = end
        self.number = number
        self.line = None
        self.before = None
        self.after = None
        self.ts = None
        self.level = None
        self.need_after = 0


class FileResult(object):
    """What a worker sends back: count, the kept hits, the file's first and last lines (context for neighbours)."""

    def __init__(self):
        self.count = 0
        self.hits = []
        self.head = []
        self.tail = None
        self.lines = 0
        self.complete = False
        self.damaged = None


def blocks(path, compressed, damage=None):
    """Chunks of the file's bytes (decompressed). A truncated or corrupt ``.gz`` yields what could be read and,
    when ``damage`` (a list) is given, appends what was wrong to it instead of raising ``zlib.error``."""
    if compressed:
        with io.open(path, "rb") as handle:
            inflater, started = zlib.decompressobj(47), False
            while True:
                data = handle.read(GZ_INPUT)
                if not data:
                    break
                while data:
                    backup = inflater.copy() if damage is not None else None
                    try:
                        out = inflater.decompress(data)
                    except zlib.error as exc:
                        if damage is None:
                            raise
                        yield from _salvage(backup, data)  # what this input held before the damage
                        damage.append("corrupt gzip data (%s); the lines before it were searched" % exc)
                        return
                    started = True
                    if out:
                        yield out
                    if inflater.eof:
                        data = inflater.unused_data
                        inflater, started = zlib.decompressobj(47), False
                    else:
                        data = b""
            out = inflater.flush()
            if out:
                yield out
            if started and not inflater.eof and damage is not None:
                damage.append("truncated gzip file (no end of stream); the lines before the cut were searched")
    else:
        with io.open(path, "rb") as handle:
            while True:
                data = handle.read(PLAIN_BLOCK)
                if not data:
                    break
                yield data


def _salvage(inflater, data, piece=4096):
    """The output of ``data`` up to the first corrupt piece (the inflater as it was before ``data``)."""
    out = []
    for offset in range(0, len(data), piece):
        try:
            chunk = inflater.decompress(data[offset:offset + piece])
        except zlib.error:
            break
        if chunk:
            out.append(chunk)
        if inflater.eof:
            break
    return out


def _lines_from(buf, pos, end, count):
    """Up to ``count`` complete lines starting at ``pos`` (a line start), without their newlines."""
    out = []
    while len(out) < count and pos < end:
        nl = buf.find(b"\n", pos, end)
        if nl < 0:
            out.append(buf[pos:end])
            pos = end
        else:
            out.append(buf[pos:nl])
            pos = nl + 1
    return out


def _lines_before(buf, pos, count):
    """Up to ``count`` lines ending just before ``pos`` (a line start), oldest first."""
    out = []
    while len(out) < count and pos > 0:
        start = buf.rfind(b"\n", 0, pos - 1) + 1
        out.append(buf[start:pos - 1])
        pos = start
    out.reverse()
    return out


class _Scanner(object):

    def __init__(self, query, year_hint, check_time, progress=None, fold=False):
        self.q = query
        self.hint = year_hint
        self.check_time = check_time
        self.progress = progress
        self.fold = fold  # count RELP's re-sent copy of a line once (sources.is_resent)
        self.prev_last = None  # the last complete line of the previous buffer
        self.prev_buf = None  # the previous buffer (where a re-sent line's original may be)
        self.result = FileResult()
        self.kept = collections.deque(maxlen=max(query.limit, 1))
        self.pending = []
        self.prev_tail = []
        self.base = 0  # lines before the current buffer

    def resent(self, buf, line_start, line_end):
        """Whether the line is RELP's re-sent copy: older than the line before it and identical to an earlier line
        of this buffer (sources.out_of_order_resend)."""
        line = buf[line_start:line_end]
        if line_start > 0:
            prev = buf[buf.rfind(b"\n", 0, line_start - 1) + 1:line_start - 1]
        else:
            prev = self.prev_last
        if not sources.out_of_order_resend(sources.collector_stamp(line), sources.collector_stamp(prev)):
            return False
        for where, end in ((buf, line_start), (self.prev_buf, None)):  # this buffer, then the one before
            if where is not None and (where.startswith(line + b"\n") or where.rfind(b"\n" + line + b"\n", 0, end) >= 0):
                return True
        return False

    def parse(self, buf, start, end):
        return timestamps.parse_line(buf[start:end].decode("utf-8", "replace"), self.q.zone, self.hint)

    def line_ts(self, buf, start, end):
        """Time of the line at ``start``: its own, else the closest earlier line's (continuation lines), else the next
        line's that has one (None if none before ``end``)."""
        nl = buf.find(b"\n", start, end)
        parsed = self.parse(buf, start, end if nl < 0 else nl)
        if parsed.ts is not None:
            return parsed.ts
        earlier = self.hit_ts(buf, start, end, parsed)
        if earlier is not None:
            return earlier
        pos, tries = start, 0
        while pos < end and tries < LOOKBACK_LINES:
            nl = buf.find(b"\n", pos, end)
            stop = end if nl < 0 else nl
            ts = self.parse(buf, pos, stop).ts
            if ts is not None:
                return ts
            pos, tries = stop + 1, tries + 1
        return None

    def hit_ts(self, buf, start, end, parsed):
        """A hit's own timestamp or the one of the closest earlier line (continuation lines inherit)."""
        if parsed.ts is not None:
            return parsed.ts
        pos, tries = start, 0
        while pos > 0 and tries < LOOKBACK_LINES:
            prev = buf.rfind(b"\n", 0, pos - 1) + 1
            ts = self.parse(buf, prev, pos - 1).ts
            if ts is not None:
                return ts
            pos, tries = prev, tries + 1
        return None

    def bisect(self, buf, lo, hi, before_edge):
        """Offset of the first line in [lo, hi) that is not ``before_edge(ts)``, or ``hi``."""
        while lo < hi:
            mid = (lo + hi) // 2
            start = max(lo, buf.rfind(b"\n", 0, mid) + 1)
            ts = self.line_ts(buf, start, hi)
            if ts is None or not before_edge(ts):
                hi = start
            else:
                nl = buf.find(b"\n", start, hi)
                lo = hi if nl < 0 else nl + 1
        return lo

    def region(self, buf, end):
        """(start, stop, straddles, past_until) of the window's lines in buf[:end]."""
        q = self.q
        if not self.check_time or end == 0:
            return 0, end, False, False
        start, stop, straddles, past = 0, end, False, False
        if q.since is not None:
            last_start = buf.rfind(b"\n", 0, end - 1) + 1
            last_ts = self.line_ts(buf, last_start, end)
            if last_ts is not None and last_ts < q.since:
                return end, end, False, False
            first_ts = self.line_ts(buf, 0, end)
            if first_ts is None or first_ts < q.since:
                start = self.bisect(buf, 0, end, lambda ts: ts < q.since)
                straddles = True
        if q.until is not None:
            first_ts = self.line_ts(buf, start, end)
            if first_ts is not None and first_ts > q.until:
                return start, start, False, True
            last_start = buf.rfind(b"\n", 0, end - 1) + 1
            last_ts = self.line_ts(buf, last_start, end)
            if last_ts is None or last_ts > q.until:
                stop = self.bisect(buf, start, end, lambda ts: ts <= q.until)
                straddles = True
                past = stop < end
        return start, stop, straddles, past

    def search(self, buf, start, stop, straddles):
        """Find the hit lines in buf[start:stop] (stop a line boundary)."""
        q = self.q
        filter_lines = straddles or q.min_level is not None
        endpos = stop - 1 if stop > start and buf[stop - 1:stop] == b"\n" else stop
        pos = start
        counted_to, newlines = 0, 0
        kept = self.kept
        literal, regex = q.literal, q.regex
        while pos <= endpos:
            if literal is not None:
                found = buf.find(literal, pos, endpos)
                if found < 0:
                    break
                line_start = buf.rfind(b"\n", 0, found) + 1
                line_end = buf.find(b"\n", found, stop)
                if line_end < 0:
                    line_end = stop
            else:
                match = regex.search(buf, pos, endpos)
                if match is None:
                    break
                found = match.start()
                line_start = buf.rfind(b"\n", 0, found) + 1
                line_end = buf.find(b"\n", found, stop)
                if line_end < 0:
                    line_end = stop
                if match.end() > line_end and regex.search(buf, line_start, line_end) is None:
                    # the match spans lines: the line itself must match (grep's semantics)
                    pos = line_end + 1
                    continue
            pos = line_end + 1
            if filter_lines:
                parsed = self.parse(buf, line_start, line_end)
                if straddles:
                    ts = self.hit_ts(buf, line_start, line_end, parsed)
                    if ts is not None and ((q.since is not None and ts < q.since) or (q.until is not None and ts > q.until)):
                        continue
                if q.min_level is not None and (parsed.level is None or parsed.level > q.min_level):
                    continue
            if self.fold and self.resent(buf, line_start, line_end):
                continue
            newlines += buf.count(b"\n", counted_to, line_start)
            counted_to = line_start
            self.result.count += 1
            kept.append(Hit(line_start, line_end, self.base + newlines + 1))

    def materialise(self, buf, end, eof):
        q = self.q
        for hit in self.kept:
            if hit.line is not None:
                continue
            hit.line = buf[hit.start:hit.end].rstrip(b"\r")
            before = _lines_before(buf, hit.start, q.before)
            if len(before) < q.before:
                before = self.prev_tail[max(0, len(self.prev_tail) - (q.before - len(before))):] + before
            hit.before = before
            nl_end = hit.end + 1
            hit.after = _lines_from(buf, nl_end, end, q.after) if nl_end <= end else []
            hit.need_after = q.after - len(hit.after)
            if hit.need_after and not eof:
                self.pending.append(hit)
            parsed = self.parse(buf, hit.start, hit.end)
            hit.ts = self.hit_ts(buf, hit.start, hit.end, parsed)
            hit.level = parsed.level

    def fill_pending(self, buf, end):
        still = []
        for hit in self.pending:
            more = _lines_from(buf, 0, end, hit.need_after)
            hit.after.extend(more)
            hit.need_after -= len(more)
            if hit.need_after:
                still.append(hit)
        self.pending = still

    def remember_tail(self, buf, end):
        if not self.q.before:
            return
        tail = _lines_before(buf, end, self.q.before) if end else []
        if len(tail) < self.q.before:
            tail = self.prev_tail[max(0, len(self.prev_tail) - (self.q.before - len(tail))):] + tail
        self.prev_tail = tail

    def run(self, chunks):
        carry = b""
        result = self.result
        stopped = False
        chunks = iter(chunks)
        block = next(chunks, None)
        while block is not None:
            following = next(chunks, None)
            eof = following is None
            buf = carry + block if carry else block
            if eof:
                end = len(buf)
                if end and buf[end - 1:end] != b"\n":
                    buf += b"\n"
                    end += 1
                carry = b""
            else:
                end = buf.rfind(b"\n") + 1
                carry = buf[end:]
                if end == 0:
                    block = following
                    continue
            if len(result.head) < self.q.after:
                result.head.extend(_lines_from(buf, 0, end, self.q.after - len(result.head)))
            self.fill_pending(buf, end)
            if stopped:  # past the window: read on only for the context lines after the last hits
                if not self.pending:
                    break
                block = following
                continue
            start, stop, straddles, past = self.region(buf, end)
            if stop > start:
                if self.progress:
                    self.progress(True)
                self.search(buf, start, stop, straddles)
                if self.progress:
                    self.progress(False)
            self.materialise(buf, end, eof)
            newlines = buf.count(b"\n", 0, end)
            self.base += newlines
            if past:
                stopped = True
                if not self.pending:
                    break
            else:
                self.remember_tail(buf, end)
            if self.fold and end:
                self.prev_last = buf[buf.rfind(b"\n", 0, end - 1) + 1:end - 1]
                self.prev_buf = buf[:end]
            block = following
        self.pending = []
        if not stopped:
            result.tail = self.prev_tail
            result.complete = True
        result.lines = self.base
        result.hits = list(self.kept)
        for hit in result.hits:
            hit.start = hit.end = None
        return result


def scan(chunks, query, year_hint=None, check_time=True, progress=None, fold=False):
    """FileResult of the chunks of one file. ``progress(True/False)`` is called around each pattern search. With
    ``fold`` (a collector's file), RELP's re-sent copy of a line counts once."""
    return _Scanner(query, year_hint, check_time, progress, fold).run(chunks)


def scan_file(path, compressed, query, year_hint=None, check_time=True, progress=None):
    return scan(blocks(path, compressed), query, year_hint, check_time, progress)
