# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The number of replicas a group should have: a pure evaluator with the semantics of the Kubernetes HPA and the
GCP autoscaler. No I/O here; docs/scaling.md explains every rule with examples.

``evaluate(spec, now)`` takes the current replicas, the metrics and the rules, and returns the desired replicas with
the reason of every metric and of every rule that changed the value. In order:

1. Per metric (HPA): ``ratio = value / target`` (kind ``utilization``: the value is the average per replica, e.g.
   CPU 90 against 60) or ``ratio = value / (target * current)`` (kind ``total``: the value is the group's total, e.g.
   a queue of 300 messages against 20 per replica). Within the tolerance (``|ratio - 1| <= tolerance``, default 0.1)
   the proposal is the current count; else ``ceil(current * ratio)`` (``total``: ``ceil(value / target)``, which
   also works from 0 replicas).
2. The largest proposal wins (HPA with several metrics, GCP with several signals). No metric: the current count.
3. Stabilisation (HPA ``behavior``): with the past raw recommendations of the last ``down_s`` seconds (default 300)
   the highest one bounds a scale-in; of the last ``up_s`` (default 0) the lowest one bounds a scale-out. The value
   always lies between the current count and the raw recommendation. Without any history the current count is
   taken as a recommendation made now (HPA does the same when it starts), so a fresh start never scales in at once.
4. Max change per step (HPA policies): ``max_step_up``/``max_step_down`` with ``replicas`` and/or ``percent``;
   of several limits the most permissive applies (``step_select: max``, the HPA default) or the strictest
   (``min``). Up: ``current + replicas`` and ``ceil(current * (1 + percent/100))`` (at least ``current + 1``);
   down: ``current - replicas`` and ``floor(current * (1 - percent/100))``. Default up: 4 replicas or 100 %
   (HPA's default), down: no limit.
5. Scale-in control (GCP): at most ``max_replicas`` (or ``max_percent`` of the peak, floored) fewer than the largest
   count decided within the last ``window_s`` seconds (the history's ``replicas``) and now.
6. The floor: ``min``, raised by every active schedule (autoscale_schedule; ``lead_s`` counts a schedule that
   starts within that many seconds as active), capped at ``max``. Then the ceiling ``max``. Floor and ceiling are
   never exceeded, whatever the step limits say (HPA moves a group outside its bounds straight to them).
"""

import datetime
import math

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import autoscale_schedule as sched

UTC = datetime.timezone.utc
DEFAULT_TOLERANCE = 0.1
DEFAULT_DOWN_S = 300
DEFAULT_UP_S = 0
DEFAULT_STEP_UP = {"replicas": 4, "percent": 100}
KINDS = ("utilization", "total")
SPEC_KEYS = frozenset(("current", "min", "max", "metrics", "tolerance", "stabilization", "history", "max_step_up",
                       "max_step_down", "step_select", "scale_in_control", "schedules", "lead_s"))
METRIC_KEYS = frozenset(("name", "value", "target", "kind"))
EPSILON_DIGITS = 9  # ceil(2.0000000000000004) must stay 2: products are rounded to 1e-9 first


class AutoscaleError(ValueError):
    """Invalid input; the message names the field and says what to give."""


def _ceil(value):
    return int(math.ceil(round(value, EPSILON_DIGITS)))


def _floor(value):
    return int(math.floor(round(value, EPSILON_DIGITS)))


def _int(value, what, low=0):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise AutoscaleError("%s must be an integer >= %d, got %r" % (what, low, value))
    return value


def _number(value, what, positive=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AutoscaleError("%s must be a number, got %r" % (what, value))
    if value < 0 or (positive and value == 0):
        raise AutoscaleError("%s must be %s, got %r" % (what, "positive" if positive else ">= 0", value))
    return float(value)


def _keys(value, known, what):
    if not isinstance(value, dict):
        raise AutoscaleError("%s must be a dict, got %r" % (what, value))
    unknown = sorted(set(value) - known)
    if unknown:
        raise AutoscaleError("%s: unknown key(s) %s (known: %s)" % (what, ", ".join(unknown), ", ".join(sorted(known))))
    return value


# --------------------------------------------------------------------------- validation

def check_metrics(metrics):
    out, seen = [], set()
    if not isinstance(metrics, list):
        raise AutoscaleError("metrics must be a list of {name, value, target, kind}, got %r" % (metrics,))
    for index, metric in enumerate(metrics):
        _keys(metric, METRIC_KEYS, "metrics[%d]" % index)
        name = metric.get("name")
        if not isinstance(name, str) or not name.strip():
            raise AutoscaleError("metrics[%d] needs a name" % index)
        if name in seen:
            raise AutoscaleError("metric %s is given twice" % name)
        seen.add(name)
        kind = metric.get("kind") or "utilization"
        if kind not in KINDS:
            raise AutoscaleError("metric %s: kind must be one of %s, got %r" % (name, ", ".join(KINDS), kind))
        out.append({"name": name, "kind": kind, "value": _number(metric.get("value"), "metric %s: value" % name),
                    "target": _number(metric.get("target"), "metric %s: target" % name, positive=True)})
    return out


def _check_step(value, what):
    if value is None:
        return None
    _keys(value, frozenset(("replicas", "percent")), what)
    out = {}
    if value.get("replicas") is not None:
        out["replicas"] = _int(value["replicas"], what + ".replicas", 1)
    if value.get("percent") is not None:
        out["percent"] = _number(value["percent"], what + ".percent", positive=True)
    if not out:
        raise AutoscaleError("%s needs replicas and/or percent (or null for no limit)" % what)
    return out


def _check_scale_in(value):
    if value is None:
        return None
    _keys(value, frozenset(("max_replicas", "max_percent", "window_s")), "scale_in_control")
    if (value.get("max_replicas") is None) == (value.get("max_percent") is None):
        raise AutoscaleError("scale_in_control needs exactly one of max_replicas and max_percent")
    out = {"window_s": _int(value.get("window_s", 600), "scale_in_control.window_s", 1)}
    if value.get("max_replicas") is not None:
        out["max_replicas"] = _int(value["max_replicas"], "scale_in_control.max_replicas", 0)
    else:
        out["max_percent"] = _number(value["max_percent"], "scale_in_control.max_percent")
        if out["max_percent"] > 100:
            raise AutoscaleError("scale_in_control.max_percent must be <= 100, got %r" % value["max_percent"])
    return out


def check_history(history):
    """Entries ``{time, recommendation, replicas}`` (replicas optional) as ``(utc, recommendation, replicas)``."""
    out = []
    if not isinstance(history, list):
        raise AutoscaleError("history must be a list of {time, recommendation, replicas}, got %r" % (history,))
    for index, entry in enumerate(history):
        _keys(entry, frozenset(("time", "recommendation", "replicas")), "history[%d]" % index)
        try:
            when = sched.to_utc(entry.get("time"))
        except sched.ScheduleError as exc:
            raise AutoscaleError("history[%d].time: %s" % (index, exc))
        rec = _int(entry.get("recommendation"), "history[%d].recommendation" % index)
        replicas = entry.get("replicas")
        out.append((when, rec, rec if replicas is None else _int(replicas, "history[%d].replicas" % index)))
    return sorted(out, key=lambda item: item[0])


def check_spec(spec):
    """The validated, normalised spec; raises AutoscaleError naming the first problem."""
    _keys(spec, SPEC_KEYS, "the autoscale spec")
    out = {"current": _int(spec.get("current"), "current"), "min": _int(spec.get("min", 1), "min"),
           "max": _int(spec.get("max"), "max", 1)}
    if out["min"] > out["max"]:
        raise AutoscaleError("min %d is above max %d: give min <= max" % (out["min"], out["max"]))
    out["metrics"] = check_metrics(spec.get("metrics") or [])
    tolerance = _number(spec.get("tolerance", DEFAULT_TOLERANCE), "tolerance")
    if tolerance >= 1:
        raise AutoscaleError("tolerance is a fraction below 1 (0.1 = 10 %%), got %r" % tolerance)
    out["tolerance"] = tolerance
    stab = _keys(spec.get("stabilization") or {}, frozenset(("down_s", "up_s")), "stabilization")
    out["down_s"] = _int(stab.get("down_s", DEFAULT_DOWN_S), "stabilization.down_s")
    out["up_s"] = _int(stab.get("up_s", DEFAULT_UP_S), "stabilization.up_s")
    out["history"] = check_history(spec.get("history") or [])
    out["max_step_up"] = _check_step(spec.get("max_step_up", DEFAULT_STEP_UP), "max_step_up")
    out["max_step_down"] = _check_step(spec.get("max_step_down"), "max_step_down")
    out["step_select"] = spec.get("step_select") or "max"
    if out["step_select"] not in ("max", "min"):
        raise AutoscaleError("step_select must be max (the most permissive limit) or min, got %r" % out["step_select"])
    out["scale_in_control"] = _check_scale_in(spec.get("scale_in_control"))
    out["lead_s"] = _int(spec.get("lead_s", 0), "lead_s")
    schedules = spec.get("schedules") or []
    if not isinstance(schedules, list):
        raise AutoscaleError("schedules must be a list, got %r" % (schedules,))
    try:
        out["schedules"] = [sched.check_schedule(item, index) for index, item in enumerate(schedules)]
    except sched.ScheduleError as exc:
        raise AutoscaleError(str(exc))
    names = [item["name"] for item in out["schedules"]]
    if len(set(names)) != len(names):
        raise AutoscaleError("schedule names must be unique, got %s" % ", ".join(names))
    return out


# --------------------------------------------------------------------------- the rules

def propose(metric, current, tolerance):
    """One metric's proposal: ``{name, kind, value, target, ratio, proposal, within_tolerance, reason}``."""
    out = dict(metric)
    if metric["kind"] == "total":
        capacity = metric["target"] * current
        ratio = metric["value"] / capacity if capacity else (math.inf if metric["value"] > 0 else 1.0)
        raw = _ceil(metric["value"] / metric["target"])
    else:
        ratio = metric["value"] / metric["target"]
        raw = _ceil(current * ratio)
    out["ratio"] = None if math.isinf(ratio) else round(ratio, 6)
    out["within_tolerance"] = round(abs(ratio - 1.0), EPSILON_DIGITS) <= tolerance
    out["proposal"] = current if out["within_tolerance"] else raw
    if out["within_tolerance"]:
        out["reason"] = "%s %g is within %g %% of its target %g%s: keep %d" % (
            metric["name"], metric["value"], tolerance * 100,
            metric["target"] * (current if metric["kind"] == "total" else 1), " (total)" if metric["kind"] == "total" else "",
            current)
    elif metric["kind"] == "total":
        out["reason"] = "%s %g at %g per replica needs ceil(%g / %g) = %d" % (
            metric["name"], metric["value"], metric["target"], metric["value"], metric["target"], raw)
    else:
        out["reason"] = "%s %g against target %g: ceil(%d x %g / %g) = %d" % (
            metric["name"], metric["value"], metric["target"], current, metric["value"], metric["target"], raw)
    return out


def stabilize(current, raw, history, now, up_s, down_s):
    """HPA: the lowest recommendation of the up window and the highest of the down window (each with ``raw``)
    bound the move from ``current``; returns ``(value, rule or None)``."""
    up_rec = down_rec = raw
    for when, rec, _replicas in history:
        age = (now - when).total_seconds()
        if age < 0:
            continue  # a record from the future (clock skew) is ignored rather than trusted
        if age < up_s:
            up_rec = min(up_rec, rec)
        if age < down_s:
            down_rec = max(down_rec, rec)
    value = current
    if value < up_rec:
        value = up_rec
    if value > down_rec:
        value = down_rec
    if value == raw:
        return value, None
    return value, "stabilization_up" if raw > current else "stabilization_down"


def step_limits(current, up, down, select):
    """``(lowest, highest)`` reachable in one step from ``current`` (None = unlimited)."""
    pick_up = max if select == "max" else min
    pick_down = min if select == "max" else max
    highest = lowest = None
    if up:
        limits = []
        if "replicas" in up:
            limits.append(current + up["replicas"])
        if "percent" in up:
            limits.append(max(current + 1, _ceil(current * (1 + up["percent"] / 100.0))))
        highest = pick_up(limits)
    if down:
        limits = []
        if "replicas" in down:
            limits.append(current - down["replicas"])
        if "percent" in down:
            limits.append(_floor(current * (1 - down["percent"] / 100.0)))
        lowest = max(0, pick_down(limits))
    return lowest, highest


def scale_in_bound(control, current, history, now):
    """GCP scale-in control: ``(lowest allowed, peak)`` from the largest count decided within the window."""
    peak = current
    for when, _rec, replicas in history:
        if 0 <= (now - when).total_seconds() < control["window_s"]:
            peak = max(peak, replicas)
    allowed = control["max_replicas"] if "max_replicas" in control else _floor(peak * control["max_percent"] / 100.0)
    return min(current, peak - allowed), peak


def evaluate(spec, now):
    """The decision for ``spec`` at ``now`` (an aware datetime, ISO text or Unix time); see the module docstring.

    Returns ``{desired, current, change, recommendation, winner, metrics, floor, floor_reason, ceiling, schedules,
    next_schedule, steps, limited_by, reason, record, history}`` where ``steps`` lists ``{rule, before, after,
    detail}`` for every rule that changed the value, ``limited_by`` is the last of them (None when the metrics
    decided alone), ``record`` the history entry of this evaluation and ``history`` the history to keep.
    """
    try:
        now = sched.to_utc(now)
    except sched.ScheduleError as exc:
        raise AutoscaleError("now: %s" % exc)
    s = check_spec(spec)
    current = s["current"]
    metrics = [propose(metric, current, s["tolerance"]) for metric in s["metrics"]]
    winner = max(metrics, key=lambda m: m["proposal"]) if metrics else None
    raw = winner["proposal"] if winner else current
    steps = []

    def step(rule, before, after, detail):
        if after != before:
            steps.append({"rule": rule, "before": before, "after": after, "detail": detail})
        return after

    history = list(s["history"])
    if not history and s["down_s"] > 0:
        history = [(now, current, current)]  # HPA's seed: a fresh start holds its count for the window
    value, rule = stabilize(current, raw, history, now, s["up_s"], s["down_s"])
    step(rule, raw, value, "%s recommendation within the last %d s" % (
        "highest" if rule == "stabilization_down" else "lowest", s["down_s"] if rule == "stabilization_down" else s["up_s"]))
    lowest, highest = step_limits(current, s["max_step_up"], s["max_step_down"], s["step_select"])
    if highest is not None and value > highest:
        value = step("max_step_up", value, highest, "at most %s up per step" % _describe(s["max_step_up"]))
    if lowest is not None and value < lowest:
        value = step("max_step_down", value, lowest, "at most %s down per step" % _describe(s["max_step_down"]))
    if s["scale_in_control"] and value < current:
        bound, peak = scale_in_bound(s["scale_in_control"], current, history, now)
        if value < bound:
            value = step("scale_in_control", value, bound, "at most %s below the peak %d of the last %d s" % (
                _describe(s["scale_in_control"]), peak, s["scale_in_control"]["window_s"]))
    sched_floor, active = sched.floor_at(s["schedules"], now, s["lead_s"])
    floor, floor_reason = s["min"], "min"
    for item in active:
        if item["min_replicas"] > floor:
            floor, floor_reason = item["min_replicas"], "schedule:%s" % item["name"]
    if floor > s["max"]:
        floor = s["max"]
    if value < floor:
        value = step(floor_reason, value, floor, "the floor %d (%s)" % (floor, floor_reason))
    if value > s["max"]:
        value = step("max", value, s["max"], "the ceiling %d" % s["max"])
    change = "up" if value > current else "down" if value < current else "none"
    record = {"time": _iso(now), "recommendation": raw, "replicas": value}
    keep = max(s["down_s"], s["up_s"], (s["scale_in_control"] or {}).get("window_s", 0))
    kept = [{"time": _iso(w), "recommendation": r, "replicas": n} for w, r, n in history
            if 0 <= (now - w).total_seconds() < keep]
    reasons = [m["reason"] for m in metrics] or ["no metric: keep %d" % current]
    if steps:
        reasons += ["%s: %d -> %d (%s)" % (x["rule"], x["before"], x["after"], x["detail"]) for x in steps]
    nexts = [(sched.upcoming(item, now), item["name"], item["min_replicas"]) for item in s["schedules"] if not item["disabled"]]
    nexts = sorted(n for n in nexts if n[0] is not None)
    return {
        "desired": value, "current": current, "change": change, "recommendation": raw,
        "winner": winner["name"] if winner else None, "metrics": metrics,
        "floor": floor, "floor_reason": floor_reason, "ceiling": s["max"], "schedule_floor": sched_floor,
        "schedules": [dict(item, start=_iso(item["start"]), end=_iso(item["end"])) for item in active],
        "next_schedule": {"name": nexts[0][1], "start": _iso(nexts[0][0]), "min_replicas": nexts[0][2]} if nexts else None,
        "steps": steps, "limited_by": steps[-1]["rule"] if steps else None,
        "reason": "; ".join(reasons), "record": record, "history": kept + [record],
    }


def _describe(limit):
    parts = []
    if "replicas" in limit or "max_replicas" in limit:
        parts.append("%d replicas" % limit.get("replicas", limit.get("max_replicas")))
    if "percent" in limit or "max_percent" in limit:
        parts.append("%g %%" % limit.get("percent", limit.get("max_percent")))
    return " or ".join(parts)


def _iso(value):
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
