"""What the role backup_verify's argument spec promises beyond the house rules (tests/unit/roles/test_role_specs.py)."""

import os

import yaml

ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "roles")


def options(role):
    with open(os.path.join(ROLES, role, "meta", "argument_specs.yml")) as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


def test_jobs_accept_the_backup_roles_job_keys():
    """The backup role's backup_jobs entries can be passed as they are (argument validation rejects unknown keys)."""
    backup_keys = options("backup")["backup_jobs"]["options"]
    assert set(backup_keys) <= set(options("backup_verify")["backup_verify_jobs"]["options"])
