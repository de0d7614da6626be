# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The words of every maintenance message, and the email that carries them (text + HTML + .ics invitation)."""

import datetime
import html
import re
from email.message import EmailMessage
from email.utils import format_datetime

from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance import ics
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as policy

HEADLINES = {
    "announce": "Scheduled maintenance",
    "changed": "Maintenance changed",
    "reminder": "Maintenance reminder",
    "started": "Maintenance started",
    "completed": "Maintenance completed",
    "cancelled": "Maintenance cancelled",
    "overrun": "Maintenance overrunning",
}


def _when(value, zone_name):
    local = value.astimezone(policy.get_zone(zone_name))
    return "%s %s (%s UTC)" % (local.strftime("%Y-%m-%d %H:%M"), local.tzname(), value.strftime("%Y-%m-%d %H:%M"))


def _span(seconds):
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return ("%dh%02dm" % (hours, rest // 60)) if hours else "%d min" % max(1, rest // 60)


def describe(window, event, now):
    """``(subject, headline, [lines])`` for one event of one window."""
    kind, zone = event["kind"], window.get("timezone") or "UTC"
    start, end = policy.start_utc(window), policy.end_utc(window)
    headline = HEADLINES[kind]
    if kind == "reminder":
        headline = "Maintenance in %s" % event["key"].split("-")[1]
    lines = ["%s: %s" % (headline, window["title"]),
             "When: %s until %s" % (_when(start, zone), _when(end, zone)),
             "Expected duration: %s" % _span((end - start).total_seconds()),
             "Impact: %s" % ics.IMPACT_TEXT.get(window["impact"], window["impact"])]
    if window.get("components"):
        lines.append("Affected: %s" % ", ".join(window["components"]))
    if kind == "changed":
        lines.append("This replaces earlier announcements (revision %d)." % int(window["revision"]))
    elif kind == "started":
        lines.append("Work started at %s." % _when(policy.parse_time(window["started_at"]), zone))
    elif kind == "completed":
        result = window.get("outcome") or {}
        lines.append("Work finished at %s%s." % (_when(policy.parse_time(window["completed_at"]), zone),
                                                 ", %s later than planned" % _span(result["overran_s"])
                                                 if result.get("overran_s") else ", within the scheduled window"))
    elif kind == "cancelled":
        lines.append("This maintenance will not take place: %s" % (window.get("cancel_reason") or "cancelled"))
    elif kind == "overrun":
        lines.append("Window %s is still %s, %s after its scheduled end. Complete it or extend it (extend_by)." % (
            window["id"], window["status"], _span(max(60, (now - end).total_seconds()))))
    local_start = start.astimezone(policy.get_zone(zone)).strftime("%Y-%m-%d %H:%M %Z")
    subject = "[%s] %s - %s" % (headline, window["title"], local_start)
    return subject, headline, lines


def markdown_html(text):
    """A small, safe Markdown subset: paragraphs, ``#`` headings, ``-``/``*`` lists, **bold**, *em*, `code`,
    [links](https://...). Everything is HTML-escaped first, so no markup from the text survives."""
    blocks, items, para = [], [], []

    def inline(value):
        value = html.escape(value)
        value = re.sub(r"`([^`]+)`", r"<code>\1</code>", value)
        value = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", value)
        value = re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"<em>\1</em>", value)
        return re.sub(r"\[([^\]]+)\]\((https?://[^)\s&\"]+)\)", r'<a href="\2">\1</a>', value)

    def flush():
        if para:
            blocks.append("<p>%s</p>" % "<br>".join(inline(p) for p in para))
            del para[:]
        if items:
            blocks.append("<ul>%s</ul>" % "".join("<li>%s</li>" % inline(i) for i in items))
            del items[:]

    for line in str(text or "").splitlines():
        stripped = line.strip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        if not stripped or heading or re.match(r"^[-*]\s+", stripped) and para:
            flush()
        if heading:
            blocks.append("<h%d>%s</h%d>" % (min(6, len(heading.group(1)) + 2), inline(heading.group(2)),
                                             min(6, len(heading.group(1)) + 2)))
        elif re.match(r"^[-*]\s+", stripped):
            items.append(re.sub(r"^[-*]\s+", "", stripped))
        elif stripped:
            if items:
                flush()
            para.append(stripped)
    flush()
    return "\n".join(blocks)


def build(window, event, sender, recipient, now, message_id):
    """The email for one recipient: text, HTML and the invitation (``METHOD:CANCEL`` when cancelled)."""
    subject, headline, lines = describe(window, event, now)
    method = "CANCEL" if event["kind"] == "cancelled" else "REQUEST"
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = format_datetime(now.astimezone(datetime.timezone.utc))
    msg["Message-ID"] = message_id
    msg["X-Watchkeeper-Window"] = window["id"]
    msg["X-Watchkeeper-Event"] = event["key"]
    text = "\n".join(lines)
    if window.get("description"):
        text += "\n\n" + window["description"].strip()
    msg.set_content(text + "\n")
    body = "".join("<p>%s</p>" % html.escape(line) for line in lines[1:])
    msg.add_alternative(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>%s</title></head><body>'
        '<h2>%s: %s</h2>%s<div class="description">%s</div></body></html>\n' % (
            html.escape(subject), html.escape(headline), html.escape(window["title"]), body,
            markdown_html(window.get("description"))), subtype="html")
    calendar = ics.calendar(window, method, sender, attendee=recipient, now=now)
    msg.add_attachment(calendar.encode("utf-8"), maintype="text", subtype="calendar", filename="invite.ics",
                       params={"method": method, "charset": "utf-8"})
    return msg
