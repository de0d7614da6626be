# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Webhook payloads (generic JSON, Slack, Microsoft Teams) and an HTTP POST with retries.

Webhook URLs are secrets (Slack and Teams URLs carry the token in the path): only ``scheme://host`` and a
hash ever reach a result, a record or an error message.
"""

import hashlib
import json
import time
import urllib.error
import urllib.parse

from ansible.module_utils.urls import ConnectionError as UrlConnectionError, open_url
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.email_message import describe
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as policy

EVENT_SCHEMA = "watchkeeper.ops/maintenance-event"
PUBLIC_FIELDS = ("id", "title", "description", "start", "timezone", "end", "duration_s", "impact", "components",
                 "status", "revision", "started_at", "completed_at", "cancelled_at", "cancel_reason")
TRANSIENT = (408, 425, 429, 500, 502, 503, 504)


def redact(url):
    """``https://hooks.slack.com/…#1a2b3c4d``: enough to tell hooks apart, nothing to post with."""
    parts = urllib.parse.urlsplit(url)
    return "%s://%s/…#%s" % (parts.scheme, parts.hostname or "?", hashlib.sha256(url.encode("utf-8")).hexdigest()[:8])


def payload(window, event, kind, now):
    subject, headline, lines = describe(window, event, now)
    if kind == "slack":
        return {"text": subject, "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "%s: %s" % (headline, window["title"])[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines[1:])}}]}
    if kind == "teams":
        body = [{"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": True,
                 "text": "%s: %s" % (headline, window["title"])}]
        body += [{"type": "TextBlock", "wrap": True, "text": line} for line in lines[1:]]
        return {"type": "message", "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                        "version": "1.4", "body": body}}]}
    return {"schema": EVENT_SCHEMA, "schema_version": 1, "event": event["key"], "kind": event["kind"],
            "subject": subject, "text": "\n".join(lines), "sent_at": policy.iso(now),
            "window": {k: window.get(k) for k in PUBLIC_FIELDS}}


def post(url, body, idempotency_key, timeout=20, retries=2, delay=1.0):
    """POST ``body`` as JSON. Returns None on a 2xx answer, else an error text (URL redacted). Retries
    connection errors and 408/425/429/5xx answers ``retries`` times, waiting ``delay``, then twice as long."""
    data = json.dumps(body).encode("utf-8")
    error = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(delay * (2 ** (attempt - 1)))
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key}
        try:
            resp = open_url(url, data=data, method="POST", headers=headers, timeout=timeout, follow_redirects="safe",
                            http_agent="watchkeeper.ops maintenance_notify")
            resp.read(65536)
            resp.close()
            return None
        except urllib.error.HTTPError as exc:
            error = "%s answered HTTP %d" % (redact(url), exc.code)
            if exc.code not in TRANSIENT:
                return error
        except (urllib.error.URLError, UrlConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            error = "%s unreachable: %s" % (redact(url), getattr(reason, "strerror", None) or type(reason).__name__)
    return "%s (after %d tries)" % (error, retries + 1)
