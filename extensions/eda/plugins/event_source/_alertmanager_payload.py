# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alertmanager webhook payload -> rulebook events (pure, no I/O). Not an event source itself: the source
``watchkeeper.ops.alertmanager_incidents`` loads it from its own directory.

Alertmanager's webhook (``webhook_config``, payload ``version: "4"``) posts one notification per alert group::

    {"version": "4", "groupKey": "...", "truncatedAlerts": 0, "status": "firing|resolved", "receiver": "...",
     "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "...",
     "alerts": [{"status": "firing|resolved", "labels": {}, "annotations": {}, "startsAt": "<RFC 3339>",
                 "endsAt": "<RFC 3339>", "generatorURL": "...", "fingerprint": "<hex>"}]}

``events`` turns it into one event per alert, or raises ``PayloadError`` (the whole payload is refused, no event
is produced) when anything is not what Alertmanager sends. Each event carries:

* ``alert``: the alert as sent (status, labels, annotations, startsAt, endsAt, fingerprint, generatorURL);
* ``alert_key``: the alert's identity (hash of the ``incident_labels`` it has, by default alertname, instance and
  service) -- the same host and service always have the same key; the rulebook's rate limit groups by it;
* ``incident_id``: ``alert-<alertname slug>-<hash of alert_key and startsAt>``: one incident per firing period
  (Alertmanager keeps ``startsAt`` in its repeated and resolved notifications; an alert that fires again after it
  was resolved starts a new period, hence a new incident instead of writing into a closed one);
* ``auto_remediate``: the label or annotation ``auto_remediate`` is true/yes/on/1 and the alert names what to restart;
* ``target``: what ``service_restart.yml`` gets: ``host`` (label ``wk_host``, else the host part of ``instance``),
  ``service`` (label or annotation ``service``), ``health_url`` / ``health_command`` (annotations);
* ``remediation_error``: why an alert marked ``auto_remediate`` is not remediated (no service, no usable host, no
  health check, or both checks), else ``""``;
* ``starts_at``, ``ends_at``: the alert's times in whole seconds (``ends_at`` only once resolved);
* ``receiver``, ``group_key``, ``external_url``, ``group_status``: from the notification.
"""

import datetime
import hashlib
import json
import re

DEFAULT_INCIDENT_LABELS = ("alertname", "instance", "service")
STATUSES = ("firing", "resolved")
TRUE_WORDS = ("true", "yes", "on", "1")
# A host handed to service_restart.yml as its host pattern: one inventory name, never a pattern (no *, !, &, :, ,).
HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")
HOST_PATTERN_WORDS = ("all", "ungrouped", "localhost")
# A systemd unit, init script or container name.
SERVICE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9@._:-]{0,254}$")
# RFC 3339 as Alertmanager writes it (Go: up to nanoseconds, Z or an offset).
_TIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_SLUG_RE = re.compile(r"[^a-z0-9]+")


class PayloadError(ValueError):
    """The request is not an Alertmanager webhook notification (the message says what is wrong)."""


def parse_time(value, where):
    """An RFC 3339 time (any fraction of a second) -> aware datetime in UTC, truncated to microseconds."""
    match = _TIME_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise PayloadError("%s must be an RFC 3339 time such as 2026-12-05T14:03:07.123Z, got %s" % (where, json.dumps(value)))
    day, clock, fraction, zone = match.groups()
    micro = (fraction or ".0")[1:7].ljust(6, "0")
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        stamp = datetime.datetime.fromisoformat("%sT%s.%s%s" % (day, clock, micro, zone))
    except ValueError as exc:
        raise PayloadError("%s is not a valid time: %s (%s)" % (where, value, exc)) from exc
    return stamp.astimezone(datetime.timezone.utc)


def iso_seconds(stamp):
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _string_map(value, where, required=False):
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise PayloadError("%s must be an object of strings, got %s" % (where, type(value).__name__))
    bad = sorted(k for k, v in value.items() if not isinstance(v, str))
    if bad:
        raise PayloadError("%s must map names to strings; not a string: %s" % (where, ", ".join(bad)))
    return dict(value)


def truthy(value):
    return isinstance(value, str) and value.strip().lower() in TRUE_WORDS


def host_of(labels):
    """The inventory host an alert is about: label ``wk_host``, else the host part of ``instance``
    (``app1:8080`` -> ``app1``, ``[2001:db8::1]:9100`` -> ``2001:db8::1``, ``http://app1:8080/`` -> ``app1``)."""
    if labels.get("wk_host"):
        return labels["wk_host"].strip()
    instance = labels.get("instance", "").strip()
    if "://" in instance:
        instance = instance.split("://", 1)[1].split("/", 1)[0]
        instance = instance.rsplit("@", 1)[-1]
    if instance.startswith("["):
        return instance[1:].split("]", 1)[0]
    if instance.count(":") == 1:
        return instance.split(":", 1)[0]
    return instance


def slug(text, limit=24):
    return _SLUG_RE.sub("-", text.lower()).strip("-")[:limit].strip("-") or "alert"


def alert_key(labels, incident_labels=DEFAULT_INCIDENT_LABELS):
    identity = dict((name, labels[name]) for name in incident_labels if name in labels)
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def incident_id(labels, starts_at, incident_labels=DEFAULT_INCIDENT_LABELS):
    """``alert-<slug>-<10 hex>``: matches the incident module's ``^[a-z0-9][a-z0-9-]{2,63}$``."""
    period = "%s@%s" % (alert_key(labels, incident_labels), iso_seconds(starts_at))
    return "alert-%s-%s" % (slug(labels["alertname"]), hashlib.sha256(period.encode("utf-8")).hexdigest()[:10])


def target_of(labels, annotations):
    """(target dict, why it cannot be remediated or "")."""
    host = host_of(labels)
    service = (labels.get("service") or annotations.get("service") or "").strip()
    target = {"host": host, "service": service, "health_url": annotations.get("health_url", "").strip(),
              "health_command": annotations.get("health_command", "").strip()}
    if not service:
        return target, "the alert has no service label or annotation naming what to restart"
    if not SERVICE_RE.match(service):
        return target, "service %s is not a unit, init script or container name" % json.dumps(service)
    if not host:
        return target, "the alert has neither a wk_host label nor an instance label naming the host"
    if not HOST_RE.match(host) or host.lower() in HOST_PATTERN_WORDS:
        return target, "host %s is not a single inventory host name" % json.dumps(host)
    if bool(target["health_url"]) == bool(target["health_command"]):
        return target, "the alert needs exactly one of the annotations health_url and health_command"
    return target, ""


def _alert(raw, index, incident_labels):
    where = "alerts[%d]" % index
    if not isinstance(raw, dict):
        raise PayloadError("%s must be an object, got %s" % (where, type(raw).__name__))
    status = raw.get("status")
    if status not in STATUSES:
        raise PayloadError("%s.status must be firing or resolved, got %s" % (where, json.dumps(status)))
    labels = _string_map(raw.get("labels"), where + ".labels", required=True)
    if not labels.get("alertname"):
        raise PayloadError("%s.labels has no alertname" % where)
    annotations = _string_map(raw.get("annotations"), where + ".annotations")
    starts_at = parse_time(raw.get("startsAt"), where + ".startsAt")
    ends_at = raw.get("endsAt")
    ended = ""
    if ends_at not in (None, "", "0001-01-01T00:00:00Z"):
        ended = iso_seconds(parse_time(ends_at, where + ".endsAt"))
    for name in ("fingerprint", "generatorURL"):
        if raw.get(name) is not None and not isinstance(raw[name], str):
            raise PayloadError("%s.%s must be a string" % (where, name))
    target, why = target_of(labels, annotations)
    wanted = truthy(labels.get("auto_remediate")) or truthy(annotations.get("auto_remediate"))
    return {
        "alert": {"status": status, "labels": labels, "annotations": annotations,
                  "startsAt": raw["startsAt"], "endsAt": ends_at or "",
                  "fingerprint": raw.get("fingerprint") or "", "generatorURL": raw.get("generatorURL") or ""},
        "alert_key": alert_key(labels, incident_labels),
        "incident_id": incident_id(labels, starts_at, incident_labels),
        "starts_at": iso_seconds(starts_at),
        "ends_at": ended if status == "resolved" else "",
        "auto_remediate": wanted and not why,
        "remediation_error": why if wanted else "",
        "target": target,
    }


def events(payload, incident_labels=DEFAULT_INCIDENT_LABELS):
    """One event per alert of an Alertmanager notification (a dict, or its JSON text/bytes); ``PayloadError``
    for anything else, before any event is made."""
    if isinstance(payload, (bytes, bytearray)):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise PayloadError("the body is not UTF-8") from None
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise PayloadError("the body is not JSON: %s" % exc) from exc
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object (an Alertmanager notification), got %s" % type(payload).__name__)
    version = payload.get("version")
    if version != "4":
        raise PayloadError("only Alertmanager's webhook payload version \"4\" is understood, got %s" % json.dumps(version))
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise PayloadError("alerts must be a non-empty list")
    for name in ("groupKey", "receiver", "externalURL", "status"):
        if payload.get(name) is not None and not isinstance(payload[name], str):
            raise PayloadError("%s must be a string" % name)
    common = {"receiver": payload.get("receiver") or "", "group_key": payload.get("groupKey") or "",
              "group_status": payload.get("status") or "", "external_url": payload.get("externalURL") or ""}
    out = []
    for index, raw in enumerate(alerts):
        event = _alert(raw, index, tuple(incident_labels))
        event.update(common)
        out.append(event)
    return out
