# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maintenance_window and maintenance_history through ansible-playbook (frozen clock): lifecycle, edits, cancel,
idempotence, check mode, the KPI over several windows, and a window store in an S3 bucket prefix (moto)."""

import datetime
import json
import os
import threading
import uuid

import pytest

from helpers import gcs_dest, s3_dest
from notify_helpers import WebhookReceiver
from window_helpers import ics_part, parse_ics, run_tasks, run_together, task, window_mails

START = datetime.datetime(2026, 12, 10, 8, 0, tzinfo=datetime.timezone.utc)


def at(delta_h):
    return (START + datetime.timedelta(hours=delta_h)).strftime("%Y-%m-%dT%H:%M:%SZ")


def create(ops_state, wid, emails=(), **extra):
    args = {"id": wid, "title": "Kernel patch %s" % wid, "start": "2026-12-10T09:00:00", "timezone": "Europe/Berlin",
            "duration": "1h", "impact": "full_outage", "audience": {"emails": list(emails)}, "ops_state": ops_state}
    args.update(extra)
    return args


def notify(ops_state, port):
    return {"ops_state": ops_state, "retry_delay": 0.1,
            "smtp": {"host": "127.0.0.1", "port": port, "sender": "status@example.invalid", "secure": "never"}}


def stored(ops_state, wid):
    with open(os.path.join(ops_state, "maintenance", "windows", wid + ".json")) as handle:
        return json.load(handle)


def test_illegal_transition_is_refused_clearly(scratch):
    wid = "mw-%s" % uuid.uuid4().hex[:8]
    res = run_tasks([task("maintenance_window", create(scratch, wid), at(-48)),
                     task("maintenance_window", {"id": wid, "state": "completed", "ops_state": scratch}, at(-47)),
                     task("maintenance_window", {"id": wid, "state": "in_progress", "ops_state": scratch}, at(-1)),
                     task("maintenance_window", {"id": wid, "state": "cancelled", "ops_state": scratch}, at(-0.5)),
                     task("maintenance_window", {"id": "mw-does-not-exist", "state": "in_progress",
                                                 "ops_state": scratch}, at(-0.5))])
    assert res[1]["failed"], res[1]
    assert "is scheduled and cannot become completed; from scheduled it can become: in_progress, cancelled" \
        in res[1]["msg"]
    assert res[2]["changed"] and res[2]["window"]["started_at"] == at(-1)
    assert res[3]["failed"] and "cannot become cancelled" in res[3]["msg"]
    assert res[4]["failed"] and "does not exist" in res[4]["msg"]
    doc = stored(scratch, wid)
    assert doc["status"] == "in_progress" and [h["event"] for h in doc["history"]] == ["scheduled", "in_progress"]
    assert doc["history"][1]["detail"] == "started 3600s early"


def test_idempotent_check_mode_and_diff(scratch):
    wid = "mw-%s" % uuid.uuid4().hex[:8]
    args = create(scratch, wid, audience={"emails": ["x@example.invalid"],
                                          "webhooks": [{"url": "https://hooks.example.invalid/T0/B0/secret-token"}]})
    edit = dict(args, duration="90m")
    check = task("maintenance_window", edit, at(-40))
    check["check_mode"] = True
    check["diff"] = True
    res = run_tasks([task("maintenance_window", args, at(-48)), task("maintenance_window", args, at(-47)), check])
    assert res[0]["changed"] and not res[1]["changed"]
    assert res[2]["changed"] and res[2]["changed_fields"] == ["duration_s"] and res[2]["revision"] == 2
    assert res[2]["diff"]["before"]["duration_s"] == 3600 and res[2]["diff"]["after"]["duration_s"] == 5400
    assert stored(scratch, wid)["duration_s"] == 3600 and stored(scratch, wid)["revision"] == 1
    assert "secret-token" not in json.dumps(res)


def test_cancel_sends_method_cancel_exactly_once(smtp, scratch):
    wid = "mw-%s" % uuid.uuid4().hex[:8]
    emails = ["c1-%s@example.invalid" % wid, "c2-%s@example.invalid" % wid]
    run_tasks([task("maintenance_window", create(scratch, wid, emails), at(-96)),
               task("maintenance_notify", notify(scratch, smtp.port), at(-96)),
               task("maintenance_window", {"id": wid, "state": "cancelled", "cancel_reason": "Postponed; new date soon",
                                           "ops_state": scratch}, at(-50))])
    both = run_together([[task("maintenance_notify", notify(scratch, smtp.port), at(-49))]] * 2)
    again = run_tasks([task("maintenance_notify", notify(scratch, smtp.port), at(-48)),
                       task("maintenance_notify", notify(scratch, smtp.port), at(-24))])
    assert sum(r[0]["summary"]["sent"] for r in both) == 2 and again[0]["deliveries"] == []
    skipped = [r["event"] for r in again[1]["deliveries"]]
    assert skipped == [], "a cancelled window's reminders were skipped when it was cancelled, not later"
    cancels = [(rcpt, msg) for rcpt, event, msg in window_mails(smtp, wid) if event == "cancelled"]
    assert sorted(r for r, _m in cancels) == emails
    for _r, msg in cancels:
        method, text = ics_part(msg)
        cal = parse_ics(text)
        assert method == "CANCEL" and cal["VCALENDAR"]["METHOD"] == "CANCEL" and cal["VEVENT"]["STATUS"] == "CANCELLED"
        assert cal["VEVENT"]["SEQUENCE"] == "2" and cal["VEVENT"]["UID"] == "%s@watchkeeper.ops" % wid
        assert "Postponed; new date soon" in msg.get_body(("plain",)).get_content()
    assert [e for _r, e, _m in window_mails(smtp, wid)].count("announce") == 2


def test_time_edit_sends_changed_and_reminders_follow_the_new_time(smtp, scratch):
    wid = "mw-%s" % uuid.uuid4().hex[:8]
    emails = ["e-%s@example.invalid" % wid]
    n = notify(scratch, smtp.port)
    res = run_tasks([task("maintenance_window", create(scratch, wid, emails), at(-120)),
                     task("maintenance_notify", n, at(-120)),
                     task("maintenance_window", create(scratch, wid, emails, start="2026-12-12T09:00:00"), at(-100)),
                     task("maintenance_notify", n, at(-99)),
                     task("maintenance_notify", n, at(-72)),  # the old 72 h reminder: nothing
                     task("maintenance_notify", n, at(48 - 72))])  # 72 h before the new start
    assert res[2]["changed_fields"] == ["start"] and res[2]["revision"] == 2
    assert [r["event"] for r in res[3]["deliveries"]] == ["changed-r2"]
    assert res[4]["deliveries"] == []
    assert [r["event"] for r in res[5]["deliveries"]] == ["remind-72h-20261212T080000Z"]
    changed = [m for _r, e, m in window_mails(smtp, wid) if e == "changed-r2"]
    assert len(changed) == 1
    cal = parse_ics(ics_part(changed[0])[1])
    assert cal["VEVENT"]["SEQUENCE"] == "2" and cal["VEVENT"]["DTSTART"] == "20261212T080000Z"


def test_history_and_kpi_over_several_windows(scratch):
    ids = ["mw-%s-%s" % (name, uuid.uuid4().hex[:6]) for name in ("ontime", "late", "extended", "cancel")]
    tasks = []
    for wid in ids:
        tasks.append(task("maintenance_window", create(scratch, wid), at(-48)))
    tasks += [task("maintenance_window", {"id": w, "state": "in_progress", "ops_state": scratch}, at(0))
              for w in ids[:3]]
    tasks += [task("maintenance_window", {"id": ids[0], "state": "completed", "ops_state": scratch,
                                          "task_results": [{"name": "patch", "ok": True}]}, at(0.9)),
              task("maintenance_window", {"id": ids[1], "state": "verifying", "ops_state": scratch}, at(0.95)),
              task("maintenance_window", {"id": ids[1], "state": "completed", "ops_state": scratch}, at(1.5)),
              task("maintenance_window", {"id": ids[2], "extend_by": "1h", "ops_state": scratch}, at(0.9)),
              task("maintenance_window", {"id": ids[2], "state": "completed", "ops_state": scratch}, at(1.75)),
              task("maintenance_window", {"id": ids[3], "state": "cancelled", "ops_state": scratch}, at(-2)),
              task("maintenance_history", {"since": "2026-12-01T00:00:00Z", "until": "2027-01-01T00:00:00Z",
                                           "ops_state": scratch}, at(24)),
              task("maintenance_history", {"since": "30d", "ops_state": scratch, "fail_below_target": True}, at(24)),
              task("maintenance_history", {"since": "2026-12-11T00:00:00Z", "ops_state": scratch}, at(24))]
    res = run_tasks(tasks)
    assert not any(r.get("failed") for r in res[:-3]), [r.get("msg") for r in res if r.get("failed")]

    def mine(rows):
        return [r for r in rows if r["id"] in ids]

    report = res[-3]
    assert report["kpi"]["counts"] == {"completed": 3, "on_time": 2, "overran": 1, "cancelled": 1}
    assert report["kpi"]["within_window_pct"] == 66.67 and report["kpi"]["meets_target"] is False
    assert [(r["id"], r["result"], r["overran_s"]) for r in mine(report["windows"])] == [
        (ids[3], "cancelled", 0), (ids[0], "on_time", 0), (ids[1], "overran", 1800), (ids[2], "on_time", 0)]
    assert mine(report["windows"])[1]["tasks"] == [{"name": "patch", "ok": True}]
    assert res[-2]["failed"] and "66.67 % of the maintenance windows" in res[-2]["msg"]
    assert res[-1]["kpi"]["counts"]["completed"] == 0 and res[-1]["kpi"]["within_window_pct"] is None


@pytest.fixture
def receiver():
    hook = WebhookReceiver()
    yield hook
    hook.close()


def test_bucket_prefix_store_with_claims_on_s3(moto, s3_bucket, receiver):
    bucket, client = s3_bucket
    spec = s3_dest(moto, bucket, name="ops", prefix="ops-state/prod")
    wid = "mw-%s" % uuid.uuid4().hex[:8]
    args = {"id": wid, "title": "S3 window", "start": "2026-12-10T08:00:00Z", "duration": "30m",
            "audience": {"webhooks": [{"url": receiver.url + "/" + wid}]}, "ops_state_store": spec}
    n = {"ops_state_store": spec, "retry_delay": 0.1}
    run_tasks([task("maintenance_window", args, at(-30))])
    results = run_together([[task("maintenance_notify", n, at(-30))]] * 3)
    assert sum(r[0]["summary"]["sent"] for r in results) == 1, results
    assert [p["json"]["event"] for p in receiver.posts if p["path"] == "/hook/" + wid] == ["announce"]
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="ops-state/prod/")["Contents"]]
    assert "ops-state/prod/maintenance/windows/%s.json" % wid in keys
    assert any(k.startswith("ops-state/prod/maintenance/deliveries/%s/announce/webhook-" % wid) and ".sent-r1." in k
               for k in keys)

    # The claim primitive and optimistic updates, from many threads at once against the same S3 endpoint.
    from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance import store as wstore
    storage = wstore.open_ops_state(store=spec)
    assert storage.conditional_writes_enforced()
    wins = []
    barrier = threading.Barrier(6)

    def claimer():
        barrier.wait()
        wins.append(wstore.claim(storage, "maintenance/race/%s.json" % wid, b"x"))

    def updater(i):
        barrier.wait()
        window_store = wstore.WindowStore(wstore.open_ops_state(store=spec))
        for j in range(3):
            window_store.update(wid, lambda d, tag="%d-%d" % (i, j): dict(d, tasks=d["tasks"] + [{"name": tag}]),
                                attempts=30)

    threads = [threading.Thread(target=claimer) for _i in range(3)]
    threads += [threading.Thread(target=updater, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False, False, True]
    final = wstore.WindowStore(storage).get(wid)
    assert sorted(t["name"] for t in final["tasks"]) == sorted("%d-%d" % (i, j) for i in range(3) for j in range(3))
    assert final["generation"] == 10
    assert json.loads(client.get_object(Bucket=bucket, Key="ops-state/prod/maintenance/windows/%s.json" % wid)[
        "Body"].read())["generation"] == 10


def test_bucket_prefix_store_on_gcs(gcs, gcs_bucket, receiver):
    bucket, client = gcs_bucket
    spec = gcs_dest(gcs.info["endpoint"], bucket, name="ops", prefix="ops-state")
    wid = "mw-%s" % uuid.uuid4().hex[:8]
    args = {"id": wid, "title": "GCS window", "start": "2026-12-10T08:00:00Z", "duration": "30m",
            "audience": {"webhooks": [{"url": receiver.url + "/" + wid}]}, "ops_state_store": spec}
    n = {"ops_state_store": spec, "retry_delay": 0.1}
    res = run_tasks([task("maintenance_window", args, at(-30)), task("maintenance_notify", n, at(-30)),
                     task("maintenance_notify", n, at(-30)),
                     task("maintenance_window", {"id": wid, "state": "cancelled", "ops_state_store": spec}, at(-29)),
                     task("maintenance_notify", n, at(-28)), task("maintenance_notify", n, at(-27))])
    assert not any(r.get("failed") for r in res), [r.get("msg") for r in res]
    assert [r["summary"]["sent"] for r in res if "summary" in r] == [1, 0, 1, 0]
    assert [p["json"]["event"] for p in receiver.posts if p["path"] == "/hook/" + wid] == ["announce", "cancelled"]
    names = [b.name for b in client.list_blobs(bucket, prefix="ops-state/maintenance/")]
    assert "ops-state/maintenance/windows/%s.json" % wid in names
    assert "ops-state/maintenance/versions/%s/00000002.json" % wid in names
