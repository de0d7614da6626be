# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The autoscale evaluator, pure: the examples of the Kubernetes HPA documentation and of KEP-853, the rules one by
one, bad input, and the properties (hypothesis): never outside min/max, no scale-in within the stabilisation window,
no oscillation on a constant metric, the largest metric wins, the tolerance and the max change per step hold."""

import datetime

import pytest
from hypothesis import assume, given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import autoscale as a

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
S = datetime.timedelta(seconds=1)


def ev(now=T0, **spec):
    spec.setdefault("max", 100)
    spec.setdefault("min", 1)
    return a.evaluate(spec, now)


def cpu(value, target=100, name="cpu"):
    return {"name": name, "value": value, "target": target}


def hist(now, recs, every=60):
    """Recommendations made every ``every`` s, the last one ``every`` s before ``now``."""
    return [{"time": a._iso(now - (len(recs) - i) * every * S), "recommendation": r} for i, r in enumerate(recs)]


# --------------------------------------------------------------------------- the HPA documentation's examples

def test_hpa_doc_double_and_half():
    # "if the current metric value is 200m, and the desired value is 100m, the number of replicas will be doubled"
    assert ev(current=4, metrics=[cpu(200)], history=hist(T0, [4]))["desired"] == 8
    # "if the current value is instead 50m, you'll halve the number of replicas" (no higher recommendation in 300 s)
    out = ev(current=4, metrics=[cpu(50)], history=hist(T0, [2], every=301), max_step_down=None)
    assert out["desired"] == 2 and out["change"] == "down" and out["limited_by"] is None


def test_kep_4951_fifty_replicas_at_90_against_75():
    out = ev(current=50, metrics=[cpu(90, 75)], history=hist(T0, [50]), max_step_up=None)
    assert out["desired"] == 60 and out["winner"] == "cpu"
    assert "ceil(50 x 90 / 75) = 60" in out["metrics"][0]["reason"]


def test_default_tolerance_is_ten_percent():
    assert ev(current=10, metrics=[cpu(109)], history=hist(T0, [10]))["desired"] == 10
    assert ev(current=10, metrics=[cpu(110)], history=hist(T0, [10]))["desired"] == 10  # |1.1 - 1| <= 0.1
    assert ev(current=10, metrics=[cpu(112)], history=hist(T0, [10]))["desired"] == 12
    assert ev(current=10, metrics=[cpu(91)], history=hist(T0, [10], every=400))["desired"] == 10
    out = ev(current=10, metrics=[cpu(80)], history=hist(T0, [10], every=400))
    assert out["desired"] == 8 and not out["metrics"][0]["within_tolerance"]


def test_kep_853_stabilisation_example():
    # 600 s window, one evaluation a minute: the largest recommendation of the window wins.
    recs = [10, 9, 8, 9, 9, 8, 9, 8, 9]
    out = ev(current=10, metrics=[cpu(80)], stabilization={"down_s": 600}, history=hist(T0, recs))  # raw 8
    assert out["recommendation"] == 8 and out["desired"] == 10 and out["limited_by"] == "stabilization_down"
    recs = [10, 9, 8, 9, 9, 8, 9, 8, 9, 8]  # the 10 is now 600 s old and leaves the window
    out = ev(current=10, metrics=[cpu(70)], stabilization={"down_s": 600}, history=hist(T0, recs))
    assert out["recommendation"] == 7 and out["desired"] == 9


def test_float_noise_does_not_add_a_replica():
    # 7 replicas share a load of 29: each reports 29 / 7, and 7 * (29 / 7) is 29.000000000000004 in floats.
    out = ev(current=7, metrics=[cpu(29 / 7, 1)], history=hist(T0, [7]), max_step_up=None)
    assert out["desired"] == 29


def test_fresh_start_holds_its_count_for_the_window():
    out = ev(current=10, metrics=[cpu(20)])
    assert out["desired"] == 10 and out["limited_by"] == "stabilization_down"
    later = ev(T0 + 301 * S, current=10, metrics=[cpu(20)], history=out["history"])
    assert later["desired"] == 2


def test_largest_metric_wins_with_a_queue_total():
    metrics = [cpu(50), {"name": "queue", "value": 300, "target": 20, "kind": "total"}]
    out = ev(current=4, metrics=metrics, history=hist(T0, [4]), max_step_up=None)
    assert out["winner"] == "queue" and out["desired"] == 15
    assert [m["proposal"] for m in out["metrics"]] == [2, 15]


def test_queue_total_scales_from_zero():
    out = ev(current=0, min=0, metrics=[{"name": "queue", "value": 45, "target": 20, "kind": "total"}], history=[])
    assert out["desired"] == 3 and out["metrics"][0]["ratio"] is None


def test_step_limits_default_and_select():
    # HPA default up: max(4 replicas, 100 %)
    assert ev(current=2, metrics=[cpu(1000)], history=hist(T0, [2]))["desired"] == 6
    out = ev(current=10, metrics=[cpu(1000)], history=hist(T0, [10]))
    assert out["desired"] == 20 and out["limited_by"] == "max_step_up"
    out = ev(current=10, metrics=[cpu(1000)], history=hist(T0, [10]), step_select="min")
    assert out["desired"] == 14
    out = ev(current=10, metrics=[cpu(10)], history=[], stabilization={"down_s": 0},
             max_step_down={"replicas": 2, "percent": 50})
    assert out["desired"] == 5  # the most permissive: 50 % of 10
    out = ev(current=10, metrics=[cpu(10)], history=[], stabilization={"down_s": 0}, max_step_down={"percent": 10})
    assert out["desired"] == 9 and out["limited_by"] == "max_step_down"


def test_scale_in_control_counts_from_the_peak():
    history = [{"time": a._iso(T0 - 300 * S), "recommendation": 20, "replicas": 20},
               {"time": a._iso(T0 - 60 * S), "recommendation": 17, "replicas": 17}]
    out = ev(current=17, metrics=[cpu(10)], stabilization={"down_s": 0}, history=history,
             scale_in_control={"max_replicas": 5, "window_s": 600})
    assert out["desired"] == 15 and out["limited_by"] == "scale_in_control"
    out = ev(current=17, metrics=[cpu(10)], stabilization={"down_s": 0}, history=history,
             scale_in_control={"max_percent": 10, "window_s": 600})
    assert out["desired"] == 17  # 10 % of the peak 20 = 2: 18 is the bound, never a scale-up


def test_schedule_floor_and_lead():
    peak = {"name": "black-friday", "min_replicas": 12, "start": "2026-11-27T13:00:00Z", "end": "2026-11-28T00:00:00Z"}
    out = ev(current=3, metrics=[cpu(100)], history=hist(T0, [3]), schedules=[peak])
    assert out["desired"] == 3 and out["next_schedule"]["name"] == "black-friday"
    out = ev(current=3, metrics=[cpu(100)], history=hist(T0, [3]), schedules=[peak], lead_s=3600)
    assert out["desired"] == 12 and out["limited_by"] == "schedule:black-friday" and out["floor"] == 12
    out = ev(current=3, max=8, metrics=[cpu(100)], history=hist(T0, [3]), schedules=[peak], lead_s=3600)
    assert out["desired"] == 8 and out["floor"] == 8  # a schedule never lifts above max


def test_history_is_pruned_and_extended():
    out = ev(current=5, metrics=[cpu(100)], history=hist(T0, [5, 6, 7], every=200))
    assert [h["recommendation"] for h in out["history"]] == [7, 5]  # the 6 is 400 s old: beyond the 300 s window
    assert out["record"] == {"time": "2026-11-27T12:00:00Z", "recommendation": 5, "replicas": 5}


@pytest.mark.parametrize("spec,message", [
    ({"current": 1, "min": 5, "max": 3}, "min 5 is above max 3"),
    ({"current": -1, "max": 3}, "current must be an integer >= 0"),
    ({"current": 1, "max": 0}, "max must be an integer >= 1"),
    ({"current": 1, "max": 3, "metrics": [{"name": "cpu", "value": 1, "target": 0}]}, "cpu: target must be positive"),
    ({"current": 1, "max": 3, "metrics": [{"name": "cpu", "value": -1, "target": 1}]}, "cpu: value must be >= 0"),
    ({"current": 1, "max": 3, "metrics": [{"name": "cpu", "value": 1, "target": 1, "unit": "%"}]}, "unknown key"),
    ({"current": 1, "max": 3, "metrics": [cpu(1), cpu(2)]}, "given twice"),
    ({"current": 1, "max": 3, "metrics": [{"name": "q", "value": 1, "target": 1, "kind": "sum"}]}, "kind must be"),
    ({"current": 1, "max": 3, "tolerance": 1.5}, "tolerance is a fraction"),
    ({"current": 1, "max": 3, "max_step_up": {"replicas": 0}}, "max_step_up.replicas must be an integer >= 1"),
    ({"current": 1, "max": 3, "max_step_down": {}}, "needs replicas and/or percent"),
    ({"current": 1, "max": 3, "step_select": "first"}, "step_select"),
    ({"current": 1, "max": 3, "scale_in_control": {"max_replicas": 1, "max_percent": 5}}, "exactly one"),
    ({"current": 1, "max": 3, "history": [{"time": "yesterday", "recommendation": 1}]}, "history\\[0\\].time"),
    ({"current": 1, "max": 3, "surge": 2}, "unknown key\\(s\\) surge"),
    ({"current": 1, "max": 3, "schedules": [{"name": "x", "min_replicas": 2, "start": "2026-01-02", "end": "2026-01-01"}]},
     "is not after start"),
])
def test_bad_input_is_refused_with_a_clear_message(spec, message):
    with pytest.raises(a.AutoscaleError, match=message):
        a.evaluate(spec, T0)


# --------------------------------------------------------------------------- properties

metric_st = st.builds(lambda v, t, k: {"value": v, "target": t, "kind": k},
                      st.floats(min_value=0, max_value=1000, allow_nan=False), st.floats(min_value=0.5, max_value=200),
                      st.sampled_from(["utilization", "total"]))
history_st = st.lists(st.tuples(st.integers(min_value=0, max_value=900), st.integers(min_value=0, max_value=60)), max_size=12)
step_st = st.one_of(st.none(), st.fixed_dictionaries({}, optional={"replicas": st.integers(1, 10), "percent": st.floats(1, 200)}).filter(bool))


@st.composite
def specs(draw):
    low = draw(st.integers(min_value=0, max_value=20))
    high = draw(st.integers(min_value=max(low, 1), max_value=40))
    metrics = draw(st.lists(metric_st, max_size=4))
    for index, metric in enumerate(metrics):
        metric["name"] = "m%d" % index
    spec = {"current": draw(st.integers(min_value=0, max_value=50)), "min": low, "max": high, "metrics": metrics,
            "tolerance": draw(st.sampled_from([0, 0.05, 0.1, 0.3])),
            "stabilization": {"down_s": draw(st.sampled_from([0, 60, 300])), "up_s": draw(st.sampled_from([0, 0, 120]))},
            "history": [{"time": a._iso(T0 - age * S), "recommendation": rec} for age, rec in draw(history_st)],
            "max_step_up": draw(step_st), "max_step_down": draw(step_st), "step_select": draw(st.sampled_from(["max", "min"]))}
    if draw(st.booleans()):
        spec["schedules"] = [{"name": "peak", "min_replicas": draw(st.integers(0, 60)), "start": "2026-11-27T11:00:00Z",
                              "end": "2026-11-27T13:00:00Z"}]
    return spec


@settings(max_examples=400, deadline=None)
@given(spec=specs())
def test_never_outside_min_and_max(spec):
    out = a.evaluate(spec, T0)
    assert spec["min"] <= out["desired"] <= spec["max"]
    assert out["floor"] <= out["desired"] <= out["ceiling"]


@settings(max_examples=400, deadline=None)
@given(spec=specs())
def test_no_scale_in_below_the_highest_recommendation_of_the_window(spec):
    assume(spec["current"] <= spec["max"])
    out = a.evaluate(spec, T0)
    window = [h["recommendation"] for h in spec["history"]
              if (T0 - a.sched.to_utc(h["time"])).total_seconds() < spec["stabilization"]["down_s"]]
    if not spec["history"] and spec["stabilization"]["down_s"]:
        window = [spec["current"]]  # the seed of a fresh start
    if out["desired"] < spec["current"]:
        assert out["desired"] >= min(max(window + [out["recommendation"]]), spec["max"])
    # the stabilised value never passes the raw recommendation, whatever the history
    assert min(spec["current"], out["recommendation"]) <= out["desired"] or out["desired"] == out["floor"]


@settings(max_examples=300, deadline=None)
@given(spec=specs(), extra=st.floats(min_value=0, max_value=1000, allow_nan=False))
def test_the_largest_metric_wins(spec, extra):
    assume(spec["metrics"])
    out = a.evaluate(spec, T0)
    assert out["recommendation"] == max(m["proposal"] for m in out["metrics"])
    assert out["winner"] in [m["name"] for m in out["metrics"] if m["proposal"] == out["recommendation"]]
    more = dict(spec, metrics=spec["metrics"] + [{"name": "extra", "value": extra, "target": 10}])
    assert a.evaluate(more, T0)["recommendation"] >= out["recommendation"]  # another signal never lowers it


@settings(max_examples=300, deadline=None)
@given(spec=specs(), jitter=st.floats(min_value=-1, max_value=1))
def test_tolerance_keeps_the_count(spec, jitter):
    current = max(spec["current"], 1)
    target = 50.0
    value = target * (1 + jitter * spec["tolerance"] * 0.999)
    spec = dict(spec, current=current, min=min(spec["min"], current), max=max(spec["max"], current),
                metrics=[{"name": "cpu", "value": value, "target": target}], schedules=[])
    out = a.evaluate(spec, T0)
    assert out["metrics"][0]["within_tolerance"] and out["recommendation"] == current
    assert out["desired"] == current and out["change"] == "none"


@settings(max_examples=400, deadline=None)
@given(spec=specs())
def test_max_change_per_step(spec):
    assume(spec["min"] <= spec["current"] <= spec["max"])
    spec = dict(spec, schedules=[])
    out = a.evaluate(spec, T0)
    lowest, highest = a.step_limits(spec["current"], a._check_step(spec["max_step_up"], "up"),
                                    a._check_step(spec["max_step_down"], "down"), spec["step_select"])
    assert highest is None or out["desired"] <= highest
    assert lowest is None or out["desired"] >= lowest
    up = spec["max_step_up"]
    if up and set(up) == {"replicas"}:
        assert out["desired"] - spec["current"] <= up["replicas"]


def _run(spec, reading, steps=160, every=15):
    """Evaluate every ``every`` s for ``steps`` rounds; ``reading(replicas)`` gives the metric list."""
    history, current, seen = [], spec["current"], []
    for index in range(steps):
        now = T0 + index * every * S
        out = a.evaluate(dict(spec, current=current, metrics=reading(current), history=history), now)
        history, current = out["history"], out["desired"]
        seen.append(current)
    return seen


def _reversals(seq):
    moves = [b - a_ for a_, b in zip(seq, seq[1:]) if b != a_]
    return sum(1 for x, y in zip(moves, moves[1:]) if (x > 0) != (y > 0))


@settings(max_examples=60, deadline=None)
@given(spec=specs(), load=st.floats(min_value=0, max_value=3000, allow_nan=False), target=st.floats(min_value=5, max_value=100))
def test_no_oscillation_on_a_constant_load(spec, load, target):
    # The group's load is constant; the per-replica utilisation is load / replicas (what a real group reports).
    spec = dict(spec, current=max(spec["current"], 1), min=max(spec["min"], 1), max=max(spec["max"], 1))
    seen = _run(spec, lambda n: [{"name": "cpu", "value": load / max(n, 1), "target": target}])
    assert _reversals(seen) == 0, seen
    assert len(set(seen[-30:])) == 1, seen  # converged, and stays (30 rounds > the 300 s window)


@settings(max_examples=60, deadline=None)
@given(spec=specs(), value=st.floats(min_value=0, max_value=500, allow_nan=False))
def test_no_oscillation_on_a_constant_reading(spec, value):
    # A reading that does not react to the count (a stuck exporter) drives the group to a bound and keeps it there.
    seen = _run(spec, lambda n: [{"name": "cpu", "value": value, "target": 50, "kind": "utilization"}])
    assert _reversals(seen) <= 1, seen  # at most: back inside min/max first, then one way
    assert len(set(seen[-30:])) == 1, seen
