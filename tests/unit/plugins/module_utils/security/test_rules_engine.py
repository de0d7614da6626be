"""The rule table and its engine: fixed unique ids, every rule documented, errors contained, secrets masked."""

import os
import re

from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.security import report, rules as rl, table

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "..", "docs", "security-audit.md")


def test_ids_are_unique_well_formed_and_every_area_has_rules():
    ids = [r.id for r in table.RULES]
    assert len(ids) == len(set(ids))
    assert all(rl.ID_RE.match(i) for i in ids)
    assert set(r.area for r in table.RULES) == set(table.AREAS)
    assert all(r.remediation and r.title for r in table.RULES)


def test_the_docs_list_every_rule_id_and_no_other():
    with open(DOCS) as handle:
        documented = set(re.findall(r"^\| `(WK-[A-Z]+-\d{3})`", handle.read(), re.M))
    assert documented == set(r.id for r in table.RULES)


def test_select_narrows_and_refuses_unknown_names():
    assert [r.area for r in table.select(["ssh"])] == ["ssh"] * 6
    assert [r.id for r in table.select(None, ["WK-NET-001"])] == ["WK-NET-001"]
    for bad in ((["nope"], None), (None, ["WK-XX-999"])):
        try:
            table.select(*bad)
        except ValueError as exc:
            assert "unknown" in str(exc)
        else:
            raise AssertionError("accepted %r" % (bad,))


def test_a_raising_check_is_an_error_finding_and_the_others_still_run():
    def boom(_ctx):
        raise OSError("disk on fire")
    rules = [rl.Rule("WK-TST-001", "test", "low", "boom", "fix", boom),
             rl.Rule("WK-TST-002", "test", "low", "ok", "fix", lambda ctx: rl.passed("fine")),
             rl.Rule("WK-TST-003", "test", "high", "bad", "do this", lambda ctx: [rl.failed("a", "x"), rl.failed("b", "y")])]
    found = rl.run(rules, None)
    assert [(f["id"], f["status"]) for f in found] == [("WK-TST-001", "error"), ("WK-TST-002", "pass"),
                                                       ("WK-TST-003", "fail"), ("WK-TST-003", "fail")]
    assert found[0]["evidence"] == "OSError: disk on fire"
    assert found[1]["remediation"] is None and found[2]["remediation"] == "do this"
    assert rl.failed_ids(found) == ["WK-TST-003"]
    assert rl.counts(found) == {"pass": 1, "fail": 2, "not_applicable": 0, "error": 1}


def test_a_waived_rule_is_not_run():
    calls = []
    rule = rl.Rule("WK-TST-001", "test", "low", "t", "r", lambda ctx: calls.append(1) or rl.failed("x"))
    found = rl.run([rule], None, skip={"WK-TST-001": "ticket 12"})
    assert calls == [] and found[0]["status"] == "not_applicable" and found[0]["evidence"] == "waived: ticket 12"


def test_bad_rule_definitions_are_refused():
    for args in (("WK-1", "a", "low"), ("WK-SSH-001", "a", "urgent")):
        try:
            rl.Rule(args[0], args[1], args[2], "t", "r", None)
        except ValueError:
            continue
        raise AssertionError(args)


SECRET = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="\"',;*"), min_size=6, max_size=30)


@given(SECRET, st.sampled_from(["requirepass", "password", "PASSWORD", "secret_key", "passphrase"]), st.sampled_from(["=", ": ", " = ", ":"]))
def test_mask_hides_the_value_of_every_secret_setting(secret, name, sep):
    text = "line before\n%s%s%s trailing" % (name, sep, secret)
    masked = rl.mask(text)
    assert secret not in masked and "********" in masked and masked.startswith("line before")


def test_mask_bounds_the_evidence():
    assert len(rl.mask("x" * 10000)) < rl.EVIDENCE_MAX + 30
    assert rl.mask(None) == "" and rl.mask(42) == "42"


def finding(rule_id, status, subject=None):
    return {"id": rule_id, "status": status, "subject": subject}


def test_summary_names_new_and_fixed_findings_against_the_previous_audit():
    first = report.build_summary("s1", {"a": {"findings": [finding("WK-SSH-001", "fail"), finding("WK-FILE-002", "fail", "/k")]},
                                        "b": {"findings": [finding("WK-SSH-001", "pass")]}})
    assert first["new"] == ["a|WK-FILE-002|/k", "a|WK-SSH-001|"] and first["fixed"] == []
    second = report.build_summary("s2", {"a": {"findings": [finding("WK-SSH-001", "fail"), finding("WK-FILE-002", "pass", "/k")]},
                                         "b": {"findings": [finding("WK-SSH-001", "fail")]},
                                         "c": {"findings": [], "error": "unreachable"}}, previous=first)
    assert second["previous"] == "s1"
    assert second["new"] == ["b|WK-SSH-001|"] and second["fixed"] == ["a|WK-FILE-002|/k"]
    assert second["hosts_failing"] == ["a", "b", "c"]
    assert second["counts"] == {"pass": 1, "fail": 2, "not_applicable": 0, "error": 0}


def test_report_files_appear_with_latest_and_never_overwrite(tmp_path):
    hosts = {"h/1": {"findings": [finding("WK-SSH-001", "fail")], "audited_at": "t"}}
    summary = report.build_summary("s1", hosts)
    path = report.write(str(tmp_path), "s1", hosts, summary)
    assert os.path.exists(os.path.join(path, "hosts", "h_1.json"))
    assert report.read_latest(str(tmp_path))["stamp"] == "s1"
    try:
        report.write(str(tmp_path), "s1", hosts, summary)
    except OSError as exc:
        assert "refusing" in str(exc)
    else:
        raise AssertionError("overwrote an audit")
    assert sorted(os.listdir(os.path.join(str(tmp_path), "reports", "security_audit"))) == ["latest.json", "s1"]
