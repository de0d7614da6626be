"""User assertions on restored data (pure)."""

import datetime
import decimal

import pytest
from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import assertions

UTC = datetime.timezone.utc
BACKUP = datetime.datetime(2026, 11, 27, 1, 30, tzinfo=UTC)


def check(op, value, found):
    return assertions.evaluate({"name": "n", "sql": "select 1", "op": op, "value": value}, found, BACKUP)


@pytest.mark.parametrize("op,value,found,passed", [
    ("eq", 12, 12, True), ("eq", "12", 12, True), ("eq", 12, decimal.Decimal("12"), True), ("eq", 1, 2, False),
    ("ne", 1, 2, True), ("ge", 1, 0, False), ("ge", 1, 1, True), ("gt", 1, 1, False), ("lt", 5, 4.5, True),
    ("le", "b", "a", True), ("eq", "abc", "abc", True), ("eq", None, None, True), ("ne", None, 3, True),
    ("ge", 1, None, False), ("eq", 0, None, False),
])
def test_comparisons(op, value, found, passed):
    result = check(op, value, found)
    assert result["passed"] is passed
    assert (result["detail"] is None) is passed


@given(st.integers(min_value=-10 ** 6, max_value=10 ** 6), st.integers(min_value=-10 ** 6, max_value=10 ** 6))
def test_numeric_ops_agree_with_python(left, right):
    for op, fn in (("eq", int.__eq__), ("ne", int.__ne__), ("lt", int.__lt__), ("le", int.__le__), ("gt", int.__gt__),
                   ("ge", int.__ge__)):
        assert check(op, right, left)["passed"] is fn(left, right)
        assert check(op, str(right), str(left))["passed"] is fn(left, right)


@pytest.mark.parametrize("found,passed", [
    (BACKUP - datetime.timedelta(minutes=59), True), (BACKUP - datetime.timedelta(minutes=61), False),
    (BACKUP + datetime.timedelta(minutes=5), True), ("2026-11-27 01:00:00", True), ("2026-11-26T23:00:00Z", False),
    (datetime.datetime(2026, 11, 27, 1, 0), True), (None, False), ("not a time", False),
])
def test_within(found, passed):
    result = check("within", "1h", found)
    assert result["passed"] is passed
    if not passed:
        assert result["detail"].startswith("n: ")


def test_validate():
    assert assertions.validate({"sql": "select 1", "op": "eq", "value": 1}) == []
    assert "no sql" in assertions.validate({"name": "x"})[0]
    assert "op 'like'" in assertions.validate({"sql": "select 1", "op": "like"})[0]
    assert "not a duration" in assertions.validate({"sql": "select 1", "op": "within", "value": "soon"})[0]
