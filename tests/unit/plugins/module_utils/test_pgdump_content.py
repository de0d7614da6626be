# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup side of the content fingerprint (merge into the manifest, the tap that never raises, libpq options)
and the verification side's table groups."""

from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils import pgdump_content, pgdump_verify

SQL_FP = {"method": "rows+md5sum-v1", "snapshot": "0-1", "tables": {
    "public.a": {"rows": 3}, "public.b": {"rows": 1, "checksum": "9"}, "public.logs": {"rows": 0, "data_excluded": True},
    "public.nodata": {"rows": 0}}, "table_count": 4, "total_rows": 4, "duration_s": 0.1}
STREAM = {"method": "copy-sha256-v2", "archive": {"version": "1.14.0"},
          "tables": {"public.a": {"sha256": "a" * 64, "bytes": 40}, "public.b": {"sha256": "b" * 64, "bytes": 20},
                     "ext.config": {"sha256": "c" * 64, "bytes": 15}},
          "large_objects": {"count": 1, "sha256": "d" * 64, "bytes": 30}}
SETTINGS = {"TimeZone": "Pacific/Chatham", "bytea_output": "escape", "lc_monetary": "C", "server_encoding": "UTF8"}


def test_merge_adds_a_digest_to_every_table():
    fp = pgdump_content.merge(SQL_FP, STREAM, SETTINGS, "15.18", 0.25)
    assert fp["method"] == "copy-sha256-v2"
    assert fp["tables"]["public.a"] == {"rows": 3, "sha256": "a" * 64, "bytes": 40}
    assert fp["tables"]["public.b"] == {"rows": 1, "checksum": "9", "sha256": "b" * 64, "bytes": 20}
    assert fp["tables"]["public.logs"] == {"rows": 0, "data_excluded": True}
    assert fp["tables"]["public.nodata"] == {"rows": 0, "sha256": None}
    assert fp["tables"]["ext.config"] == {"sha256": "c" * 64, "bytes": 15}
    content = fp["content"]
    assert content["status"] == "ok" and content["pg_dump_major"] == 15 and content["settings"] == SETTINGS
    assert content["large_objects"]["count"] == 1 and content["tables_digested"] == 3 and content["bytes"] == 75
    assert SQL_FP["tables"]["public.a"] == {"rows": 3}  # the input is not changed


def test_merge_without_a_stream_keeps_the_counts_and_says_why():
    fp = pgdump_content.merge(SQL_FP, None, SETTINGS, "15.18", 0.01, "archive version 1.99.0 is not one ...")
    assert fp["method"] == "rows+md5sum-v1"
    assert fp["content"]["status"] == "unavailable" and fp["content"]["reason"].startswith("archive version 1.99")
    assert fp["tables"] == SQL_FP["tables"]


def test_the_tap_never_raises_and_remembers_why_it_stopped():
    tap = pgdump_content.StreamFingerprint()
    tap.tap(b"-- plain SQL, not an archive\n")
    tap.tap(b"more")
    assert tap.finish() is None and "PGDMP" in tap.error


def test_pgoptions_escape_spaces_and_backslashes():
    assert pgdump_content.pgoptions({"TimeZone": "America/New York", "bytea_output": "hex", "lc_monetary": "a\\b",
                                     "server_encoding": "UTF8"}) == \
        "-c TimeZone=America/New\\ York -c bytea_output=hex -c lc_monetary=a\\\\b"
    assert pgdump_content.pgoptions({}) == ""


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.integers(min_value=0, max_value=10 ** 9), max_size=40),
       st.integers(min_value=1, max_value=8))
def test_groups_hold_every_table_once_and_are_balanced(sizes, parallel):
    groups = pgdump_verify.plan_groups(sizes, parallel)
    names = [n for g in groups for n in g]
    assert sorted(names) == sorted(sizes) and len(groups) <= parallel
    if sum(1 for v in sizes.values() if v > 0) >= parallel:
        assert len(groups) == parallel  # every process gets work
    if groups:
        weights = [sum(sizes[n] for n in g) for g in groups]
        # greedy largest-first: no group exceeds the lightest by more than the biggest single table
        assert max(weights) - min(weights) <= max(sizes.values())


def test_quote_pattern_is_exact():
    assert pgdump_verify.quote_pattern('Sales Ü.Qu"ote.x*') == '"Sales Ü"."Qu""ote.x*"'
