# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 16, acceptance 5: the dashboards served by a real nginx behind HTTP basic auth (role watchkeeper.ops.dashboards).

nginx runs on loopback in the foreground (tests/conftest.py ``nginx_factory``) with an ``include`` of the directory
the role writes its server block to; the role tests the configuration and reloads nginx through its handlers, with
the test's ``nginx -p ... -c ...`` commands instead of the service's.

* ``playbooks/dashboards.yml`` (health of localhost measured by health_facts, then the role with ``dashboards_serve``):
  401 without credentials and with a wrong password, 200 with the right one for index.html, maintenance.html, dr.html
  and dashboard.json (the headers the role adds, only GET/HEAD, dot files never served); the htpasswd line is a
  SHA-512 crypt hash of the password; the ``set_stats`` summary; the password is in no task result (the JSON
  callback holds every task's arguments), in no generated file, state file or nginx file.
* a second launch with the password only in the file the AWX credential names (``WATCHKEEPER_DASHBOARDS_PASSWORD_FILE``),
  ``-vvv`` and the default callback: the htpasswd file is left byte for byte (same password, same salt), nothing
  reloads, and 20 regenerations (each with other health readings, so every page really changes) run while a reader
  thread fetches the four files through nginx in a loop: every answer is a complete page (ends with ``</html>`` and
  its elements close) or complete JSON, and the reader saw several generations. The password is not in the output.
* an empty password is refused with a message naming the ways to give it, before anything of nginx is written.
"""

import base64
import glob
import html.parser
import http.client
import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

from helpers import run_playbook
from wk_svc_common import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(ROOT, "playbooks", "dashboards.yml")
PASSWORD = "Dash-pw-7Qx2-never-logged"
FILES = ("index.html", "maintenance.html", "dr.html", "dashboard.json")
REGENERATIONS = 20


# A health_facts-shaped ``health`` result whose numbers change with the loop's ``step``.
STEP_READING = {"status": "ok", "reasons": [], "host": {
    "cpu_percent": "{{ 10.0 + step }}", "memory": {"percent": "{{ 30.0 + step }}"},
    "mounts": [{"mount": "/", "used_percent": "{{ 40.0 + step }}", "avail_bytes": 10 ** 9}]}}


@pytest.fixture
def site(nginx_factory, tmp_path):
    os.chmod(str(tmp_path), 0o755)
    for sub in ("conf.d", "site", "ops", "backups"):
        (tmp_path / sub).mkdir()
    ngx_dir = str(tmp_path / "nginx")
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = nginx_factory(ngx_dir, http="include %s/*.conf;" % (tmp_path / "conf.d"))
    conf = os.path.join(ngx_dir, "nginx.conf")
    port = free_port()
    variables = {
        "ansible_python_interpreter": sys.executable,
        "watchkeeper_ops_state": str(tmp_path / "ops"),
        "dashboards_ops_state": str(tmp_path / "ops"),
        "backup_jobs": [{"name": "app-db", "max_age": "26h", "rto": "2h",
                         "destinations": [{"name": "nas", "type": "local", "path": str(tmp_path / "backups")}]}],
        "dashboards_dest": str(tmp_path / "site"),
        "dashboards_cache_dir": str(tmp_path / "cache"),
        "dashboards_title": "Acme operations",
        "dashboards_serve": True,
        "dashboards_install_packages": False,
        "dashboards_listen": ["127.0.0.1:%d" % port],
        "dashboards_htpasswd_file": str(tmp_path / "nginx" / "dashboards.htpasswd"),
        "dashboards_nginx_conf_dir": str(tmp_path / "conf.d"),
        "dashboards_nginx_test_command": [binary, "-p", ngx_dir, "-c", conf, "-t", "-q"],
        "dashboards_nginx_reload_command": [binary, "-p", ngx_dir, "-c", conf, "-s", "reload"],
    }
    out = {"tmp": tmp_path, "port": port, "inventory": str(tmp_path / "inventory.json"), "nginx": proc, "vars": variables}
    write_inventory(out)
    yield out


def write_inventory(site, **extra):
    with open(site["inventory"], "w") as handle:
        json.dump({"all": {"hosts": {"localhost": {"ansible_connection": "local"}}, "vars": dict(site["vars"], **extra)}},
                  handle)


def get(port, path, password=None, method="GET"):
    headers = {}
    if password is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(("ops:" + password).encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers)
        resp = conn.getresponse()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), resp.read()
    finally:
        conn.close()


class Structure(html.parser.HTMLParser):
    """Counts the opening and closing tags of the elements a complete page closes."""

    CLOSED = ("html", "head", "body", "main", "table", "script", "style")

    def __init__(self):
        super().__init__()
        self.opened = dict((tag, 0) for tag in self.CLOSED)
        self.closed = dict((tag, 0) for tag in self.CLOSED)

    def handle_starttag(self, tag, attrs):
        if tag in self.opened:
            self.opened[tag] += 1

    def handle_endtag(self, tag):
        if tag in self.closed:
            self.closed[tag] += 1


def complete(name, body):
    """None when ``body`` is a complete page (or JSON document), else what is wrong with it."""
    text = body.decode("utf-8")
    if name.endswith(".json"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            return "JSON does not parse: %s" % exc
        return None if isinstance(doc, dict) and doc.get("generated_at") else "JSON without generated_at"
    if not text.rstrip().endswith("</html>"):
        return "does not end with </html>: %r" % text[-80:]
    parser = Structure()
    parser.feed(text)
    parser.close()
    if parser.opened != parser.closed or not parser.opened["html"] or not parser.opened["body"]:
        return "unbalanced elements: opened %s, closed %s" % (parser.opened, parser.closed)
    return None


class Reader(threading.Thread):
    """Fetches the four files through nginx, with the password, until stopped; keeps what it saw."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop = port, threading.Event()
        self.requests, self.problems, self.versions = 0, [], set()

    def run(self):
        while not self.stop.is_set():
            for name in FILES:
                try:
                    status, _headers, body = get(self.port, "/" + name, PASSWORD)
                except OSError as exc:  # a refused connection would be a failure too
                    self.problems.append((name, "request failed: %s" % exc))
                    continue
                self.requests += 1
                problem = "status %d" % status if status != 200 else complete(name, body)
                if problem:
                    self.problems.append((name, problem))
                elif name == "dashboard.json":
                    self.versions.add(json.loads(body.decode("utf-8"))["generated_at"])


def sha512_crypt(password, hashed):
    """SHA-512 crypt of ``password`` with the salt of ``hashed`` (openssl, the same algorithm as crypt(3))."""
    salt = hashed.split("$")[2]
    return subprocess.run(["openssl", "passwd", "-6", "-salt", salt, "-stdin"], input=password, capture_output=True,
                          text=True, check=True).stdout.strip()


def secret_holders(tmp_path):
    """Every file the run wrote (site, ops_state, nginx side, htpasswd) with its bytes."""
    found = {}
    for path in glob.glob(str(tmp_path / "**" / "*"), recursive=True):
        if os.path.isfile(path) and not path.endswith((".log", "inventory.json")):
            with open(path, "rb") as handle:
                found[path] = handle.read()
    return found


def test_served_with_basic_auth_atomic_under_load_and_the_password_never_shown(site):
    tmp, port = site["tmp"], site["port"]
    write_inventory(site, dashboards_auth_password=PASSWORD)
    code, data, stdout, stderr = run_playbook(PLAYBOOK, inventory=site["inventory"], args=("-v",),
                                              env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    assert code == 0 and data is not None, stdout[-5000:] + stderr[-3000:]
    stats = data["global_custom_stats"]["watchkeeper_dashboards"]
    assert sorted(os.path.basename(f) for f in stats["files"] if not f.endswith(".md")) == sorted(FILES), stats
    assert stats["status"] in ("ok", "warning", "critical")
    assert PASSWORD not in stdout and PASSWORD not in stderr
    assert "Acme operations" in stdout  # the JSON callback did print the role's results (the check can fail)

    for name in FILES:
        assert get(port, "/" + name)[0] == 401, name
        assert get(port, "/" + name, "wrong-" + PASSWORD)[0] == 401, name
        status, headers, body = get(port, "/" + name, PASSWORD)
        assert status == 200 and complete(name, body) is None, (name, status, body[-200:])
        assert headers["cache-control"] == "no-cache" and headers["x-content-type-options"] == "nosniff", headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        with open(str(tmp / "site" / name), "rb") as handle:
            assert handle.read() == body
    assert get(port, "/", PASSWORD)[2] == get(port, "/index.html", PASSWORD)[2]
    assert get(port, "/index.html", PASSWORD, method="POST")[0] == 403
    (tmp / "site" / ".index.html.tmp").write_text("half a page")
    assert get(port, "/.index.html.tmp", PASSWORD)[0] == 403
    (tmp / "site" / ".index.html.tmp").unlink()

    # The health measured by play 1 reached the Operations page (localhost's own row).
    document = json.loads(get(port, "/dashboard.json", PASSWORD)[2])
    assert "localhost" in json.dumps(document)

    htpasswd = (tmp / "nginx" / "dashboards.htpasswd").read_text()
    user, hashed = htpasswd.rstrip("\n").split(":", 1)
    assert user == "ops" and hashed.startswith("$6$") and htpasswd.count("\n") == 1
    assert sha512_crypt(PASSWORD, hashed) == hashed and sha512_crypt("wrong", hashed) != hashed
    assert oct(os.stat(str(tmp / "nginx" / "dashboards.htpasswd")).st_mode & 0o777) == "0o640"
    for path, content in secret_holders(tmp).items():
        assert PASSWORD.encode() not in content, path

    # Second launch: the password only in the credential's file; the role once, then 20 regenerations in a loop.
    secret = tmp / "credential"
    secret.mkdir(mode=0o700)
    (secret / "password").write_text(PASSWORD)
    write_inventory(site)
    with open(str(tmp / "generate.yml"), "w") as handle:
        json.dump([{"name": "Regenerate with other health readings",
                    "ansible.builtin.include_role": {"name": "watchkeeper.ops.dashboards", "tasks_from": "generate"},
                    "vars": {"dashboards_health": {"web1": STEP_READING}}},
                   {"name": "Every regeneration changed the site", "ansible.builtin.assert": {
                       "that": ["dashboards_site.changed | bool"], "fail_msg": "regeneration {{ step }} changed nothing"}}],
                  handle)
    playbook = str(tmp / "site.yml")
    with open(playbook, "w") as handle:
        json.dump([{"name": "Serve", "hosts": "localhost", "gather_facts": False,
                    "roles": [{"role": "watchkeeper.ops.dashboards"}]},
                   {"name": "Regenerate", "hosts": "localhost", "gather_facts": False,
                    "tasks": [{"name": "Regenerate %d times" % REGENERATIONS, "ansible.builtin.include_tasks": str(tmp / "generate.yml"),
                               "loop": list(range(1, REGENERATIONS + 1)), "loop_control": {"loop_var": "step"}}]}], handle)
    before = htpasswd
    reader = Reader(port)
    reader.start()
    try:
        code, _data, stdout, stderr = run_playbook(playbook, inventory=site["inventory"], args=("-vvv",), env={
            "ANSIBLE_STDOUT_CALLBACK": "default", "WATCHKEEPER_DASHBOARDS_PASSWORD_FILE": str(secret / "password")})
    finally:
        reader.stop.set()
        reader.join(30)
    assert code == 0, stdout[-6000:] + stderr[-3000:]
    assert stdout.count("Every regeneration changed the site") == REGENERATIONS
    assert PASSWORD not in stdout and PASSWORD not in stderr
    assert "RUNNING HANDLER" not in stdout  # nothing changed on the nginx side: no reload
    assert (tmp / "nginx" / "dashboards.htpasswd").read_text() == before
    assert not reader.problems, reader.problems[:5]
    assert reader.requests >= 4 * 10 and len(reader.versions) >= 3, (reader.requests, reader.versions)
    for path, content in secret_holders(tmp).items():
        if not path.startswith(str(secret)):
            assert PASSWORD.encode() not in content, path


def test_an_empty_password_is_refused_before_nginx_is_touched(site):
    tmp = site["tmp"]
    code, data, stdout, stderr = run_playbook(PLAYBOOK, inventory=site["inventory"],
                                              args=("-e", json.dumps({"dashboards_health_hosts": "nohost"})),
                                              env={"WATCHKEEPER_DASHBOARDS_PASSWORD_FILE": ""})
    assert code != 0 and data is not None, stdout[-3000:] + stderr[-2000:]
    failed = [result for play in data["plays"] for task in play["tasks"] for result in task["hosts"].values()
              if result.get("failed")]
    assert len(failed) == 1 and "dashboards_auth_password" in failed[0]["msg"], failed
    assert "WATCHKEEPER_DASHBOARDS_PASSWORD_FILE" in failed[0]["msg"]
    assert os.listdir(str(tmp / "conf.d")) == [] and not os.path.exists(str(tmp / "nginx" / "dashboards.htpasswd"))
    with pytest.raises(OSError):  # no server block: nothing listens on the dashboards' port
        get(site["port"], "/index.html")
