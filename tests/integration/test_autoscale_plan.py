# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``autoscale_plan`` through real ``ansible-playbook`` (its history file in ops_state, check mode, bad input) and
``playbooks/capacity_schedule.yml`` in terraform mode end to end: before the lead nothing changes, within the lead
scale.yml writes the schedule's floor into the Terraform variables file, check mode writes nothing, and a
request that gives scale_count is refused. (The compose/stack modes are scale.yml's and tested there.)"""

import json
import os
import sys

from ansible_run import run_module, run_playbook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(ROOT, "playbooks")
PEAK = {"name": "black-friday", "min_replicas": 10, "start": "2026-11-27T08:00:00", "end": "2026-11-28T00:00:00",
        "timezone": "Europe/Berlin"}  # 07:00 UTC


def plan(args, now, check=False):
    return run_module("watchkeeper.ops.autoscale_plan", args, check_mode=check, env={"WATCHKEEPER_NOW": now})


def test_module_keeps_the_history_and_holds_a_scale_in(tmp_path):
    state = tmp_path / "state"
    base = {"name": "shop-web", "min": 2, "max": 12, "ops_state": str(state)}
    first = plan(dict(base, current=4, metrics=[{"name": "cpu", "value": 90, "target": 60}]), "2026-11-27T06:00:00Z")
    assert not first.failed and first["desired"] == 6 and first["winner"] == "cpu", first["stdout"][-2000:]
    path = state / "autoscale" / "shop-web.json"
    doc = json.loads(path.read_text())
    assert doc["schema"] == "watchkeeper.ops/autoscale-state" and doc["last"]["desired"] == 6
    assert [h["recommendation"] for h in doc["history"]] == [4, 6]  # the start's seed, then this evaluation
    # two minutes later the load is gone: the 6 of the window holds the count (HPA's scale-down stabilisation)
    held = plan(dict(base, current=6, metrics=[{"name": "cpu", "value": 10, "target": 60}]), "2026-11-27T06:02:00Z")
    assert held["desired"] == 6 and held["limited_by"] == "stabilization_down" and held["recommendation"] == 1
    # check mode decides the same and writes nothing
    before = path.read_text()
    dry = plan(dict(base, current=6, schedules=[PEAK], lead_s=3600), "2026-11-27T06:30:00Z", check=True)
    assert dry["desired"] == 10 and dry["limited_by"] == "schedule:black-friday" and path.read_text() == before


def test_module_refuses_bad_input_and_a_foreign_state_file(tmp_path):
    bad = plan({"name": "shop-web", "current": 3, "min": 5, "max": 3}, "2026-11-27T06:00:00Z")
    assert bad.failed and "min 5 is above max 3" in bad["msg"]
    path = tmp_path / "autoscale" / "shop-web.json"
    path.parent.mkdir()
    path.write_text('{"something": "else"}')
    bad = plan({"name": "shop-web", "current": 3, "max": 6, "ops_state": str(tmp_path)}, "2026-11-27T06:00:00Z")
    assert bad.failed and "is not an autoscale state file" in bad["msg"]
    assert path.read_text() == '{"something": "else"}'


def capacity(extra, now, check=False):
    code, data, stdout, stderr = run_playbook(os.path.join(PLAYBOOKS, "capacity_schedule.yml"), check=check,
                                              args=["-e", json.dumps(extra), "-e",
                                                    "ansible_python_interpreter=%s" % sys.executable], timeout=300,
                                              env={"ANSIBLE_SHOW_CUSTOM_STATS": "1", "WATCHKEEPER_NOW": now})
    assert data is not None, "no JSON from capacity_schedule.yml (rc %s)\n%s\n%s" % (code, stdout[-3000:], stderr[-3000:])
    return code, data.get("global_custom_stats") or {}, stdout


def test_capacity_schedule_raises_the_floor_through_scale_yml(tmp_path):
    tfvars = tmp_path / "scale.auto.tfvars.json"
    tfvars.write_text(json.dumps({"region": "eu-central", "app_instance_count": 3}))
    base = {"capacity_name": "shop-mig", "capacity_schedules": [PEAK], "capacity_lead": 1800, "scale_mode": "terraform",
            "scale_tfvars_path": str(tfvars), "scale_min": 2, "scale_max": 12, "watchkeeper_ops_state": str(tmp_path / "state")}
    code, stats, stdout = capacity(base, "2026-11-27T06:00:00Z")  # the peak is 60 min away, beyond the lead
    assert code == 0 and stats["watchkeeper_capacity"]["status"] == "unchanged", stdout[-3000:]
    assert stats["watchkeeper_capacity"]["next_schedule"]["name"] == "black-friday"
    assert json.loads(tfvars.read_text())["app_instance_count"] == 3
    code, stats, stdout = capacity(base, "2026-11-27T06:40:00Z", check=True)  # within the lead, check mode
    assert code == 0 and json.loads(tfvars.read_text())["app_instance_count"] == 3, stdout[-3000:]
    code, stats, stdout = capacity(base, "2026-11-27T06:40:00Z")
    assert code == 0, stdout[-3000:]
    assert stats["watchkeeper_capacity"]["status"] == "scaled" and stats["watchkeeper_capacity"]["desired"] == 10
    assert stats["watchkeeper_scale"]["status"] == "ok" and stats["watchkeeper_scale"]["before"] == 3
    assert json.loads(tfvars.read_text()) == {"app_instance_count": 10, "region": "eu-central"}
    code, stats, stdout = capacity(dict(base, scale_count=4), "2026-11-27T06:40:00Z")
    assert code != 0 and "scale_count is computed here" in stdout
