"""Health classification (pure): thresholds, items, overall status, fill prediction; property-tested."""

import pytest
from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import health

TH = health.merge_thresholds(None)[0]
STATUSES = st.sampled_from(["ok", "warning", "critical"])


def by_name(result, name):
    return [it for it in result["items"] if it["name"] == name][0]


def mount(free, inode_free=50.0, name="/data", **extra):
    data = {"mount": name, "free_percent": free, "inode_free_percent": inode_free, "avail_bytes": 100}
    data.update(extra)
    return data


@pytest.mark.parametrize("free,status", [(50, "ok"), (5, "ok"), (4.9, "warning"), (3, "warning"), (2.9, "critical"), (0, "critical")])
def test_disk_mixin_defaults(free, status):
    result = health.classify({"mounts": [mount(free)]}, {}, TH)
    item = by_name(result, "disk /data")
    assert item["status"] == status and result["status"] == status
    if status == "ok":
        assert item["reason"] is None and result["reasons"] == []
    else:
        assert result["reasons"] == [item["reason"]]
        assert "disk /data" in item["reason"] and "free" in item["reason"]


def test_read_only_mount_never_fills():
    result = health.classify({"mounts": [mount(0.0, readonly=True)]}, {}, TH)
    assert result["status"] == "ok"


def test_host_items_named_with_reasons():
    host = {"cpu_percent": 95.0, "load_per_core": 2.5, "memory": {"percent": 91.0, "swap_percent": 85.0},
            "files": {"percent": 95.0}, "pressure": {"io": {"some_avg60": 60.0}}, "uptime_s": 10.0,
            "mounts": [mount(10.0, inode_free=1.0)]}
    result = health.classify(host, {}, TH)
    statuses = dict((it["name"], it["status"]) for it in result["items"])
    assert statuses == {"cpu": "warning", "load": "warning", "memory": "warning", "swap": "critical",
                        "open files": "critical", "pressure io": "critical", "uptime": "ok",
                        "disk /data": "ok", "inodes /data": "critical"}
    assert result["status"] == "critical"
    assert len(result["reasons"]) == 7
    assert "95.0 % busy > 90" in by_name(result, "cpu")["reason"]


def test_checks_items():
    checks = {
        "services": [{"name": "nginx", "running": False, "state": "stopped"}, {"name": "db", "running": True, "state": "running"},
                     {"name": "x", "error": "unknown service"}, {"name": "app", "running": True, "health": "unhealthy"},
                     {"name": "old", "running": False, "expected": "stopped"}],
        "endpoints": [{"url": "http://a/", "status": 500, "expected_status": [200]},
                      {"url": "http://b/", "status": 200, "latency_s": 0.1, "keyword": "ok", "keyword_found": False},
                      {"url": "http://c/", "status": 200, "latency_s": 2.0},
                      {"url": "http://d/", "error": "unreachable: refused"}],
        "certificates": [{"target": "h:443", "days_left": 2.0, "verify": True, "trusted": False, "verify_error": "self-signed"},
                         {"target": "g:443", "days_left": 90.0, "verify": True, "trusted": True}],
        "redis": [{"target": "r:1", "memory_percent": 96.0, "evicted_keys": 3, "clients_percent": 1.0,
                   "rdb_last_bgsave_status": "err", "aof_last_write_status": None},
                  {"target": "r:2", "error": "authentication failed: WRONGPASS invalid username-password pair or user is disabled"}],
    }
    result = health.classify({}, checks, TH)
    status = dict((it["name"], it["status"]) for it in result["items"])
    assert status["service nginx"] == "critical" and status["service db"] == "ok" and status["service x"] == "critical"
    assert status["service app"] == "critical" and status["service old"] == "ok"
    assert status["http http://a/"] == "critical" and "status 500, expected 200" in by_name(result, "http http://a/")["reason"]
    assert status["http http://b/"] == "critical" and status["http http://c/"] == "warning"
    assert "unreachable" in by_name(result, "http http://d/")["reason"]
    assert status["certificate h:443"] == "critical" and status["certificate h:443 trust"] == "warning"
    assert status["certificate g:443"] == "ok"
    assert status["redis r:1 memory"] == "critical" and status["redis r:1 evictions"] == "warning"
    assert status["redis r:1 clients"] == "ok" and status["redis r:1 rdb_last_bgsave_status"] == "critical"
    assert "WRONGPASS" in by_name(result, "redis r:2")["reason"]


@pytest.mark.parametrize("overrides,problem", [
    ("x", "must be a dict"), ({"nope": {"warning": 1}}, "unknown threshold 'nope'"),
    ({"cpu_percent": 80}, "must be a dict"), ({"cpu_percent": {"warning": "high"}}, "must be a number"),
    ({"cpu_percent": {"warn": 1}}, "has no setting 'warn'"), ({"cpu_percent": {"direction": "below"}}, "has no setting"),
    ({"disk_free_percent": {"warning": 3, "critical": 5}}, "must not be above warning"),
    ({"memory_percent": {"warning": 90, "critical": 80}}, "must not be below warning"),
])
def test_malformed_thresholds_keep_defaults(overrides, problem):
    merged, problems = health.merge_thresholds(overrides)
    assert len(problems) == 1 and problem in problems[0]
    assert merged == TH
    result = health.classify({}, {}, merged, problems)
    assert result["status"] == "warning" and problem in result["reasons"][0]


def test_override_applies_and_null_disables():
    merged, problems = health.merge_thresholds({"disk_free_percent": {"warning": 10, "critical": 5}, "cpu_percent": {"warning": None}})
    assert problems == []
    assert health.classify({"mounts": [mount(4.0)]}, {}, merged)["status"] == "critical"
    assert health.classify({"cpu_percent": 100.0}, {}, merged)["status"] == "ok"


def test_fill_prediction_and_rule():
    hour = 3600.0
    # 1 GB free, losing 100 MB/h -> full in 10 h
    samples = [(0.0, 1.3e9), (hour, 1.2e9), (2 * hour, 1.1e9)]
    pred = health.predict_fill(samples, 3 * hour, 1.0e9)
    assert pred["hours_to_full"] == pytest.approx(10.0)
    assert pred["predicted_avail_bytes"] == pytest.approx(1.0e9 - 2.4e9)
    assert health.classify_fill("disk /", 30.0, pred, TH["disk_fill"])["status"] == "warning"
    assert health.classify_fill("disk /", 50.0, pred, TH["disk_fill"])["status"] == "ok"
    assert health.classify_fill("disk /", 15.0, pred, TH["disk_fill"])["status"] == "warning"  # not within 4 h
    fast = health.predict_fill([(0.0, 4e9), (hour, 2e9)], 1.5 * hour, 1e9)
    crit = health.classify_fill("disk /", 15.0, fast, TH["disk_fill"])
    assert crit["status"] == "critical" and "full in" in crit["reason"]


def test_fill_prediction_needs_two_points_and_shrinking_space():
    assert health.predict_fill([], 10.0, 5) is None
    assert health.predict_fill([(10.0, 5)], 10.0, 5) is None
    assert health.predict_fill([(0.0, 5), (5.0, 9)], 10.0, 12)["hours_to_full"] is None


@given(st.lists(STATUSES, max_size=20))
def test_overall_is_worst(statuses):
    items = [health.item("i%d" % n, "x", s, reason="r%d" % n) for n, s in enumerate(statuses)]
    result = health.summarize(items)
    expected = max(statuses, key=lambda s: health.RANK[s]) if statuses else "ok"
    assert result["status"] == expected
    assert len(result["reasons"]) == sum(1 for s in statuses if s != "ok")
    assert all(r is not None for r in result["reasons"])


SPEC_NAMES = sorted(n for n, spec in health.DEFAULT_THRESHOLDS.items() if "direction" in spec)


@given(st.sampled_from(SPEC_NAMES), st.floats(min_value=0, max_value=1e6), st.floats(min_value=0, max_value=1e6))
def test_monotonic(name, a, b):
    """Worse values (more use, less free) never give a better status."""
    spec = TH[name]
    low, high = sorted([a, b])
    worse, better = (high, low) if spec["direction"] == "above" else (low, high)
    assert health.RANK[health.grade(worse, spec)[0]] >= health.RANK[health.grade(better, spec)[0]]


@given(st.floats(min_value=0, max_value=100), st.floats(min_value=0, max_value=100))
def test_disk_more_use_never_better(used_a, used_b):
    low, high = sorted([used_a, used_b])
    less_free = health.classify({"mounts": [mount(100 - high)]}, {}, TH)["status"]
    more_free = health.classify({"mounts": [mount(100 - low)]}, {}, TH)["status"]
    assert health.RANK[less_free] >= health.RANK[more_free]


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=10 ** 5), st.floats(min_value=0, max_value=1e12)), min_size=1, max_size=10),
       st.floats(min_value=-1e6, max_value=-1), st.floats(min_value=0, max_value=1e12))
def test_linear_series_is_predicted_exactly(points, slope, base):
    times = sorted(set(p[0] for p in points))
    if len(times) < 2:
        return
    now = times[-1]
    series = [(t, base + slope * (t - now)) for t in times[:-1]]
    pred = health.predict_fill(series, now, base)
    assert pred["slope_bytes_per_s"] == pytest.approx(slope, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("percent,status", [(10.0, "ok"), (80.0, "ok"), (80.5, "warning"), (90.0, "warning"), (90.5, "critical")])
def test_postgres_connections_against_max_connections(percent, status):
    th, _problems = health.merge_thresholds(None)
    items = health.classify_postgres([{"target": "db:5432/app", "connections_percent": percent}], th)
    assert [(it["name"], it["status"]) for it in items] == [("postgres db:5432/app connections", status)]
    assert (items[0]["reason"] is None) == (status == "ok")


def test_postgres_unreachable_is_critical_with_the_reason():
    th, _problems = health.merge_thresholds(None)
    result = health.classify({}, {"postgres": [{"target": "db:5432/app", "error": "unreachable: connection refused"}]}, th)
    assert result["status"] == "critical"
    assert result["reasons"] == ["postgres db:5432/app: unreachable: connection refused"]
