"""The AWX objects of playbooks/awx_setup.yml fit the runbooks they run (no AWX needed).

The data is playbooks/vars/awx_setup.yml. A small reader collects what a runbook can read: every Jinja expression of
the playbook (templates, when/that/until/failed_when/changed_when, hosts), of the playbooks it imports and of the roles
it imports or includes (their tasks, followed task files, templates, vars, defaults, handlers and the option names of
the entry point's argument spec). The checkers are functions of the data, so the mutation tests give them broken data.
"""

import copy
import datetime
import glob
import json
import os
import re
import shlex
import warnings

import jinja2
import pytest
import yaml
from dateutil import rrule, tz
from jinja2 import nodes

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLAYBOOKS = os.path.join(ROOT, "playbooks")
ROLES = os.path.join(ROOT, "roles")
NOT_RUNBOOKS = {"demo.yml", "awx_setup.yml"}
EXPRESSION_KEYS = {"when", "failed_when", "changed_when", "until", "that"}
ROLE_MODULES = {"import_role", "include_role"}
TASK_FILE_MODULES = {"import_tasks", "include_tasks"}
SECRET_WORDS = ("password", "passphrase", "secret", "token", "private_key", "decryption", "access_key", "credentials")
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}
JINJA = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])


class Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """YAML with Ansible's !unsafe (a plain string here)."""


Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load(path):
    with open(path) as handle:
        return yaml.load(handle, Loader=Loader)  # nosec - a SafeLoader subclass


def module_args(task, short_names):
    """The arguments of the task's module when it is one of short_names (plain or ansible.builtin.)."""
    for key, value in task.items():
        short = key[len("ansible.builtin."):] if key.startswith("ansible.builtin.") else key
        if short in short_names:
            return value if isinstance(value, dict) else {"name": value, "file": value}
    return None


class Reads:
    """Variables a runbook reads: each occurrence with the filters and tests applied to it."""

    def __init__(self):
        self.occurrences = {}   # name -> list of frozensets of filter and test names applied to that read
        self.defaults = set()   # names with a default (role defaults and spec defaults, non-empty play vars)
        self.role_defaults = set()  # the keys of the roles' defaults/main.yml
        self.sets = set()       # names the playbook itself sets (play vars, task vars, set_fact, register)
        self.options = {}       # argument spec options of the roles it runs: name -> spec
        self.required = set()   # required role options that the playbook does not set
        self.seen = set()

    @property
    def names(self):
        """Read in an expression, or a role's documented option or default (a play var nobody reads is not read)."""
        return set(self.occurrences) | set(self.options) | self.role_defaults

    def expression(self, text, bare=False):
        if isinstance(text, list):
            for item in text:
                self.expression(item, bare)
            return
        if not isinstance(text, str):
            return
        if bare and "{{" not in text and "{%" not in text:  # a templated value under a keyword's name (a fact's key)
            text = "{{ %s }}" % text
        elif "{{" not in text and "{%" not in text:
            return
        with warnings.catch_warnings():  # the roles' regular expressions hold escapes Jinja's lexer warns about
            warnings.simplefilter("ignore", DeprecationWarning)
            tree = JINJA.parse(text)
        stored = {node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")}
        self._walk(tree, frozenset(), stored)

    def _walk(self, node, applied, stored):
        if isinstance(node, nodes.Name):
            if node.ctx == "load" and node.name not in stored:
                self.occurrences.setdefault(node.name, []).append(applied)
            return
        for child in node.iter_child_nodes():
            if isinstance(node, (nodes.Filter, nodes.Test)) and child is node.node:
                self._walk(child, applied | {node.name}, stored)
            else:
                self._walk(child, frozenset(), stored)

    def data(self, value):
        """Every template and expression in a YAML structure."""
        if isinstance(value, dict):
            for key, item in value.items():
                if key in EXPRESSION_KEYS:
                    self.expression(item, bare=True)
                else:
                    self.data(item)
        elif isinstance(value, list):
            for item in value:
                self.data(item)
        else:
            self.expression(value)


def read_tasks(reads, tasks, role_dir=None):
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        reads.data(task)
        reads.sets |= set(task.get("vars") or {})
        if task.get("register"):
            reads.sets.add(task["register"])
        facts = module_args(task, {"set_fact"})
        if facts:
            reads.sets |= set(facts)
        for block in ("block", "rescue", "always"):
            read_tasks(reads, task.get(block), role_dir)
        role = module_args(task, ROLE_MODULES)
        if role:
            read_role(reads, role["name"], role.get("tasks_from", "main"), set(task.get("vars") or {}))
        included = module_args(task, TASK_FILE_MODULES)
        if included and role_dir:
            name = included.get("file", included.get("name"))
            files = glob.glob(os.path.join(role_dir, "tasks", "*.yml")) if "{" in name else [
                os.path.join(role_dir, "tasks", name)]
            for path in files:
                read_task_file(reads, path, role_dir)
        template = module_args(task, {"template"})
        if template and role_dir and "{" not in template.get("src", "{"):
            with open(os.path.join(role_dir, "templates", template["src"])) as handle:
                reads.expression(handle.read())


def read_task_file(reads, path, role_dir):
    if path in reads.seen:
        return
    reads.seen.add(path)
    read_tasks(reads, load(path), role_dir)


def read_role(reads, name, entry="main", given=frozenset()):
    """A role of this collection (watchkeeper.ops.<name> or <name>); other collections' roles are not ours to read."""
    short = name[len("watchkeeper.ops."):] if name.startswith("watchkeeper.ops.") else name
    role_dir = os.path.join(ROLES, short)
    if not os.path.isdir(role_dir) or (role_dir, entry) in reads.seen:
        return
    reads.seen.add((role_dir, entry))
    for part in ("defaults", "vars"):
        path = os.path.join(role_dir, part, "main.yml")
        if os.path.exists(path):
            values = load(path) or {}
            reads.data(values)
            if part == "defaults":
                reads.defaults |= set(values)
                reads.role_defaults |= set(values)
    specs = os.path.join(role_dir, "meta", "argument_specs.yml")
    options = (load(specs)["argument_specs"].get(entry) or {}).get("options", {}) if os.path.exists(specs) else {}
    for option, spec in options.items():
        reads.options.setdefault(option, spec)
        if "default" in spec:
            reads.defaults.add(option)
        elif spec.get("required") and option not in given and option not in reads.sets:
            reads.required.add(option)
    for part in ("handlers",):
        path = os.path.join(role_dir, part, "main.yml")
        if os.path.exists(path):
            read_tasks(reads, load(path), role_dir)
    meta = load(os.path.join(role_dir, "meta", "main.yml")) or {}
    for dependency in meta.get("dependencies") or []:
        read_role(reads, dependency if isinstance(dependency, str) else dependency.get("role", dependency.get("name")))
    read_task_file(reads, os.path.join(role_dir, "tasks", entry + ".yml"), role_dir)


def read_playbook(path, reads=None):
    reads = reads or Reads()
    if path in reads.seen:
        return reads
    reads.seen.add(path)
    for play in load(path):
        imported = module_args(play, {"import_playbook"})
        if imported:
            read_playbook(os.path.join(os.path.dirname(path), imported["name"]), reads)
            continue
        play_vars = play.get("vars") or {}
        reads.sets |= set(play_vars)
        reads.defaults |= {name for name, value in play_vars.items() if value not in ("", None)}
        reads.data({key: value for key, value in play.items() if key not in ("tasks", "pre_tasks", "post_tasks", "roles")})
        for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
            read_tasks(reads, play.get(section))
        for role in play.get("roles") or []:
            role = {"role": role} if isinstance(role, str) else role
            reads.data({key: value for key, value in role.items() if key not in ("role", "name")})
            read_role(reads, role.get("role", role.get("name")), given=set(role.get("vars") or {}) | set(role))
    return reads


def header_variables(path):
    """The -e variables of the usage lines in a runbook's header: {name: required} (optional when in [...])."""
    header = []
    with open(path) as handle:
        for line in handle:
            if line.startswith("#"):
                header.append(line[1:].rstrip("\n"))
            elif header or line.strip() not in ("", "---"):
                break
    commands, indent = [], None
    for line in header:
        stripped = line.strip()
        if stripped.startswith("ansible-playbook"):
            commands.append(stripped.rstrip("\\"))
            indent = len(line) - len(line.lstrip())
        elif indent is not None and stripped and len(line) - len(line.lstrip()) > indent:
            commands[-1] += " " + stripped.rstrip("\\")
        else:
            indent = None
    found = {}
    for command in commands:
        depth, index, tokens = 0, 0, shlex.split(command, comments=True)
        while index < len(tokens):
            bare = tokens[index].lstrip("[")
            depth += len(tokens[index]) - len(bare)
            if bare == "-e" and index + 1 < len(tokens):
                value = tokens[index + 1]
                if value.startswith("{"):
                    parsed, end = json.JSONDecoder().raw_decode(value)
                    names, rest = list(parsed), value[end:]
                else:
                    names, rest = [value.rstrip("]").split("=", 1)[0]], value[len(value.rstrip("]")):]
                for name in names:
                    found[name] = found.get(name, False) or depth == 0
                depth -= rest.count("]")
                index += 2
                continue
            depth -= len(bare) - len(bare.rstrip("]"))
            index += 1
    return found


def runbook_reads(data):
    return {book["key"]: read_playbook(os.path.join(PLAYBOOKS, book["playbook"])) for book in data["awx_setup_runbooks"]}


def given_variables(book, data):
    """Every variable AWX hands the runbook: survey answers, template and launch variables, schedules' extra data."""
    given = {question["variable"]: "survey" for question in book.get("survey", [])}
    given.update({name: "extra_vars" for name in book.get("extra_vars") or {}})
    given.update({name: "launch_vars" for name in book.get("launch_vars", [])})
    for schedule in book.get("schedules", []):
        given.update({name: "schedule " + schedule["name"] for name in schedule.get("extra_data") or {}})
    workflow = data.get("awx_setup_recovery_workflow")
    if workflow and workflow["runbook"] == book["key"]:
        given.update({q["variable"]: "workflow survey" for q in workflow.get("survey", book.get("survey", []))})
    return given


def unread_variables(data, reads=None):
    """(runbook, variable, where) for every variable AWX gives a runbook that the runbook never reads."""
    reads = reads or runbook_reads(data)
    return [(book["key"], name, where) for book in data["awx_setup_runbooks"]
            for name, where in sorted(given_variables(book, data).items()) if name not in reads[book["key"]].names]


def unanswered_required(data, reads=None):
    """(runbook, variable) for every required variable without a question, a launch variable or a default."""
    reads = reads or runbook_reads(data)
    problems = []
    for book in data["awx_setup_runbooks"]:
        path, read = os.path.join(PLAYBOOKS, book["playbook"]), reads[book["key"]]
        required = {name for name, needed in header_variables(path).items() if needed and not name.startswith("@")}
        required |= read.required
        for name in sorted(required):
            uses = read.occurrences.get(name, [])
            defaulted = name in read.defaults or (uses and all({"default", "d", "defined"} & use for use in uses))
            answered = name in {q["variable"] for q in book.get("survey", [])} or (
                name in book.get("launch_vars", []) and book.get("ask_variables"))
            if not (defaulted or answered):
                problems.append((book["key"], name))
        if any(name.startswith("@") for name in header_variables(path)) and not book.get("ask_variables"):
            problems.append((book["key"], "@file: the header takes a variables file, the template must ask for variables"))
    return problems


def mistyped_questions(data, reads=None):
    """(runbook, variable, why) for questions whose answers the runbook cannot take as they come from AWX."""
    reads = reads or runbook_reads(data)
    problems = []
    for book in data["awx_setup_runbooks"]:
        read = reads[book["key"]]
        for question in book.get("survey", []):
            name, kind = question["variable"], question.get("type")
            spec_type = read.options.get(name, {}).get("type")
            if spec_type in ("list", "dict") or kind == "multiselect":
                problems.append((book["key"], name, "lists and dicts are launch variables, never survey answers"))
            if spec_type == "int" and kind != "integer":
                problems.append((book["key"], name, "an int option needs an integer question"))
            if set(question.get("choices") or []) == {"true", "false"}:
                raw = [use for use in read.occurrences.get(name, []) if "bool" not in use]
                if spec_type not in (None, "bool") or raw:
                    problems.append((book["key"], name, "a true/false answer is a string: %d read(s) without | bool" % len(raw)))
            if kind == "password" or any(word in name for word in SECRET_WORDS):
                problems.append((book["key"], name, "secrets come from credentials, never from a survey"))
    return problems


def malformed_questions(data):
    """(runbook, variable, why) for questions AWX would refuse or answer wrongly."""
    problems = []
    for book in data["awx_setup_runbooks"]:
        variables = [question.get("variable") for question in book.get("survey", [])]
        if len(variables) != len(set(variables)):
            problems.append((book["key"], None, "a variable is asked twice"))
        for question in book.get("survey", []):
            name = question.get("variable")
            if not (question.get("question_name") and isinstance(question.get("required"), bool) and name
                    and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) and question.get("type") in SURVEY_TYPES):
                problems.append((book["key"], name, "question_name, required (bool), variable and type are needed"))
            if "default" in question and question["default"] in ("", None):
                problems.append((book["key"], name, "an empty default reaches the playbook as an empty string"))
            choices = question.get("choices")
            if question.get("type") == "multiplechoice" and (not choices or question.get("default", choices[0]) not in choices):
                problems.append((book["key"], name, "the default is not one of the choices"))
            if question.get("type") in ("text", "textarea") and "default" in question and not (
                    question.get("min", 0) <= len(question["default"]) <= question.get("max", 1024)):
                problems.append((book["key"], name, "the default is outside min/max"))
    return problems


FREQUENCIES = {  # stated frequency: (window, occurrences in it)
    "every_5_minutes": (datetime.timedelta(hours=1), 12),
    "every_15_minutes": (datetime.timedelta(hours=1), 4),
    "weekly": (datetime.timedelta(days=28), 4),
    "hourly": (datetime.timedelta(days=1), 24),
    "daily": (datetime.timedelta(days=7), 7),
    "monthly": (datetime.timedelta(days=365), 12),
    "quarterly": (datetime.timedelta(days=365), 4),
}
AWX_REFUSES = re.compile(r"BYDAY=[^;]*[0-9]|BYWEEKNO|BYYEARDAY|FREQ=SECONDLY|COUNT=[0-9]{4,}|DTSTART", re.IGNORECASE)


def playbook_settings():
    play = load(os.path.join(PLAYBOOKS, "awx_setup.yml"))[0]
    return play["vars"], play


RULE = "DTSTART;TZID={timezone}:{start} RRULE:{rule}"  # as the playbook's schedule task writes it


def rule_string(schedule):
    settings = playbook_settings()[0]
    return RULE.format(timezone=settings["awx_setup_timezone"], start=settings["awx_setup_schedule_start"],
                       rule=schedule["rrule"])


def wrong_schedules(data):
    """(schedule, why) for rules that do not parse, that AWX refuses, or that miss their stated frequency."""
    problems = []
    zone = tz.gettz(playbook_settings()[0]["awx_setup_timezone"])
    for book in data["awx_setup_runbooks"]:
        for schedule in book.get("schedules", []):
            if AWX_REFUSES.search(schedule["rrule"]):
                problems.append((schedule["name"], "AWX refuses it or the playbook adds it"))
            try:
                rule = rrule.rrulestr(rule_string(schedule))
            except (ValueError, TypeError) as error:
                problems.append((schedule["name"], "does not parse: %s" % error))
                continue
            window, count = FREQUENCIES[schedule["frequency"]]
            start = datetime.datetime(2027, 2, 1, 0, 7, 30, tzinfo=zone)  # not an occurrence; no DST change near it
            found = [when for when in rule.between(start, start + window) if when < start + window]
            if len(found) != count:
                problems.append((schedule["name"], "%d occurrences in %s, %s needs %d" % (
                    len(found), window, schedule["frequency"], count)))
    return problems


@pytest.fixture(scope="module", name="data")
def data_fixture():
    return load(os.path.join(PLAYBOOKS, "vars", "awx_setup.yml"))


@pytest.fixture(scope="module", name="reads")
def reads_fixture(data):
    return runbook_reads(data)


def test_every_runbook_has_one_job_template(data):
    runbooks = {os.path.basename(path) for path in glob.glob(os.path.join(PLAYBOOKS, "*.yml"))} - NOT_RUNBOOKS
    templates = [book["playbook"] for book in data["awx_setup_runbooks"]]
    assert sorted(templates) == sorted(runbooks)
    assert len({book["key"] for book in data["awx_setup_runbooks"]}) == len(templates)


def test_every_survey_and_schedule_variable_is_read_by_its_runbook(data, reads):
    assert not unread_variables(data, reads)
    assert sum(len(book["survey"]) for book in data["awx_setup_runbooks"]) > 30  # the reader did look at them


def test_mutation_a_question_no_runbook_reads_is_reported(data, reads):
    broken = copy.deepcopy(data)
    backup = broken["awx_setup_runbooks"][0]
    backup["survey"].append(dict(backup["survey"][0], variable="backup_targets"))  # a plausible typo
    emergency = next(book for book in broken["awx_setup_runbooks"] if book["key"] == "emergency_maintenance")
    emergency["survey"].append({"variable": "wk_never_read", "question_name": "x", "type": "text", "required": False})
    assert unread_variables(broken, reads) == [("backup", "backup_targets", "survey"),
                                               ("emergency_maintenance", "wk_never_read", "survey")]
    broken["awx_setup_runbooks"][1]["schedules"][0]["extra_data"] = {"backup_verify_subsett": "all"}
    assert ("verify", "backup_verify_subsett", "schedule Verify monthly") in unread_variables(broken, reads)
    recovery = next(book for book in broken["awx_setup_runbooks"] if book["key"] == "database_recovery")
    recovery["extra_vars"]["recovery_decryptions"] = "{{ wk_recovery_decryption }}"
    assert ("database_recovery", "recovery_decryptions", "extra_vars") in unread_variables(broken, reads)


def test_the_reader_follows_roles_imports_and_expressions(reads):
    assert {"backup_target", "backup_run_jobs", "backup_timer_oncalendar"} <= reads["backup"].names
    assert {"backup_verify_subset", "notify_webhooks"} <= reads["verify"].names  # the role includes the notify role
    assert "maintenance_pre_backup" in reads["emergency_maintenance"].names  # through import_playbook
    assert "maintenance_switch_state" not in reads["maintenance_start"].required  # the playbook sets it
    assert "recovery_confirm" in reads["database_recovery"].occurrences  # an assert's that:
    bare = Reads()
    read_role(bare, "watchkeeper.ops.maintenance", "switch")
    assert bare.required == {"maintenance_switch_state"}  # a required option nobody sets
    assert "backup_targets" not in reads["backup"].names and "errors" not in reads["backup"].names  # {% set %} is local


def test_every_required_variable_has_a_question_or_a_default(data, reads):
    assert not unanswered_required(data, reads)
    assert header_variables(os.path.join(PLAYBOOKS, "database_recovery.yml")) == {
        "recovery_job": True, "recovery_target": True, "recovery_confirm": True, "recovery_backup_id": False,
        "recovery_at_or_before": False, "recovery_verified_only": False, "recovery_force": False, "recovery_host": False}


def test_every_variable_of_a_runbook_header_is_read(data, reads):
    for book in data["awx_setup_runbooks"]:
        documented = header_variables(os.path.join(PLAYBOOKS, book["playbook"]))
        assert {name for name in documented if not name.startswith("@")} <= reads[book["key"]].names, book["key"]


def test_mutation_a_required_variable_without_question_is_reported(data, reads):
    broken = copy.deepcopy(data)
    recovery = next(book for book in broken["awx_setup_runbooks"] if book["key"] == "database_recovery")
    recovery["survey"] = [q for q in recovery["survey"] if q["variable"] != "recovery_confirm"]
    start = next(book for book in broken["awx_setup_runbooks"] if book["key"] == "maintenance_start")
    start["survey"] = [q for q in start["survey"] if q["variable"] != "maintenance_window_id"]
    assert unanswered_required(broken, reads) == [("database_recovery", "recovery_confirm"),
                                                  ("maintenance_start", "maintenance_window_id")]


def test_answers_have_types_the_runbooks_take(data, reads):
    assert not mistyped_questions(data, reads)
    assert not malformed_questions(data)


def test_mutation_a_true_false_question_read_without_bool_is_reported(data, reads):
    broken = copy.deepcopy(data)
    drill = next(book for book in broken["awx_setup_runbooks"] if book["key"] == "dr_drill")
    drill["survey"].append({"variable": "dr_drill_fail_on_miss", "question_name": "Fail", "type": "multiplechoice",
                            "required": True, "choices": ["true", "false"], "default": "true"})
    drill["survey"].append({"variable": "dr_drill_run_jobs", "question_name": "Jobs", "type": "text", "required": False})
    problems = mistyped_questions(broken, reads)
    assert [(key, name) for key, name, _why in problems] == [("dr_drill", "dr_drill_fail_on_miss"),
                                                             ("dr_drill", "dr_drill_run_jobs")]


def test_schedules_parse_and_fire_at_their_frequency(data):
    tasks = playbook_settings()[1]["tasks"]
    schedule = next(task for task in tasks if "awx.awx.schedule" in task)
    assert schedule["loop"] == "{{ awx_setup_runbooks | subelements('schedules', skip_missing=true) }}"
    assert schedule["awx.awx.schedule"]["rrule"] == RULE.format(
        timezone="{{ awx_setup_timezone }}", start="{{ awx_setup_schedule_start }}", rule="{{ item.1.rrule }}")
    assert next(task for task in tasks if "awx.awx.job_template" in task)["loop"] == "{{ awx_setup_runbooks }}"
    assert not wrong_schedules(data)
    stated = {(book["key"], schedule["frequency"]) for book in data["awx_setup_runbooks"]
              for schedule in book.get("schedules", [])}
    assert {("backup", "hourly"), ("backup", "daily"), ("verify", "monthly"), ("dr_drill", "quarterly"),
            ("retention", "daily"), ("maintenance_notify", "every_15_minutes")} <= stated


def test_mutation_a_wrong_rule_is_reported(data):
    broken = copy.deepcopy(data)
    schedules = {s["frequency"]: s for book in broken["awx_setup_runbooks"] for s in book.get("schedules", [])}
    schedules["every_15_minutes"]["rrule"] = "FREQ=MINUTELY;INTERVAL=20"
    schedules["quarterly"]["rrule"] = "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU"
    problems = dict(wrong_schedules(broken))
    assert "3 occurrences" in problems["Maintenance notifications every 15 minutes"]
    assert "refuses" in problems["Disaster-recovery drill quarterly"]


def test_scheduled_runs_have_every_required_answer(data):
    for book in data["awx_setup_runbooks"]:
        questions = {q["variable"]: q for q in book.get("survey", [])}
        for schedule in book.get("schedules", []):
            extra = set(schedule.get("extra_data") or {})
            assert extra <= set(questions) | (set(book["launch_vars"]) if book["ask_variables"] else set()), schedule
            missing = {name for name, q in questions.items() if q["required"] and "default" not in q} - extra
            assert not missing, (schedule["name"], missing)


def test_the_recovery_workflow_asks_an_approver_first(data):
    settings, play = playbook_settings()
    workflow = data["awx_setup_recovery_workflow"]
    task = next(t for t in play["tasks"] if "awx.awx.workflow_job_template" in t)["awx.awx.workflow_job_template"]
    approve, recover = task["workflow_nodes"]
    assert approve["unified_job_template"]["type"] == "workflow_approval"
    assert approve["related"]["success_nodes"] == [{"identifier": recover["identifier"]}]
    assert recover["unified_job_template"]["type"] == "job_template" and workflow["runbook"] == "database_recovery"
    assert "timeout" in approve["unified_job_template"] and int(settings["awx_setup_approval_timeout"]) > 0
    assert settings["awx_setup_recovery_approvers_team"] != settings["awx_setup_recovery_requesters_team"]
    assert "__awx_recovery_template.survey" in task["survey_spec"]["spec"]  # the same questions as the template


def test_secrets_reach_jobs_only_as_files(data):
    for kind in data["awx_setup_credential_types"]:
        injectors = kind["injectors"]
        assert set(injectors) == {"file", "env"}, kind["name"]  # no extra_vars injector
        fields = {field["id"] for field in kind["inputs"]["fields"]}
        files = {name.split(".", 1)[1] for name in injectors["file"]}
        for value in injectors["env"].values():
            assert re.fullmatch(r"\{\{ tower\.filename\.(\w+) \}\}", value).group(1) in files, kind["name"]
        used = {name for value in injectors["file"].values() for name in re.findall(r"\{\{ (\w+) \}\}", value)}
        assert used <= fields and all(f["secret"] for f in kind["inputs"]["fields"] if f["id"] in used - {"access_key"})
    kinds = {kind["key"] for kind in data["awx_setup_credential_types"]}
    assert all(set(book["credentials"]) <= kinds for book in data["awx_setup_runbooks"])
    for book in data["awx_setup_runbooks"]:  # a template's own variables hold expressions, never a secret's value
        for name, value in (book.get("extra_vars") or {}).items():
            assert not any(word in name for word in SECRET_WORDS) or re.fullmatch(r"\{\{ .* \}\}", value), name
