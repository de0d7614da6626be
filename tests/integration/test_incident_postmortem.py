# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/postmortem.yml on a real incident (opened, acknowledged, updated by a runbook, mitigated and resolved with
the incident module, frozen clock), a real backup run, a real audit trail (the collection's audit callback on the runs
of the incident) and a log excerpt; the HTML page rendered in Chromium (issue 15, acceptance 8).

The audit callback stamps records with the wall clock, so the frozen times are placed around the real now: the
incident opens 20 minutes before the test starts and is resolved 20 minutes after, and the audit records of the test's
own runs fall in the postmortem's period."""

import datetime
import json
import os
import sys
import uuid

import pytest

from helpers import backup_args, local_dest, new_job, public_key_encryption, report_page, run_module, run_playbook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POSTMORTEM = os.path.join(ROOT, "playbooks", "postmortem.yml")
UTC = datetime.timezone.utc
KEY_HEX = "6a" * 32


def iso(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def world(tmp_path, scratch, gpg_keys):
    """A resolved SEV1 with a runbook step, a backup run in its period, an audit spool and a log file."""
    t0 = datetime.datetime.now(UTC).replace(microsecond=0) - datetime.timedelta(minutes=20)

    def at(minutes):
        return iso(t0 + datetime.timedelta(minutes=minutes))

    ops, spool = tmp_path / "ops", tmp_path / "spool"
    ops.mkdir()
    key_path = tmp_path / "audit.key"
    key_path.write_text(KEY_HEX + "\n")
    inc = "inc-h10-pm-%s" % uuid.uuid4().hex[:6]
    title = "<b>Checkout</b> 502 & retries"
    common = {"id": inc, "ops_state": str(ops)}
    steps = [
        (at(0), dict(common, state="open", title=title, severity="SEV1", components=["checkout"], customer_impact=True,
                     summary="nginx answered 502 for <all> checkout requests", source="alert", author="CheckoutDown",
                     entry={"text": "CheckoutDown firing: 502 rate 35%", "data": {"instance": "web-1"}})),
        (at(4), dict(common, state="acknowledged", author="alice")),
        (at(6), dict(common, state="update", source="runbook", author="service_restart.yml",
                     entry={"text": "app restarted on web-1, healthy after 4 s", "data": {"host": "web-1", "health_s": 4}})),
        (at(9), dict(common, state="mitigated", author="alice", entry={"text": "traffic back on web-1"})),
        (at(40), dict(common, state="resolved", author="alice", entry={"text": "root cause fixed: worker pool size"})),
    ]
    play = [{"hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": [{"name": "incident step %d" % n, "watchkeeper.ops.incident": args,
                        "environment": {"WATCHKEEPER_NOW": when}} for n, (when, args) in enumerate(steps)]}]
    play_path = tmp_path / "incident_lifecycle.yml"
    play_path.write_text(json.dumps(play))
    audit_env = {"ANSIBLE_CALLBACKS_ENABLED": "watchkeeper.ops.audit", "WATCHKEEPER_AUDIT_SPOOL": str(spool),
                 "WATCHKEEPER_AUDIT_HMAC_KEY_FILE": str(key_path)}
    code, _data, stdout, stderr = run_playbook(str(play_path), env=audit_env)
    assert code == 0, (stdout + stderr)[-4000:]

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_text("hello\n")
    job = new_job("pm")
    backup = run_module("watchkeeper.ops.backup", backup_args(
        job, {"type": "files", "paths": [str(tree)]}, [local_dest(tmp_path / "nas")], public_key_encryption(gpg_keys), ops,
        tmp_dir=scratch, shared_state="local"), env={"WATCHKEEPER_NOW": at(7)})
    assert not backup.failed, backup.get("msg")

    logs = tmp_path / "logs"
    (logs / "web-1").mkdir(parents=True)
    (logs / "web-1" / "nginx.log").write_text("".join("<131>%s web-1 nginx[7]: %s\n" % (when, text) for when, text in (
        (at(-40), "upstream 502 long before the period"), (at(1), "upstream 502 password=hunter2 </pre><script>x</script>"),
        (at(2), "upstream 200 ok"), (at(3), "upstream 502 again"))))
    return {"t0": t0, "at": at, "ops": str(ops), "spool": str(spool), "inc": inc, "title": title, "job": job,
            "backup_id": backup["backup_id"], "logs": str(logs), "out": str(tmp_path / "postmortems")}


def postmortem(world, now, **extra):
    variables = {"ansible_python_interpreter": sys.executable, "incident_id": world["inc"], "incident_ops_state": world["ops"],
                 "postmortem_dir": world["out"], "postmortem_audit_destination": {"type": "local", "path": world["spool"]},
                 "postmortem_log_search": {"pattern": "upstream 502", "root": world["logs"]}}
    variables.update(extra)
    code, data, stdout, stderr = run_playbook(POSTMORTEM, extra_vars=variables,
                                              env={"WATCHKEEPER_NOW": now, "ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    return code, data, stdout + stderr


def test_postmortem_renders_in_chromium_with_the_timeline_and_kpis(world, tmp_path):
    code, data, out = postmortem(world, world["at"](45))
    assert code == 0, out[-4000:]
    stats = data["global_custom_stats"]["watchkeeper_postmortem"]
    assert stats["status"] == "written" and stats["msg"] == "updated"
    assert stats["period"] == {"start": world["at"](-30), "end": world["at"](40)}
    doc = run_module("watchkeeper.ops.incident_info", {"id": world["inc"], "ops_state": world["ops"]})["incident"]
    assert len(doc["timeline"]) == 5

    with open(stats["markdown"]) as handle:
        text = handle.read()
    assert text.startswith("# Postmortem: &lt;b&gt;Checkout&lt;/b&gt; 502 &amp; retries\n")
    assert "| %s | runbook | service_restart.yml | app restarted on web-1, healthy after 4 s |" % world["at"](6) in text
    assert "| Time to acknowledge | 4m 00s | 15m 00s | yes |" in text and "| Time to resolve | 40m 00s | 30m 00s | no |" in text
    assert "| %s | %s | ok |" % (world["job"], world["backup_id"]) in text
    assert "hunter2" not in text and "upstream 502 long before" not in text

    shot = tmp_path / "postmortem.png"
    with report_page(stats["html"], shot) as page:
        assert page.title() == "Postmortem %s - %s" % (world["inc"], world["title"])
        assert page.locator("h1").inner_text() == "Postmortem: " + world["title"]
        assert page.locator("h1 b").count() == 0 and page.locator("script").count() == 0
        rows = page.locator("#timeline tbody tr[data-entry]")
        assert rows.count() == 5
        for index, entry in enumerate(doc["timeline"]):
            row = rows.nth(index)
            assert row.is_visible()
            assert row.get_attribute("data-entry") == entry["id"]
            assert row.locator("td.at").inner_text() == entry["at"]
            assert row.locator("td.source").inner_text() == entry["source"]
            assert row.locator("td.author").inner_text() == (entry["author"] or "")
            assert row.locator("td.text").inner_text().startswith(entry["text"])
        assert [rows.nth(i).locator("td.source").inner_text() for i in range(5)] == [
            "alert", "person", "runbook", "person", "person"]
        assert '"health_s": 4' in rows.nth(2).locator("td.text").inner_text()
        ack = page.locator('#kpis [data-kpi="time_to_acknowledge"]')
        assert ack.is_visible() and ack.get_attribute("data-seconds") == "240" and ack.get_attribute("data-met") == "yes"
        assert "4m 00s" in ack.inner_text() and "target 15m 00s" in ack.inner_text() and "MET" in ack.inner_text().upper()
        mitigate = page.locator('#kpis [data-kpi="time_to_mitigate"]')
        assert mitigate.get_attribute("data-seconds") == "540" and "9m 00s" in mitigate.inner_text()
        resolve = page.locator('#kpis [data-kpi="time_to_resolve"]')
        assert resolve.get_attribute("data-seconds") == "2400" and resolve.get_attribute("data-met") == "no"
        assert "MISSED" in resolve.inner_text().upper()
        impact = page.locator("#impact").inner_text()
        assert "Customer impact: YES" in impact and "Components: checkout" in impact and "<all> checkout" in impact
        backup_row = page.locator('#backup-runs tr[data-backup="%s"]' % world["backup_id"])
        assert backup_row.is_visible() and world["job"] in backup_row.inner_text()
        audit = page.locator("#audit-runs tbody tr[data-run]")
        assert audit.count() >= 1
        assert any("incident_lifecycle.yml" in audit.nth(i).inner_text() for i in range(audit.count()))
        log = page.locator("#logs pre").inner_text()
        assert "upstream 502 again" in log and "</script>" in log and "hunter2" not in log
        assert "long before" not in log and "200 ok" not in log
    assert shot.stat().st_size > 10000

    again = postmortem(world, world["at"](45))
    assert again[0] == 0 and again[1]["global_custom_stats"]["watchkeeper_postmortem"]["msg"] == "unchanged"


def test_optional_parts_and_check_mode(world):
    args = {"id": world["inc"], "ops_state": world["ops"], "dest": world["out"], "backup_runs": False}
    result = run_module("watchkeeper.ops.incident_postmortem", args, check_mode=True, env={"WATCHKEEPER_NOW": world["at"](45)})
    assert not result.failed and result["changed"] and not os.path.exists(world["out"])
    pm = result["postmortem"]
    assert pm["backup_runs"] is None and pm["audit_runs"] is None and pm["logs"] is None
    code, data, out = postmortem(world, world["at"](45), postmortem_audit_destination={}, postmortem_log_search={})
    assert code == 0, out[-3000:]
    with open(data["global_custom_stats"]["watchkeeper_postmortem"]["html"]) as handle:
        page = handle.read()
    assert 'id="audit-runs"' not in page and 'id="logs"' not in page and world["backup_id"] in page


def test_failures_are_clear(world):
    code, data, out = postmortem(world, world["at"](45), incident_id="inc-h10-missing")
    assert code != 0 and "incident inc-h10-missing does not exist" in out
    assert data["global_custom_stats"]["watchkeeper_postmortem"]["status"] == "failed"
    code, _data, out = postmortem(world, world["at"](45), incident_id="")
    assert code != 0 and "Give the incident" in out
    code, _data, out = postmortem(world, world["at"](45), postmortem_log_search={"root": world["logs"]})
    assert code != 0 and "needs a pattern" in out
    bad = run_module("watchkeeper.ops.incident_postmortem", {"id": "Not An Id", "ops_state": world["ops"]})
    assert bad.failed and "must match" in bad["msg"]
    blocked = os.path.join(world["ops"], "a-file")
    with open(blocked, "w") as handle:
        handle.write("x")
    unwritable = run_module("watchkeeper.ops.incident_postmortem", {"id": world["inc"], "ops_state": world["ops"],
                                                                    "dest": os.path.join(blocked, "sub")})
    assert unwritable.failed and "cannot write the postmortem" in unwritable["msg"]
