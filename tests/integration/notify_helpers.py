# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Peers for notification tests: a webhook receiver on loopback, and the SMTP server's Maildir."""

import email
import email.policy
import http.server
import json
import os
import threading
import time


class WebhookReceiver(object):
    """An HTTP server on 127.0.0.1 (or ``host``) that records every POSTed JSON body (``posts``) and answers 200."""

    def __init__(self, status=200, host="127.0.0.1"):
        receiver = self
        self.posts = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.posts.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body or b"null"),
                                       "received_at": time.time()})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.url = "http://%s:%d/hook" % (host, self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def mails(smtp):
    """Every message the SMTP server stored so far: Maildir file name -> ``email.message.EmailMessage``."""
    out = {}
    for sub in ("new", "cur"):
        path = os.path.join(smtp.info["maildir"], sub)
        for name in sorted(os.listdir(path)) if os.path.isdir(path) else []:
            with open(os.path.join(path, name), "rb") as handle:
                out[name] = email.message_from_binary_file(handle, policy=email.policy.default)
    return out


def new_mails(smtp, before):
    """The messages that arrived since ``before = mails(smtp)``."""
    return [msg for name, msg in mails(smtp).items() if name not in before]


def smtp_settings(smtp, to=("ops@example.invalid",)):
    return {"host": "127.0.0.1", "port": smtp.port, "sender": "watchkeeper@example.invalid", "to": list(to),
            "secure": "never"}
