# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source's webhook over real HTTP (aiohttp on loopback): what is queued, what is refused.

``main`` itself (the plugin entry point ansible-rulebook calls) is started on a free port; the rulebook run with
the real ``ansible-rulebook`` is tests/integration/test_fleet_eda.py."""

import asyncio
import json
import socket

import aiohttp

from eda_loader import load

from test_alertmanager_payload import alert, payload

SOURCE = load("alertmanager_incidents.py", "wk_test_alertmanager_incidents")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _exchange(args, requests):
    """Start ``main`` with ``args``, send ``requests`` [(body, headers)], return ([(status, json)], queued events)."""
    queue = asyncio.Queue()
    port = free_port()
    args = dict(args, host="127.0.0.1", port=port)
    server = asyncio.ensure_future(SOURCE.main(queue, args))
    url = "http://127.0.0.1:%d%s" % (port, args.get("path") or "/alerts")
    answers = []
    try:
        async with aiohttp.ClientSession() as session:
            for _attempt in range(100):
                try:
                    async with session.get(url) as resp:
                        await resp.read()
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            for body, headers in requests:
                data = body if isinstance(body, (bytes, str)) else json.dumps(body)
                async with session.post(url, data=data, headers=headers or {}) as resp:
                    answers.append((resp.status, await resp.json()))
    finally:
        server.cancel()
        try:
            await server
        except asyncio.CancelledError:
            pass
    queued = []
    while not queue.empty():
        queued.append(queue.get_nowait())
    return answers, queued


def exchange(args, requests):
    return asyncio.run(_exchange(args, requests))


def test_a_notification_puts_one_event_per_alert_on_the_queue():
    answers, queued = exchange({}, [(payload(alert(), alert(instance="app2:8080")), None)])
    assert answers[0][0] == 202 and answers[0][1]["queued"] == 2
    assert [e["target"]["host"] for e in queued] == ["app1", "app2"]
    assert answers[0][1]["incidents"] == [e["incident_id"] for e in queued]


def test_malformed_payloads_get_400_and_nothing_is_queued():
    bad_alert = payload(alert(), alert(status="pending"))
    answers, queued = exchange({}, [("{nope", None), ([1], None), (bad_alert, None), ({"version": "4"}, None)])
    assert [a[0] for a in answers] == [400, 400, 400, 400]
    assert "not JSON" in answers[0][1]["error"]
    assert "alerts[1].status must be firing or resolved" in answers[2][1]["error"]
    assert queued == [], "a payload with one bad alert queues none of its alerts"


def test_token_in_the_authorization_header():
    good = {"Authorization": "Bearer s3cret"}
    answers, queued = exchange({"token": "s3cret"}, [
        (payload(), None), (payload(), {"Authorization": "Bearer wrong"}), (payload(), {"Authorization": "s3cret"}),
        (payload(), {"Authorization": "Basic s3cret"}), (payload(), good)])
    assert [a[0] for a in answers] == [401, 401, 401, 401, 202]
    assert answers[0][1] == {"error": "missing or wrong token"}
    assert len(queued) == 1


def test_token_in_another_header_and_another_path():
    answers, queued = exchange({"token": "s3cret", "token_header": "X-Webhook-Token", "path": "/am"}, [
        (payload(), {"Authorization": "Bearer s3cret"}), (payload(), {"X-Webhook-Token": "s3cret"})])
    assert [a[0] for a in answers] == [401, 202] and len(queued) == 1


def test_the_identity_labels_are_an_argument():
    answers, queued = exchange({"incident_labels": ["alertname"]}, [
        (payload(alert(instance="app1:1"), alert(instance="app2:1")), None)])
    assert answers[0][0] == 202
    assert queued[0]["incident_id"] == queued[1]["incident_id"]
