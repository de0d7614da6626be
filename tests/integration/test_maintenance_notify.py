# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maintenance_notify through ansible-playbook with a frozen clock: every message reaches a real SMTP server and a
webhook receiver exactly once, also when runs repeat or overlap; a refused recipient is retried alone."""

import collections
import datetime
import uuid

import pytest

from notify_helpers import WebhookReceiver
from window_helpers import RefusingSMTP, ics_part, parse_ics, run_tasks, run_together, task, window_mails

START = datetime.datetime(2026, 12, 10, 8, 0, tzinfo=datetime.timezone.utc)  # 09:00 in Berlin
EVENTS = ["announce", "completed", "remind-1h-20261210T080000Z", "remind-24h-20261210T080000Z",
          "remind-72h-20261210T080000Z", "started"]


def at(delta_h):
    return (START + datetime.timedelta(hours=delta_h)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def receiver():
    hook = WebhookReceiver()
    yield hook
    hook.close()


def window_args(ops_state, wid, emails, hooks, **extra):
    args = {"id": wid, "title": "Database index rebuild",
            "description": "We rebuild the **search** index; uploads pause.",
            "start": "2026-12-10T09:00:00", "timezone": "Europe/Berlin", "duration": "45m", "impact": "read_only",
            "components": ["api", "uploads"], "audience": {"emails": emails, "webhooks": hooks},
            "owner": "owner-%s@example.invalid" % wid, "ops_state": ops_state}
    args.update(extra)
    return args


def notify_args(ops_state, port):
    return {"ops_state": ops_state, "retry_delay": 0.1,
            "smtp": {"host": "127.0.0.1", "port": port, "sender": "status@example.invalid", "secure": "never"}}


def test_every_message_exactly_once_with_repeated_and_overlapping_runs(smtp, receiver, scratch):
    wid = "mw-%s" % uuid.uuid4().hex[:8]
    emails = ["a-%s@example.invalid" % wid, "b-%s@example.invalid" % wid]
    hooks = [{"url": "%s/%s/generic" % (receiver.url, wid)},
             {"url": "%s/%s/slack" % (receiver.url, wid), "kind": "slack"}]
    notify = notify_args(scratch, smtp.port)
    first = run_tasks([task("maintenance_window", window_args(scratch, wid, emails, hooks), at(-96)),
                       task("maintenance_notify", notify, at(-96)), task("maintenance_notify", notify, at(-96))])
    assert not first[0].get("failed"), first[0]
    assert first[1]["summary"]["sent"] == 4 and first[1]["changed"], first[1]["deliveries"]
    assert first[2]["summary"]["sent"] == 0 and not first[2]["changed"]
    for instant in (at(-72), at(-24), at(-1)):
        results = run_together([[task("maintenance_notify", notify, instant)]] * 2)
        assert sum(r[0]["summary"]["sent"] for r in results) == 4, results
        assert not any(r[0].get("failed") for r in results), results
    run_tasks([task("maintenance_window", {"id": wid, "state": "in_progress", "ops_state": scratch}, at(0)),
               task("maintenance_notify", notify, at(0)), task("maintenance_notify", notify, at(0))])
    run_tasks([task("maintenance_window", {"id": wid, "state": "completed", "ops_state": scratch,
                                           "task_results": [{"name": "reindex", "ok": True}]}, at(0.7))])
    results = run_together([[task("maintenance_notify", notify, at(0.8))]] * 2)
    assert sum(r[0]["summary"]["sent"] for r in results) == 4

    got = window_mails(smtp, wid)
    per_recipient = collections.defaultdict(list)
    for rcpt, event, _msg in got:
        per_recipient[rcpt].append(event)
    assert dict(per_recipient) == {addr: EVENTS for addr in emails}, per_recipient

    generic = [p["json"]["event"] for p in receiver.posts if p["path"] == "/hook/%s/generic" % wid]
    assert sorted(generic) == EVENTS
    slack = [p for p in receiver.posts if p["path"] == "/hook/%s/slack" % wid]
    assert len(slack) == 6 and all("text" in p["json"] and "blocks" in p["json"] for p in slack)
    assert len({p["headers"]["Idempotency-Key"] for p in receiver.posts if wid in p["path"]}) == 12

    # The messages: text, HTML and an invitation whose UID, SEQUENCE and DTSTART are right.
    for rcpt, event, msg in got:
        types = [part.get_content_type() for part in msg.walk()]
        assert "text/plain" in types and "text/html" in types, types
        method, text = ics_part(msg)
        cal = parse_ics(text)
        assert method == "REQUEST" and cal["VCALENDAR"]["METHOD"] == "REQUEST"
        assert cal["VEVENT"]["UID"] == "%s@watchkeeper.ops" % wid and cal["VEVENT"]["SEQUENCE"] == "1"
        assert cal["VEVENT"]["DTSTART"] == "20261210T080000Z" and cal["VEVENT"]["DTEND"] == "20261210T084500Z"
        assert "search" in cal["VEVENT"]["DESCRIPTION"] and cal["VEVENT"]["ATTENDEE"] == "mailto:" + rcpt
        html = msg.get_body(("html",)).get_content()
        assert "<strong>search</strong>" in html
    announce = [m for _r, e, m in got if e == "announce"][0]
    assert announce["Subject"].startswith("[Scheduled maintenance] Database index rebuild - 2026-12-10 09:00 CET")


def test_stale_reminders_are_skipped_and_recorded(smtp, scratch):
    wid = "mw-%s" % uuid.uuid4().hex[:8]
    emails = ["c-%s@example.invalid" % wid]
    notify = notify_args(scratch, smtp.port)
    results = run_tasks([task("maintenance_window", window_args(scratch, wid, emails, []), at(-96)),
                         task("maintenance_notify", notify, at(-96)),
                         task("maintenance_notify", notify, at(-0.5)),  # the 72 h and 24 h reminders were missed
                         task("maintenance_notify", notify, at(-0.4))])
    rows = results[2]["deliveries"]
    assert [(r["event"], r["status"]) for r in rows] == [
        ("remind-72h-20261210T080000Z", "skipped"), ("remind-24h-20261210T080000Z", "skipped"),
        ("remind-1h-20261210T080000Z", "sent")]
    assert results[3]["deliveries"] == []
    assert [e for _r, e, _m in window_mails(smtp, wid)] == ["announce", "remind-1h-20261210T080000Z"]


def test_refused_recipient_is_retried_alone_on_the_next_run(scratch):
    server = RefusingSMTP()
    try:
        wid = "mw-%s" % uuid.uuid4().hex[:8]
        good, bad = "good-%s@example.invalid" % wid, "bad-%s@example.invalid" % wid
        server.refuse.add(bad)
        notify = notify_args(scratch, server.port)
        results = run_tasks([task("maintenance_window", window_args(scratch, wid, [good, bad], []), at(-96)),
                             task("maintenance_notify", notify, at(-96)), task("maintenance_notify", notify, at(-96))])
        for result in results[1:]:
            assert result.get("failed") and bad in result["msg"] and "550" in result["msg"], result
        assert [r["status"] for r in results[1]["deliveries"]] == ["sent", "failed"]
        assert [(r["recipient"], r["status"], r["attempt"]) for r in results[2]["deliveries"]] == [(bad, "failed", 2)]
        assert [rcpts for rcpts, _m in server.messages] == [[good]]
        server.refuse.clear()
        results = run_tasks([task("maintenance_notify", notify, at(-95)), task("maintenance_notify", notify, at(-95))])
        assert not results[0].get("failed") and [(r["recipient"], r["status"]) for r in results[0]["deliveries"]] == [
            (bad, "sent")]
        assert results[1]["deliveries"] == []
        assert sorted(r[0] for r, _m in server.messages) == sorted([good, bad])
    finally:
        server.stop()


def test_password_never_in_results(scratch):
    server = RefusingSMTP()
    try:
        wid = "mw-%s" % uuid.uuid4().hex[:8]
        secret = "pw-%s" % uuid.uuid4().hex
        notify = notify_args(scratch, server.port)
        notify["smtp"]["username"], notify["smtp"]["password"] = "status", secret
        args = window_args(scratch, wid, ["x-%s@example.invalid" % wid], [])
        results = run_tasks([task("maintenance_window", args, at(-96)),
                             task("maintenance_notify", notify, at(-96))])
        # aiosmtpd offers no AUTH on plain text: the login fails, and the failure must not carry the password.
        assert results[1].get("failed")
        assert secret not in repr(results)
    finally:
        server.stop()
