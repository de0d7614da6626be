"""What the maintenance role installed in the molecule instance (its default paths), and that the installed snippet
works in Debian's nginx run by systemd: requests go through curl inside the instance."""

import json
import os

import pytest

SNIPPETS = "/etc/nginx/snippets"
STATE_DIR = "/var/lib/watchkeeper/maintenance/nginx"
STATUS_DIR = "/var/www/watchkeeper-status"


@pytest.fixture(scope="module")
def wk(host):
    return host.ansible.get_variables()


def get(host, url):
    """(status, headers, body) of a GET from inside the instance."""
    res = host.run("curl -sS -i --max-time 10 %s", url)
    assert res.rc == 0, res.stderr
    out = res.stdout
    head, _sep, body = out.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def test_files_installed(host, wk):
    assert host.file(os.path.join(SNIPPETS, "watchkeeper-maintenance.conf")).is_file
    assert host.file(os.path.join(SNIPPETS, "watchkeeper-status.conf")).is_file
    include = host.file("/etc/nginx/conf.d/watchkeeper-maintenance-http.conf")
    assert "include %s/http.conf;" % STATE_DIR in include.content_string
    generated = host.file(os.path.join(STATE_DIR, "http.conf"))
    assert generated.is_file and generated.mode == 0o600
    assert host.file(os.path.join(wk["maintenance_middleware_dest"], "wk_maintenance.py")).is_file
    assert host.service("nginx").is_running
    assert host.run("nginx -t -q").rc == 0


def switch(host, state):
    args = {"state": state, "mode": "full", "maintenance_message": "Molecule maintenance", "retry_after": 120,
            "backends": [{"type": "nginx", "dir": STATE_DIR}]}
    return host.ansible("watchkeeper.ops.maintenance_mode", json.dumps(args), check=False)


def test_the_installed_snippet_switches_nginx(host):
    status, _headers, body = get(host, "http://127.0.0.1/orders")
    assert (status, body) == (200, "app\n")
    try:
        result = switch(host, "enabled")
        # retry_after 120 (the role installed 300) changes the include: nginx -t, then nginx -s reload
        assert result["changed"] and result["backends"][0]["reloaded"] is True, result
        status, headers, body = get(host, "http://127.0.0.1/orders")
        assert status == 503 and headers.get("Retry-After") == "120" and "Molecule maintenance" in body
    finally:
        switch(host, "disabled")
    assert get(host, "http://127.0.0.1/orders")[:1] == (200,)


def test_status_page_served_without_host_names(host):
    names = {host.run("hostname").stdout.strip(), host.run("hostname -f").stdout.strip(),
             host.backend.get_hostname()} - {""}
    for name in ("index.html", "status.json", "feed.rss"):
        text = host.file(os.path.join(STATUS_DIR, name)).content_string
        assert "Molecule status" in text or name == "status.json" and '"name": "Molecule status"' in text
        for host_name in names:
            assert host_name not in text
    status, headers, body = get(host, "http://127.0.0.1:8081/status/")
    assert status == 200 and "Molecule status" in body and headers.get("Content-Type", "").startswith("text/html")
    assert get(host, "http://127.0.0.1:8081/status/status.json")[0] == 200
