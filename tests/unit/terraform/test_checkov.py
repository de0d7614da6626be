# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""checkov passes on terraform/ with zero failed checks, and it does fail on a weakened copy (so a pass means
something). checkov pins many dependencies, so it lives in its own venv, never in the project's: WK_CHECKOV names
the executable, else .wk/checkov-venv/bin/checkov (scripts/setup.sh creates it with
``python3 -m venv .wk/checkov-venv && .wk/checkov-venv/bin/pip install checkov``). Without it the tests fail."""

import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TERRAFORM = os.path.join(ROOT, "terraform")
SUMMARY = re.compile(r"Passed checks: (\d+), Failed checks: (\d+), Skipped checks: (\d+)")


@pytest.fixture(scope="module")
def checkov():
    # WK_ROOT (scripts/env.sh): the checkout, when the tests run in the collection workspace copy of it
    path = os.environ.get("WK_CHECKOV") or os.path.join(os.environ.get("WK_ROOT") or ROOT, ".wk", "checkov-venv", "bin", "checkov")
    if not os.access(path, os.X_OK):
        msg = "checkov not found at %s: python3 -m venv .wk/checkov-venv && .wk/checkov-venv/bin/pip install checkov" % path
        pytest.fail(msg + " (scripts/setup.sh does it)")
    return path


def run(checkov, directory):
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", LOG_LEVEL="ERROR")
    proc = subprocess.run([checkov, "-d", directory, "--framework", "terraform", "--quiet", "--compact", "--skip-download"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env, timeout=600,
                          check=False)
    match = SUMMARY.search(proc.stdout)
    assert match, "checkov printed no summary (rc %d): %s %s" % (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc, tuple(int(n) for n in match.groups())


def test_checkov_reports_no_failed_check(checkov):
    proc, (passed, failed, skipped) = run(checkov, TERRAFORM)
    assert failed == 0 and proc.returncode == 0, proc.stdout[-4000:]
    assert passed >= 150, "checkov ran fewer checks than expected (%d): did it see the modules?" % passed
    assert skipped >= 1  # each skip's reason is checked by test_terraform_policy.test_every_checkov_skip_carries_a_reason


def test_checkov_fails_a_bucket_without_public_access_block(checkov, tmp_path):
    copy = tmp_path / "backup_storage_aws"
    shutil.copytree(os.path.join(TERRAFORM, "modules", "backup_storage_aws"), str(copy))
    main = copy / "main.tf"
    text = main.read_text(encoding="utf-8")
    start = text.index('resource "aws_s3_bucket_public_access_block" "backup" {')
    end = text.index("}\n", start) + 2
    main.write_text(text[:start] + text[end:], encoding="utf-8")
    proc, (_passed, failed, _skipped) = run(checkov, str(copy))
    assert proc.returncode != 0 and failed >= 1
    assert "CKV2_AWS_6" in proc.stdout, proc.stdout[-3000:]
