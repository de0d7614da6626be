"""The HTML page (escaped, self-contained, stable ids) and the report files (never overwritten, latest.json)."""

import datetime
import hashlib
import json
import os
import re

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import collect, store
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import controls as ct
from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import html

from test_evaluate import JOBS, KPIS, PERIOD, clean_facts  # pylint: disable=import-error

EVIL = '<script>alert("x")</script><img src="http://evil.example/x.png">'


def doc(facts=None, report_id="20261201T060000Z-0a1b2c3d"):
    meta = {"report_id": report_id, "title": "Compliance <b>report</b>", "ops_state": "/ops",
            "generated_at": datetime.datetime(2026, 12, 1, 6, tzinfo=datetime.timezone.utc), "host": "ctl1",
            "collection_version": "1.0.0", "audit_trail": None}
    return collect.document(facts or clean_facts(), JOBS, "jobs", KPIS, PERIOD, meta)


def evil_facts():
    facts = clean_facts()
    facts[ct.BACKUP_SUCCESS]["jobs"]["uploads"].append({"file": "/h/" + EVIL, "backup_id": None, "status": "failed",
                                                        "started": None, "step": "upload", "msg": EVIL})
    facts[ct.BACKUP_SUCCESS]["evidence"].append({"path": "/h/" + EVIL, "sha256": "f" * 64, "bytes": 9})
    return facts


def test_every_value_is_escaped_and_nothing_external():
    page = html.render(doc(evil_facts()))
    assert EVIL not in page and "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page and "Compliance &lt;b&gt;report&lt;/b&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


def test_stable_ids_for_every_control_and_check():
    page = html.render(doc())
    for control_id in ct.CONTROL_IDS:
        assert 'data-control="%s" data-status="pass"' % control_id in page
    for check in ct.CHECK_ORDER:
        assert 'id="check-%s"' % check in page
    assert 'id="evidence-backup_success"' in page and 'data-passed="true"' in page


def test_files_written_once_latest_replaced(tmp_path):
    ops = str(tmp_path)
    out = store.default_dir(ops, PERIOD["label"])
    first = doc()
    files = store.render(first, ["json", "html"])
    assert [n for n, _d in files] == ["20261201T060000Z-0a1b2c3d.html", "20261201T060000Z-0a1b2c3d.json"]
    where = store.write(out, ops, files)
    assert where == {"html": os.path.join(out, files[0][0]), "json": os.path.join(out, files[1][0]),
                     "latest": os.path.join(ops, "reports", "compliance", "latest.json")}
    with open(where["json"]) as handle:
        written = json.load(handle)
    assert written["files"]["html"]["sha256"] == hashlib.sha256(open(where["html"], "rb").read()).hexdigest()
    assert open(where["latest"], "rb").read() == open(where["json"], "rb").read()
    with pytest.raises(OSError):
        store.write(out, ops, files)  # the same report id: never overwritten
    second = store.render(doc(report_id="20261201T070000Z-99999999"), ["json"])
    store.write(out, ops, second)
    with open(where["latest"]) as handle:
        assert json.load(handle)["report_id"] == "20261201T070000Z-99999999"
    assert not [n for n in os.listdir(out) if n.startswith(".")]
    assert store.planned(out, ops, store.render(doc(), ["html"]))["latest"] is None
