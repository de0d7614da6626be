"""Message templates (pure): the same skeleton with any ids, numbers, addresses, paths... inserted gives the same
template; different words give different templates; parts of words are never masked."""

import ipaddress
import json
import re

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.logs.templates import message_text, template

WORDS = st.from_regex(r"\A[a-z]{1,10}\Z")
HEX = "0123456789abcdef"


UUIDS = st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper())
IPV4 = st.builds(lambda a, port: str(a) + (":%d" % port if port else ""), st.ip_addresses(v=4),
                 st.none() | st.integers(1, 65535))
IPV6 = st.ip_addresses(v=6).map(str).filter(lambda s: any(c.isdigit() for c in s))
IPV6_PORT = st.builds(lambda a, port: "[%s]:%d" % (a, port), st.ip_addresses(v=6), st.integers(1, 65535))
EMAILS = st.builds(lambda local, domain, tld: "%s@%s.%s" % (local, domain, tld),
                   st.from_regex(r"\A[a-z0-9][a-z0-9._+-]{0,15}\Z"), st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?\Z"),
                   st.from_regex(r"\A[a-z]{2,6}\Z"))
HEX_IDS = st.text(HEX, min_size=8, max_size=40).filter(lambda s: any(c.isdigit() for c in s) and any(c.isalpha() for c in s))
HEX_0X = st.text(HEX + "ABCDEF", min_size=1, max_size=16).map(lambda s: "0x" + s)
PATHS = st.lists(st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}\Z"), min_size=2, max_size=6).map(lambda p: "/" + "/".join(p))
QUOTED = st.text(st.characters(blacklist_characters='"\\\n', blacklist_categories=("Cs", "Zl", "Zp")),
                 min_size=1, max_size=30).map(lambda s: '"%s"' % s)
INTS = st.integers(-10 ** 12, 10 ** 12).map(str)
DECIMALS = st.builds(lambda a, b: "%d.%d" % (a, b), st.integers(0, 10 ** 6), st.integers(0, 999))
DURATIONS = st.builds(lambda n, unit: "%s%s" % (n, unit), st.integers(0, 10 ** 5) | st.floats(0, 1e5).map(lambda f: "%.2f" % f),
                      st.sampled_from(["ms", "s", "us", "ns", "m", "h", "d", "min", "sec"]))
COMPOUND = st.builds(lambda h, m: "%dh%dm" % (h, m), st.integers(0, 99), st.integers(0, 59))
SIZES = st.builds(lambda n, unit: "%d%s" % (n, unit), st.integers(0, 10 ** 6),
                  st.sampled_from(["B", "KB", "kB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "k", "M", "G", "%"]))
URL_QUERIES = st.builds(lambda a, b: "https://api.example.com/v1/orders?id=%s&page=%s" % (a, b),
                        st.from_regex(r"\A[A-Za-z0-9_.~-]{0,12}\Z"), st.integers(0, 999))
TIMES = st.datetimes().map(lambda d: d.isoformat(sep=" ", timespec="seconds")) | \
    st.datetimes().map(lambda d: d.isoformat(timespec="milliseconds") + "Z")

KINDS = {
    "uuid": UUIDS, "ipv4": IPV4, "ipv6": IPV6, "ipv6port": IPV6_PORT, "email": EMAILS, "hex": HEX_IDS, "0x": HEX_0X,
    "path": PATHS, "quoted": QUOTED, "int": INTS, "decimal": DECIMALS, "duration": DURATIONS, "compound": COMPOUND,
    "size": SIZES, "url": URL_QUERIES, "time": TIMES,
}
KIND_NAMES = sorted(KINDS)


@st.composite
def skeletons(draw):
    """A skeleton: words and typed slots, e.g. ['user', ('int',), 'logged', 'in', 'from', ('ipv4',)]."""
    parts = draw(st.lists(st.one_of(WORDS, st.sampled_from(KIND_NAMES).map(lambda k: (k,))), min_size=1, max_size=10))
    return parts


@st.composite
def fill(draw, skeleton):
    out = []
    for part in skeleton:
        out.append(draw(KINDS[part[0]]) if isinstance(part, tuple) else part)
    return " ".join(out)


@settings(max_examples=400)
@given(st.data())
def test_same_skeleton_same_template(data):
    skeleton = data.draw(skeletons())
    one = data.draw(fill(skeleton))
    two = data.draw(fill(skeleton))
    assert template(one) == template(two), (one, two)


@settings(max_examples=200)
@given(st.data())
def test_variable_parts_never_survive(data):
    """Whatever value a slot gets, the template holds the placeholder and not the value."""
    kind = data.draw(st.sampled_from([k for k in KIND_NAMES if k not in ("url", "quoted")]))
    value = data.draw(KINDS[kind])
    result = template("before %s after" % value)
    assert result.startswith("before <") and result.endswith("> after"), (value, result)
    assert value not in result


@settings(max_examples=200)
@given(skeletons(), skeletons())
def test_different_words_different_templates(one, two):
    words_one = [p for p in one if not isinstance(p, tuple)]
    words_two = [p for p in two if not isinstance(p, tuple)]
    if words_one == words_two:
        return
    line_one = " ".join(p if not isinstance(p, tuple) else "42" for p in one)
    line_two = " ".join(p if not isinstance(p, tuple) else "42" for p in two)
    assert template(line_one) != template(line_two)


# Words that mix letters and digits, with at least one letter outside a-f (so not a hex id), are words; a number
# followed by a unit (12ms, 1h30m, 10mb, 3x) is a number.
NUMBER_WITH_UNIT = re.compile(r"\A(?:\d+(?:ns|us|ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?"
                              r"|[kmgtp]i?b|[kmgtp]|b|bytes?|x))+\Z")
GLUED = st.from_regex(r"\A[a-z]*[g-z][a-z]*[0-9]+[a-z0-9]*\Z") | \
    st.from_regex(r"\A[0-9]+[a-z]*[g-z][a-z0-9]*\Z").filter(lambda w: not NUMBER_WITH_UNIT.match(w))


@settings(max_examples=300)
@given(st.lists(GLUED, min_size=1, max_size=5))
def test_parts_of_words_are_not_masked(words):
    line = " ".join(words)
    assert template(line) == line


@pytest.mark.parametrize("line, expected", [
    ("error404page eth0 v2 sha256 utf8 ipv6", "error404page eth0 v2 sha256 utf8 ipv6"),
    ("arch x86_64", "arch x86_<num>"),  # an underscore separates, as in user_17
    ("worker-3 id=42 user_17 (7) [12]", "worker-<num> id=<num> user_<num> (<num>) [<num>]"),
    ("deadbeef cafe 12345678 9f86d081 0x1F", "deadbeef cafe <num> <hex> <hex>"),
    # found by hypothesis: a size or a duration whose unit is a hex letter is a number, whatever its length
    ("0x0 0B 1000000B 12345678d 1234567bd", "<hex> <num> <num> <num> <hex>"),
    ("std::string a::b dead::beef at 08:25:13", "std::string a::b dead::beef at <num>:<num>:<num>"),
    ("from fe80::1%eth0 and [2001:db8::1]:443 and ::1", "from <ip> and <ip> and <ip>"),
    ("from 10.0.0.1:8080, to 192.168.1.1.", "from <ip>, to <ip>."),
    ("version 1.2.3 and v1.2", "version <num> and v1.2"),
    ("took 12ms then 3.5s then 1h30m, 10MB of 1.5GiB, 45% cpu, -5 degrees",
     "took <num> then <num> then <num>, <num> of <num>, <num> cpu, <num> degrees"),
    ("GET /api/v1/users/42?id=7&token=abc HTTP/1.1 200", "GET <path>?id=<val>&token=<val> HTTP/<num> <num>"),
    ("http://10.1.2.3/a/b/42 https://example.com/x?q=1", "http://<ip>/a/b/<num> https://example.com/x?q=<val>"),
    ("open /var/lib/123e4567-e89b-12d3-a456-426614174000/data failed", "open <path> failed"),
    ("/tmp alone and a/b/c relative", "/tmp alone and a/b/c relative"),
    ("can't open 'foo.txt': user \"bob\" not found; it's ok", "can't open '<str>': user \"<str>\" not found; it's ok"),
    ("mail to Alice.B+x@mail.example.org bounced", "mail to <email> bounced"),
    ("at 2026-12-05T08:25:13.123+01:00 and 2026-12-05 08:25", "at <time> and <time>"),
    ("  many   spaces\there  ", "many spaces here"),
    ("retry in 5min after 3x, 2h gone", "retry in <num> after <num>, <num> gone"),
])
def test_examples(line, expected):
    assert template(line) == expected


def test_quoted_strings_are_kept_when_asked():
    assert template('user "alice" not found', quoted=False) == 'user "alice" not found'
    assert template('user "alice" not found') == template('user "bob" not found') == 'user "<str>" not found'


def test_json_lines_template_their_message_field():
    one = json.dumps({"level": "error", "msg": "payment 42 failed", "id": 42, "ts": "2026-12-05T08:00:00Z"})
    two = json.dumps({"level": "error", "message": "payment 7 failed", "trace": "9f86d081884c7d65"})
    assert template(one) == template(two) == "payment <num> failed"
    assert message_text('{"no": "message"}') == '{"no": "message"}'
    assert message_text("{not json}") == "{not json}"
    assert message_text(None) == ""


def test_ipv6_forms():
    for text in ("2001:db8:85a3:0:0:8a2e:370:7334", "2001:db8::8a2e:370:7334", "::ffff:10.0.0.1", "1::", "fe80::1"):
        assert template("peer %s gone" % text) == "peer <ip> gone", text
    assert str(ipaddress.IPv6Address("2001:db8::1")) == "2001:db8::1"
