"""Retention selection: rules with reasons, safety rules, time zones (pure; property-tested with hypothesis)."""

import datetime
import random

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import retention as rp

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 3, 1, 2, 30, tzinfo=UTC)


def cand(when, n=0, **kw):
    return rp.Candidate("%s-%08x" % (when.strftime("%Y%m%dT%H%M%SZ"), n), when, **kw)


def kept_ids(verdicts):
    return [v.backup_id for v in verdicts if v.keep]


def daily(count, start=T0):
    return [cand(start - datetime.timedelta(days=i)) for i in range(count)]


# --- exact expectations, computed by hand --------------------------------------------------------------------
def test_sixty_dailies_with_7_daily_4_weekly_3_monthly():
    backups = daily(60)  # 2026-03-01 back to 2026-01-01, one per day at 02:30 UTC
    policy = rp.Policy.from_dict({"keep_daily": 7, "keep_weekly": 4, "keep_monthly": 3})
    verdicts = rp.select(backups, policy, T0)
    kept = sorted(v.time.date().isoformat() for v in verdicts if v.keep)
    # daily: 03-01 .. 02-23; weekly (ISO weeks, newest in each): 03-01 (W09 Sun), 02-22 (W08), 02-15 (W07),
    # 02-08 (W06); monthly: 03-01, 02-28, 01-31
    assert kept == ["2026-01-31", "2026-02-08", "2026-02-15", "2026-02-22", "2026-02-23", "2026-02-24", "2026-02-25",
                    "2026-02-26", "2026-02-27", "2026-02-28", "2026-03-01"]
    reasons = dict((v.time.date().isoformat(), v.reasons) for v in verdicts)
    assert "keep_weekly: newest of 2026-W08 (2 of 4)" in reasons["2026-02-22"]
    assert "keep_monthly: newest of 2026-01 (3 of 3)" in reasons["2026-01-31"]
    assert reasons["2026-01-30"][0].startswith("no rule keeps it (keep_daily: 7, keep_weekly: 4, keep_monthly: 3")


def test_keep_last_and_within():
    backups = [cand(T0 - datetime.timedelta(hours=6 * i)) for i in range(20)]
    verdicts = rp.select(backups, rp.Policy.from_dict({"keep_last": 3, "keep_within": "36h"}), T0)
    # within 36 h: ages 0, 6, ..., 36 h -> 7 backups; keep_last 3 is a subset
    assert len(kept_ids(verdicts)) == 7
    assert verdicts[0].reasons[:2] == ("safety: newest complete backup (no backup has passed restore verification yet)",
                                       "keep_last: 1 of 3")
    assert verdicts[6].reasons == ("keep_within: younger than 1d 12h",)


def test_min_keep_keeps_the_newest_others():
    backups = daily(10)
    verdicts = rp.select(backups, rp.Policy.from_dict({"keep_within": "1h", "min_keep": 4}), T0)
    assert kept_ids(verdicts) == [b.backup_id for b in backups[:4]]
    assert verdicts[3].reasons == ("min_keep: 4",)


def test_holds_and_newest_verified_survive_and_say_why():
    backups = daily(10)
    backups[7] = backups[7]._replace(holds=("legal hold marker: case 42 (by alice)",))
    backups[5] = backups[5]._replace(verified=True)
    backups[8] = backups[8]._replace(verified=True)  # older verified: no protection of its own
    verdicts = rp.select(backups, rp.Policy.from_dict({"keep_last": 2}), T0)
    by_id = dict((v.backup_id, v) for v in verdicts)
    assert kept_ids(verdicts) == [backups[i].backup_id for i in (0, 1, 5, 7)]
    assert by_id[backups[7].backup_id].reasons == ("hold: legal hold marker: case 42 (by alice)",)
    assert by_id[backups[5].backup_id].reasons == ("safety: newest backup that passed restore verification",)
    assert not by_id[backups[8].backup_id].keep


def test_damaged_backups_are_not_counted_and_kept_unless_purged():
    backups = daily(5)
    backups[0] = backups[0]._replace(valid=False)
    policy = rp.Policy.from_dict({"keep_last": 2})
    verdicts = rp.select(backups, policy, T0)
    # the damaged newest does not use up keep_last: days 1 and 2 are the two kept; day 1 is the newest complete one
    assert kept_ids(verdicts) == [b.backup_id for b in backups[:3]]
    assert verdicts[0].reasons[0].startswith("damaged: kept for inspection")
    assert verdicts[1].reasons[0].startswith("safety: newest complete backup")
    purged = rp.select(backups, policy, T0, purge_damaged=True)
    assert not purged[0].keep and purged[0].reasons == ("damaged: removed (purge_damaged)",)


def test_held_damaged_backup_is_kept_even_with_purge_damaged():
    backups = daily(3)
    backups[2] = backups[2]._replace(valid=False, holds=("s3 object lock legal hold",))
    verdicts = rp.select(backups, rp.Policy.from_dict({"keep_last": 1}), T0, purge_damaged=True)
    assert verdicts[2].keep and verdicts[2].reasons == ("hold: s3 object lock legal hold",)


# --- time zones ------------------------------------------------------------------------------------------------
def test_days_are_calendar_days_of_the_policy_time_zone():
    # 23:30 UTC on 28 Feb and 00:30 UTC on 1 Mar: two UTC days, one day in New York (18:30 and 19:30)
    late = datetime.datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    early = datetime.datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    backups = [cand(late), cand(early)]
    utc = rp.select(backups, rp.Policy.from_dict({"keep_daily": 5}), early)
    ny = rp.select(backups, rp.Policy.from_dict({"keep_daily": 5, "timezone": "America/New_York"}), early)
    assert len(kept_ids(utc)) == 2
    assert kept_ids(ny) == [backups[1].backup_id]
    assert ny[0].reasons[-1] == "keep_daily: newest of 2026-02-28 (1 of 5)"


def test_the_repeated_hour_when_clocks_go_back_is_two_hours():
    # Europe/Berlin leaves summer time on 2026-10-25 at 03:00 CEST -> 02:00 CET: 02:xx happens twice
    first = datetime.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)   # 02:30 CEST
    second = datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    verdicts = rp.select([cand(first), cand(second)],
                         rp.Policy.from_dict({"keep_hourly": 5, "timezone": "Europe/Berlin"}), second)
    assert [v.keep for v in verdicts] == [True, True]
    assert verdicts[0].reasons[-1] == "keep_hourly: newest of 2026-10-25T02:00 +01:00 (1 of 5)"
    assert verdicts[1].reasons[-1] == "keep_hourly: newest of 2026-10-25T02:00 +02:00 (2 of 5)"


def test_a_short_day_when_clocks_go_forward_is_still_one_day():
    # America/New_York, 2026-03-08 has 23 hours; backups at local 00:30 and 23:30 share the day
    a = datetime.datetime(2026, 3, 8, 5, 30, tzinfo=UTC)    # 00:30 EST
    b = datetime.datetime(2026, 3, 9, 3, 30, tzinfo=UTC)    # 23:30 EDT
    verdicts = rp.select([cand(a), cand(b)], rp.Policy.from_dict({"keep_daily": 3, "timezone": "America/New_York"}), b)
    assert kept_ids(verdicts) == [cand(b).backup_id]


@pytest.mark.parametrize("bad,says", [
    ({"keep_daily": -1}, "keep_daily must be a whole number >= 0"),
    ({"keep_last": True}, "keep_last must be a whole number"),
    ({"keep_weekly": "4"}, "keep_weekly must be a whole number"),
    ({"min_keep": 0}, "min_keep must be at least 1"),
    ({"keep_within": "soon"}, "not a duration"),
    ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({"keep_dayly": 3}, "unknown retention option(s): keep_dayly"),
])
def test_bad_policies_are_refused_clearly(bad, says):
    with pytest.raises(ValueError) as err:
        rp.Policy.from_dict(bad)
    assert says in str(err.value)


def test_incomplete_runs_go_only_after_the_grace_period():
    runs = [("20260301T010000Z-00000001", T0 - datetime.timedelta(hours=1)),
            ("20260227T010000Z-00000002", T0 - datetime.timedelta(hours=49))]
    verdicts = rp.incomplete(runs, T0, 24 * 3600)
    assert [(v.backup_id, v.keep) for v in verdicts] == [(runs[0][0], True), (runs[1][0], False)]
    assert "past the grace period of 1d 0h" in verdicts[1].reasons[0]
    assert "may still be running" in verdicts[0].reasons[0]


def test_summary_counts_rules():
    verdicts = rp.select(daily(30), rp.Policy.from_dict({"keep_daily": 7, "keep_weekly": 4}), T0)
    out = rp.summary(verdicts)
    assert out["kept"] + out["removed"] == 30
    assert out["kept_by"]["keep_daily"] == 7 and out["kept_by"]["keep_weekly"] == 4


# --- properties ------------------------------------------------------------------------------------------------
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham"]
times = st.datetimes(min_value=datetime.datetime(2020, 1, 1), max_value=datetime.datetime(2030, 1, 1),
                     timezones=st.just(UTC))
candidates = st.lists(st.tuples(times, st.booleans(), st.booleans(), st.booleans()), min_size=0, max_size=60)
small = st.integers(min_value=0, max_value=8)
policies = st.fixed_dictionaries({
    "keep_last": small, "keep_hourly": small, "keep_daily": small, "keep_weekly": small, "keep_monthly": small,
    "keep_yearly": small, "min_keep": st.integers(min_value=1, max_value=10), "timezone": st.sampled_from(ZONES),
    "keep_within": st.one_of(st.none(), st.sampled_from(["1h", "36h", "7d", "90d"]))})


def build(raw):
    out = []
    for index, (when, valid, verified, held) in enumerate(raw):
        out.append(rp.Candidate("%s-%08x" % (when.strftime("%Y%m%dT%H%M%SZ"), index), when, valid=valid or held,
                                verified=verified, holds=("marker",) if held else ()))
    return out


@settings(max_examples=300, deadline=None)
@given(candidates, policies, st.randoms(use_true_random=False))
def test_selection_properties(raw, policy_dict, rnd):
    backups = build(raw)
    policy = rp.Policy.from_dict(policy_dict)
    now = max([b.time for b in backups] or [T0]) + datetime.timedelta(minutes=5)
    verdicts = rp.select(backups, policy, now)
    assert sorted(v.backup_id for v in verdicts) == sorted(b.backup_id for b in backups)
    valid = sorted((b for b in backups if b.valid), key=lambda b: (b.time, b.backup_id), reverse=True)
    keep = dict((v.backup_id, v) for v in verdicts)
    if valid:
        assert keep[valid[0].backup_id].keep, "the newest backup is kept"
    assert sum(1 for b in valid if keep[b.backup_id].keep) >= min(policy.min_keep, len(valid)), "min_keep holds"
    for verdict in verdicts:
        assert verdict.reasons, "every verdict says why"
    for backup in backups:
        if backup.holds:
            assert keep[backup.backup_id].keep
    verified = [b for b in valid if b.verified]
    if verified:
        assert keep[verified[0].backup_id].keep, "the newest verified backup is kept"
    # the count rules never keep more than they say
    for rule in rp.COUNT_RULES:
        by_rule = sum(1 for v in verdicts for r in v.reasons if r.startswith(rule + ":"))
        assert by_rule <= policy.counts[rule]
    shuffled = list(backups)
    rnd.shuffle(shuffled)
    assert rp.select(shuffled, policy, now) == verdicts, "the input order does not matter"


@settings(max_examples=200, deadline=None)
@given(st.lists(times, min_size=1, max_size=40, unique=True), st.sampled_from(ZONES),
       st.integers(min_value=1, max_value=10))
def test_keep_daily_keeps_the_newest_of_each_recent_local_day(instants, zone, days):
    backups = [cand(when, i) for i, when in enumerate(instants)]
    policy = rp.Policy.from_dict({"keep_daily": days, "timezone": zone})
    verdicts = rp.select(backups, policy, max(instants))
    tz = policy.tz
    by_day = {}
    for backup in backups:
        day = backup.time.astimezone(tz).date()
        if day not in by_day or (backup.time, backup.backup_id) > (by_day[day].time, by_day[day].backup_id):
            by_day[day] = backup
    expected = set(by_day[day].backup_id for day in sorted(by_day, reverse=True)[:days])
    got = set(v.backup_id for v in verdicts for r in v.reasons if r.startswith("keep_daily:"))
    assert got == expected


def test_order_independence_on_equal_times():
    when = T0
    backups = [rp.Candidate("20260301T023000Z-%08x" % i, when) for i in range(5)]
    first = rp.select(backups, rp.Policy.from_dict({"keep_last": 2}), T0)
    backups.reverse()
    random.Random(3).shuffle(backups)
    assert rp.select(backups, rp.Policy.from_dict({"keep_last": 2}), T0) == first
