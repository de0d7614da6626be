# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The public status page's data: ``status.json`` (shaped like Statuspage's summary) and an RSS 2.0 feed. Pure.

Only public fields of a maintenance window are ever read: title, description, start, end, impact, components,
status and outcome. Tasks, audience, owner, history details and task results (which may carry hostnames, addresses
and error texts) never reach the page. Titles and descriptions written by operators are scrubbed as well: IPv4 and
IPv6 addresses, and the host names the caller lists, are replaced with ``[redacted]``.
"""

import datetime
import ipaddress
import re
from email.utils import format_datetime
from xml.sax.saxutils import escape as xml_escape

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock

SCHEMA = "watchkeeper.ops/status-page"
HISTORY_DAYS = 90
REDACTED = "[redacted]"
IPV4_RE = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?::\d+)?\b")
IPV6_CANDIDATE_RE = re.compile(r"(?<![\w:.])[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%\w+)?(?![\w:])")

COMPONENT_STATUS = {"none": "operational", "degraded": "degraded_performance", "read_only": "partial_outage",
                    "full_outage": "under_maintenance"}
STATUS_LABEL = {"scheduled": "Scheduled", "in_progress": "In progress", "verifying": "Verifying",
                "completed": "Completed", "cancelled": "Cancelled"}
IMPACT_LABEL = {"none": "No impact expected", "degraded": "Degraded performance", "read_only": "Read-only mode",
                "full_outage": "Service unavailable"}
ACTIVE = ("in_progress", "verifying")
# Public incidents (``incident.query.public_view``): Statuspage's indicator and component vocabulary.
INCIDENT_INDICATOR = {"SEV1": ("critical", "Major outage"), "SEV2": ("major", "Partial outage"),
                      "SEV3": ("minor", "Degraded performance")}
INCIDENT_COMPONENT = {"SEV1": "major_outage", "SEV2": "partial_outage", "SEV3": "degraded_performance"}
SEVERITY_RANK = {"SEV1": 3, "SEV2": 2, "SEV3": 1}
COMPONENT_RANK = {"operational": 0, "under_maintenance": 1, "degraded_performance": 2, "partial_outage": 3,
                  "major_outage": 4}


def _ipv6(match):
    token = match.group(0)
    try:
        ipaddress.IPv6Address(token.split("%", 1)[0])
    except ValueError:
        return token
    return REDACTED


class Scrubber(object):
    """Removes addresses and the given host names from public text."""

    def __init__(self, hostnames=()):
        names = sorted(set(h for h in hostnames if h and len(h) >= 2), key=len, reverse=True)
        self.names_re = re.compile("|".join(r"\b%s\b" % re.escape(n) for n in names), re.I) if names else None

    def __call__(self, text):
        text = "" if text is None else str(text)
        text = IPV4_RE.sub(REDACTED, text)
        text = IPV6_CANDIDATE_RE.sub(_ipv6, text)
        if self.names_re is not None:
            text = self.names_re.sub(REDACTED, text)
        return text


def _time(value):
    return clock.parse_time(value) if value else None


def _iso(value):
    return clock.isoformat(value) if value else None


def _public_window(window, scrub):
    start = _time(window.get("start"))
    end = _time(window.get("end"))
    outcome = window.get("outcome") or {}
    public = {
        "id": window["id"], "name": scrub(window.get("title")), "status": window.get("status"),
        "impact": window.get("impact") or "none", "scheduled_for": _iso(start), "scheduled_until": _iso(end),
        "started_at": _iso(_time(window.get("started_at"))),
        "completed_at": _iso(_time(window.get("completed_at") or outcome.get("finished_at"))),
        "description": scrub(window.get("description")),
        "components": [scrub(c) for c in window.get("components") or []],
        "updated_at": _iso(_time(window.get("updated_at") or window.get("created_at"))),
        "revision": window.get("revision") or 1,
    }
    if window.get("status") == "completed" and outcome.get("result"):
        public["outcome"] = {"result": outcome["result"], "overran_s": outcome.get("overran_s") or 0}
    if window.get("status") == "cancelled":
        public["outcome"] = {"result": "cancelled", "overran_s": 0}
    return public


def _public_incident(incident, scrub):
    """A public incident view (``incident.query.public_view``) with its texts scrubbed."""
    return {"id": incident["id"], "name": scrub(incident.get("title")), "status": incident.get("status"),
            "severity": incident.get("severity"), "components": [scrub(c) for c in incident.get("components") or []],
            "created_at": incident.get("opened_at"), "updated_at": incident.get("updated_at") or incident.get("opened_at"),
            "resolved_at": incident.get("resolved_at"),
            "updates": [{"at": u["at"], "text": scrub(u["text"]), "status": u.get("status")}
                        for u in sorted(incident.get("updates") or [], key=lambda u: u["at"], reverse=True)]}


def summary(windows, components, now, page=None, hostnames=(), incidents=()):
    """The ``status.json`` document. ``components`` = ``[{"name", "description"}]`` (or names); ``incidents`` =
    public incident views (``incident.query.public_view``; None entries, the private incidents, are skipped)."""
    scrub = Scrubber(hostnames)
    page = dict(page or {})
    horizon = now - datetime.timedelta(days=HISTORY_DAYS)
    public = [_public_window(w, scrub) for w in windows if w.get("id")]
    active = [w for w in public if w["status"] in ACTIVE]
    upcoming = [w for w in public if w["status"] == "scheduled" and _time(w["scheduled_until"]) and
                _time(w["scheduled_until"]) >= now]
    past = [w for w in public if w["status"] in ("completed", "cancelled") and
            (_time(w["completed_at"] or w["updated_at"] or w["scheduled_until"]) or now) >= horizon]
    active.sort(key=lambda w: w["scheduled_for"] or "")
    upcoming.sort(key=lambda w: w["scheduled_for"] or "")
    past.sort(key=lambda w: w["scheduled_for"] or "", reverse=True)
    shown = [_public_incident(i, scrub) for i in incidents or () if i and i.get("id")]
    open_incidents = sorted((i for i in shown if i["status"] != "resolved"),
                            key=lambda i: (-SEVERITY_RANK.get(i["severity"], 0), i["created_at"] or ""))
    past_incidents = sorted((i for i in shown if i["status"] == "resolved" and
                             (_time(i["resolved_at"] or i["updated_at"]) or now) >= horizon),
                            key=lambda i: i["created_at"] or "", reverse=True)

    comps = []
    for comp in components or []:
        comp = {"name": comp} if isinstance(comp, str) else dict(comp)
        name = scrub(comp.get("name"))
        status = "operational"
        for window in active:
            if name in window["components"] and window["impact"] != "none":
                status = COMPONENT_STATUS.get(window["impact"], "under_maintenance")
        for incident in open_incidents:
            worse = INCIDENT_COMPONENT.get(incident["severity"], "degraded_performance")
            if name in incident["components"] and COMPONENT_RANK[worse] > COMPONENT_RANK.get(status, 0):
                status = worse
        comps.append({"name": name, "description": scrub(comp.get("description") or ""), "status": status})
    if open_incidents:
        indicator, description = INCIDENT_INDICATOR.get(open_incidents[0]["severity"], ("minor", "Incident"))
    elif active:
        indicator, description = "maintenance", "Maintenance in progress"
    elif upcoming:
        indicator, description = "none", "All systems operational, maintenance scheduled"
    else:
        indicator, description = "none", "All systems operational"
    ended = [w for w in past if w.get("outcome", {}).get("result") in ("on_time", "overran")]
    on_time = sum(1 for w in ended if w["outcome"]["result"] == "on_time")
    return {
        "schema": SCHEMA, "schema_version": 1,
        "page": {"name": scrub(page.get("name") or "Service status"), "url": page.get("url") or "",
                 "time_zone": page.get("time_zone") or "UTC", "updated_at": clock.isoformat(now)},
        "status": {"indicator": indicator, "description": description},
        "components": comps,
        "incidents": open_incidents,
        "past_incidents": past_incidents,
        "active_maintenances": active,
        "scheduled_maintenances": upcoming,
        "past_maintenances": past,
        "history": {"days": HISTORY_DAYS, "completed": len(ended), "on_time": on_time,
                    "within_window_pct": round(100.0 * on_time / len(ended), 1) if ended else None},
    }


def _rfc822(value):
    return format_datetime(_time(value).astimezone(datetime.timezone.utc), usegmt=True) if value else ""


def _window_line(window):
    when = "%s to %s UTC" % ((window["scheduled_for"] or "?").replace("T", " ").replace("Z", ""),
                             (window["scheduled_until"] or "?").replace("T", " ").replace("Z", ""))
    label = STATUS_LABEL.get(window["status"], window["status"])
    return "[%s] %s (%s)" % (label, window["name"], when)


def rss(doc):
    """An RSS 2.0 feed: one item per window and revision (active, upcoming, then the last 90 days)."""
    page = doc["page"]
    link = page["url"] or "./"
    items = []
    for window in doc["active_maintenances"] + doc["scheduled_maintenances"] + doc["past_maintenances"]:
        text = "%s. Impact: %s. Components: %s.%s" % (
            _window_line(window), IMPACT_LABEL.get(window["impact"], window["impact"]),
            ", ".join(window["components"]) or "none",
            (" " + window["description"]) if window["description"] else "")
        items.append(
            "<item><title>%s</title><link>%s</link><guid isPermaLink=\"false\">%s#%s-%s</guid>"
            "<pubDate>%s</pubDate><description>%s</description></item>" % (
                xml_escape(_window_line(window)), xml_escape(link), xml_escape(page["url"] or "status"),
                xml_escape(window["id"]), window["revision"], _rfc822(window["updated_at"] or window["scheduled_for"]),
                xml_escape(text)))
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>%s</title><link>%s</link>"
            "<description>%s: maintenance announcements</description><lastBuildDate>%s</lastBuildDate>%s"
            "</channel></rss>\n" % (xml_escape(page["name"]), xml_escape(link), xml_escape(page["name"]),
                                    _rfc822(page["updated_at"]), "".join(items)))
