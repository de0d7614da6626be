# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AC-031.2 (issue 5, acceptance 6): the public status page through the module ``watchkeeper.ops.status_page``.

Upcoming maintenance is listed before it starts (page, status.json, feed), the page renders in Chromium (a
screenshot is taken) without any request leaving the file, and neither the page nor the feeds contain this machine's
host name, an IP address or error text, although the windows carry all three in their private fields. Publishing
twice without a change reports ``changed`` once.
"""

import datetime
import json
import os
import socket
import xml.etree.ElementTree as ET

import pytest

from helpers import CHROMIUM, CHROMIUM_ARGS, assert_ok, run_module

NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc)
HOST = socket.gethostname()


def iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def windows():
    start = NOW + datetime.timedelta(days=2)
    upcoming = {
        "schema": "watchkeeper.ops/maintenance-window", "schema_version": 1, "id": "mw-20261129-db-upgrade",
        "title": "Database upgrade on %s" % HOST, "description": "PostgreSQL **16** upgrade.\n\n- API read-only\n- uploads paused",
        "start": "2026-11-29T13:00:00+01:00", "timezone": "Europe/Berlin", "duration_s": 7200,
        "end": iso(start + datetime.timedelta(hours=2)), "impact": "read_only", "components": ["API", "Uploads"],
        "tasks": [{"name": "vacuum", "host": HOST, "sql": "VACUUM (ANALYZE)"}],
        "audience": {"emails": ["users@example.com"], "webhooks": [{"url": "http://10.9.8.7/hook", "kind": "slack"}]},
        "owner": {"email": "ops@example.com"}, "reminders": ["72h", "24h", "1h"], "status": "scheduled", "revision": 1,
        "created_at": iso(NOW - datetime.timedelta(days=1)), "updated_at": iso(NOW - datetime.timedelta(days=1)),
        "outcome": None, "history": [{"at": iso(NOW), "event": "announced", "detail": "sent via 192.168.4.5"}]}
    past = dict(upcoming, id="mw-20261101-reindex", title="Reindex", description="Indexes rebuilt.",
                start="2026-11-01T02:00:00Z", end="2026-11-01T03:00:00Z", status="completed",
                completed_at="2026-11-01T03:20:00Z",
                outcome={"result": "overran", "overran_s": 1200, "finished_at": "2026-11-01T03:20:00Z",
                         "tasks": [{"name": "reindex", "error": "psycopg.OperationalError: connection to 10.0.0.5 failed"}]})
    return [upcoming, past]


def publish(tmp_path, check_mode=False):
    return assert_ok(run_module("watchkeeper.ops.status_page", {
        "windows": windows(), "components": ["API", {"name": "Uploads", "description": "User files"}, "Web app"],
        "page": {"name": "Acme status", "url": "https://status.acme.example/"}, "dest": str(tmp_path / "www")},
        check_mode=check_mode, env={"WATCHKEEPER_NOW": iso(NOW)}))


def test_upcoming_maintenance_is_published_scrubbed_and_renders(tmp_path):
    planned = publish(tmp_path, check_mode=True)
    assert planned.changed and not os.path.exists(str(tmp_path / "www"))
    first = publish(tmp_path)
    assert first.changed and sorted(os.listdir(str(tmp_path / "www"))) == ["feed.rss", "index.html", "status.json"]
    assert not publish(tmp_path).changed

    with open(str(tmp_path / "www" / "status.json")) as handle:
        doc = json.load(handle)
    assert [w["id"] for w in doc["scheduled_maintenances"]] == ["mw-20261129-db-upgrade"]
    assert doc["scheduled_maintenances"][0]["scheduled_for"] == "2026-11-29T12:00:00Z"
    assert [w["id"] for w in doc["past_maintenances"]] == ["mw-20261101-reindex"]
    assert doc["status"]["description"] == "All systems operational, maintenance scheduled"
    items = ET.parse(str(tmp_path / "www" / "feed.rss")).getroot().findall("./channel/item")
    assert items[0].find("title").text.startswith("[Scheduled] Database upgrade on [redacted] (2026-11-29 12:00:00")

    texts = [open(str(tmp_path / "www" / name)).read() for name in ("index.html", "status.json", "feed.rss")]
    for text in texts:
        for private in (HOST, "10.9.8.7", "192.168.4.5", "10.0.0.5", "OperationalError", "users@example.com",
                        "ops@example.com", "VACUUM"):
            assert private not in text, private

    if not os.path.exists(CHROMIUM):
        pytest.skip("%s is not installed: cannot render the page (apt-get install chromium)" % CHROMIUM)
    from playwright.sync_api import sync_playwright
    shot = tmp_path / "status.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 800})
            requests = []
            page.on("request", lambda req: requests.append(req.url))
            page.goto("file://" + str(tmp_path / "www" / "index.html"))
            page.screenshot(path=str(shot), full_page=True)
            assert all(url.startswith("file://") for url in requests), requests
            assert page.title() == "Acme status"
            assert page.locator("#overall").inner_text() == "All systems operational, maintenance scheduled"
            upcoming = page.locator('#upcoming article[data-window="mw-20261129-db-upgrade"]')
            assert upcoming.is_visible() and "Read-only mode" in upcoming.inner_text()
            assert upcoming.locator("strong").inner_text() == "16"
            assert page.locator('#components tr[data-component="API"] td.state').inner_text() == "Operational"
            assert "Completed 20 minutes after the scheduled end." in page.locator("#history").inner_text()
            assert "0 of 1 maintenance windows" in page.locator("#kpi").inner_text()
        finally:
            browser.close()
    assert shot.stat().st_size > 10000
