# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iCalendar (RFC 5545) invitations for maintenance windows, with iTIP methods (RFC 5546).

One VEVENT per window: ``UID`` is stable (``<window id>@watchkeeper.ops``), ``SEQUENCE`` is the window's
revision, ``DTSTART``/``DTEND`` are UTC (``...Z``), ``METHOD:REQUEST`` for every message except the
cancellation (``METHOD:CANCEL``, ``STATUS:CANCELLED``). Text values are escaped (backslash, semicolon, comma,
newline) and lines are folded at 75 octets without splitting a UTF-8 character.
"""

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as policy

PRODID = "-//watchkeeper.ops//maintenance windows//EN"
UID_DOMAIN = "watchkeeper.ops"
IMPACT_TEXT = {"none": "no impact expected", "degraded": "degraded performance", "read_only": "read-only mode",
               "full_outage": "service unavailable"}


def escape(text):
    """TEXT value escaping (RFC 5545 3.3.11)."""
    return (str(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line, limit=75):
    """Fold one content line: at most ``limit`` octets per line, continuation lines start with a space."""
    data = line.encode("utf-8")
    if len(data) <= limit:
        return line
    parts, current, size, width = [], [], 0, limit
    for char in line:
        n = len(char.encode("utf-8"))
        if size + n > width:
            parts.append("".join(current))
            current, size, width = [], 0, limit - 1
        current.append(char)
        size += n
    parts.append("".join(current))
    return "\r\n ".join(parts)


def uid(window):
    return "%s@%s" % (window["id"], UID_DOMAIN)


def calendar(window, method, organizer, attendee=None, now=None):
    """The ``.ics`` text (CRLF line ends) of ``window`` for ``method`` REQUEST or CANCEL."""
    method = method.upper()
    stamp = policy.compact(now or policy.parse_time(window["updated_at"]))
    description = window.get("description") or ""
    impact = IMPACT_TEXT.get(window.get("impact"), window.get("impact") or "")
    if window.get("components"):
        impact += "; affects " + ", ".join(window["components"])
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:" + PRODID, "CALSCALE:GREGORIAN", "METHOD:" + method,
        "BEGIN:VEVENT",
        "UID:" + uid(window),
        "SEQUENCE:%d" % int(window.get("revision") or 1),
        "DTSTAMP:" + stamp,
        "DTSTART:" + policy.compact(policy.start_utc(window)),
        "DTEND:" + policy.compact(policy.end_utc(window)),
        "SUMMARY:" + escape("Maintenance: %s" % window["title"]),
        "DESCRIPTION:" + escape(("%s\n\nImpact: %s" % (description, impact)).strip()),
        "STATUS:" + ("CANCELLED" if method == "CANCEL" else "CONFIRMED"),
        "TRANSP:TRANSPARENT",
        "CATEGORIES:MAINTENANCE",
        "ORGANIZER;CN=watchkeeper:mailto:" + organizer,
    ]
    if attendee:
        lines.append("ATTENDEE;ROLE=NON-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:" + attendee)
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)
