# -*- coding: utf-8 -*-
# Copyright: watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the logs of a time window say, compared with a baseline period: the engine of ``log_summary``.

``Summary`` is pure: it is fed records (host, program, level, time, message, line) and returns counts per
host/program/level per interval, the top message templates (``templates.template``), the templates seen in the
window and never in the baseline, and the intervals whose line count spikes against the baseline's mean.
``summarize`` is the I/O around it: it finds the files (``sources``), prunes them by time and feeds the
baseline's records first, then the window's.

Rules (docs/logs.md repeats them):

- The window is ``[since, until]`` (both included, as log_search). The baseline is ``[baseline_since,
  baseline_until)``: its end is excluded, so a line at the window's start is counted once. It defaults to the
  period of the same length just before the window and must end at or before the window's start.
- Intervals are aligned to the Unix epoch in UTC (a 5 minute interval starts at :00, :05...). The first and last
  interval of the window can be partial: they are reported with their aligned start.
- Spikes, per host and program: an interval of the window whose count is at least ``spike_min_count`` and at
  least ``spike_factor`` times the baseline's mean per interval (its line count divided by its length in
  intervals). A host/program without lines in the baseline spikes at ``spike_min_count`` and its factor is null.
- Memory is bounded: at most ``max_templates`` distinct templates are tracked (the baseline's come first); lines
  of other templates are counted as ``other`` and the result says so (``new_templates`` can then include
  templates the baseline had beyond the limit).
- With ``mask_secrets`` every message is masked (``redact.mask``) before it is templated, and every example line
  returned is masked: a secret is never in a template or an example.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import datetime
import math

from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import redact, selection, sources, templates, timestamps

MAX_TEMPLATES = 10000
MAX_INTERVALS = 20000
UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)


class SummaryError(Exception):
    """Bad options (window, baseline, interval...): the message says which and why."""


def _iso(value):
    return timestamps.to_utc_iso(value) if value is not None else None


def _level_sort(level):
    return 8 if level is None else level


# ----------------------------------------------------------------------------------------------------- periods

def resolve_baseline(window, baseline_since=None, baseline_until=None, baseline_last=None, now=None, zone=None):
    """(since, until) of the baseline: by default the period of the window's length just before it."""
    since, _until = window
    if baseline_since is not None and baseline_last is not None:
        raise SummaryError("baseline_since and baseline_last are mutually exclusive")
    try:
        end = timestamps.parse_time(baseline_until, now, zone) if baseline_until is not None else since
        if baseline_since is not None:
            start = timestamps.parse_time(baseline_since, now, zone)
        else:
            length = timestamps.parse_duration(baseline_last) if baseline_last is not None else (window[1] - since).total_seconds()
            start = end - datetime.timedelta(seconds=length)
    except ValueError as exc:
        raise SummaryError("baseline: %s" % exc)
    if start >= end:
        raise SummaryError("baseline: its start (%s) must be before its end (%s)" % (_iso(start), _iso(end)))
    if end > since:
        raise SummaryError("baseline: it must end (%s) at or before the window's start (%s)" % (_iso(end), _iso(since)))
    return start, end


def interval_seconds(interval, window):
    """The interval in seconds (>= 1, a whole number) and no more than MAX_INTERVALS of them in the window."""
    try:
        seconds = timestamps.parse_duration(interval)
    except ValueError as exc:
        raise SummaryError("interval: %s" % exc)
    if seconds < 1 or seconds != int(seconds):
        raise SummaryError("interval: %r must be a whole number of seconds, at least 1s" % (interval,))
    count = (window[1] - window[0]).total_seconds() / seconds
    if count > MAX_INTERVALS:
        raise SummaryError("interval: %r makes %d intervals in the window (at most %d): use a longer one"
                           % (interval, count, MAX_INTERVALS))
    return int(seconds)


def bucket(ts, seconds):
    """Start of the epoch-aligned interval holding ``ts`` (aware UTC datetime)."""
    epoch = (ts - EPOCH).total_seconds()
    return EPOCH + datetime.timedelta(seconds=math.floor(epoch / seconds) * seconds)


# ----------------------------------------------------------------------------------------------------- aggregation

class _Template(object):
    __slots__ = ("window", "baseline", "example", "hosts", "programs", "levels", "first_seen", "last_seen")

    def __init__(self):
        self.window = 0
        self.baseline = 0
        self.example = None
        self.hosts = set()
        self.programs = set()
        self.levels = set()
        self.first_seen = None
        self.last_seen = None


class Summary(object):
    """Counts, templates and spikes of a window against a baseline (feed ``add``, then read ``result``)."""

    def __init__(self, window, baseline, interval_s, max_templates=MAX_TEMPLATES, quoted=True, mask_secrets=True,
                 min_level=None):
        self.window = window
        self.baseline = baseline
        self.interval_s = interval_s
        self.max_templates = max_templates
        self.quoted = quoted
        self.mask_secrets = mask_secrets
        self.min_level = min_level
        self.templates = {}
        self.counts = {}          # (host, program, level, bucket start) -> window lines
        self.baseline_counts = {}  # (host, program) -> baseline lines
        self.total = 0
        self.baseline_total = 0
        self.other = {"window": 0, "baseline": 0}

    def period(self, ts):
        """'window', 'baseline' or None for a time outside both."""
        if ts is None:
            return None
        if self.window[0] <= ts <= self.window[1]:
            return "window"
        if self.baseline[0] <= ts < self.baseline[1]:
            return "baseline"
        return None

    def add(self, host, program, level, ts, message, line):
        """Count one record; returns the period it fell in (None: outside both or above ``min_level``, ignored).
        With ``min_level`` a record without a level is skipped too (as log_search does)."""
        period = self.period(ts)
        if period is None or (self.min_level is not None and (level is None or level > self.min_level)):
            return None
        if self.mask_secrets:
            message = redact.mask(message)
        key = templates.template(message, quoted=self.quoted)
        entry = self.templates.get(key)
        if entry is None:
            if len(self.templates) >= self.max_templates:
                entry = None
            else:
                entry = self.templates[key] = _Template()
        if period == "baseline":
            self.baseline_total += 1
            self.baseline_counts[(host, program)] = self.baseline_counts.get((host, program), 0) + 1
            if entry is None:
                self.other["baseline"] += 1
            else:
                entry.baseline += 1
            return period
        self.total += 1
        count_key = (host, program, level, bucket(ts, self.interval_s))
        self.counts[count_key] = self.counts.get(count_key, 0) + 1
        if entry is None:
            self.other["window"] += 1
            return period
        entry.window += 1
        if entry.example is None:
            entry.example = redact.mask(line) if self.mask_secrets else line
        entry.hosts.add(host)
        entry.programs.add(program)
        entry.levels.add(level)
        if entry.first_seen is None or ts < entry.first_seen:
            entry.first_seen = ts
        if entry.last_seen is None or ts > entry.last_seen:
            entry.last_seen = ts
        return period

    # ------------------------------------------------------------------------------------------- results

    @staticmethod
    def _template_row(key, entry):
        return {
            "template": key,
            "count": entry.window,
            "baseline_count": entry.baseline,
            "example": entry.example,
            "hosts": sorted(h for h in entry.hosts if h is not None),
            "programs": sorted(p for p in entry.programs if p is not None),
            "levels": [timestamps.level_name(level) for level in sorted(entry.levels, key=_level_sort)],
            "first_seen": _iso(entry.first_seen),
            "last_seen": _iso(entry.last_seen),
        }

    def count_rows(self):
        rows = [{"host": host, "program": program, "level": timestamps.level_name(level), "interval_start": _iso(start),
                 "count": count}
                for (host, program, level, start), count in self.counts.items()]
        rows.sort(key=lambda r: (r["interval_start"], r["host"] or "", r["program"] or "", _level_sort(timestamps.LEVELS.get(r["level"]))))
        return rows

    def baseline_intervals(self):
        return (self.baseline[1] - self.baseline[0]).total_seconds() / self.interval_s

    def spikes(self, factor, min_count):
        """Intervals of the window that spike per host/program (see the module docstring)."""
        per_interval = {}
        for (host, program, _level, start), count in self.counts.items():
            per_interval[(host, program, start)] = per_interval.get((host, program, start), 0) + count
        intervals = self.baseline_intervals()
        out = []
        for (host, program, start), count in per_interval.items():
            mean = self.baseline_counts.get((host, program), 0) / intervals
            if count < min_count:
                continue
            if mean > 0 and count < factor * mean:
                continue
            out.append({"host": host, "program": program, "interval_start": _iso(start), "count": count,
                        "baseline_per_interval": round(mean, 3), "factor": round(count / mean, 2) if mean > 0 else None})
        out.sort(key=lambda s: (s["interval_start"], s["host"] or "", s["program"] or ""))
        return out

    def result(self, top=20, spike_factor=3.0, spike_min_count=10):
        seen = [(key, entry) for key, entry in self.templates.items() if entry.window]
        seen.sort(key=lambda item: (-item[1].window, item[0]))
        new = [(key, entry) for key, entry in seen if entry.baseline == 0]
        out = {
            "window": {"since": _iso(self.window[0]), "until": _iso(self.window[1])},
            "baseline": {"since": _iso(self.baseline[0]), "until": _iso(self.baseline[1]), "total": self.baseline_total,
                         "intervals": round(self.baseline_intervals(), 3)},
            "interval_s": self.interval_s,
            "total": self.total,
            "counts": self.count_rows(),
            "templates": [self._template_row(key, entry) for key, entry in seen[:top]],
            "templates_total": len(seen),
            "new_templates": [self._template_row(key, entry) for key, entry in new[:top]],
            "new_templates_total": len(new),
            "spikes": self.spikes(spike_factor, spike_min_count),
            "other": {"window": self.other["window"], "baseline": self.other["baseline"],
                      "max_templates": self.max_templates,
                      "capped": bool(self.other["window"] or self.other["baseline"])},
        }
        return out


# ----------------------------------------------------------------------------------------------------- reading


RESEND_HORIZON = 200000  # lines of a stream remembered to recognise RELP's re-sent copies


def _feed(summary, streams, period, zone, from_line, fold=False):
    """Feed the records of ``streams`` that fall in ``period`` ('baseline' or 'window') to ``summary``. With
    ``fold`` (the collector's tree), RELP's re-sent copy of a line after a collector restart counts once
    (sources.out_of_order_resend: older than the line before it and identical to one of the last RESEND_HORIZON)."""
    since, until = getattr(summary, period)
    for stream in streams:
        previous, recent, seen = None, collections.deque(), set()
        for _log_file, _number, line, parsed in sources.iter_records(stream, since, until, zone):
            if fold:
                stamp, key = sources.collector_stamp(line), hash(line)
                if sources.out_of_order_resend(stamp, previous) and key in seen:
                    continue
                previous = stamp if stamp is not None else previous
                if key not in seen:
                    seen.add(key)
                    recent.append(key)
                    if len(recent) > RESEND_HORIZON:
                        seen.discard(recent.popleft())
            if summary.period(parsed.ts) != period:  # the baseline's end belongs to the window
                continue
            host = (parsed.host or stream.host) if from_line else stream.host
            program = (parsed.program or stream.program) if from_line else stream.program
            summary.add(host, program, parsed.level, parsed.ts, parsed.message, line)


def summarize(summary, params, zone):
    """Read the baseline's then the window's records into ``summary``.

    ``params``: dict with root, layout, paths, hosts, programs, journal (the module's options). Returns
    {scanned, pruned} file counts. Raises sources.LogSourceError / journal.JournalError for unreadable input.
    """
    if params.get("journal"):
        for period in ("baseline", "window"):
            since, until = getattr(summary, period)
            streams = sources.journal_streams(since, until, params.get("hosts"), params.get("programs"))
            _feed(summary, streams, period, zone, True)
        return {"scanned": 0, "pruned": 0}
    streams = sources.discover(root=params.get("root"), layout=params.get("layout") or sources.DEFAULT_LAYOUT,
                               paths=params.get("paths"), hosts=params.get("hosts"), programs=params.get("programs"))
    all_files = set(f.path for s in streams for f in s.files)
    read = set()
    for period in ("baseline", "window"):
        since, until = getattr(summary, period)
        kept, _pruned = sources.prune(streams, since, until, zone)
        read.update(f.path for s in kept for f in s.files)
        _feed(summary, kept, period, zone, bool(params.get("paths")), fold=not params.get("paths"))
    return {"scanned": len(read), "pruned": len(all_files - read)}


def run(params, now=None):
    """The log_summary module's ``summary`` for its parameters (SummaryError, SelectionError, LogSourceError...)."""
    zone, since, until, min_level = selection.selection(params, now)
    if since is None:
        raise SummaryError("log_summary needs a window: give since or last (for example last: 30m)")
    if since >= until:
        raise SummaryError("the window is empty: since (%s) is not before until (%s)" % (_iso(since), _iso(until)))
    window = (since, until)
    baseline = resolve_baseline(window, params.get("baseline_since"), params.get("baseline_until"),
                                params.get("baseline_last"), now, zone)
    interval_s = interval_seconds(params.get("interval") or "5m", window)
    top = params.get("top", 20)
    factor = params.get("spike_factor", 3.0)
    min_count = params.get("spike_min_count", 10)
    max_templates = params.get("max_templates", MAX_TEMPLATES)
    for name, value, low in (("top", top, 0), ("spike_min_count", min_count, 1), ("max_templates", max_templates, 1)):
        if value < low:
            raise SummaryError("%s must be at least %d (got %s)" % (name, low, value))
    if not factor > 0:
        raise SummaryError("spike_factor must be > 0 (got %s)" % factor)
    result = Summary(window, baseline, interval_s, max_templates, params.get("mask_quoted", True),
                     params.get("mask_secrets", True), min_level)
    files = summarize(result, params, zone)
    out = result.result(top, factor, min_count)
    out["files"] = files
    return out
