# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Semaphore UI request bodies for the runbooks, from the AWX data in playbooks/vars/awx_setup.yml.

One source of truth: the job templates, surveys and schedules that playbooks/awx_setup.yml creates in AWX are
written here as the bodies of Semaphore's REST API (``/api/project/{project_id}/...``, Semaphore's api-docs.yml):

* ``environments``: the Variable Groups (``POST .../environment``, body ``EnvironmentRequest``: ``json`` holds the
  extra variables as a JSON string): one per template, holding its own extra variables, and one per schedule, holding
  the schedule's extra data and the default of every required survey question (Semaphore's scheduled runs do not
  apply survey defaults, semaphoreui/semaphore#2244);
* ``templates``: the Task Templates (``POST .../templates``, body ``TemplateRequest``): playbook, description,
  ``survey_vars`` (``TemplateSurveyVar``: type ``""`` string, ``int``, ``enum`` with ``values``, ``text``), and
  ``allow_override_args_in_task`` where AWX asks for launch variables, ``suppress_success_alerts`` /
  ``suppress_error_alerts`` from the template's AWX notifications; a schedule with extra data runs a sibling
  template bound to the schedule's environment, since a schedule has no variables of its own here;
* ``schedules``: ``POST .../schedules``, body ``ScheduleRequest`` (``cron_format``, ``active``), the template named in
  ``template``; the cron fields are computed from the AWX rule and fire at the same minutes in the server's schedule
  time zone (``schedule_timezone`` of ``GET /api/info``; set it to ``awx_setup_timezone``).

Ids (``project_id``, ``inventory_id``, ``repository_id``, ``environment_id``, ``template_id``) come from objects that
exist only on your server: give the first three with options, and replace ``environment`` / ``template`` names by the
ids the create calls return (docs/semaphore.md shows a loop). No approval node: docs/semaphore.md says how to gate the
recovery. Secrets never appear: they stay in the inventory (Vault) or the Variable Group's secrets.

    python scripts/semaphore_setup.py --project-id 1 --inventory-id 2 --repository-id 3 > semaphore.json
"""

import argparse
import json
import os
import re
import sys

import jinja2
import jinja2.nativetypes
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PLAYBOOKS = os.path.join(ROOT, "playbooks")
SURVEY_TYPES = {"text": "", "textarea": "text", "integer": "int", "multiplechoice": "enum"}
RULE_KEYS = {"FREQ", "INTERVAL", "BYMINUTE", "BYHOUR", "BYMONTHDAY", "BYDAY"}
WEEKDAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]  # cron's day-of-week numbers 0-6


class Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """YAML with Ansible's !unsafe (a plain string here)."""


Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load(path):
    with open(path) as handle:
        return yaml.load(handle, Loader=Loader)  # nosec - a SafeLoader subclass


def awx_data(root=ROOT):
    """(the runbooks' data, the settings of playbooks/awx_setup.yml's play vars)."""
    data = load(os.path.join(root, "playbooks", "vars", "awx_setup.yml"))
    settings = load(os.path.join(root, "playbooks", "awx_setup.yml"))[0]["vars"]
    return data, settings


def cron_from_rrule(rule, start):
    """Five cron fields that fire at the same minutes as the RRULE (without DTSTART) started at ``start``.

    ``start`` is AWX's DTSTART as ``YYYYMMDDTHHMMSS``; it matters for the months of an INTERVAL > 1 monthly rule and
    for the fields a rule leaves to it (RFC 5545: a DAILY rule without BYHOUR fires at DTSTART's hour). Only the rules
    cron can express are taken: MINUTELY with an INTERVAL dividing 60, HOURLY, DAILY, WEEKLY on named weekdays,
    MONTHLY with an INTERVAL dividing 12; anything else raises ValueError."""
    parts = dict(item.split("=", 1) for item in rule.split(";") if item)
    unknown = set(parts) - RULE_KEYS
    if unknown:
        raise ValueError("%s: cron has no equivalent for %s" % (rule, ", ".join(sorted(unknown))))
    match = re.match(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$", start)
    if not match or match.group(6) != "00":
        raise ValueError("schedule start %r is not YYYYMMDDTHHMM00" % start)
    month, day, hour, minute = (int(match.group(i)) for i in (2, 3, 4, 5))
    freq, interval = parts.get("FREQ"), int(parts.get("INTERVAL", "1"))
    by = {key: parts[key] for key in ("BYMINUTE", "BYHOUR", "BYMONTHDAY") if key in parts}
    for key, value in by.items():
        if not re.match(r"^\d+(,\d+)*$", value):
            raise ValueError("%s: %s=%s is not a list of numbers" % (rule, key, value))
    if freq == "MINUTELY":
        if 60 % interval or by or minute % interval:
            raise ValueError("%s: only an interval dividing the hour, from a start on it, has a cron form" % rule)
        return "*/%d * * * *" % interval if interval > 1 else "* * * * *"
    if freq == "HOURLY":
        if interval != 1 or set(by) - {"BYMINUTE"}:
            raise ValueError("%s: only every hour, at given minutes, has a cron form here" % rule)
        return "%s * * * *" % by.get("BYMINUTE", str(minute))
    if freq == "DAILY":
        if interval != 1 or "BYMONTHDAY" in by:
            raise ValueError("%s: only every day has a cron form here" % rule)
        return "%s %s * * *" % (by.get("BYMINUTE", str(minute)), by.get("BYHOUR", str(hour)))
    if freq == "WEEKLY":
        days = parts.get("BYDAY", "")
        if interval != 1 or "BYMONTHDAY" in by or not re.match(r"^(MO|TU|WE|TH|FR|SA|SU)(,(MO|TU|WE|TH|FR|SA|SU))*$", days):
            raise ValueError("%s: only every week, on named weekdays (BYDAY=MO,TH), has a cron form here" % rule)
        dows = ",".join(str(WEEKDAYS.index(name)) for name in days.split(","))
        return "%s %s * * %s" % (by.get("BYMINUTE", str(minute)), by.get("BYHOUR", str(hour)), dows)
    if freq == "MONTHLY":
        if 12 % interval:
            raise ValueError("%s: a monthly interval must divide the year" % rule)
        months = sorted((month - 1 + step * interval) % 12 + 1 for step in range(12 // interval))
        return "%s %s %s %s *" % (by.get("BYMINUTE", str(minute)), by.get("BYHOUR", str(hour)),
                                  by.get("BYMONTHDAY", str(day)), "*" if interval == 1 else ",".join(map(str, months)))
    raise ValueError("%s: FREQ=%s has no cron form here" % (rule, freq))


def survey_var(question):
    kind = question.get("type")
    if kind not in SURVEY_TYPES:
        raise ValueError("%s: AWX question type %r has no Semaphore survey type here (secrets never are questions)" % (
            question.get("variable"), kind))
    out = {"name": question["variable"], "title": question["question_name"],
           "description": question.get("question_description", ""), "type": SURVEY_TYPES[kind],
           "required": bool(question.get("required"))}
    if kind == "multiplechoice":
        out["values"] = [{"name": choice, "value": choice} for choice in question["choices"]]
    return out


def _render(value, context):
    """An AWX extra-data value: Jinja of the awx_setup play vars, as AWX's playbook would send it."""
    if isinstance(value, str) and "{{" in value:
        native = jinja2.nativetypes.NativeEnvironment(undefined=jinja2.StrictUndefined)
        return native.from_string(value).render(context)
    return value


def build(data, settings, project_id=1, inventory_id=None, repository_id=None, prefix=None):
    """The Semaphore request bodies (see the module docstring)."""
    prefix = settings.get("awx_setup_name_prefix", "") if prefix is None else prefix
    context = dict(settings)
    out = {"environments": [], "templates": [], "schedules": []}

    def template(book, name, environment):
        body = {"project_id": project_id, "inventory_id": inventory_id, "repository_id": repository_id,
                "environment": environment, "name": name, "app": "ansible",
                "playbook": "%s/%s" % (settings.get("awx_setup_playbook_dir", "playbooks"), book["playbook"]),
                "description": " ".join(book.get("description", "").split()),
                "allow_override_args_in_task": bool(book.get("ask_variables")),
                # AWX notifies on started/success/error per template; Semaphore's project alerts can be muted per template.
                "suppress_success_alerts": "success" not in book.get("notify", []),
                "suppress_error_alerts": "error" not in book.get("notify", []),
                "survey_vars": [survey_var(question) for question in book.get("survey", [])]}
        out["templates"].append(body)
        return body

    for book in data["awx_setup_runbooks"]:
        name = prefix + book["name"]
        extra = {key: _render(value, context) for key, value in (book.get("extra_vars") or {}).items()}
        out["environments"].append({"project_id": project_id, "name": name, "json": json.dumps(extra, sort_keys=True)})
        template(book, name, name)
        defaults = {q["variable"]: q["default"] for q in book.get("survey", []) if q.get("required") and "default" in q}
        for schedule in book.get("schedules", []):
            given = {key: _render(value, context) for key, value in (schedule.get("extra_data") or {}).items()}
            target = name
            if given or defaults:
                target = prefix + schedule["name"]
                values = dict(extra, **defaults)
                values.update(given)
                out["environments"].append({"project_id": project_id, "name": target,
                                            "json": json.dumps(values, sort_keys=True)})
                template(book, target, target)
            out["schedules"].append({
                "project_id": project_id, "template": target, "name": schedule["name"],
                "cron_format": cron_from_rrule(schedule["rrule"], settings["awx_setup_schedule_start"]),
                "active": bool(settings.get("awx_setup_schedules_enabled", True)) and schedule.get("enabled", True)})
    out["schedule_timezone"] = settings.get("awx_setup_timezone", "UTC")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--project-id", type=int, default=1)
    parser.add_argument("--inventory-id", type=int)
    parser.add_argument("--repository-id", type=int)
    parser.add_argument("--name-prefix", help="template name prefix (default awx_setup_name_prefix)")
    parser.add_argument("--root", default=ROOT, help="the collection's tree (default: this checkout)")
    args = parser.parse_args(argv)
    data, settings = awx_data(args.root)
    json.dump(build(data, settings, args.project_id, args.inventory_id, args.repository_id, args.name_prefix),
              sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
