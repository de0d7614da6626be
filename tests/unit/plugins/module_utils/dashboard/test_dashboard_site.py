# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Buttons (AWX launch URL or command), the pages' markup contract and escaping, the CSP hashes, and publishing:
atomic files, idempotence that ignores moving ages, the heartbeat, check mode, a bucket prefix."""

import base64
import datetime
import hashlib
import json
import os
import re
import shlex

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.dashboard import actions, model, page_parts, pages, site
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

from dash_fixtures import NOW, backup, drill, job, listing, window  # pylint: disable=import-error

AWX = {"url": "https://awx.example.com/", "templates": {"backup_now": 12, "drill": 15}}
PLAYBOOKS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", "playbooks")


def test_an_action_with_a_template_is_the_launch_url_and_without_one_the_command():
    assert actions.action("backup_now", awx=AWX)["url"] == "https://awx.example.com/api/v2/job_templates/12/launch/"
    controller = dict(AWX, api_path="/api/controller/v2/")
    assert actions.action("backup_now", awx=controller)["url"] == "https://awx.example.com/api/controller/v2/job_templates/12/launch/"
    cmd = actions.action("cancel_window", awx=AWX, inventory="inv/prod", window="mw-1")
    assert cmd["url"] is None
    assert shlex.split(cmd["command"]) == ["ansible-playbook", "-i", "inv/prod", "playbooks/maintenance_schedule.yml",
                                           "-e", "maintenance_window_id=mw-1", "-e", "maintenance_action=cancel"]
    drill_cmd = actions.action("drill", jobs=["a b", "c"])["command"]
    assert shlex.split(drill_cmd)[-1] == '{"dr_drill_run_jobs":["a b","c"]}'
    assert "-e" not in shlex.split(actions.action("drill")["command"])


@pytest.mark.parametrize("key", sorted(actions.ACTIONS))
def test_every_action_names_a_playbook_that_exists(key):
    assert os.path.isfile(os.path.join(PLAYBOOKS, actions.ACTIONS[key][1]))


def _doc(**kw):
    jobs = [job("app-db", kind="postgres")]
    listings = {"app-db": [listing("nas", backup(1))]}
    return model.build(dict({"title": "Acme <ops>", "stale_after_s": 900}, **kw), jobs, listings, {},
                       [window("mw-next", NOW + datetime.timedelta(days=1))], [], [drill(100)],
                       {"db1": [{"time": NOW.timestamp() - 60, "cpu": 5.0, "memory": 10.0, "disk": 96.0, "disk_mount": "/"}]}, NOW)


def test_the_pages_carry_the_markup_contract_and_escape_text():
    doc = _doc()
    doc["backups"][0]["reasons"].append("<script>alert(1)</script>")
    doc["status"]["reasons"].append("<img src=x onerror=alert(1)>")
    html = pages.render(doc)
    index = html["index.html"]
    assert 'data-job="app-db"' in index and 'data-host="db1"' in index and 'data-action="backup_now"' in index
    assert "<img src=x" not in index and "&lt;img src=x onerror=alert(1)&gt;" in index and "Acme &lt;ops&gt;" in index
    assert 'data-window="mw-next"' in html["maintenance.html"] and 'data-action="start_early"' in html["maintenance.html"]
    assert 'data-procedure="full_system"' in html["dr.html"] and ">overdue<" in html["dr.html"]
    for text in html.values():
        assert text.rstrip().endswith("</html>") and '<html lang="en">' in text


def test_the_csp_allows_exactly_the_inline_style_and_script():
    def sha(text):
        return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    assert "style-src %s;" % sha(page_parts.CSS) in page_parts.CSP and "script-src %s;" % sha(page_parts.SCRIPT) in page_parts.CSP
    html = pages.render(_doc())["index.html"]
    assert "<style>%s</style>" % page_parts.CSS in html and "<script>%s</script>" % page_parts.SCRIPT in html
    assert "default-src 'none'" in page_parts.CSP and not re.search(r"(src|href)=\"(https?:)?//", html)


def _publish(dest, doc, now=NOW, refresh_s=450, check_mode=False, runbooks=None):
    return site.publish(site.DirectorySite(str(dest)), doc, pages.render(doc), runbooks or {}, now, refresh_s, check_mode=check_mode)


def test_publishing_is_idempotent_ages_do_not_count_and_the_heartbeat_rewrites(tmp_path):
    first = _publish(tmp_path, _doc())
    assert first["changed"] and sorted(os.listdir(tmp_path)) == ["dashboard.json", "dr.html", "index.html", "maintenance.html", "runbooks"]
    later = NOW + datetime.timedelta(minutes=4)
    aged = model.build({"title": "Acme <ops>", "stale_after_s": 900}, [job("app-db", kind="postgres")],
                       {"app-db": [listing("nas", backup(1))]}, {}, [window("mw-next", NOW + datetime.timedelta(days=1))], [],
                       [drill(100)], {"db1": [{"time": NOW.timestamp() - 60, "cpu": 5.0, "memory": 10.0, "disk": 96.0,
                                               "disk_mount": "/"}]}, later)
    again = _publish(tmp_path, aged, now=later)
    assert (again["changed"], again["reason"]) == (False, "unchanged")
    beat = _publish(tmp_path, aged, now=NOW + datetime.timedelta(minutes=8))
    assert beat["changed"] and beat["reason"].startswith("heartbeat")
    changed_doc = _doc()
    changed_doc["backups"][0]["within_rpo"] = False
    assert _publish(tmp_path, changed_doc, now=NOW + datetime.timedelta(minutes=9))["reason"] == "what the pages show changed"


def test_check_mode_writes_nothing_and_a_missing_file_is_rewritten(tmp_path):
    assert _publish(tmp_path, _doc(), check_mode=True)["changed"] and os.listdir(tmp_path) == []
    _publish(tmp_path, _doc())
    os.unlink(os.path.join(str(tmp_path), "dr.html"))
    again = _publish(tmp_path, _doc())
    assert again["changed"] and "dr.html" in again["reason"] and os.path.exists(os.path.join(str(tmp_path), "dr.html"))


def test_files_are_replaced_whole_and_stale_runbooks_removed(tmp_path):
    _publish(tmp_path, _doc(), runbooks={"app-db": b"# by hand\n", "gone": b"x"})
    assert open(os.path.join(str(tmp_path), "runbooks", "app-db.md"), "rb").read() == b"# by hand\n"
    _publish(tmp_path, _doc(), runbooks={"app-db": b"# by hand v2\n"})
    assert os.listdir(os.path.join(str(tmp_path), "runbooks")) == ["app-db.md"]
    assert not [n for n in os.listdir(str(tmp_path)) if ".tmp-" in n]
    published = json.load(open(os.path.join(str(tmp_path), "dashboard.json")))
    assert published["schema"] == "watchkeeper.ops/dashboard" and len(published["content_sha256"]) == 64


def test_a_site_that_cannot_be_written_raises_and_leaves_the_old_pages(tmp_path):
    _publish(tmp_path, _doc())
    before = open(os.path.join(str(tmp_path), "index.html")).read()
    runbooks = os.path.join(str(tmp_path), "runbooks")
    os.rmdir(runbooks)
    with open(runbooks, "w") as handle:  # a file where the runbooks directory goes: every write fails, root or not
        handle.write("in the way")
    with pytest.raises(OSError):
        _publish(tmp_path, _doc(title="other"), now=NOW + datetime.timedelta(hours=1))
    assert open(os.path.join(str(tmp_path), "index.html")).read() == before
    assert not [n for n in os.listdir(str(tmp_path)) if ".tmp-" in n]


def test_a_storage_prefix_gets_the_same_files(tmp_path):
    storage = open_storage({"type": "local", "name": "web", "path": str(tmp_path), "verify_readback": False})
    target = site.StorageSite(storage, "ops/")
    doc = _doc()
    result = site.publish(target, doc, pages.render(doc), {}, NOW, 450)
    assert result["changed"] and os.path.exists(os.path.join(str(tmp_path), "ops", "dr.html"))
    doc2 = _doc()
    assert not site.publish(target, doc2, pages.render(doc2), {}, NOW, 450)["changed"]
