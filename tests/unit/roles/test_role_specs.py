"""Every role's argument spec, defaults and README describe the same variables (house rule 9)."""

import os
import re

import pytest
import yaml

ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "roles")
CHECKED = sorted(name for name in os.listdir(ROLES) if os.path.isdir(os.path.join(ROLES, name, "meta")))


def load(role, *parts):
    with open(os.path.join(ROLES, role, *parts)) as handle:
        return yaml.safe_load(handle)


def spec(role):
    return load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]


@pytest.mark.parametrize("role", CHECKED)
def test_spec_and_defaults_name_the_same_variables_with_the_same_defaults(role):
    defaults = load(role, "defaults", "main.yml")
    options = spec(role)
    assert sorted(options) == sorted(defaults)
    for name, value in defaults.items():
        assert options[name].get("default") == value, name
        assert options[name].get("description") and options[name].get("type"), name


@pytest.mark.parametrize("role", CHECKED)
def test_variables_carry_the_role_prefix(role):
    assert all(name.startswith(role + "_") for name in spec(role))
    private = os.path.join(ROLES, role, "vars", "main.yml")
    if os.path.exists(private):
        assert all(name.startswith("__%s_" % role) for name in load(role, "vars", "main.yml"))


@pytest.mark.parametrize("role", CHECKED)
def test_readme_has_one_heading_per_variable(role):
    with open(os.path.join(ROLES, role, "README.md")) as handle:
        headings = re.findall(r"^### (\S+)$", handle.read(), re.MULTILINE)
    assert sorted(headings) == sorted(spec(role))
