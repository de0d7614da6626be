# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Maintenance windows, pure: reminder instants across DST (property-tested), the notification schedule,
lifecycle, outcome and KPI, and the iCalendar writer's escaping and folding."""

import datetime
import zoneinfo

import pytest
from hypothesis import assume, given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance import ics
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as p

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Pacific/Auckland", "America/Santiago",
         "Europe/London", "Asia/Kolkata", "Pacific/Chatham"]
H = datetime.timedelta(hours=1)


def window(start="2026-03-29T09:00:00", tz="Europe/Berlin", now=T0, **extra):
    spec = {"title": "DB reindex", "start": start, "timezone": tz, "duration": "1h", "impact": "read_only",
            "audience": {"emails": ["a@example.invalid"]}, "owner": "o@example.invalid"}
    spec.update(extra)
    return p.new_window(spec, now, "db-reindex")


# --------------------------------------------------------------------------- time zones and DST

def test_reminder_is_real_hours_before_a_start_after_the_dst_change():
    # Berlin moves to CEST at 2026-03-29 01:00 UTC. A window at 09:00 local that day starts at 07:00 UTC; the
    # 24 h reminder is 24 real hours earlier, 08:00 local on the 28th (wall-clock arithmetic would say 09:00).
    w = window("2026-03-29T09:00:00", "Europe/Berlin")
    assert w["start"] == "2026-03-29T09:00:00+02:00"
    at = p.reminder_at(w, "24h")
    assert at == datetime.datetime(2026, 3, 28, 7, 0, tzinfo=UTC)
    assert at.astimezone(zoneinfo.ZoneInfo("Europe/Berlin")).hour == 8
    assert p.reminder_at(w, "72h") == datetime.datetime(2026, 3, 26, 7, 0, tzinfo=UTC)


def test_new_york_fall_back():
    w = window("2026-11-02T09:00:00", "America/New_York", now=datetime.datetime(2026, 10, 1, tzinfo=UTC))
    assert p.start_utc(w) == datetime.datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    assert p.reminder_at(w, "24h") == datetime.datetime(2026, 11, 1, 14, 0, tzinfo=UTC)  # 09:00 EST... 24 h earlier
    assert p.reminder_at(w, "24h").astimezone(zoneinfo.ZoneInfo("America/New_York")).hour == 9  # now EST too


@pytest.mark.parametrize("start,tz,message", [
    ("2026-03-29T02:30:00", "Europe/Berlin", "does not exist"),
    ("2026-10-25T02:30:00", "Europe/Berlin", "happens twice"),
    ("2026-03-08T02:30:00", "America/New_York", "does not exist"),
    ("2026-04-05T02:30:00", "Australia/Sydney", "happens twice"),
])
def test_local_times_in_dst_gaps_and_overlaps_are_refused(start, tz, message):
    with pytest.raises(p.WindowError, match=message):
        window(start, tz)


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES),
       local=st.datetimes(min_value=datetime.datetime(2026, 1, 1), max_value=datetime.datetime(2028, 12, 31)),
       lead_s=st.integers(min_value=60, max_value=14 * 86400))
def test_reminder_instants_are_absolute_across_dst(zone, local, lead_s):
    tz = zoneinfo.ZoneInfo(zone)
    local = local.replace(second=0, microsecond=0)
    aware = local.replace(tzinfo=tz)
    exists = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local
    unique = local.replace(tzinfo=tz, fold=0).utcoffset() == local.replace(tzinfo=tz, fold=1).utcoffset()
    assume(exists and unique)
    w = window(local.isoformat(), zone, now=aware.astimezone(UTC) - datetime.timedelta(days=30))
    start = p.start_utc(w)
    assert start == aware.astimezone(UTC)
    assert start.astimezone(tz).replace(tzinfo=None) == local  # the wall time the operator meant
    at = p.reminder_at(w, "%ds" % lead_s)
    assert (start - at).total_seconds() == lead_s  # real elapsed seconds, whatever the offsets do
    assert at.timestamp() == start.timestamp() - lead_s


@settings(max_examples=200, deadline=None)
@given(zone=st.sampled_from(ZONES), offset_h=st.integers(min_value=-12 * 24, max_value=12 * 24),
       runs=st.lists(st.integers(min_value=0, max_value=5 * 24 * 4), min_size=1, max_size=30))
def test_schedule_sends_each_event_once_and_never_a_stale_reminder(zone, offset_h, runs):
    # A window created four days before its start; notify runs at arbitrary quarter hours.
    start = datetime.datetime(2026, 3, 1, tzinfo=UTC) + datetime.timedelta(hours=offset_h)
    created = start - datetime.timedelta(days=4)
    w = window(p.iso(start), zone, now=created)
    delivered, sent = {}, []
    for quarter in sorted(set(runs)):
        now = created + datetime.timedelta(minutes=15 * quarter)
        plan = p.due(w, now, delivered)
        reminders = [e for e in plan["send"] if e["kind"] == "reminder"]
        assert len(reminders) <= 1
        for event in plan["send"]:
            assert event["key"] not in delivered
            assert event["at"] <= now
            if event["kind"] == "reminder":
                assert now < start
                later = [e for e in p.due(w, now, {"announce": {"complete": True}})["send"] if e["kind"] == "reminder"]
                assert later == [] or later[0]["at"] >= event["at"]
            delivered[event["key"]] = {"complete": True, "sent": 1, "revision": 1}
            sent.append(event["key"])
        for event in plan["skip"]:
            delivered[event["key"]] = {"complete": True}
    assert len(sent) == len(set(sent))
    assert sent[0] == "announce"


# --------------------------------------------------------------------------- schedule

def keys(events):
    return [e["key"] for e in events]


def test_only_the_latest_due_reminder_is_sent_the_others_are_skipped():
    w = window()  # created 2026-03-20, starts 2026-03-29T07:00Z
    done = {"announce": {"complete": True, "sent": 1, "revision": 1}}
    plan = p.due(w, datetime.datetime(2026, 3, 29, 6, 30, tzinfo=UTC), done)
    assert keys(plan["send"]) == ["remind-1h-20260329T070000Z"]
    assert keys(plan["skip"]) == ["remind-72h-20260329T070000Z", "remind-24h-20260329T070000Z"]


def test_partial_delivery_is_retried_while_relevant():
    w = window()
    now = datetime.datetime(2026, 3, 26, 8, 0, tzinfo=UTC)
    state = {"announce": {"complete": True, "sent": 1, "revision": 1},
             "remind-72h-20260329T070000Z": {"complete": False, "sent": 1}}
    assert keys(p.due(w, now, state)["send"]) == ["remind-72h-20260329T070000Z"]


def test_started_and_completed_windows_get_only_their_lifecycle_message():
    w = window()
    done = {"announce": {"complete": True, "sent": 1, "revision": 1}}
    w = p.transition(w, "in_progress", datetime.datetime(2026, 3, 29, 6, 50, tzinfo=UTC))
    plan = p.due(w, datetime.datetime(2026, 3, 29, 6, 55, tzinfo=UTC), done)
    assert keys(plan["send"]) == ["started"]
    assert len(plan["skip"]) == 3
    w = p.transition(w, "completed", datetime.datetime(2026, 3, 29, 7, 30, tzinfo=UTC))
    plan = p.due(w, datetime.datetime(2026, 3, 29, 8, 0, tzinfo=UTC), done)
    assert keys(plan["send"]) == ["completed"] and "started" in keys(plan["skip"])


def test_overrun_notice_once_per_end():
    w = p.transition(window(), "in_progress", datetime.datetime(2026, 3, 29, 7, 0, tzinfo=UTC))
    state = {"announce": {"complete": True, "sent": 1, "revision": 1}, "started": {"complete": True, "sent": 1}}
    late = datetime.datetime(2026, 3, 29, 8, 5, tzinfo=UTC)
    plan = p.due(w, late, state)
    assert [(e["key"], e["audience"]) for e in plan["send"]] == [("overrun-20260329T080000Z", "owner")]
    state["overrun-20260329T080000Z"] = {"complete": True}
    assert p.due(w, late, state)["send"] == []
    w = p.extend(w, "30m", late)
    state[keys(p.due(w, late, state)["send"])[0]] = {"complete": True}  # the "changed" message of the extension
    later = datetime.datetime(2026, 3, 29, 8, 40, tzinfo=UTC)
    assert keys(p.due(w, later, state)["send"]) == ["overrun-20260329T083000Z"]


def test_cancel_is_sent_only_after_an_announcement():
    w = p.transition(window(), "cancelled", T0, reason="postponed")
    assert keys(p.due(w, T0, {})["send"]) == []
    assert keys(p.due(w, T0, {"announce": {"complete": True, "sent": 1}})["send"]) == ["cancelled"]


def test_time_edit_bumps_revision_and_moves_reminders():
    w = window()
    edited, changed = p.edit(w, {"start": "2026-03-30T09:00:00"}, T0 + H)
    assert changed == ["start"] and edited["revision"] == 2 and edited["end"] == "2026-03-30T08:00:00Z"
    done = {"announce": {"complete": True, "sent": 1, "revision": 1}}
    assert keys(p.due(edited, T0 + 2 * H, done)["send"]) == ["changed-r2"]
    same, none = p.edit(edited, {"start": "2026-03-30T07:00:00Z", "timezone": "Europe/Berlin"}, T0 + 3 * H)
    assert none == [] and same is edited
    only_tasks, fields = p.edit(edited, {"tasks": [{"name": "reindex"}]}, T0 + 3 * H)
    assert fields == ["tasks"] and only_tasks["revision"] == 2


# --------------------------------------------------------------------------- lifecycle, outcome, KPI

@pytest.mark.parametrize("path,target", [
    ((), "verifying"), ((), "completed"), (("in_progress",), "cancelled"),
    (("in_progress", "completed"), "in_progress"), (("cancelled",), "in_progress"),
])
def test_illegal_transitions_are_refused_clearly(path, target):
    w = window()
    for step in path:
        w = p.transition(w, step, T0)
    with pytest.raises(p.WindowError, match="cannot become %s; from %s it can become" % (target, w["status"])):
        p.transition(w, target, T0)


def test_outcome_on_time_at_the_end_and_overran_after_it():
    end = datetime.datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    w = p.transition(window(), "in_progress", end - H)
    assert p.transition(w, "completed", end)["outcome"]["result"] == "on_time"
    late = p.transition(p.transition(w, "verifying", end), "completed", end + datetime.timedelta(seconds=90))
    assert late["outcome"]["result"] == "overran" and late["outcome"]["overran_s"] == 90
    assert late["history"][-1]["event"] == "completed"


def test_kpi_excludes_cancelled_and_counts_windows_ending_in_the_period():
    end = datetime.datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    running = p.transition(window(), "in_progress", end - H)
    on_time = p.transition(running, "completed", end - 60 * datetime.timedelta(seconds=1))
    overran = dict(p.transition(running, "completed", end + 2 * H), id="late-one")
    cancelled = dict(p.transition(window(), "cancelled", end), id="cancelled-one")
    outside = dict(p.transition(running, "completed", end + datetime.timedelta(days=40)), id="later-one")
    report = p.kpi([on_time, overran, cancelled, outside, dict(running, id="still-running")],
                   datetime.datetime(2026, 3, 1, tzinfo=UTC), datetime.datetime(2026, 4, 1, tzinfo=UTC))
    assert report["counts"] == {"completed": 2, "on_time": 1, "overran": 1, "cancelled": 1}
    assert report["within_window_pct"] == 50.0 and report["meets_target"] is False
    assert [r["id"] for r in report["overruns"]] == ["late-one"] and report["overruns"][0]["overran_s"] == 7200
    assert [r["id"] for r in report["cancelled"]] == ["cancelled-one"]
    empty = p.kpi([cancelled], datetime.datetime(2026, 3, 1, tzinfo=UTC), datetime.datetime(2026, 4, 1, tzinfo=UTC))
    assert empty["within_window_pct"] is None and empty["meets_target"] is None


@pytest.mark.parametrize("bad,message", [
    ({"title": ""}, "title"), ({"impact": "minor"}, "impact"), ({"duration": "0"}, "positive"),
    ({"timezone": "Mars/Base"}, "unknown time zone"), ({"reminders": ["soon"]}, "invalid duration"),
    ({"audience": {"webhooks": [{"url": "ftp://x"}]}}, "http"), ({"audience": {"emails": ["nobody"]}}, "address"),
])
def test_validation(bad, message):
    with pytest.raises(p.WindowError, match=message):
        window(**bad)


def test_ids():
    assert p.generate_id("Kernel patch: Web tier!", T0) == "mw-20260320t120000z-kernel-patch-web-tier"
    assert p.ID_RE.match(p.generate_id("x" * 200, T0))
    with pytest.raises(p.WindowError):
        p.new_window({"title": "t", "start": "2026-03-29T09:00:00Z", "duration": "1h"}, T0, "Bad_Id")


# --------------------------------------------------------------------------- iCalendar writer

def test_ics_escaping_and_folding():
    assert ics.escape("a;b,c\\d\ne") == "a\\;b\\,c\\\\d\\ne"
    line = "DESCRIPTION:" + "Wartung für Datenbank; Ümläüte " * 10
    folded = ics.fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode("utf-8")) <= 75 for part in parts) and len(parts) > 1
    assert parts[0] + "".join(part[1:] for part in parts[1:]) == line
    text = ics.calendar(window(description="x" * 300), "CANCEL", "wk@example.invalid")
    assert "METHOD:CANCEL\r\n" in text and "STATUS:CANCELLED\r\n" in text and "SEQUENCE:1\r\n" in text
    assert "DTSTART:20260329T070000Z\r\n" in text and "UID:db-reindex@watchkeeper.ops\r\n" in text
