# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which backups a retention policy keeps, and why. Pure: no I/O, ``now`` is an argument.

Rules (the semantics of restic's and borg's ``forget``/``prune``, with reasons):

* ``keep_last: N``: the N newest backups.
* ``keep_hourly|daily|weekly|monthly|yearly: N``: walking from the newest backup back, the newest backup of each
  of the N most recent hours/days/ISO weeks/months/years *that have a backup*. Periods are calendar periods in the
  policy's ``timezone`` (an IANA name, default UTC): a day is midnight to midnight there, whatever the offset.
  An hour repeated when clocks go back is two hours (told apart by their UTC offset).
* ``keep_within: D``: every backup younger than D (a duration: ``36h``, ``30d``), and any dated after ``now``.
* ``min_keep: M`` (at least 1): when the rules keep fewer than M backups, the newest others are kept too.

Safety rules that no policy overrides: a backup under a hold is kept; the newest backup that passed a restore
verification is kept (until one has: the newest complete backup). Damaged backups (a manifest whose objects are
missing or wrong) are not counted by any rule; they are kept for inspection unless ``purge_damaged``.

Only complete, valid backups count for the rules; verdicts are returned newest first and do not depend on the
order of the input.
"""

import collections
import datetime

try:
    import zoneinfo
except ImportError:  # pragma: no cover - Python < 3.9
    zoneinfo = None

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy.freshness import human_duration, parse_duration

PERIODS = ("hourly", "daily", "weekly", "monthly", "yearly")
COUNT_RULES = ("keep_last",) + tuple("keep_%s" % p for p in PERIODS)

POLICY_OPTIONS = dict(
    keep_last=dict(type="int", default=0),
    keep_hourly=dict(type="int", default=0),
    keep_daily=dict(type="int", default=0),
    keep_weekly=dict(type="int", default=0),
    keep_monthly=dict(type="int", default=0),
    keep_yearly=dict(type="int", default=0),
    keep_within=dict(type="str"),
    min_keep=dict(type="int", default=1),
    timezone=dict(type="str", default="UTC"),
)

Candidate = collections.namedtuple("Candidate", ["backup_id", "time", "valid", "verified", "holds"])
Candidate.__new__.__defaults__ = (True, False, ())

Verdict = collections.namedtuple("Verdict", ["backup_id", "time", "keep", "reasons"])


class Policy(object):
    """A validated policy. Build it with ``Policy.from_dict``."""

    def __init__(self, counts, within_s, min_keep, tz, tz_name):
        self.counts = counts
        self.within_s = within_s
        self.min_keep = min_keep
        self.tz = tz
        self.tz_name = tz_name

    @classmethod
    def from_dict(cls, data):
        data = dict(data or {})
        unknown = sorted(set(data) - set(POLICY_OPTIONS))
        if unknown:
            raise ValueError("unknown retention option(s): %s" % ", ".join(unknown))
        counts = {}
        for rule in COUNT_RULES:
            value = data.get(rule)
            value = 0 if value is None else value
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("%s must be a whole number >= 0, not %r" % (rule, value))
            counts[rule] = value
        within_s = None
        if data.get("keep_within") not in (None, ""):
            within_s = parse_duration(data["keep_within"])
        min_keep = data.get("min_keep")
        min_keep = 1 if min_keep is None else min_keep
        if isinstance(min_keep, bool) or not isinstance(min_keep, int) or min_keep < 1:
            raise ValueError("min_keep must be at least 1 (the newest backup is never removed), not %r" % (min_keep,))
        tz_name = data.get("timezone") or "UTC"
        return cls(counts, within_s, min_keep, _zone(tz_name), tz_name)

    def describe(self):
        parts = ["%s: %d" % (rule, n) for rule, n in sorted(self.counts.items(), key=lambda i: COUNT_RULES.index(i[0]))
                 if n]
        if self.within_s is not None:
            parts.append("keep_within: %s" % human_duration(self.within_s))
        parts.append("min_keep: %d" % self.min_keep)
        return ", ".join(parts) + " (%s)" % self.tz_name


def _zone(name):
    if name.upper() == "UTC":
        return datetime.timezone.utc
    if zoneinfo is None:
        raise ValueError("time zone %r needs Python 3.9+ (zoneinfo)" % name)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown time zone %r: %s" % (name, exc))


def period_key(period, when, tz):
    """The calendar period of ``when`` in ``tz``, as a sortable tuple and a label for reasons."""
    local = when.astimezone(tz)
    if period == "hourly":
        offset = local.utcoffset() or datetime.timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        label = "%s %s%02d:%02d" % (local.strftime("%Y-%m-%dT%H:00"), sign, abs(minutes) // 60, abs(minutes) % 60)
        return (local.year, local.month, local.day, local.hour, -minutes), label
    if period == "daily":
        return (local.year, local.month, local.day), local.strftime("%Y-%m-%d")
    if period == "weekly":
        iso = local.isocalendar()
        return (iso[0], iso[1]), "%04d-W%02d" % (iso[0], iso[1])
    if period == "monthly":
        return (local.year, local.month), local.strftime("%Y-%m")
    if period == "yearly":
        return (local.year,), "%04d" % local.year
    raise ValueError("unknown period %r" % period)


def _order(candidates):
    """Newest first; ties broken by id so the result never depends on the input order."""
    return sorted(candidates, key=lambda c: (c.time, c.backup_id), reverse=True)


def select(candidates, policy, now, purge_damaged=False):
    """Verdicts for every candidate, newest first. ``now`` is an aware datetime."""
    ordered = _order(candidates)
    reasons = dict((c.backup_id, []) for c in ordered)
    valid = [c for c in ordered if c.valid]

    for index, cand in enumerate(valid[:policy.counts["keep_last"]]):
        reasons[cand.backup_id].append("keep_last: %d of %d" % (index + 1, policy.counts["keep_last"]))
    for period in PERIODS:
        wanted = policy.counts["keep_%s" % period]
        seen = []
        for cand in valid:
            if len(seen) >= wanted:
                break
            key, label = period_key(period, cand.time, policy.tz)
            if seen and seen[-1] == key:
                continue
            seen.append(key)
            reasons[cand.backup_id].append("keep_%s: newest of %s (%d of %d)" % (period, label, len(seen), wanted))
    if policy.within_s is not None:
        horizon = now - datetime.timedelta(seconds=policy.within_s)
        for cand in valid:
            if cand.time > now:
                reasons[cand.backup_id].append("keep_within: dated after now (clock skew?)")
            elif cand.time >= horizon:
                reasons[cand.backup_id].append("keep_within: younger than %s" % human_duration(policy.within_s))

    kept = sum(1 for c in valid if reasons[c.backup_id])
    for cand in valid:
        if kept >= policy.min_keep:
            break
        if not reasons[cand.backup_id]:
            reasons[cand.backup_id].append("min_keep: %d" % policy.min_keep)
            kept += 1

    _safety(ordered, valid, reasons)

    verdicts = []
    for cand in ordered:
        why = reasons[cand.backup_id]
        if not cand.valid and not cand.holds:
            if purge_damaged:
                verdicts.append(Verdict(cand.backup_id, cand.time, False, ("damaged: removed (purge_damaged)",)))
                continue
            why.append("damaged: kept for inspection, not counted by any rule (purge_damaged is off)")
        if why:
            verdicts.append(Verdict(cand.backup_id, cand.time, True, tuple(why)))
        else:
            verdicts.append(Verdict(cand.backup_id, cand.time, False, ("no rule keeps it (%s)" % policy.describe(),)))
    return verdicts


def _safety(ordered, valid, reasons):
    for cand in ordered:
        for hold in cand.holds:
            reasons[cand.backup_id].insert(0, "hold: %s" % hold)
    verified = [c for c in valid if c.verified]
    if verified:
        reasons[verified[0].backup_id].insert(0, "safety: newest backup that passed restore verification")
    elif valid:
        reasons[valid[0].backup_id].insert(0, "safety: newest complete backup (no backup has passed restore "
                                              "verification yet)")


def incomplete(runs, now, grace_s):
    """Verdicts for incomplete runs ``[(backup_id, time)]`` (objects without a manifest): removed past the grace."""
    out = []
    for backup_id, when in sorted(runs, key=lambda r: (r[1], r[0]), reverse=True):
        age = (now - when).total_seconds()
        if age > grace_s:
            out.append(Verdict(backup_id, when, False, ("incomplete run (no manifest), %s old: past the grace period "
                                                        "of %s" % (human_duration(age), human_duration(grace_s)),)))
        else:
            out.append(Verdict(backup_id, when, True, ("incomplete run (no manifest) within the grace period of %s: "
                                                       "it may still be running" % human_duration(grace_s),)))
    return out


def summary(verdicts):
    """Counts for reports: kept, removed, and how many each rule kept."""
    by_rule = collections.Counter()
    for verdict in verdicts:
        if verdict.keep:
            for reason in verdict.reasons:
                by_rule[reason.split(":", 1)[0]] += 1
    return {"kept": sum(1 for v in verdicts if v.keep), "removed": sum(1 for v in verdicts if not v.keep),
            "kept_by": dict(by_rule)}
