# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dashboards' inputs, read from the collection's own records (the only I/O before rendering).

* each job's backups in each destination: by default ``catalog.read_newest`` (the number of index entries and the
  newest backups proven object by object down to the first valid one), or ``catalog.read`` (every backup, what
  ``backup_info`` lists, with its manifest cache) with ``listing: full``; a destination that cannot be listed is
  "unreachable" with the reason;
* each job's last integrity sweep: ``<ops_state>/integrity/<job>.sweep.json`` (``backup_integrity``);
* maintenance windows and incidents: the versioned stores in ``ops_state`` (directory or bucket);
* drill reports: ``reports/dr_drill/<drill_id>/report.json`` in ``ops_state``;
* health: ``<health_dir>/<host>/health-*.json`` snapshots (``health_facts``' format), plus this run's readings;
* firing alerts: Alertmanager's API v2 (``GET /api/v2/alerts``, active, not silenced, not inhibited).

Nothing here renders; ``model.build`` turns the facts into the dashboard document.
"""

import concurrent.futures
import json
import os
import urllib.error

from ansible.module_utils.urls import ConnectionError as UrlConnectionError, open_url
from ansible_collections.watchkeeper.ops.plugins.module_utils import catalog, clock, integrity_record
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.health import snapshots
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.store import IncidentStore
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.store import WindowStore
from ansible_collections.watchkeeper.ops.plugins.module_utils.report import store as drill_store
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

DRILL_PREFIX = drill_store.BASE + "/"
MAX_DRILLS = 40
TREND_POINTS = 288
# Threads wait for the buckets' answers; local directories are listed in the calling thread, one after the other: there
# the work is Python under the GIL, and threads made 150 listings twice as slow (bench/dashboards.py).
LISTING_THREADS = 4
LISTING = "newest"
BACKUP_FIELDS = ("backup_id", "created_at", "completed_at", "valid", "problems", "sizes", "source")


def _short(exc):
    if isinstance(exc, WatchkeeperError):
        return exc.describe()
    return "%s: %s" % (type(exc).__name__, exc)


def list_destination(job, spec, cache_dir, listing=LISTING):
    """``{"name", "type", "reachable", "reason", "listing", "count", "backups": [...newest first], "incomplete",
    "orphans"}`` for one destination; never raises: a destination that cannot be read is reported unreachable with
    the reason. ``listing``: ``newest`` (``catalog.read_newest``) or ``full`` (``catalog.read``, every backup)."""
    out = {"name": spec.get("name") or spec.get("type"), "type": spec.get("type"), "reachable": True, "reason": None,
           "listing": listing, "count": 0, "backups": [], "incomplete": 0, "orphans": []}
    storage = None
    try:
        storage = open_storage(dict(spec, name=out["name"]))
        if listing == "newest":
            found = catalog.read_newest(storage, job)
        else:
            found = catalog.read(storage, job, validate=True, cache_dir=cache_dir or None)
        out["listing"] = found.listing if found.listing == "newest" else "full"
        out["count"] = found.count
        out["backups"] = [dict((k, b.get(k)) for k in BACKUP_FIELDS) for b in found.backups]
        out["incomplete"] = len(found.incomplete or [])
        out["orphans"] = [o["backup_id"] for o in found.orphans or []]
    except Exception as exc:  # pylint: disable=broad-except  # one destination never stops the others
        out.update(reachable=False, reason=_short(exc))
    finally:
        if storage is not None:
            try:
                storage.close()
            except Exception:  # pylint: disable=broad-except
                pass
    return out


def list_backups(jobs, cache_dir, threads=LISTING_THREADS, listing=LISTING):
    """``{job name: [destination listing, ...]}`` in the order of each job's destinations."""
    tasks = [(job["name"], spec) for job in jobs for spec in job.get("destinations") or []]
    remote = [i for i, (_name, spec) in enumerate(tasks) if spec.get("type") != "local"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(threads, len(remote) or 1))) as pool:
        futures = dict((i, pool.submit(list_destination, tasks[i][0], tasks[i][1], cache_dir, listing)) for i in remote)
        # local directories here, one after the other, while the pool waits for the buckets
        found = [None if i in futures else list_destination(name, spec, cache_dir, listing) for i, (name, spec) in enumerate(tasks)]
        found = [futures[i].result() if i in futures else listing_ for i, listing_ in enumerate(found)]
    results = dict((job["name"], []) for job in jobs)
    for (name, _spec), listing_ in zip(tasks, found):
        results[name].append(listing_)
    return results


def sweeps(ops_state, jobs):
    """``{job: last-sweep record or None}`` (only with a local ``ops_state`` directory)."""
    if not ops_state:
        return dict((job["name"], None) for job in jobs)
    return dict((job["name"], integrity_record.last_sweep(ops_state, job["name"])) for job in jobs)


def windows(storage):
    return WindowStore(storage).all()


def incidents(storage):
    return IncidentStore(storage).all()


def drills(storage, limit=MAX_DRILLS):
    """The newest ``limit`` drill reports (full documents), newest first; unreadable ones are skipped."""
    keys = sorted((info.key for info in storage.list(DRILL_PREFIX) if info.key.endswith("/report.json")), reverse=True)
    out = []
    for key in keys:
        if len(out) >= limit:
            break
        try:
            doc = json.loads(storage.get_bytes(key, max_bytes=32 * 1024 * 1024).decode("utf-8"))
        except (WatchkeeperError, ValueError, UnicodeDecodeError):
            continue
        if isinstance(doc, dict) and doc.get("drill_id") and doc.get("finished_at"):
            out.append(doc)
    out.sort(key=lambda d: clock.parse_time(d["finished_at"]), reverse=True)
    return out


def runbooks(storage, report):
    """``{job: markdown bytes}`` of the by-hand runbooks stored with ``report`` (the newest drill)."""
    out = {}
    for name in sorted((report.get("files") or {})):
        if name.startswith("runbooks/") and name.endswith(".md"):
            try:
                key = "%s%s/%s" % (DRILL_PREFIX, report["drill_id"], name)
                out[name[len("runbooks/"):-len(".md")]] = storage.get_bytes(key, max_bytes=4 * 1024 * 1024)
            except WatchkeeperError:
                continue
    return out


def _point(doc):
    host = doc.get("host") or {}
    mounts = [m for m in host.get("mounts") or [] if m.get("used_percent") is not None]
    worst = max(mounts, key=lambda m: m["used_percent"]) if mounts else None
    return {"time": doc.get("time"), "status": doc.get("status"), "cpu": host.get("cpu_percent"),
            "memory": (host.get("memory") or {}).get("percent"),
            "disk": worst["used_percent"] if worst else None, "disk_mount": worst["mount"] if worst else None,
            "reasons": list(doc.get("reasons") or [])}


def record_health(health_dir, readings, now, keep=TREND_POINTS):
    """Store this run's ``health_facts`` results (``{host: health}``) as snapshots; returns the hosts written."""
    written = []
    for host, health in sorted((readings or {}).items()):
        if not isinstance(health, dict) or not health.get("host"):
            continue
        doc = {"time": now, "status": health.get("status"), "host": health["host"], "reasons": health.get("reasons") or []}
        snapshots.write(os.path.join(health_dir, _safe(host)), now, doc, keep=keep)
        written.append(host)
    return written


def _safe(host):
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in str(host)) or "_"


def health(health_dir, points=TREND_POINTS):
    """``{host: [point, ...oldest first]}`` from the snapshots under ``health_dir`` (one directory per host)."""
    out = {}
    if not health_dir or not os.path.isdir(health_dir):
        return out
    for host in sorted(os.listdir(health_dir)):
        directory = os.path.join(health_dir, host)
        if not os.path.isdir(directory):
            continue
        series = []
        for name in snapshots.list_snapshots(directory)[-points:]:
            try:
                with open(os.path.join(directory, name)) as handle:
                    series.append(_point(json.load(handle)))
            except (OSError, ValueError, AttributeError):
                continue
        if series:
            out[host] = series
    return out


ALERT_QUERY = "/api/v2/alerts?active=true&silenced=false&inhibited=false"
MAX_ALERTS = 200


def alerts(url, timeout=10.0):
    """``(alerts, None)`` firing in Alertmanager at ``url``, or ``([], reason)`` when it cannot be read."""
    if not url:
        return [], None
    try:
        response = open_url(url.rstrip("/") + ALERT_QUERY, headers={"Accept": "application/json"}, timeout=timeout,
                            follow_redirects="safe", http_agent="watchkeeper.ops ops_dashboard")
        try:
            doc = json.loads(response.read(8 * 1024 * 1024).decode("utf-8"))
        finally:
            response.close()
    except urllib.error.HTTPError as exc:
        return [], "Alertmanager %s answered HTTP %s" % (url, exc.code)
    except (urllib.error.URLError, UrlConnectionError, OSError, ValueError) as exc:
        return [], "Alertmanager %s cannot be read: %s" % (url, getattr(exc, "reason", None) or exc)
    if not isinstance(doc, list):
        return [], "Alertmanager %s answered something that is not a list of alerts" % url
    out = []
    for alert in doc[:MAX_ALERTS]:
        if not isinstance(alert, dict):
            continue
        labels = alert.get("labels") if isinstance(alert.get("labels"), dict) else {}
        notes = alert.get("annotations") if isinstance(alert.get("annotations"), dict) else {}
        out.append({"name": labels.get("alertname") or "unnamed", "severity": labels.get("severity") or "none",
                    "instance": labels.get("instance") or labels.get("host") or labels.get("job"),
                    "since": alert.get("startsAt"), "summary": notes.get("summary") or notes.get("description") or "",
                    "fingerprint": alert.get("fingerprint")})
    return out, None
