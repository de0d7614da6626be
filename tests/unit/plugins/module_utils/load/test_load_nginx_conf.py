# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx text of a load_management plan: the classifier picks the first matching rule (checked by evaluating the
generated maps the way nginx does), every limit is in place, strings are quoted, and nginx -t accepts the result."""

import os
import re
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.load.classes import plan
from ansible_collections.watchkeeper.ops.plugins.module_utils.load.nginx_conf import quote, render

SERVERS = [{"address": "127.0.0.1:8000", "max_conns": 8}]
CLASSES = [
    {"name": "critical", "shed": False, "match": [{"prefix": "/health"}, {"exact": "/login", "methods": ["POST"]}],
     "client_rate": "20r/s", "client_burst": 40, "client_concurrency": 4},
    {"name": "normal", "concurrency": 4, "client_rate": 10, "client_burst": 5, "client_delay": 2},
    {"name": "bulk", "match": [{"regex": "^/(export|search)"}, {"regex": "\\.csv$", "methods": ["GET", "HEAD"]}],
     "rate": "30r/m", "burst": 10, "delay": 5, "concurrency": 2},
]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


def unquote(text):
    assert text[0] == text[-1] == '"'
    return re.sub(r'\\(["\\])', r"\1", text[1:-1])


def classify(http, uri, method):
    """What nginx computes: each $wk_lm_p/m map, then the composite key against the class map in order."""
    values = {}
    for kind, i, body in re.findall(r"^map \$(?:uri|request_method) \$wk_lm_([pm])(\d+) \{ default 0; (.*) \}$", http, re.M):
        if kind == "p":
            values["wk_lm_p" + i] = "1" if re.search(unquote(body[:-3].strip())[1:], uri) else "0"
        else:
            values["wk_lm_m" + i] = "1" if method in re.findall(r"([A-Z]+) 1;", body) else "0"
    found = re.search(r'^map ("[^"]*") \$wk_lm_class \{\n    default (\w+);\n((?:    .*\n)*?)\}', http, re.M)
    if not found:
        return re.search(r"\$wk_lm_class \{ default (\w+); \}", http).group(1)
    key = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], unquote(found.group(1)))
    for pattern, name in re.findall(r'^    ("[^"]+") (\w+);$', found.group(3), re.M):
        if re.search(unquote(pattern)[1:], key):
            return name
    return found.group(2)


def first_match(classes, default, uri, method):
    for klass in classes:
        for rule in klass["rules"]:
            if re.search(rule["regex"], uri) and (not rule["methods"] or method in rule["methods"]):
                return klass["name"]
    return default


def test_classes_limits_and_answers_are_all_there():
    checked = plan(CLASSES, SERVERS, critical_reserve=2, allow_ips=["10.1.0.0/16"], access_log="/var/log/x.log")
    out = render(checked)
    http, server = out["http"], out["server"]
    assert "    10.1.0.0/16 1;" in http
    assert "limit_req_zone $wk_lm_rk_bulk zone=wk_lm_rate_bulk:1m rate=30r/m;" in http
    assert "limit_req_zone $wk_lm_ck_critical zone=wk_lm_client_rate_critical:10m rate=20r/s;" in http
    assert "limit_conn_zone $wk_lm_ck_critical zone=wk_lm_client_conn_critical:10m;" in http
    assert "upstream wk_load {\n    zone wk_load 64k;\n    server 127.0.0.1:8000 max_conns=8;\n}" in http
    assert "map $wk_lm_class $wk_lm_shared {\n    default \"\";\n    normal 1;\n    bulk 1;\n}" in http
    assert "limit_req zone=wk_lm_rate_bulk burst=10 delay=5;" in server
    assert "limit_req zone=wk_lm_client_rate_critical burst=40 nodelay;" in server
    assert "limit_req zone=wk_lm_client_rate_normal burst=5 delay=2;" in server
    assert "limit_conn wk_lm_conn_bulk 2;" in server and "limit_conn wk_lm_shared 6;" in server
    assert "limit_conn wk_lm_conn_critical" not in server and "wk_lm_rate_critical" not in server
    assert "proxy_ignore_client_abort on;" in server and "error_page 502 =503 @wk_lm_shed;" in server and "return 429 " in server and "return 503 " in server
    assert server.count("add_header Retry-After") == 2 and server.count("access_log /var/log/x.log wk_load;") == 3
    assert "access_log off;" in render(plan(CLASSES, SERVERS, critical_reserve=2, access_log="off"))["server"]


@pytest.mark.parametrize("uri,method,expected", [
    ("/health", "GET", "critical"), ("/healthz", "GET", "critical"), ("/login", "POST", "critical"),
    ("/login", "GET", "normal"), ("/login/x", "POST", "normal"), ("/export/a.csv", "POST", "bulk"),
    ("/reports/a.csv", "GET", "bulk"), ("/reports/a.csv", "POST", "normal"), ("/", "GET", "normal"),
])
def test_the_classifier(uri, method, expected):
    http = render(plan(CLASSES, SERVERS, critical_reserve=2))["http"]
    assert classify(http, uri, method) == expected


SEGMENTS = st.sampled_from(["health", "login", "export", "search", "a.csv", "x", "api", "v1"])
URIS = st.lists(SEGMENTS, min_size=0, max_size=3).map(lambda parts: "/" + "/".join(parts))
METHODS = st.lists(st.sampled_from(["GET", "POST", "PUT"]), min_size=1, max_size=2)
RULES = st.fixed_dictionaries({"prefix": URIS}, optional={"methods": METHODS})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(RULES, min_size=1, max_size=3), min_size=1, max_size=3), URIS,
       st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
def test_the_generated_maps_pick_the_first_matching_rule(rule_sets, uri, method):
    classes = [{"name": "c%d" % i, "match": rules} for i, rules in enumerate(rule_sets)] + [{"name": "normal"}]
    checked = plan(classes, SERVERS, critical_reserve=0)
    assert classify(render(checked)["http"], uri, method) == first_match(checked["classes"], "normal", uri, method)


def test_quoting_survives_backslashes_and_quotes():
    assert quote('~^/a\\.b"c') == '"~^/a\\\\.b\\"c"'
    assert unquote(quote('~^/a\\.b"c')) == '~^/a\\.b"c'


@pytest.mark.skipif(NGINX is None, reason="needs the nginx binary")
def test_nginx_accepts_the_generated_configuration():
    classes = CLASSES + [{"name": "odd", "match": [{"regex": '^/q"uote\\\\d+\\.(js|css)$'}, {"exact": "/a-b_c.d"}]}]
    checked = plan(classes, SERVERS, critical_reserve=2, allow_ips=["10.0.0.0/8", "2001:db8::/32"],
                   retry_after_rate_limited={"min": 1, "max": 7})
    out = render(checked)
    work = tempfile.mkdtemp(prefix="wk-lm-unit-")
    try:
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as handle:
            handle.write("pid %s/nginx.pid; error_log %s/error.log; events {}\nhttp {\n%s\nserver {\nlisten 127.0.0.1:1;\n%s\n}\n}\n"
                         % (work, work, out["http"], out["server"].replace("/var/log/nginx/watchkeeper-load.log", work + "/a.log")))
        check = subprocess.run([NGINX, "-p", work, "-c", conf, "-t"], capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stderr
    finally:
        shutil.rmtree(work, ignore_errors=True)
