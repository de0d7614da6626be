"""The globals replay's reader of pg_dumpall SQL: statements, role names, and what runs on a server that has roles."""

import pytest
from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.globals import classify, plan, split_statements

SAMPLE = r"""--
-- PostgreSQL database cluster dump
--

\restrict VE03yGMTePbDwSn0BbAtCob9jfzBvd3f

SET default_transaction_read_only = off;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

--
-- Roles; with a semicolon in a comment
--

CREATE ROLE "Odd ""name"";x";
ALTER ROLE "Odd ""name"";x" WITH NOSUPERUSER INHERIT LOGIN CONNECTION LIMIT 3 PASSWORD 'SCRAM-SHA-256$4096:k0==$a=:b=';
CREATE ROLE app;
ALTER ROLE app WITH LOGIN VALID UNTIL '2030-01-01 00:00:00+00';
COMMENT ON ROLE app IS 'a; comment
with -- a newline and ''quotes''';
CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER LOGIN PASSWORD 'SCRAM-SHA-256$4096:secret';
ALTER ROLE app SET search_path TO E'app\'s; schema';
CREATE TABLESPACE fast OWNER postgres LOCATION '/srv/fast';
GRANT grp TO "Odd ""name"";x" GRANTED BY postgres;
GRANT grp TO postgres WITH ADMIN OPTION GRANTED BY postgres;
CREATE ROLE grp;
COMMENT ON ROLE grp IS $q$dollar; quoted$q$;

\unrestrict VE03yGMTePbDwSn0BbAtCob9jfzBvd3f
"""


def test_statements_of_a_pg_dumpall_file():
    kinds = [classify(s)[:2] for s in split_statements(SAMPLE)]
    assert kinds == [("set", None)] * 3 + [
        ("create_role", 'Odd "name";x'), ("role", 'Odd "name";x'), ("create_role", "app"), ("role", "app"),
        ("role", "app"), ("create_role", "postgres"), ("role", "postgres"), ("role", "app"), ("tablespace", "fast"),
        ("role", 'Odd "name";x'), ("role", "postgres"), ("create_role", "grp"), ("role", "grp")]


def test_existing_roles_are_never_touched_and_summaries_carry_no_literal():
    run, report = plan(split_statements(SAMPLE), {"postgres"})
    assert report["roles_created"] == ['Odd "name";x', "app", "grp"]
    assert report["roles_existing"] == ["postgres"]
    assert not any("postgres" in classify(s)[2] for s in run if classify(s)[0] != "set")
    assert sorted(s["statement"] for s in report["skipped"]) == [
        "ALTER ROLE postgres", "CREATE ROLE postgres", "CREATE TABLESPACE fast", "GRANT grp TO postgres"]
    assert report["warnings"] and "tablespace" in report["warnings"][0]
    assert "SCRAM" not in repr(report) and "secret" not in repr(report)
    assert not any(classify(s)[2] == "SET CLIENT_ENCODING" for s in run)
    with pytest.raises(ConfigError, match="postgres"):
        plan(split_statements(SAMPLE), {"postgres"}, on_existing="fail")


def test_unterminated_input_is_refused():
    for text in ("CREATE ROLE \"x;", "COMMENT ON ROLE x IS 'a;", "CREATE ROLE x"):
        with pytest.raises(ConfigError):
            split_statements(text)


def _quote(name):
    return '"%s"' % name.replace('"', '""')


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1,
                        max_size=20), min_size=1, max_size=5, unique=True))
def test_any_quoted_role_name_round_trips(names):
    text = "".join("CREATE ROLE %s;\nALTER ROLE %s WITH LOGIN PASSWORD 'x;y';\nGRANT g TO %s GRANTED BY postgres;\n"
                   % ((_quote(n),) * 3) for n in names)
    found = [classify(s)[:2] for s in split_statements(text)]
    assert found == [k for n in names for k in (("create_role", n), ("role", n), ("role", n))]
    run, report = plan(split_statements(text), set(names[:1]))
    assert report["roles_created"] == names[1:] and report["roles_existing"] == names[:1]
    assert len(run) == 3 * (len(names) - 1)
