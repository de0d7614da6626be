# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/semaphore_setup.py: Semaphore's task templates, surveys and schedules say what the AWX data says.

No Semaphore runs here. The checks compare the generated request bodies with playbooks/vars/awx_setup.yml: a template
per runbook (and per schedule that needs values), the same questions, and cron fields that fire at exactly the minutes
of the AWX rule (both expanded over a window and compared minute by minute).
"""

import copy
import datetime
import json
import os

import pytest
from dateutil import rrule, tz

import semaphore_setup

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SECRET_WORDS = ("password", "passphrase", "secret", "token", "private_key", "decryption", "access_key", "credentials")
WINDOWS = {"every_5_minutes": 2, "every_15_minutes": 3, "hourly": 3, "daily": 9, "weekly": 30, "monthly": 400,
           "quarterly": 400}  # days


def _field(text, low, high):
    values = set()
    for part in text.split(","):
        if part == "*":
            values |= set(range(low, high + 1))
        elif part.startswith("*/"):
            values |= set(range(low, high + 1, int(part[2:])))
        else:
            values.add(int(part))
    return values


def cron_times(cron, start, end):
    """Every minute in [start, end) that the five cron fields match (a day of the month or of the week, not both)."""
    minute, hour, day, month, weekday = cron.split()
    assert day == "*" or weekday == "*"
    minutes, hours, days, months = _field(minute, 0, 59), _field(hour, 0, 23), _field(day, 1, 31), _field(month, 1, 12)
    weekdays = _field(weekday, 0, 6)  # cron: 0 is Sunday
    out, current = [], start.replace(hour=0, minute=0, second=0, microsecond=0)
    while current < end:
        if current.day in days and current.month in months and (current.weekday() + 1) % 7 in weekdays:
            out += [current.replace(hour=h, minute=m) for h in sorted(hours) for m in sorted(minutes)]
        current += datetime.timedelta(days=1)
    return [when for when in out if start <= when < end]


def rule_times(rule, settings, start, end):
    text = "DTSTART;TZID=%s:%s RRULE:%s" % (settings["awx_setup_timezone"], settings["awx_setup_schedule_start"], rule)
    return [when for when in rrule.rrulestr(text).between(start, end, inc=True) if when < end]


def schedule_mismatches(data, settings, out):
    """(schedule, why) for each schedule whose cron fires at other minutes than its AWX rule."""
    zone = tz.gettz(settings["awx_setup_timezone"])
    crons = {schedule["name"]: schedule["cron_format"] for schedule in out["schedules"]}
    problems = []
    for book in data["awx_setup_runbooks"]:
        for schedule in book.get("schedules", []):
            start = datetime.datetime(2027, 1, 1, tzinfo=zone)
            end = start + datetime.timedelta(days=WINDOWS[schedule["frequency"]])
            expected = rule_times(schedule["rrule"], settings, start, end)
            found = cron_times(crons[schedule["name"]], start, end)
            if found != expected or not expected:
                problems.append((schedule["name"], "%d cron firings, %d by the AWX rule" % (len(found), len(expected))))
    return problems


@pytest.fixture(scope="module", name="awx")
def awx_fixture():
    return semaphore_setup.awx_data(ROOT)


@pytest.fixture(scope="module", name="out")
def out_fixture(awx):
    return semaphore_setup.build(*awx, project_id=4, inventory_id=5, repository_id=6)


def test_every_runbook_has_a_template_with_the_same_questions(awx, out):
    data, settings = awx
    templates = {template["name"]: template for template in out["templates"]}
    environments = {env["name"] for env in out["environments"]}
    for book in data["awx_setup_runbooks"]:
        template = templates[settings["awx_setup_name_prefix"] + book["name"]]
        assert os.path.exists(os.path.join(ROOT, template["playbook"])) and template["app"] == "ansible"
        assert (template["project_id"], template["inventory_id"], template["repository_id"]) == (4, 5, 6)
        assert template["environment"] in environments
        assert template["allow_override_args_in_task"] == bool(book.get("ask_variables"))
        assert (template["suppress_success_alerts"], template["suppress_error_alerts"]) == (
            "success" not in book["notify"], "error" not in book["notify"])
        questions = book.get("survey", [])
        assert [(v["name"], v["required"]) for v in template["survey_vars"]] == [
            (q["variable"], q["required"]) for q in questions]
        for var, question in zip(template["survey_vars"], questions):
            assert var["type"] == {"text": "", "textarea": "text", "integer": "int", "multiplechoice": "enum"}[
                question["type"]]
            if var["type"] == "enum":
                assert [v["value"] for v in var["values"]] == question["choices"]
    recovery = templates[settings["awx_setup_name_prefix"] + "Database recovery"]
    assert {"recovery_confirm", "recovery_force", "recovery_verified_only"} <= {v["name"] for v in recovery["survey_vars"]}


def test_schedules_fire_at_the_minutes_of_the_awx_rules(awx, out):
    data, settings = awx
    assert not schedule_mismatches(data, settings, out)
    crons = {schedule["name"]: schedule["cron_format"] for schedule in out["schedules"]}
    assert crons["Disaster-recovery drill quarterly"] == "0 6 1 1,4,7,10 *"
    assert crons["Maintenance notifications every 15 minutes"] == "*/15 * * * *"
    assert crons["Health every 5 minutes"] == "*/5 * * * *"
    assert crons["PostgreSQL performance review weekly"] == "0 6 * * 1"
    assert out["schedule_timezone"] == settings["awx_setup_timezone"]
    assert [s["active"] for s in out["schedules"] if s["name"] == "Verify daily guard"] == [False]


def test_mutation_a_schedule_at_other_minutes_is_reported(awx, out):
    data, settings = awx
    broken = copy.deepcopy(out)
    for schedule in broken["schedules"]:
        if schedule["name"] == "Disaster-recovery drill quarterly":
            schedule["cron_format"] = "0 6 1 */3 *"  # January, April, July, October: right by luck of the start month
        if schedule["name"] == "Backup hourly":
            schedule["cron_format"] = "15 */1 * * *"  # the same minutes
        if schedule["name"] == "Retention daily":
            schedule["cron_format"] = "30 17 * * *"  # 12 hours off
    assert [name for name, _why in schedule_mismatches(data, settings, broken)] == ["Retention daily"]
    shifted = dict(settings, awx_setup_schedule_start="20260201T000000")  # a quarterly rule from February
    assert semaphore_setup.cron_from_rrule("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1;BYHOUR=6;BYMINUTE=0",
                                           shifted["awx_setup_schedule_start"]) == "0 6 1 2,5,8,11 *"
    assert [name for name, _why in schedule_mismatches(data, shifted, out)] == ["Disaster-recovery drill quarterly"]


@pytest.mark.parametrize("rule", ["FREQ=WEEKLY;BYDAY=1MO", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "FREQ=MINUTELY;INTERVAL=7", "FREQ=DAILY;INTERVAL=2",
                                  "FREQ=MONTHLY;INTERVAL=5", "FREQ=HOURLY;BYSECOND=5", "FREQ=MONTHLY;BYMONTHDAY=-1"])
def test_rules_cron_cannot_express_are_refused(rule):
    with pytest.raises(ValueError):
        semaphore_setup.cron_from_rrule(rule, "20260101T000000")


def test_scheduled_runs_get_their_values_from_a_variable_group(awx, out):
    data, settings = awx
    templates = {template["name"]: template for template in out["templates"]}
    environments = {env["name"]: json.loads(env["json"]) for env in out["environments"]}
    schedules = {schedule["name"]: schedule for schedule in out["schedules"]}
    for book in data["awx_setup_runbooks"]:
        for schedule in book.get("schedules", []):
            values = environments[templates[schedules[schedule["name"]]["template"]]["environment"]]
            given = schedule.get("extra_data") or {}
            for question in book.get("survey", []):  # Semaphore's schedules do not apply survey defaults
                if question["required"] and "default" in question and question["variable"] not in given:
                    assert values[question["variable"]] == question["default"], (schedule["name"], question["variable"])
            assert set(given) <= set(values), schedule["name"]
    hourly = environments[templates[schedules["Backup hourly"]["template"]]["environment"]]
    assert hourly["backup_run_jobs"] == settings["awx_setup_backup_hourly_jobs"]  # the Jinja of extra_data rendered
    assert hourly["backup_target"] == settings["awx_setup_backup_hourly_target"]
    for values in environments.values():
        assert not [name for name in values if any(word in name for word in SECRET_WORDS)]


def test_a_secret_question_is_refused(awx):
    data, settings = awx
    broken = copy.deepcopy(data)
    broken["awx_setup_runbooks"][0]["survey"].append({"variable": "backup_key", "question_name": "Key",
                                                      "type": "password", "required": True})
    with pytest.raises(ValueError, match="backup_key"):
        semaphore_setup.build(broken, settings)


def test_the_cli_writes_the_bodies(capsys):
    assert semaphore_setup.main(["--project-id", "9", "--inventory-id", "2", "--repository-id", "3"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {t["project_id"] for t in printed["templates"]} == {9} and printed["schedules"]
