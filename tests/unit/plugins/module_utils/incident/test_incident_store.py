# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incident store on a real directory: claimed versions, roll-forward, a lost claim retried, and two real
processes appending 20 timeline entries each to one incident without losing any."""

import datetime
import multiprocessing
import os

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import model
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.store import IncidentStore, open_incidents
from ansible_collections.watchkeeper.ops.plugins.module_utils.versioned_store import ConcurrentUpdate, claim, dumps

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
ACTOR = {"source": "runbook", "author": "test"}


def note(text, minutes=1):
    def change(doc):
        return model.apply(doc, "update", {}, T0 + datetime.timedelta(minutes=minutes), ACTOR, {"text": text})[0]
    return change


def first(store, iid="inc-one"):
    return store.create(model.new_incident({"title": "t", "severity": "SEV1"}, T0, iid, ACTOR))


def test_create_get_update_and_layout(tmp_path):
    store = open_incidents(str(tmp_path))
    doc = first(store)
    assert doc["generation"] == 1 and first(store) is None  # the id is taken
    before, after = store.update("inc-one", note("a"))
    assert before["generation"] == 1 and after["generation"] == 2
    assert store.update("inc-one", note("a")) == (after, after)  # no change: no new version
    assert store.update("inc-missing", note("a")) == (None, None)
    assert sorted(os.listdir(str(tmp_path / "incidents" / "versions" / "inc-one"))) == ["00000001.json",
                                                                                        "00000002.json"]
    assert os.path.exists(str(tmp_path / "incidents" / "records" / "inc-one.json"))
    assert store.ids() == ["inc-one"] and [d["id"] for d in store.all()] == ["inc-one"]


def test_readers_roll_forward_over_an_unpublished_version(tmp_path):
    store = open_incidents(str(tmp_path))
    doc = first(store)
    newer = dict(model.apply(doc, "acknowledged", {}, T0, ACTOR)[0], generation=2)
    assert claim(store.storage, store.version_key("inc-one", 2), dumps(newer))  # a writer that died before publishing
    assert store.get("inc-one")["status"] == "acknowledged"
    orphan = model.new_incident({"title": "t", "severity": "SEV3"}, T0, "inc-orphan", ACTOR)
    assert claim(store.storage, store.version_key("inc-orphan", 1), dumps(dict(orphan, generation=1)))
    assert store.ids() == ["inc-one", "inc-orphan"]


def test_a_lost_claim_is_retried_on_the_newer_version(tmp_path):
    store = open_incidents(str(tmp_path))
    first(store)
    rival = IncidentStore(store.storage)
    calls = []

    def change(doc):
        calls.append(doc["generation"])
        if len(calls) == 1:  # another node wins generation 2 between our read and our claim
            rival.update("inc-one", note("rival's entry", 2))
        return note("our entry", 3)(doc)

    _before, after = store.update("inc-one", change)
    assert calls == [1, 2] and after["generation"] == 3
    assert [e["text"] for e in after["timeline"]][1:] == ["rival's entry", "our entry"]


def test_an_update_that_always_loses_says_so(tmp_path):
    store = open_incidents(str(tmp_path))
    first(store)
    rival = IncidentStore(store.storage)
    counter = []

    def change(doc):
        counter.append(1)
        rival.update("inc-one", note("rival %d" % len(counter)))
        return note("ours")(doc)

    with pytest.raises(ConcurrentUpdate, match="incident inc-one: 3 updates in a row lost the race"):
        store.update("inc-one", change, attempts=3)


def _writer(root, worker, count, start):
    store = open_incidents(root)
    start.wait()
    for i in range(count):
        store.update("inc-race", note("worker %d entry %02d" % (worker, i), minutes=i))


def test_two_processes_never_lose_a_timeline_entry(tmp_path):
    root = str(tmp_path)
    first(open_incidents(root), "inc-race")
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(root, w, 20, start)) for w in (1, 2)]
    for proc in procs:
        proc.start()
    start.set()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    doc = open_incidents(root).get("inc-race")
    texts = [e["text"] for e in doc["timeline"]]
    expected = ["worker %d entry %02d" % (w, i) for w in (1, 2) for i in range(20)]
    assert sorted(t for t in texts if t.startswith("worker")) == sorted(expected)
    assert len(texts) == 41 and doc["generation"] == 41
    assert len(os.listdir(os.path.join(root, "incidents", "versions", "inc-race"))) == 41
