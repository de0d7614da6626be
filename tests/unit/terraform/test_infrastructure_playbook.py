# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/infrastructure.yml is never run here (no terraform binary, no cloud): it passes ansible-playbook's
syntax check, and its structure keeps the promises of its header: the plan runs only when not applying, the apply
uses the saved plan file, refuses destroys unless allowed, and comes after the confirmation and the approval gate."""

import os
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLAYBOOK = os.path.join(ROOT, "playbooks", "infrastructure.yml")


def _tasks():
    with open(PLAYBOOK, encoding="utf-8") as handle:
        play = yaml.safe_load(handle)[0]
    return play, play["tasks"]


def test_syntax_check_passes():
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    proc = subprocess.run([ansible_playbook, "--syntax-check", PLAYBOOK], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, cwd=ROOT, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_plan_only_unless_confirmed_and_approved():
    play, tasks = _tasks()
    assert play["hosts"] == "localhost"
    names = [t["name"] for t in tasks]
    guard = tasks[0]["ansible.builtin.assert"]["that"]
    assert any("infrastructure_confirm" in cond and "__infra_env" in cond for cond in guard)
    plan = tasks[names.index("Plan (nothing is changed; the plan is saved for the apply)")]
    assert plan["community.general.terraform"]["state"] == "planned"
    assert plan["when"] == "not __infra_apply"
    block = tasks[names.index("Apply the approved plan")]
    assert block["when"] == "__infra_apply"
    steps = [t["name"] for t in block["block"]]
    gate = block["block"][0]
    assert gate["ansible.builtin.include_role"] == {"name": "watchkeeper.ops.emergency", "tasks_from": "approval"}
    assert "plan_sha256" in gate["vars"]["emergency_parameters"]
    assert "default(true)" in gate["vars"]["emergency_require_approval"]
    apply = block["block"][steps.index("Apply the saved plan")]
    args = apply["community.general.terraform"]
    assert args["state"] == "present" and args["plan_file"] == "{{ __infra_plan_file }}"
    assert args["check_destroy"] == "{{ not __infra_allow_destroy }}"
    assert steps.index("Apply the saved plan") > 0  # the approval gate comes first
