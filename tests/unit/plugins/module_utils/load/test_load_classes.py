# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The load_management validator: every mistake is a clear error naming the class and the key."""

import pytest
from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.load.classes import LoadConfigError, plan

SERVERS = [{"address": "127.0.0.1:8000", "max_conns": 6}, {"address": "app2.internal:8000", "max_conns": 4}]
CRITICAL = {"name": "critical", "shed": False, "match": [{"prefix": "/health"}, {"exact": "/login", "methods": ["POST"]}],
            "client_rate": "20r/s", "client_burst": 40}
NORMAL = {"name": "normal", "concurrency": 4}
BULK = {"name": "bulk", "match": [{"regex": "^/(export|search)"}], "rate": "30r/m", "burst": 10, "delay": 5, "concurrency": 2}


def fails(match, *args, **kwargs):
    with pytest.raises(LoadConfigError) as info:
        plan(*args, **kwargs)
    assert match in info.value.msg, info.value.msg
    assert info.value.msg.startswith("load_management: ")
    return info.value.msg


def test_a_good_plan_is_normalised():
    out = plan([CRITICAL, NORMAL, BULK], SERVERS, critical_reserve=2, allow_ips=["10.0.0.1", "192.168.0.0/16"],
               retry_after_rate_limited={"min": 1, "max": 3}, retry_after_shed=30)
    assert out["capacity"] == 10 and out["shared_limit"] == 8 and out["critical"] == ["critical"]
    crit, normal, bulk = out["classes"]
    assert crit["rules"][0]["regex"] == "^/health" and crit["rules"][1] == {"regex": "^/login$", "methods": ["POST"], "exact": "/login"}
    assert crit["client_rate"] == "20r/s" and crit["client_delay"] is None and "rate" not in crit
    assert normal["rules"] == [] and normal["concurrency"] == 4
    assert bulk["rate"] == "30r/m" and bulk["rate_per_s"] == 0.5 and bulk["delay"] == 5
    assert out["allow_ips"] == ["10.0.0.1/32", "192.168.0.0/16"]
    assert out["retry_after"] == {"rate_limited": {"min": 1, "max": 3, "values": [1, 2, 3]},
                                  "shed": {"min": 30, "max": 30, "values": [30]}}


@pytest.mark.parametrize("klass,match", [
    (dict(BULK, priority=1), "class bulk: unknown key priority (allowed: name, match"),
    (dict(BULK, concurrency=0), "class bulk: concurrency must be at least 1, got 0"),
    (dict(BULK, rate="0r/s"), "class bulk: rate is 0 requests"),
    (dict(BULK, rate="fast"), "rate must look like 10r/s or 30r/m"),
    (dict(BULK, delay=11), "delay (11) is above burst (10)"),
    (dict(BULK, burst=-1), "burst must be 0 or more, got -1"),
    (dict(BULK, burst=True), "burst must be a whole number"),
    (dict(BULK, client_burst=3), "client_burst needs client_rate"),
    (dict(BULK, client_concurrency=0), "client_concurrency must be at least 1, got 0"),
    (dict(BULK, match=[{"path": "/x"}]), "class bulk, match #1: unknown key path"),
    (dict(BULK, match=[{"prefix": "/x", "regex": "^/y"}]), "give exactly one of prefix, exact or regex, got prefix, regex"),
    (dict(BULK, match=[{"regex": "^/(x"}]), "does not compile"),
    (dict(BULK, match=[{"prefix": "x"}]), "must be a path starting with /"),
    (dict(BULK, match=[{"prefix": "/a b"}]), "must be a path starting with /"),
    (dict(BULK, match=[{"regex": "^/a\nb"}]), "control character"),
    (dict(BULK, match=[{"prefix": "/x", "methods": ["get"]}]), "method 'get' is not an HTTP method"),
    (dict(BULK, match=[{"prefix": "/x", "methods": []}]), "methods must be a non-empty list"),
    (dict(BULK, match=[]), "match is empty: only the default class (normal) may match nothing"),
    (dict(BULK, match="/export"), "match must be a list"),
    (dict(BULK, shed="no"), "shed must be true or false"),
    (dict(BULK, name="Bulk-1"), "name must be lower-case letters"),
    (dict(BULK, concurrency=9), "concurrency (9) is above what the sheddable classes may use (8 = upstream capacity 10"),
    (dict(CRITICAL, name="bulk", concurrency=1), "a class that is never shed (shed: false) cannot have class-wide limits (concurrency)"),
    ("bulk", "class #3: must be a mapping"),
])
def test_bad_classes_fail_clearly(klass, match):
    fails(match, [CRITICAL, NORMAL, klass], SERVERS, critical_reserve=2)


@pytest.mark.parametrize("options,match", [
    ({"servers": []}, "upstream_servers: give at least one server"),
    ({"servers": [{"address": "127.0.0.1:8000"}]}, "max_conns is required"),
    ({"servers": [{"address": "127.0.0.1:8000", "max_conns": 0}]}, "max_conns must be at least 1, got 0"),
    ({"servers": [{"address": "127.0.0.1:8000; evil", "max_conns": 2}]}, "address must be host:port"),
    ({"servers": [{"address": "127.0.0.1:8000", "max_conns": 2, "weight": 3}]}, "unknown key weight"),
    ({"critical_reserve": 10}, "the reserve (10) must be below the upstream capacity (10"),
    ({"critical_reserve": 0}, "critical_reserve must be at least 1"),
    ({"retry_after_shed": {"min": 30, "max": 10}}, "retry_after_shed: min (30) is above max (10)"),
    ({"retry_after_rate_limited": {"min": 0, "max": 10}}, "min must be at least 1, got 0"),
    ({"retry_after_rate_limited": {"low": 1}}, "unknown key low"),
    ({"allow_ips": ["10.0.0.300"]}, "is not an address or network"),
    ({"default_class": "other"}, "'other' is not one of the classes"),
    ({"location": "api"}, "location: must be a path prefix"),
    ({"access_log": "relative.log"}, "access_log: must be an absolute path or off"),
    ({"client_zone_size": "10g"}, "client_zone_size: must be a size"),
])
def test_bad_settings_fail_clearly(options, match):
    args = {"servers": SERVERS, "critical_reserve": 2}
    args.update(options)
    fails(match, [CRITICAL, NORMAL, BULK], **args)


def test_duplicate_and_empty_classes():
    fails("class names must be unique, normal given twice", [NORMAL, NORMAL], SERVERS)
    fails("give at least one request class", [], SERVERS)


def test_without_a_never_shed_class_the_reserve_may_be_zero():
    out = plan([NORMAL, BULK], SERVERS, critical_reserve=0)
    assert out["shared_limit"] == 10 and out["critical"] == []


@given(st.integers(min_value=1, max_value=3600), st.integers(min_value=0, max_value=3600))
def test_retry_after_values_stay_within_min_and_max(low, span):
    values = plan([NORMAL], SERVERS, critical_reserve=0, retry_after_shed={"min": low, "max": low + span})["retry_after"]["shed"]["values"]
    assert values[0] == low and values[-1] == low + span
    assert values == sorted(set(values)) and 1 <= len(values) <= 5


@given(st.integers(min_value=1, max_value=50), st.integers(min_value=1, max_value=50), st.integers(min_value=0, max_value=60))
def test_a_class_concurrency_is_accepted_only_within_capacity_minus_reserve(capacity, concurrency, reserve):
    servers = [{"address": "127.0.0.1:8000", "max_conns": capacity}]
    classes = [CRITICAL, dict(NORMAL, concurrency=concurrency)]
    if 1 <= reserve < capacity and concurrency <= capacity - reserve:
        assert plan(classes, servers, critical_reserve=reserve)["shared_limit"] == capacity - reserve
    else:
        with pytest.raises(LoadConfigError):
            plan(classes, servers, critical_reserve=reserve)
