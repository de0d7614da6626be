"""Choosing the backup to restore (pure; property-tested)."""

import datetime

from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.select import choose

UTC = datetime.timezone.utc
START = datetime.datetime(2026, 1, 1, tzinfo=UTC)


def entry(offset_h, valid=True, n=0):
    when = START + datetime.timedelta(hours=offset_h)
    return {"backup_id": "%s-%08x" % (clock.compact(when), n), "created_at": clock.isoformat(when), "valid": valid,
            "problems": [] if valid else ["object x is missing"]}


BACKUPS = st.lists(st.tuples(st.integers(min_value=0, max_value=5000), st.booleans()), max_size=30).map(
    lambda items: [entry(h, v, i) for i, (h, v) in enumerate(items)])


@given(BACKUPS, st.randoms())
def test_latest_is_the_newest_valid_whatever_the_order(backups, rnd):
    shuffled = list(backups)
    rnd.shuffle(shuffled)
    chosen, reason = choose(shuffled)
    valid = [b for b in backups if b["valid"]]
    if not valid:
        assert chosen is None and reason == "no valid backup"
        return
    assert chosen["valid"] and chosen["created_at"] == max(b["created_at"] for b in valid)


@given(BACKUPS, st.integers(min_value=0, max_value=5000))
def test_at_or_before_never_picks_a_later_backup(backups, limit_h):
    limit = START + datetime.timedelta(hours=limit_h)
    chosen, reason = choose(backups, at_or_before=clock.isoformat(limit))
    eligible = [b for b in backups if b["valid"] and clock.parse_time(b["created_at"]) <= limit]
    if not eligible:
        assert chosen is None and "at or before" in reason
    else:
        assert clock.parse_time(chosen["created_at"]) <= limit
        assert chosen["created_at"] == max(b["created_at"] for b in eligible)


def test_by_id():
    good, bad = entry(1, n=1), entry(2, valid=False, n=2)
    assert choose([good, bad], backup_id=good["backup_id"]) == (good, None)
    chosen, reason = choose([good, bad], backup_id=bad["backup_id"])
    assert chosen is None and "not usable here: object x is missing" in reason
    assert "not in this destination" in choose([good], backup_id="20200101T000000Z-00000000")[1]
