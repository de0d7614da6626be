"""The role backup_verify's argument spec, defaults and README describe the same variables (house rule 9)."""

import os
import re

import pytest
import yaml

ROLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "roles", "backup_verify")


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


SPEC = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
DEFAULTS = load("defaults", "main.yml")


def test_spec_and_defaults_name_the_same_variables():
    assert sorted(SPEC) == sorted(DEFAULTS)


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_spec_default_mirrors_defaults(name):
    assert SPEC[name].get("default") == DEFAULTS[name]
    assert SPEC[name].get("description") and SPEC[name].get("type")


@pytest.mark.parametrize("name", sorted(SPEC))
def test_public_variables_carry_the_role_prefix(name):
    assert name.startswith("backup_verify_")


def test_private_variables_carry_the_private_prefix():
    assert all(name.startswith("__backup_verify_") for name in load("vars", "main.yml"))


def test_readme_has_one_heading_per_variable():
    with open(os.path.join(ROLE, "README.md")) as handle:
        headings = re.findall(r"^### (\S+)$", handle.read(), re.MULTILINE)
    assert sorted(headings) == sorted(SPEC)


def test_jobs_accept_the_backup_roles_job_keys():
    """The backup role's backup_jobs entries can be passed as they are (argument validation rejects unknown keys)."""
    backup_spec = load("..", "backup", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    backup_keys = backup_spec["backup_jobs"]["options"]
    assert set(backup_keys) <= set(SPEC["backup_verify_jobs"]["options"])
