# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One generation of the dashboard site: read (``sources``), build (``model``), render (``pages``), publish
(``site``). The module ``ops_dashboard`` and ``bench/dashboards.py`` call ``generate``."""

import copy
import os
import time

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.dashboard import model, pages, site, sources
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import freshness
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage
from ansible_collections.watchkeeper.ops.plugins.module_utils.versioned_store import open_ops_state


class DashboardError(Exception):
    pass


def _seconds(value, what):
    try:
        seconds = freshness.parse_duration(value)
    except ValueError as exc:
        raise DashboardError("%s: %s" % (what, exc))
    if seconds <= 0:
        raise DashboardError("%s must be longer than 0 s, got %r" % (what, value))
    return seconds


def thresholds(raw):
    out = copy.deepcopy(model.DEFAULT_THRESHOLDS)
    for metric, levels in (raw or {}).items():
        if metric not in out or not isinstance(levels, dict):
            raise DashboardError("thresholds: unknown metric %r (cpu, memory, disk), or not a dict of warning/critical" % (metric,))
        for level, value in levels.items():
            if level not in ("warning", "critical"):
                raise DashboardError("thresholds.%s: unknown level %r (warning, critical)" % (metric, level))
            try:
                out[metric][level] = float(value)
            except (TypeError, ValueError):
                raise DashboardError("thresholds.%s.%s must be a number, got %r" % (metric, level, value))
        if out[metric]["warning"] > out[metric]["critical"]:
            raise DashboardError("thresholds.%s: warning (%s) above critical (%s)" % (metric, out[metric]["warning"], out[metric]["critical"]))
    return out


def _site(params):
    if params.get("destination"):
        spec = dict(params["destination"])
        spec.setdefault("name", "dashboards")
        return site.StorageSite(open_storage(spec), spec.get("site_prefix") or params.get("prefix") or "")
    if not params.get("dest"):
        raise DashboardError("give dest (a directory) or destination (a storage location)")
    return site.DirectorySite(params["dest"], params.get("mode", 0o644))


def generate(params, now=None, check_mode=False):
    """Returns the module result: ``changed``, ``reason``, ``files``, ``status``, ``dashboard``, ``timings``."""
    now = now or clock.now()
    timings = {}
    started = time.monotonic()
    stale_after_s = _seconds(params.get("stale_after") or "15m", "stale_after")
    refresh_s = _seconds(params["refresh_after"], "refresh_after") if params.get("refresh_after") else stale_after_s / 2.0
    drill_interval_s = _seconds(params["drill_interval"], "drill_interval") if params.get("drill_interval") else None
    try:
        jobs = [model.job_config(raw) for raw in params.get("jobs") or []]
    except ValueError as exc:
        raise DashboardError("jobs: %s" % exc)
    names = [j["name"] for j in jobs]
    if len(set(names)) != len(names):
        raise DashboardError("jobs: a job name appears twice: %s" % sorted(n for n in set(names) if names.count(n) > 1))
    ops_state = params.get("ops_state")
    health_dir = params.get("health_dir") or os.path.join(ops_state or ".", "health_snapshots")
    if params.get("health") and not check_mode:
        sources.record_health(health_dir, params["health"], now.timestamp())
    try:
        state = open_ops_state(ops_state, params.get("ops_state_store"))
        windows = sources.windows(state)
        incidents = sources.incidents(state)
        drills = sources.drills(state)
        runbooks = sources.runbooks(state, drills[0]) if drills else {}
    except WatchkeeperError as exc:
        raise DashboardError("cannot read ops_state: %s" % exc.describe())
    timings["state_s"] = round(time.monotonic() - started, 3)
    mark = time.monotonic()
    listings = sources.list_backups(jobs, params.get("cache_dir"), listing=params.get("listing") or sources.LISTING)
    timings["listing_s"] = round(time.monotonic() - mark, 3)
    mark = time.monotonic()
    sweeps = sources.sweeps(ops_state if not params.get("ops_state_store") else params.get("integrity_dir"), jobs)
    health = sources.health(health_dir)
    alerts, alerts_error = sources.alerts(params.get("alertmanager_url"))
    timings["health_alerts_s"] = round(time.monotonic() - mark, 3)
    mark = time.monotonic()
    config = {"title": params.get("title"), "stale_after_s": stale_after_s, "thresholds": thresholds(params.get("thresholds")),
              "awx": params.get("awx") or None, "inventory": params.get("inventory"), "playbook_dir": params.get("playbook_dir"),
              "time_zone": params.get("time_zone"), "drill_interval_s": drill_interval_s,
              "kpi_target_pct": params.get("kpi_target_pct") or 95.0, "runbooks": sorted(runbooks)}
    doc = model.build(config, jobs, listings, sweeps, windows, incidents, drills, health, now, alerts=alerts, alerts_error=alerts_error)
    rendered = pages.render(doc)
    timings["render_s"] = round(time.monotonic() - mark, 3)
    mark = time.monotonic()
    target = _site(params)
    try:
        result = site.publish(target, doc, rendered, runbooks, now, refresh_s, check_mode=check_mode)
    except (OSError, WatchkeeperError) as exc:
        why = exc.describe() if isinstance(exc, WatchkeeperError) else "%s" % exc
        raise DashboardError("cannot publish the dashboards to %s: %s" % (target.describe(), why))
    timings["publish_s"] = round(time.monotonic() - mark, 3)
    timings["total_s"] = round(time.monotonic() - started, 3)
    result.update(status=doc["status"], dashboard=doc, timings=timings, site=target.describe())
    return result
