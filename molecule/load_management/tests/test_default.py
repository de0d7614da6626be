"""What the load_management role installed in the molecule instance (its default paths), and that the installed
configuration works in Debian's nginx run by systemd: requests are sent from inside the instance (curl, python3)."""

import json
import uuid

import pytest

HTTP_CONF = "/etc/nginx/conf.d/watchkeeper-load-http.conf"
SNIPPET = "/etc/nginx/snippets/watchkeeper-load.conf"
ACCESS_LOG = "/var/log/nginx/watchkeeper-load.log"
UPSTREAM = "127.0.0.1:8081"

# GETs sent one after the other from inside the instance; prints [[status, Retry-After or null, body], ...] as JSON.
BURST = """
import json, sys, urllib.error, urllib.request
out = []
for url in sys.argv[1:]:
    try:
        with urllib.request.urlopen(url, timeout=10) as res:
            out.append([res.status, res.headers.get("Retry-After"), res.read().decode()])
    except urllib.error.HTTPError as err:
        out.append([err.code, err.headers.get("Retry-After"), err.read().decode()])
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def wk(host):
    return host.ansible.get_variables()


def get(host, url):
    """(status, headers, body) of a GET from inside the instance."""
    res = host.run("curl -sS -i --max-time 10 %s", url)
    assert res.rc == 0, res.stderr
    head, _sep, body = res.stdout.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def burst(host, urls):
    res = host.run("python3 -c %s " + " ".join(["%s"] * len(urls)), BURST, *urls)
    assert res.rc == 0, res.stderr
    return json.loads(res.stdout)


def logged(host, prefix):
    """The access log's entries (JSON objects) whose uri starts with prefix."""
    text = host.file(ACCESS_LOG).content_string
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [entry for entry in entries if entry["uri"].startswith(prefix)]


def test_nginx_accepts_the_configuration(host):
    res = host.run("nginx -t")
    assert res.rc == 0, res.stderr
    assert host.service("nginx").is_running
    # nginx -T prints every file it loaded: the site's include (a glob) picked up the role's snippet.
    assert "# configuration file %s:" % SNIPPET in host.run("nginx -T").stdout
    assert "server %s max_conns=8;" % UPSTREAM in host.file(HTTP_CONF).content_string


@pytest.mark.parametrize("path", [HTTP_CONF, SNIPPET])
def test_generated_files_owned_by_root_not_world_writable(host, path):
    generated = host.file(path)
    assert generated.is_file
    assert generated.user == "root" and generated.group == "root"
    assert generated.mode & 0o002 == 0, oct(generated.mode)


def test_health_answers_through_the_upstream(host):
    path = "/health/%s" % uuid.uuid4().hex
    status, headers, body = get(host, "http://127.0.0.1" + path)
    assert (status, body) == (200, "ok\n"), (status, headers, body)
    entries = logged(host, path)
    assert len(entries) == 1, entries
    assert entries[0]["class"] == "critical" and entries[0]["decision"] == "passed", entries
    assert entries[0]["upstream"] == UPSTREAM, entries


def test_a_burst_of_exports_is_rate_limited_with_retry_after(host):
    prefix = "/export/%s/" % uuid.uuid4().hex
    answers = burst(host, ["http://127.0.0.1%s%d" % (prefix, i) for i in range(20)])
    statuses = [status for status, _retry, _body in answers]
    assert 429 in statuses, statuses
    assert 200 in statuses, statuses
    assert set(statuses) <= {200, 429, 503}, statuses
    for status, retry_after, body in answers:
        if status == 200:
            assert body == "ok\n"
        else:
            assert retry_after is not None and retry_after.isdigit(), (status, retry_after)
            low, high = (1, 10) if status == 429 else (10, 30)
            assert low <= int(retry_after) <= high, (status, retry_after)
            answer = json.loads(body)
            assert answer["class"] == "bulk" and answer["retry_after"] == int(retry_after), answer
    # Every request of the burst is in the access log, once, with its class and the decision nginx took.
    entries = logged(host, prefix)
    assert sorted(int(entry["status"]) for entry in entries) == sorted(statuses), entries
    for entry in entries:
        assert entry["class"] == "bulk", entry
        expected = {200: {"passed", "delayed"}, 429: {"rate_limited"}, 503: {"shed_class", "shed_upstream"}}
        assert entry["decision"] in expected[int(entry["status"])], entry
        if entry["status"] == "429":
            assert entry["limit_req"] == "REJECTED" and entry["retry_after"].isdigit(), entry


def test_the_allow_listed_address_skips_the_rate_limits(host, wk):
    # Sent to the instance's own address, the requests come from it: in load_management_allow_ips.
    prefix = "/export/%s/" % uuid.uuid4().hex
    answers = burst(host, ["http://%s%s%d" % (wk["wk_allowed_ip"], prefix, i) for i in range(20)])
    assert [status for status, _retry, _body in answers] == [200] * 20, answers
    entries = logged(host, prefix)
    assert len(entries) == 20, entries
    for entry in entries:
        assert entry["client"] == wk["wk_allowed_ip"], entry
        assert (entry["class"], entry["decision"]) == ("bulk", "passed"), entry
        assert entry["limit_req"] in ("", "PASSED"), entry
