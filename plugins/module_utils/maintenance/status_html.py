# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The public status page as one self-contained HTML file (pure: no I/O, no JavaScript, no external asset).

Rendered from the ``status.json`` document (``status_page.summary``), so the page never shows more than the JSON.
Descriptions are a small, safe Markdown subset: paragraphs, ``- `` lists, ``**bold**`` and ``code``; everything is
escaped first. Stable ids (``overall``, ``components``, ``active``, ``upcoming``, ``history``) and ``data-window``
attributes let tests and monitors find things.
"""

import html
import re

from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.status_page import IMPACT_LABEL, STATUS_LABEL

CSS = """
*{box-sizing:border-box}
body{font:15px/1.5 -apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:#1d2733;background:#f4f6f8;margin:0}
main{max-width:860px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 16px}
h2{font-size:17px;margin:0 0 10px}
section{background:#fff;border-radius:8px;padding:16px 20px;margin-top:16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.banner{border-radius:8px;padding:14px 20px;font-weight:700;font-size:17px;color:#fff}
.banner.none{background:#2f9e5b}
.banner.maintenance{background:#3b6fd8}
.banner.minor{background:#b7791f}
.banner.major{background:#d9622b}
.banner.critical{background:#c53030}
.major_outage{color:#c53030}
article.incident{border-color:#c53030}
article.incident.resolved{border-color:#2f9e5b}
table{border-collapse:collapse;width:100%}
td{padding:7px 4px;border-bottom:1px solid #e3e7eb}
td.state{text-align:right;font-weight:600}
.operational{color:#2f9e5b}
.under_maintenance,.partial_outage{color:#3b6fd8}
.degraded_performance{color:#b7791f}
article{border-left:4px solid #3b6fd8;padding:4px 0 4px 14px;margin:12px 0}
article.completed{border-color:#2f9e5b}
article.cancelled{border-color:#9aa5b1}
article h3{margin:0;font-size:15px}
.meta{color:#5b6775;font-size:13px}
.empty{color:#5b6775}
footer{color:#5b6775;font-size:12px;margin-top:20px;text-align:center}
code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:13px;background:#f1f3f5;padding:0 3px;border-radius:3px}
"""

COMPONENT_LABEL = {"operational": "Operational", "degraded_performance": "Degraded performance",
                   "partial_outage": "Partial outage", "under_maintenance": "Under maintenance",
                   "major_outage": "Major outage"}
INCIDENT_STATUS_LABEL = {"investigating": "Investigating", "identified": "Identified", "monitoring": "Monitoring",
                         "resolved": "Resolved"}


def _inline(text):
    text = html.escape(text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def markdown(text):
    """A safe subset of Markdown to HTML."""
    out = []
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith(("- ", "* ")) for line in lines):
            out.append("<ul>%s</ul>" % "".join("<li>%s</li>" % _inline(line[2:]) for line in lines))
        else:
            out.append("<p>%s</p>" % "<br>".join(_inline(line) for line in lines))
    return "".join(out)


def _when(value):
    return html.escape((value or "?").replace("T", " ").replace("Z", " UTC"))


def _outcome(window):
    outcome = window.get("outcome") or {}
    if outcome.get("result") == "on_time":
        return "Completed within the scheduled window."
    if outcome.get("result") == "overran":
        minutes = int(round((outcome.get("overran_s") or 0) / 60.0))
        return "Completed %d minute%s after the scheduled end." % (minutes, "" if minutes == 1 else "s")
    if outcome.get("result") == "cancelled":
        return "Cancelled."
    return ""


def _article(window):
    status = window["status"]
    parts = ['<article class="%s" data-window="%s" data-status="%s">' % (
        html.escape(status), html.escape(window["id"]), html.escape(status))]
    parts.append("<h3>%s</h3>" % html.escape(window["name"]))
    parts.append('<div class="meta">%s &middot; %s to %s &middot; %s%s</div>' % (
        html.escape(STATUS_LABEL.get(status, status)), _when(window["scheduled_for"]), _when(window["scheduled_until"]),
        html.escape(IMPACT_LABEL.get(window["impact"], window["impact"])),
        (" &middot; affects " + html.escape(", ".join(window["components"]))) if window["components"] else ""))
    if window["description"]:
        parts.append(markdown(window["description"]))
    if _outcome(window):
        parts.append('<div class="meta">%s</div>' % html.escape(_outcome(window)))
    parts.append("</article>")
    return "".join(parts)


def _incident(incident):
    status = incident["status"]
    parts = ['<article class="incident %s" data-incident="%s" data-status="%s">' % (
        html.escape(status), html.escape(incident["id"]), html.escape(status))]
    parts.append("<h3>%s</h3>" % html.escape(incident["name"]))
    parts.append('<div class="meta">%s &middot; since %s%s</div>' % (
        html.escape(INCIDENT_STATUS_LABEL.get(status, status)), _when(incident["created_at"]),
        (" &middot; affects " + html.escape(", ".join(incident["components"]))) if incident["components"] else ""))
    for update in incident["updates"]:
        parts.append('<p class="update"><span class="meta">%s</span> %s</p>'
                     % (_when(update["at"]), html.escape(update["text"])))
    parts.append("</article>")
    return "".join(parts)


def _incidents(ident, title, incidents, empty):
    body = "".join(_incident(i) for i in incidents) or '<p class="empty">%s</p>' % html.escape(empty)
    return '<section id="%s"><h2>%s</h2>%s</section>' % (ident, html.escape(title), body)


def _section(ident, title, windows, empty):
    body = "".join(_article(w) for w in windows) or '<p class="empty">%s</p>' % html.escape(empty)
    return '<section id="%s"><h2>%s</h2>%s</section>' % (ident, html.escape(title), body)


def render(doc):
    page = doc["page"]
    rows = "".join('<tr data-component="%s"><td>%s</td><td class="state %s">%s</td></tr>' % (
        html.escape(c["name"]), html.escape(c["name"]), html.escape(c["status"]),
        html.escape(COMPONENT_LABEL.get(c["status"], c["status"]))) for c in doc["components"])
    history = doc["history"]
    kpi = ("%s of %s maintenance windows in the last %s days completed within their scheduled window." % (
        history["on_time"], history["completed"], history["days"]) if history["completed"] else
        "No completed maintenance in the last %s days." % history["days"])
    return "".join([
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>%s</title><link rel=\"alternate\" type=\"application/rss+xml\" title=\"Maintenance\" href=\"feed.rss\">"
        % html.escape(page["name"]),
        "<style>%s</style></head><body><main>" % CSS,
        "<h1>%s</h1>" % html.escape(page["name"]),
        '<div id="overall" class="banner %s">%s</div>' % (html.escape(doc["status"]["indicator"]),
                                                          html.escape(doc["status"]["description"])),
        '<section id="components"><h2>Components</h2><table>%s</table></section>' % (
            rows or '<tr><td class="empty">No components listed.</td></tr>'),
        _incidents("incidents", "Current incidents", doc.get("incidents") or [], "No current incidents."),
        _section("active", "Maintenance in progress", doc["active_maintenances"], "No maintenance in progress."),
        _section("upcoming", "Scheduled maintenance", doc["scheduled_maintenances"], "No maintenance scheduled."),
        _section("history", "Past maintenance (last %d days)" % history["days"], doc["past_maintenances"],
                 "No maintenance in the last %d days." % history["days"]),
        _incidents("past-incidents", "Past incidents (last %d days)" % history["days"], doc.get("past_incidents") or [],
                   "No incidents in the last %d days." % history["days"]),
        '<footer><p id="kpi">%s</p><p>Updated %s &middot; <a href="status.json">status.json</a> &middot; '
        '<a href="feed.rss">RSS</a></p></footer>' % (html.escape(kpi), _when(page["updated_at"])),
        "</main></body></html>\n",
    ])
