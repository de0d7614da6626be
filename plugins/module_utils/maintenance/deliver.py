# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Send what is due for maintenance windows, each message exactly once per recipient.

For every window: read its delivery records, ask ``policy.due`` what to send and what to skip, record the
skips, then for each (event, recipient) claim an attempt in ``ops_state`` (see store.py), send, and record
the outcome. Email goes to one recipient per SMTP transaction, so a refused recipient is a failure of that
recipient only (retried by the next run) and never hidden behind an accepted one.
"""

import email.policy
import smtplib
import ssl

from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance import email_message, webhooks
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance import store as wstore
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as policy


class SmtpSender(object):
    """One SMTP connection for the run (reopened after an error); ``send`` returns None or an error text."""

    def __init__(self, host, port=25, sender=None, secure="try", username=None, password=None, timeout=20,
                 retries=2, delay=1.0, sleep=None):
        self.host, self.port, self.sender, self.secure = host, int(port), sender, secure
        self.username, self.password, self.timeout = username, password, timeout
        self.retries, self.delay = int(retries), float(delay)
        self.conn = None
        if sleep is None:
            import time
            sleep = time.sleep
        self.sleep = sleep

    def _connect(self):
        context = ssl.create_default_context()
        if self.secure == "ssl":
            conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        conn.ehlo_or_helo_if_needed()
        if self.secure in ("try", "starttls") and conn.has_extn("starttls"):
            conn.starttls(context=context)
            conn.ehlo()
        elif self.secure == "starttls":
            conn.close()
            raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS (secure: starttls)")
        if self.username:
            conn.login(self.username, self.password or "")
        return conn

    def _drop(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except (smtplib.SMTPException, OSError):
                pass
        self.conn = None

    def send(self, recipient, msg):
        data = msg.as_bytes(policy=email.policy.SMTP)  # CRLF line ends, as SMTP wants them
        error = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.delay * (2 ** (attempt - 1)))
            try:
                if self.conn is None:
                    self.conn = self._connect()
                refused = self.conn.sendmail(self.sender, [recipient], data)
                if not refused:
                    return None
                code, text = refused.get(recipient, (550, b"refused"))
                error = "the SMTP server refused %s: %s %s" % (recipient, code, _text(text))
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = exc.recipients.get(recipient, (550, b"refused"))
                error = "the SMTP server refused %s: %s %s" % (recipient, code, _text(text))
                if not 400 <= int(code) < 500:
                    return error  # permanent for this run; the next run tries again
            except smtplib.SMTPResponseException as exc:
                error = "SMTP %s:%d answered %s %s" % (self.host, self.port, exc.smtp_code, _text(exc.smtp_error))
                self._drop()
                if not 400 <= int(exc.smtp_code) < 500:
                    return error
            except (smtplib.SMTPException, OSError) as exc:
                error = "SMTP %s:%d: %s" % (self.host, self.port, getattr(exc, "strerror", None) or exc)
                self._drop()
        return "%s (after %d tries)" % (error, self.retries + 1)

    def close(self):
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self.conn = None


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _targets(window, audience):
    """``[(channel, address, display, webhook kind)]`` of one audience of a window."""
    if audience == "owner":
        email = (window.get("owner") or {}).get("email")
        return [("email", email, email, None)] if email else []
    aud = window.get("audience") or {}
    out = [("email", e, e, None) for e in aud.get("emails") or []]
    out += [("webhook", h["url"], webhooks.redact(h["url"]), h.get("kind") or "generic")
            for h in aud.get("webhooks") or []]
    return out


def _audience_of(event_key):
    return "owner" if event_key.startswith("overrun-") else "subscribers"


class Notifier(object):
    """``Notifier(store, now, smtp=SmtpSender|None, sender=...).window(doc)`` -> result rows."""

    def __init__(self, window_store, now, smtp=None, sender=None, lease_s=600, webhook_timeout=20, retries=2,
                 retry_delay=1.0, check_mode=False):
        self.store, self.now, self.smtp, self.sender = window_store, now, smtp, sender
        self.lease_s, self.webhook_timeout = lease_s, webhook_timeout
        self.retries, self.retry_delay = retries, retry_delay
        self.check_mode = check_mode

    def plan(self, window):
        records = self.store.deliveries(window["id"])
        rkeys = {aud: [wstore.recipient_key(t[0], t[1]) for t in _targets(window, aud)]
                 for aud in ("subscribers", "owner")}
        return records, policy.due(window, self.now, wstore.summarize(records, rkeys, _audience_of))

    def window(self, window):
        records, plan = self.plan(window)
        rows = []
        for event in plan["skip"]:
            if not self.check_mode:
                self.store.skip(window["id"], event["key"], self.now, "stale or superseded")
            rows.append(self._row(window, event, None, None, "skipped", error=None))
        for event in plan["send"]:
            targets = _targets(window, event["audience"])
            if not targets:
                if not self.check_mode:
                    self.store.skip(window["id"], event["key"], self.now, "no recipients")
                rows.append(self._row(window, event, None, None, "skipped", error="no recipients"))
                continue
            for channel, address, display, kind in targets:
                rows.extend(self._deliver(window, event, records, channel, address, display, kind))
        return rows

    def _deliver(self, window, event, records, channel, address, display, kind):
        rkey = wstore.recipient_key(channel, address)
        rec = (records.get(event["key"]) or {}).get("recipients", {}).get(rkey)
        if rec and rec.get("sent"):
            return []
        if self.check_mode:
            return [self._row(window, event, channel, display, "would_send")]
        detail = {"window": window["id"], "event": event["key"], "kind": event["kind"], "revision": event["revision"],
                  "channel": channel, "recipient": display}
        attempt, why = self.store.begin(window["id"], event["key"], rkey, rec, self.now, self.lease_s, detail)
        if attempt is None:
            return [self._row(window, event, channel, display, "busy" if why == "busy" else why,
                              error="another run holds this delivery" if why == "busy" else None)]
        try:
            error = self._send(window, event, channel, address, kind, rkey)
        except Exception as exc:  # pylint: disable=broad-except
            error = "cannot build or send the message: %s" % exc
        self.store.finish(window["id"], event["key"], rkey, attempt, self.now, detail, error=error)
        return [self._row(window, event, channel, display, "failed" if error else "sent", attempt=attempt, error=error)]

    def _send(self, window, event, channel, address, kind, rkey):
        if channel == "email":
            if self.smtp is None:
                return "no SMTP server configured (option smtp)"
            message_id = "<wk.%s.%s.%s@watchkeeper.ops>" % (window["id"], event["key"], rkey)
            msg = email_message.build(window, event, self.sender, address, self.now, message_id)
            return self.smtp.send(address, msg)
        body = webhooks.payload(window, event, kind, self.now)
        return webhooks.post(address, body, "%s/%s/%s" % (window["id"], event["key"], rkey),
                             timeout=self.webhook_timeout, retries=self.retries, delay=self.retry_delay)

    @staticmethod
    def _row(window, event, channel, recipient, status, attempt=None, error=None):
        return {"window": window["id"], "event": event["key"], "kind": event["kind"], "revision": event["revision"],
                "channel": channel, "recipient": recipient, "status": status, "attempt": attempt, "error": error}
