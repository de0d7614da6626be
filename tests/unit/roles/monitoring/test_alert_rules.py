"""The monitoring role's alert rules: ``promtool check rules`` and ``promtool test rules`` (Debian's prometheus
package, installed by scripts/setup.sh), every alert covered by a test in which it fires, and a mutation that
proves the tests fail when a threshold changes."""

import glob
import os
import shutil
import subprocess

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
RULES = sorted(glob.glob(os.path.join(ROOT, "roles", "monitoring", "files", "rules", "*.rules.yml")))
TESTS = sorted(glob.glob(os.path.join(HERE, "*_test.yml")))


def promtool(*args, cwd=HERE):
    path = shutil.which("promtool")
    assert path, "promtool is missing: scripts/setup.sh installs Debian's prometheus package"
    return subprocess.run([path] + list(args), cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_there_are_rules_and_tests():
    assert [os.path.basename(p) for p in RULES] == ["node.rules.yml", "services.rules.yml", "watchkeeper.rules.yml"]
    assert len(TESTS) == len(RULES)


@pytest.mark.parametrize("path", RULES, ids=os.path.basename)
def test_rules_pass_promtool_check(path):
    out = promtool("check", "rules", path)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("path", TESTS, ids=os.path.basename)
def test_rule_unit_tests_pass(path):
    out = promtool("test", "rules", os.path.basename(path))
    assert out.returncode == 0 and "SUCCESS" in out.stdout, out.stdout + out.stderr


def test_every_alert_fires_in_some_test():
    alerts = set(rule["alert"] for path in RULES for group in load(path)["groups"] for rule in group["rules"])
    fired = set()
    for path in TESTS:
        for case in load(path)["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    fired.add(check["alertname"])
    assert alerts and alerts - fired == set(), "alerts without a test in which they fire: %s" % sorted(alerts - fired)


def test_a_changed_threshold_fails_the_unit_tests(tmp_path):
    """Mutation: the stale alert's 'for: 5m' becomes 'for: 1m' in a copy; its unit test must fail."""
    rules_dir = tmp_path / "roles" / "monitoring" / "files" / "rules"
    rules_dir.mkdir(parents=True)
    source = os.path.join(ROOT, "roles", "monitoring", "files", "rules", "watchkeeper.rules.yml")
    with open(source, encoding="utf-8") as handle:
        text = handle.read()
    assert text.count("for: 5m") >= 1
    (rules_dir / "watchkeeper.rules.yml").write_text(text.replace("for: 5m", "for: 1m", 1), encoding="utf-8")
    tests_dir = tmp_path / "tests" / "unit" / "roles" / "monitoring"
    tests_dir.mkdir(parents=True)
    shutil.copy(os.path.join(HERE, "watchkeeper_rules_test.yml"), str(tests_dir))
    out = promtool("test", "rules", "watchkeeper_rules_test.yml", cwd=str(tests_dir))
    assert out.returncode != 0 and "alertname: WatchkeeperBackupStale, time: 33m" in out.stdout + out.stderr, out.stdout + out.stderr
