# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Content digests in the fingerprint comparison: a differing digest names the table with both digests; digests
are compared only when the content check produced one; large objects are one check."""

from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import fingerprint

DIGEST = st.binary(min_size=32, max_size=32).map(bytes.hex)
TABLES = st.dictionaries(
    st.from_regex(r"\A[a-zA-Z ü]{1,6}\.[a-z ]{1,8}\Z"),
    st.fixed_dictionaries({"rows": st.integers(min_value=0, max_value=10 ** 6), "sha256": DIGEST}), max_size=10)


@given(TABLES)
def test_identical_digests_pass(tables):
    checks = fingerprint.compare(tables, tables)
    assert all(c["passed"] for c in checks)
    assert sum(1 for c in checks if c["kind"] == "content") == len(tables)


@given(TABLES, st.data())
def test_every_changed_digest_is_named_with_both_digests(tables, data):
    if not tables:
        return
    changed = data.draw(st.sets(st.sampled_from(sorted(tables)), min_size=1))
    found = dict((t, dict(v, sha256="f" * 63 + "g") if t in changed else dict(v)) for t, v in tables.items())
    failed = [c for c in fingerprint.compare(tables, found) if not c["passed"]]
    assert sorted(c["table"] for c in failed) == sorted(changed)
    for check in failed:
        assert check["kind"] == "content"
        assert check["detail"] == "table %s: content differs from the backup (sha256 %s expected, %s found)" % (
            check["table"], tables[check["table"]]["sha256"], "f" * 63 + "g")


def test_digests_only_compared_when_the_content_check_ran():
    expected = {"public.a": {"rows": 2, "sha256": "a" * 64}, "public.old": {"rows": 1}}
    # content check off: the found side has no digest
    assert all(c["passed"] for c in fingerprint.compare(expected, {"public.a": {"rows": 2}, "public.old": {"rows": 1}}))
    # content check on, but the table had no data block
    failed = [c for c in fingerprint.compare(expected, {"public.a": {"rows": 2, "sha256": None},
                                                        "public.old": {"rows": 1, "sha256": "b" * 64}})
              if not c["passed"]]
    assert [c["detail"] for c in failed] == [
        "table public.a: content differs from the backup (sha256 %s expected, no data found)" % ("a" * 64)]


def test_excluded_data_is_not_compared_by_content():
    expected = {"public.logs": {"rows": 0, "data_excluded": True}}
    assert all(c["passed"] for c in fingerprint.compare(expected, {"public.logs": {"rows": 0, "sha256": None}}))


def test_large_objects():
    want = {"count": 2, "sha256": "c" * 64}
    assert fingerprint.compare_large_objects(want, dict(want))["passed"]
    check = fingerprint.compare_large_objects(want, {"count": 1, "sha256": "d" * 64})
    assert not check["passed"] and check["table"] == "large objects"
    assert "2 objects, sha256 %s expected; 1 objects, sha256 %s found" % ("c" * 64, "d" * 64) in check["detail"]
    assert fingerprint.compare_large_objects(None, None)["passed"]
    assert not fingerprint.compare_large_objects(None, want)["passed"]


def test_compare_content_alone():
    expected = {"public.a": {"rows": 2, "sha256": "a" * 64}, "public.b": {"rows": 1, "sha256": "b" * 64},
                "public.x": {"rows": 0, "data_excluded": True}, "public.old": {"rows": 4}}
    digests = {"public.a": {"sha256": "a" * 64}, "public.b": {"sha256": "e" * 64}, "public.new": {"sha256": "f" * 64}}
    failed = [c for c in fingerprint.compare_content(expected, digests) if not c["passed"]]
    assert [(c["table"], c["kind"]) for c in failed] == [("public.b", "content"), ("public.new", "content")]
    assert "public.new" in failed[1]["detail"]
    only_a = fingerprint.compare_content(expected, digests, tables=["public.a"])
    assert [(c["table"], c["passed"]) for c in only_a] == [("public.a", True)]
