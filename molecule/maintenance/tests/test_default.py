"""What the maintenance role installed on the molecule host, and that the installed snippet works in nginx."""

import json
import os
import urllib.error
import urllib.request

import pytest


@pytest.fixture(scope="module")
def wk(host):
    return host.ansible.get_variables()


def get(wk, host):
    port = host.file(os.path.join(wk["wk_test_root"], "port")).content_string.strip()
    try:
        with urllib.request.urlopen("http://127.0.0.1:%s/orders" % port, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def test_files_installed(host, wk):
    assert host.file(os.path.join(wk["maintenance_nginx_snippet_dir"], "watchkeeper-maintenance.conf")).is_file
    assert host.file(os.path.join(wk["maintenance_nginx_snippet_dir"], "watchkeeper-status.conf")).is_file
    include = host.file(os.path.join(wk["maintenance_nginx_conf_dir"], "watchkeeper-maintenance-http.conf"))
    assert "include %s/http.conf;" % wk["maintenance_nginx_dir"] in include.content_string
    generated = host.file(os.path.join(wk["maintenance_nginx_dir"], "http.conf"))
    assert generated.is_file and generated.mode == 0o600
    assert host.file(os.path.join(wk["maintenance_middleware_dest"], "wk_maintenance.py")).is_file


def switch(host, wk, state):
    args = {"state": state, "mode": "full", "maintenance_message": "Molecule maintenance", "retry_after": 120,
            "ops_state": wk["maintenance_ops_state"],
            "backends": [{"type": "nginx", "dir": wk["maintenance_nginx_dir"],
                          "test_command": wk["maintenance_nginx_test_command"],
                          "reload_command": wk["maintenance_nginx_reload_command"]}]}
    return host.ansible("watchkeeper.ops.maintenance_mode", json.dumps(args), check=False)


def test_the_installed_snippet_switches_nginx(host, wk):
    assert get(wk, host)[:1] == (200,) and get(wk, host)[2] == "app\n"
    try:
        result = switch(host, wk, "enabled")
        assert result["changed"] and result["backends"][0]["reloaded"] is True  # retry_after changed the include
        status, headers, body = get(wk, host)
        assert status == 503 and headers.get("Retry-After") == "120" and "Molecule maintenance" in body
    finally:
        switch(host, wk, "disabled")
    assert get(wk, host)[:1] == (200,)


def test_status_page_published_without_host_names(host, wk):
    names = set([host.run("hostname").stdout.strip(), host.run("hostname -f").stdout.strip()]) - {""}
    for name in ("index.html", "status.json", "feed.rss"):
        text = host.file(os.path.join(wk["maintenance_status_dir"], name)).content_string
        assert "Molecule status" in text or name == "status.json" and '"name": "Molecule status"' in text
        for host_name in names:
            assert host_name not in text
