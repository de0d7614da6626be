"""Public status page: what it shows (public fields only, scrubbed), component states, feed and HTML."""

import datetime
import json
import xml.etree.ElementTree as ET

from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance import status_html, status_page

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def window(wid, status, start, hours=2, impact="full_outage", **extra):
    start_dt = NOW + datetime.timedelta(hours=start)
    doc = {"id": wid, "title": "Window %s" % wid, "description": "Upgrade **PostgreSQL**.\n\n- step one\n- step two",
           "start": start_dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "end": (start_dt + datetime.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "impact": impact, "components": ["API", "Web app"], "status": status, "revision": 2,
           "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-20T00:00:00Z",
           "tasks": [{"name": "restart", "host": "db-prod-7.internal"}],
           "audience": {"emails": ["ops@example.com"]}, "owner": {"email": "owner@example.com"},
           "history": [{"at": "2026-11-20T00:00:00Z", "event": "failed", "detail": "connection refused 10.1.2.3"}]}
    doc.update(extra)
    return doc


def windows():
    return [
        window("mw-active", "in_progress", -1, impact="read_only"),
        window("mw-next", "scheduled", 48),
        window("mw-ontime", "completed", -240,
               outcome={"result": "on_time", "overran_s": 0, "tasks": [{"error": "Traceback: boom"}]},
               completed_at=(NOW - datetime.timedelta(hours=239)).strftime("%Y-%m-%dT%H:%M:%SZ")),
        window("mw-late", "completed", -100, outcome={"result": "overran", "overran_s": 1500},
               completed_at=(NOW - datetime.timedelta(hours=97)).strftime("%Y-%m-%dT%H:%M:%SZ")),
        window("mw-cancel", "cancelled", -50, cancelled_at="2026-11-24T00:00:00Z"),
        window("mw-ancient", "completed", -24 * 120, outcome={"result": "on_time"},
               completed_at=(NOW - datetime.timedelta(days=119)).strftime("%Y-%m-%dT%H:%M:%SZ")),
        window("mw-past-scheduled", "scheduled", -30),
    ]


def test_summary_lists_active_upcoming_and_ninety_days():
    doc = status_page.summary(windows(), [{"name": "API"}, "Web app", "Billing"], NOW, page={"name": "Acme status"})
    assert doc["status"] == {"indicator": "maintenance", "description": "Maintenance in progress"}
    assert [w["id"] for w in doc["active_maintenances"]] == ["mw-active"]
    assert [w["id"] for w in doc["scheduled_maintenances"]] == ["mw-next"]
    assert [w["id"] for w in doc["past_maintenances"]] == ["mw-cancel", "mw-late", "mw-ontime"]
    assert [(c["name"], c["status"]) for c in doc["components"]] == [
        ("API", "partial_outage"), ("Web app", "partial_outage"), ("Billing", "operational")]
    assert doc["history"] == {"days": 90, "completed": 2, "on_time": 1, "within_window_pct": 50.0}


def test_only_public_fields_and_scrubbed_text():
    raw = windows()
    raw[1]["title"] = "Move db-prod-7.internal to 10.20.30.40 and fe80::1:2:3"
    doc = status_page.summary(raw, ["API"], NOW, hostnames=["db-prod-7.internal", "db-prod-7"])
    text = json.dumps(doc) + status_page.rss(doc) + status_html.render(doc)
    for secret in ("db-prod-7", "10.20.30.40", "fe80::1:2:3", "10.1.2.3", "ops@example.com", "owner@example.com",
                   "Traceback", "connection refused", "restart"):
        assert secret not in text, secret
    assert "Move [redacted] to [redacted] and [redacted]" in text
    assert set(doc["scheduled_maintenances"][0]) == {
        "id", "name", "status", "impact", "scheduled_for", "scheduled_until", "started_at", "completed_at",
        "description", "components", "updated_at", "revision"}


def test_all_operational_without_windows():
    doc = status_page.summary([], ["API"], NOW)
    assert doc["status"]["indicator"] == "none" and doc["components"][0]["status"] == "operational"
    assert doc["history"]["within_window_pct"] is None
    assert "No maintenance scheduled." in status_html.render(doc)


def test_feed_is_valid_rss_with_one_item_per_window():
    doc = status_page.summary(windows(), ["API"], NOW, page={"name": "Acme", "url": "https://status.example.com/"})
    root = ET.fromstring(status_page.rss(doc).encode("utf-8"))
    items = root.findall("./channel/item")
    assert [i.find("guid").text for i in items] == [
        "https://status.example.com/#mw-active-2", "https://status.example.com/#mw-next-2",
        "https://status.example.com/#mw-cancel-2", "https://status.example.com/#mw-late-2",
        "https://status.example.com/#mw-ontime-2"]
    assert items[1].find("title").text.startswith("[Scheduled] Window mw-next (2026-11-29 12:00:00 to")
    assert items[1].find("pubDate").text == "Fri, 20 Nov 2026 00:00:00 GMT"


def test_html_escapes_and_renders_markdown_subset():
    raw = windows()[:2]
    raw[1]["title"] = "<script>alert(1)</script>"
    raw[1]["description"] = "Read **this** `now`\n\n- <b>one</b>\n- two"
    page = status_html.render(status_page.summary(raw, ["API"], NOW))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<p>Read <strong>this</strong> <code>now</code></p><ul><li>&lt;b&gt;one&lt;/b&gt;</li><li>two</li></ul>" in page
    assert 'data-window="mw-next" data-status="scheduled"' in page


def test_overrun_is_told_in_minutes():
    doc = status_page.summary(windows(), [], NOW)
    page = status_html.render(doc)
    assert "Completed 25 minutes after the scheduled end." in page
    assert "Completed within the scheduled window." in page and "Cancelled." in page
    assert "1 of 2 maintenance windows in the last 90 days completed within their scheduled window." in page
