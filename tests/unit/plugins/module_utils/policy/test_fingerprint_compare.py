"""Fingerprint comparison: every difference is one failed check naming the table (pure; property-tested)."""

from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import fingerprint

TABLES = st.dictionaries(
    st.from_regex(r"\A[a-z]{1,6}\.[a-z]{1,8}\Z"),
    st.fixed_dictionaries({"rows": st.integers(min_value=0, max_value=10 ** 9)},
                          optional={"checksum": st.integers(min_value=-2 ** 63, max_value=2 ** 63 - 1).map(str)}),
    max_size=12)


@given(TABLES)
def test_identical_fingerprints_pass(tables):
    checks = fingerprint.compare(tables, tables)
    assert all(c["passed"] for c in checks)
    assert len(checks) == len(tables) + sum(1 for t in tables.values() if "checksum" in t)
    assert fingerprint.mismatches(checks) == []


@given(TABLES, st.data())
def test_every_changed_row_count_is_named(tables, data):
    if not tables:
        return
    changed = data.draw(st.sets(st.sampled_from(sorted(tables)), min_size=1))
    found = dict((t, dict(v, rows=v["rows"] + 1) if t in changed else dict(v)) for t, v in tables.items())
    failed = [c for c in fingerprint.compare(tables, found) if not c["passed"]]
    assert sorted(c["table"] for c in failed) == sorted(changed)
    for check in failed:
        assert check["expected"] == tables[check["table"]]["rows"] and check["found"] == check["expected"] + 1
        assert check["table"] in check["detail"]


def test_missing_extra_checksum_and_excluded_tables():
    expected = {"public.a": {"rows": 3}, "public.b": {"rows": 5, "checksum": "77"},
                "public.logs": {"rows": 0, "data_excluded": True}}
    found = {"public.b": {"rows": 5, "checksum": "78"}, "public.c": {"rows": 1}, "public.logs": {"rows": 0}}
    checks = fingerprint.compare(expected, found)
    failed = dict((c["table"], c) for c in checks if not c["passed"])
    assert set(failed) == {"public.a", "public.b", "public.c"}
    assert failed["public.a"]["detail"] == "table public.a is missing from the restore"
    assert failed["public.b"]["kind"] == "checksum" and failed["public.b"]["expected"] == "77"
    assert "not in the backup's fingerprint" in failed["public.c"]["detail"]
    assert [c["passed"] for c in checks if c["table"] == "public.logs"] == [True]
