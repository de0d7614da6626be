# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mark and sweep of shared packs (pure set logic)."""

import datetime

from ansible_collections.watchkeeper.ops.plugins.module_utils.retention import sweep

UTC = datetime.timezone.utc
NOW = datetime.datetime(2027, 1, 10, tzinfo=UTC)
OLD = NOW - datetime.timedelta(days=2)
GRACE = 24 * 3600


def manifest(*keys):
    return {"files": {"packs": [{"key": k, "sha256": "0" * 64} for k in keys]}}


def test_only_unreferenced_old_packs_are_swept():
    packs = {"j/packs/aa/a": OLD, "j/packs/bb/b": OLD, "j/packs/cc/c": OLD, "j/packs/dd/d": NOW}
    plan = sweep.sweep(packs, {"1": manifest("j/packs/aa/a"), "2": manifest("j/packs/aa/a", "j/packs/bb/b"), "3": {}},
                       NOW, GRACE)
    assert plan.remove == ["j/packs/cc/c"]
    assert plan.young == ["j/packs/dd/d"]
    assert plan.referenced == {"j/packs/aa/a", "j/packs/bb/b"} and plan.blocked is None


def test_a_pack_of_unknown_age_is_young_and_the_grace_edge_is_old():
    plan = sweep.sweep({"j/packs/x": None, "j/packs/y": NOW - datetime.timedelta(seconds=GRACE)}, {}, NOW, GRACE)
    assert plan.remove == ["j/packs/y"] and plan.young == ["j/packs/x"]


def test_an_unreadable_remaining_manifest_blocks_the_sweep():
    plan = sweep.sweep({"j/packs/aa/a": OLD}, {"1": manifest(), "20270101T000000Z-0000000a": None}, NOW, GRACE)
    assert plan.remove == [] and "20270101T000000Z-0000000a" in plan.blocked


def test_pack_keys_ignores_malformed_entries():
    assert sweep.pack_keys({"files": {"packs": [{"key": "k"}, {"nokey": 1}, "x"]}}) == {"k"}
    assert sweep.pack_keys({"files": None}) == set() and sweep.pack_keys(None) == set()
