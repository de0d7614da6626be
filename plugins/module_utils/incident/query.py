# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Selecting incidents, summarising them, and the public projection (what a status page may show). Pure."""

from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.model import (
    SEVERITIES, STATUSES, IncidentError, parse_time)

# Statuspage's public incident states, the vocabulary customers know.
PUBLIC_STATUS = {"open": "investigating", "acknowledged": "investigating", "mitigated": "monitoring",
                 "resolved": "resolved", "closed": "resolved"}
PUBLIC_FIELDS = ("id", "title", "severity", "components", "opened_at", "mitigated_at", "resolved_at", "updated_at")
SUMMARY_FIELDS = ("id", "title", "severity", "status", "components", "customer_impact", "public", "opened_at",
                  "acknowledged_at", "mitigated_at", "resolved_at", "closed_at", "updated_at")


def check_filters(filters):
    for status in filters.get("status") or []:
        if status not in STATUSES:
            raise IncidentError("status filter %r is not one of %s" % (status, ", ".join(STATUSES)))
    for severity in filters.get("severity") or []:
        if severity not in SEVERITIES:
            raise IncidentError("severity filter %r is not one of %s" % (severity, ", ".join(SEVERITIES)))
    for name in ("opened_after", "opened_before"):
        if filters.get(name):
            parse_time(filters[name])


def matches(doc, filters):
    """``filters``: status, severity (lists: any of), component, responder (one value: must be listed),
    customer_impact, public (bools), opened_after (inclusive), opened_before (exclusive). None means any."""
    if filters.get("status") and doc["status"] not in filters["status"]:
        return False
    if filters.get("severity") and doc["severity"] not in filters["severity"]:
        return False
    if filters.get("component") and filters["component"] not in doc.get("components", []):
        return False
    if filters.get("responder") and filters["responder"] not in doc.get("responders", []):
        return False
    for flag in ("customer_impact", "public"):
        if filters.get(flag) is not None and bool(doc.get(flag)) != filters[flag]:
            return False
    opened = parse_time(doc["opened_at"])
    if filters.get("opened_after") and opened < parse_time(filters["opened_after"]):
        return False
    if filters.get("opened_before") and opened >= parse_time(filters["opened_before"]):
        return False
    return True


def select(docs, filters):
    """Matching incidents, newest first."""
    check_filters(filters)
    found = [d for d in docs if matches(d, filters)]
    return sorted(found, key=lambda d: (d["opened_at"], d["id"]), reverse=True)


def summary(doc):
    out = dict((k, doc.get(k)) for k in SUMMARY_FIELDS)
    out["timeline_entries"] = len(doc.get("timeline") or [])
    return out


def public_view(doc):
    """The fields a public status page may show, or None when the incident is not public. Only timeline entries
    marked ``public`` appear, with their time and text (never author, source or data); no responders, links,
    summary or customer-impact flag."""
    if not doc.get("public"):
        return None
    out = dict((k, doc.get(k)) for k in PUBLIC_FIELDS)
    out["components"] = list(doc.get("components") or [])
    out["status"] = PUBLIC_STATUS[doc["status"]]
    out["updates"] = [{"at": e["at"], "text": e["text"], "status": PUBLIC_STATUS.get(e.get("event") or "", None)}
                      for e in doc.get("timeline") or [] if e.get("public")]
    return out
