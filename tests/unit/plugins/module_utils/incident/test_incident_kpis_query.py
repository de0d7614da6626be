# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KPI arithmetic (by hand and under hypothesis), filters, and the public projection."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import kpis, model, query
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.model import IncidentError

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 1, tzinfo=UTC)
END = datetime.datetime(2026, 12, 1, tzinfo=UTC)


def m(minutes):
    return model.iso(T0 + datetime.timedelta(minutes=minutes))


def doc(iid, opened, severity="SEV2", ack=None, mitigated=None, resolved=None, impact=False, status=None):
    stamps = {"acknowledged_at": m(opened + ack) if ack is not None else None,
              "mitigated_at": m(opened + mitigated) if mitigated is not None else None,
              "resolved_at": m(opened + resolved) if resolved is not None else None}
    if status is None:
        status = "resolved" if resolved is not None else "mitigated" if mitigated is not None else \
            "acknowledged" if ack is not None else "open"
    return dict(stamps, id=iid, severity=severity, opened_at=m(opened), customer_impact=impact, status=status,
                closed_at=None)


def test_kpis_by_hand():
    docs = [doc("a", 0, "SEV1", ack=5, mitigated=10, resolved=20),            # SEV1 met (300 s <= 900 s)
            doc("b", 60, "SEV1", ack=20, mitigated=30, resolved=60, impact=True),  # SEV1 breached (1200 s)
            doc("c", 120, "SEV3", ack=2),                                      # not resolved yet
            doc("d", 180, "SEV1"),                                             # SEV1 never acknowledged
            doc("old", -60, "SEV1", ack=1, resolved=2)]                         # before the period
    now = T0 + datetime.timedelta(minutes=190)  # "d" is 10 minutes old: pending, not breached yet
    out = kpis.kpis(docs, T0, END, now)
    assert out["incidents"] == 4 and out["by_severity"] == {"SEV1": 3, "SEV3": 1}
    assert out["time_to_acknowledge"] == {"count": 3, "mean_s": round((300 + 1200 + 120) / 3.0, 1), "median_s": 300,
                                          "max_s": 1200, "pending": 1}
    assert out["time_to_mitigate"]["count"] == 2 and out["time_to_mitigate"]["median_s"] == (600 + 1800) / 2.0
    assert out["time_to_resolve"]["count"] == 2 and out["mttr_s"] == 2400.0 and out["mttr_met"] is False
    assert out["time_to_resolve"]["within_target"] == 1 and out["time_to_resolve"]["within_target_pct"] == 50.0
    assert out["resolved_without_customer_impact"] == {"resolved": 2, "without_impact": 1, "pct": 50.0, "met": False}
    sev1 = out["sev1_response"]
    assert sev1["met"] == 1 and sev1["breached"] == ["b"] and sev1["pending"] == 1 and sev1["met_pct"] == 50.0
    assert sev1["all_met"] is False
    later = kpis.kpis(docs, T0, END, T0 + datetime.timedelta(minutes=196))  # "d" is now 16 minutes old
    assert later["sev1_response"]["breached"] == ["b", "d"] and later["sev1_response"]["pending"] == 0


def test_kpis_of_an_empty_period_say_none_not_zero():
    out = kpis.kpis([], T0, END, END)
    assert out["incidents"] == 0 and out["mttr_s"] is None and out["mttr_met"] is None
    assert out["resolved_without_customer_impact"]["pct"] is None and out["sev1_response"]["all_met"] is None


def test_targets_can_be_changed():
    docs = [doc("a", 0, "SEV1", ack=20, resolved=40)]
    out = kpis.kpis(docs, T0, END, END, {"sev1_response_s": 1800, "mttr_s": 3600})
    assert out["sev1_response"]["all_met"] is True and out["mttr_met"] is True


DOC = st.builds(lambda i, opened, sev, ack, mit, res, impact: doc("i%d" % i, opened, sev, ack, mit, res, impact),
                st.integers(0, 10 ** 6), st.integers(-100, 50000), st.sampled_from(model.SEVERITIES),
                st.one_of(st.none(), st.integers(0, 100)), st.one_of(st.none(), st.integers(100, 200)),
                st.one_of(st.none(), st.integers(200, 400)), st.booleans())


@settings(max_examples=200, deadline=None)
@given(st.lists(DOC, max_size=25, unique_by=lambda d: d["id"]), st.integers(0, 60000))
def test_kpi_arithmetic_is_consistent(docs, now_minutes):
    now = T0 + datetime.timedelta(minutes=now_minutes)
    out = kpis.kpis(docs, T0, END, now)
    selected = kpis.in_period(docs, T0, END)
    assert out["incidents"] == len(selected) == sum(out["by_severity"].values()) == sum(out["by_status"].values())
    for name in ("time_to_acknowledge", "time_to_mitigate", "time_to_resolve"):
        part = out[name]
        assert part["count"] + part["pending"] == len(selected)
        if part["count"]:
            assert 0 <= part["median_s"] <= part["max_s"] and part["mean_s"] <= part["max_s"]
    clean = out["resolved_without_customer_impact"]
    assert clean["resolved"] == out["time_to_resolve"]["count"] and 0 <= clean["without_impact"] <= clean["resolved"]
    assert clean["pct"] is None or 0 <= clean["pct"] <= 100
    sev1 = out["sev1_response"]
    assert sev1["met"] + len(sev1["breached"]) + sev1["pending"] == sev1["count"] == out["by_severity"].get("SEV1", 0)


# --------------------------------------------------------------------------- filters and public projection

def full(iid, **spec):
    base = {"title": "t", "severity": "SEV2"}
    base.update(spec)
    return model.new_incident(base, T0 + datetime.timedelta(hours=len(iid)), iid, {"source": "person", "author": "x"})


def test_filters():
    docs = [full("aaa", severity="SEV1", components=["api"]), full("bbbb", public=True, customer_impact=True),
            full("ccccc", responders=["bob"])]
    assert [d["id"] for d in query.select(docs, {})] == ["ccccc", "bbbb", "aaa"]
    assert [d["id"] for d in query.select(docs, {"severity": ["SEV1"]})] == ["aaa"]
    assert [d["id"] for d in query.select(docs, {"component": "api", "status": ["open"]})] == ["aaa"]
    assert [d["id"] for d in query.select(docs, {"public": True, "customer_impact": True})] == ["bbbb"]
    assert [d["id"] for d in query.select(docs, {"public": False})] == ["ccccc", "aaa"]
    assert [d["id"] for d in query.select(docs, {"responder": "bob"})] == ["ccccc"]
    assert [d["id"] for d in query.select(docs, {"opened_after": m(240), "opened_before": m(300)})] == ["bbbb"]
    assert query.summary(docs[0])["timeline_entries"] == 1
    with pytest.raises(IncidentError, match="status filter 'down'"):
        query.select(docs, {"status": ["down"]})
    with pytest.raises(IncidentError, match="severity filter 'P1'"):
        query.select(docs, {"severity": ["P1"]})
    with pytest.raises(IncidentError, match="invalid time"):
        query.select(docs, {"opened_after": "last week"})


def test_public_view_shows_public_fields_only():
    private = full("priv")
    assert query.public_view(private) is None
    pub = full("pub", public=True, summary="primary db-7 lost its disk", responders=["alice"], customer_impact=True,
               components=["Checkout"], links=[{"url": "https://chat.internal/x"}])
    pub, _fields = model.apply(pub, "mitigated", {}, T0 + datetime.timedelta(hours=5), {"source": "person", "author": "alice"},
                               {"text": "Failover done; checkout works again.", "public": True, "data": {"host": "db-7"}})
    pub, _fields = model.apply(pub, "update", {}, T0 + datetime.timedelta(hours=6), {"source": "runbook", "author": "r.yml"},
                               {"text": "vacuum on db-7 internal", "data": {"secret_host": "db-7"}})
    view = query.public_view(pub)
    assert view["status"] == "monitoring" and view["components"] == ["Checkout"] and view["title"] == "t"
    assert view["updates"] == [{"at": pub["mitigated_at"], "text": "Failover done; checkout works again.",
                                "status": "monitoring"}]
    text = repr(view)
    for secret in ("db-7 lost", "alice", "chat.internal", "internal", "r.yml", "customer_impact", "responders"):
        assert secret not in text
