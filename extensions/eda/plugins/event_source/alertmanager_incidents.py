# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""alertmanager_incidents.py

An ansible-rulebook event source: a webhook receiver for Alertmanager (``webhook_config``, payload version 4) that
puts one event per alert on the queue, with the incident id, the rate-limit key, ``auto_remediate`` and the restart
target derived from the alert (see ``_alertmanager_payload.py`` beside this file for the event's fields).

A request that is not an Alertmanager notification gets 400 with the reason and puts nothing on the queue (a payload
is taken whole or not at all); a missing or wrong token gets 401. A good one gets 202 ``{"queued": <n>}``.

Arguments:
  host:             address to listen on (default 0.0.0.0)
  port:             TCP port (default 5000)
  path:             URL path of the webhook (default /alerts)
  token:            shared secret; when set, requests must carry it (default: none, no check)
  token_header:     header carrying the secret (default Authorization, value "Bearer <token>", which is what
                    Alertmanager's http_config.authorization sends); any other header carries the bare token
  incident_labels:  labels that identify an alert (default [alertname, instance, service])

Example:
  sources:
    - watchkeeper.ops.alertmanager_incidents:
        host: 0.0.0.0
        port: 5000
        token: "{{ alertmanager_webhook_token }}"
"""

import asyncio
import hmac
import importlib.util
import json
import logging
import os
import sys
from typing import Any, Dict

from aiohttp import web

LOG = logging.getLogger(__name__)
MAX_BODY = 4 * 1024 * 1024


def _payload_module():
    """The pure mapping beside this file (ansible-rulebook runs sources with runpy, so no package import)."""
    name = "watchkeeper_ops_eda_alertmanager_payload"
    if name in sys.modules:
        return sys.modules[name]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_alertmanager_payload.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


PAYLOAD = _payload_module()


def _authorized(request, token, header):
    if not token:
        return True
    sent = request.headers.get(header, "")
    if header.lower() == "authorization":
        scheme, _sep, sent = sent.partition(" ")
        if scheme.lower() != "bearer":
            return False
    return hmac.compare_digest(sent.strip().encode("utf-8"), token.encode("utf-8"))


def make_app(queue, args):
    """The aiohttp application (also used by the unit tests with a plain asyncio.Queue)."""
    token = args.get("token") or ""
    header = args.get("token_header") or "Authorization"
    labels = tuple(args.get("incident_labels") or PAYLOAD.DEFAULT_INCIDENT_LABELS)

    async def receive(request):
        if not _authorized(request, token, header):
            LOG.warning("alertmanager_incidents: refused a request from %s without the token", request.remote)
            return web.json_response({"error": "missing or wrong token"}, status=401)
        body = await request.read()
        try:
            events = PAYLOAD.events(body, labels)
        except PAYLOAD.PayloadError as exc:
            LOG.warning("alertmanager_incidents: refused a payload from %s: %s", request.remote, exc)
            return web.json_response({"error": str(exc)}, status=400)
        for event in events:
            await queue.put(event)
        LOG.info("alertmanager_incidents: queued %d alert(s): %s", len(events),
                 ", ".join("%s %s" % (e["alert"]["status"], e["incident_id"]) for e in events))
        return web.json_response({"queued": len(events), "incidents": [e["incident_id"] for e in events]}, status=202)

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(args.get("path") or "/alerts", receive)
    return app


async def main(queue: asyncio.Queue, args: Dict[str, Any]):
    app = make_app(queue, args)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, args.get("host") or "0.0.0.0", int(args.get("port") or 5000))
    await site.start()
    LOG.info("alertmanager_incidents: listening on %s:%s%s", args.get("host") or "0.0.0.0", args.get("port") or 5000,
             args.get("path") or "/alerts")
    try:
        await asyncio.Future()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    # Try it by hand: python alertmanager_incidents.py, then POST a notification to http://127.0.0.1:5000/alerts.

    class MockQueue:
        async def put(self, event):
            print(json.dumps(event, indent=1))

    asyncio.run(main(MockQueue(), {"host": "127.0.0.1", "port": 5000}))
