# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""terraform/: every file parses (python-hcl2), the modules keep their security promises, and each promise is
enforced: a mutated copy of a module (a delete action for the writer, Object Lock off, public access allowed,
deletion protection off...) makes the structural check fail."""

import glob
import os
import re
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import tf_checks  # noqa: E402  pylint: disable=wrong-import-position

ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TERRAFORM = os.path.join(ROOT, "terraform")
MODULES = os.path.join(TERRAFORM, "modules")
CHECKS = {
    "backup_storage_aws": tf_checks.check_aws_module,
    "backup_storage_gcs": tf_checks.check_gcs_module,
    "gcp_stack": tf_checks.check_stack_module,
}


def _rel(path):
    return os.path.relpath(path, TERRAFORM)


@pytest.mark.parametrize("path", tf_checks.tf_files(TERRAFORM), ids=_rel)
def test_every_file_parses(path):
    doc = tf_checks.parse_file(path)
    assert doc, "%s parsed to nothing" % path


def test_a_broken_file_is_reported(tmp_path):
    bad = tmp_path / "bad.tf"
    bad.write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')
    with pytest.raises(tf_checks.TerraformParseError, match="bad.tf does not parse"):
        tf_checks.parse_file(str(bad))


def test_the_layout_is_complete_and_holds_no_scripts():
    for module in CHECKS:
        for name in ("versions.tf", "variables.tf", "outputs.tf", "README.md"):
            assert os.path.isfile(os.path.join(MODULES, module, name)), "%s/%s is missing" % (module, name)
    for example in ("staging", "production"):
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert os.path.isfile(os.path.join(TERRAFORM, "examples", example, name))
    scripts = [p for p in glob.glob(os.path.join(TERRAFORM, "**", "*"), recursive=True) if p.endswith((".py", ".sh"))]
    assert not scripts, "ansible-test lints .py and .sh: keep them out of terraform/ (%s)" % scripts


def test_every_module_requires_terraform_1_5():
    for module in list(CHECKS) + ["../examples/staging", "../examples/production"]:
        doc = tf_checks.parse_file(os.path.join(MODULES, module, "versions.tf"))
        required = doc["terraform"][0]["required_version"]
        assert required == ">= 1.5.0", (module, required)


@pytest.mark.parametrize("module", sorted(CHECKS))
def test_module_keeps_its_promises(module):
    assert CHECKS[module](os.path.join(MODULES, module)) == []


@pytest.mark.parametrize("module", sorted(CHECKS))
def test_every_variable_and_output_is_documented(module):
    """Descriptions on every variable and output, and the module README lists each of them."""
    directory = os.path.join(MODULES, module)
    with open(os.path.join(directory, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    for kind in ("variable", "output"):
        names = {}
        for path in glob.glob(os.path.join(directory, "*.tf")):
            for block in tf_checks.parse_file(path).get(kind, []):
                names.update(block)
        assert names, "%s has no %s" % (module, kind)
        for name, body in names.items():
            assert body.get("description"), "%s %s.%s has no description" % (module, kind, name)
            assert re.search(r"^\| `%s` \|" % re.escape(name), readme, re.M), "%s/README.md does not list %s %s" % (module, kind, name)


@pytest.mark.parametrize("example", ["staging", "production"])
def test_examples_wire_the_modules_and_give_the_inventory_what_it_needs(example):
    directory = os.path.join(TERRAFORM, "examples", example)
    mod = tf_checks.Module(directory)
    sources = {name: body["source"] for name, body in mod.modules.items()}
    assert sources == {"backups_s3": "../../modules/backup_storage_aws", "backups_gcs": "../../modules/backup_storage_gcs",
                       "stack": "../../modules/gcp_stack"}
    outputs = {}
    for path in glob.glob(os.path.join(directory, "*.tf")):
        for block in tf_checks.parse_file(path).get("output", []):
            outputs.update(block)
    assert {"backup_destinations", "shared_state", "credentials_files", "aws_profiles", "stack"} <= set(outputs)
    prod = example == "production"
    assert mod.modules["backups_s3"]["object_lock_mode"] == ("COMPLIANCE" if prod else "GOVERNANCE")
    assert mod.modules["backups_gcs"].get("retention_locked", False) is prod


# -- mutations: each one must be caught ------------------------------------------------------------------------------
WRITER_BINDING = ('for_each = toset(["roles/storage.%s", "roles/storage.objectViewer"])\n\n  bucket = google_storage_bucket.backup.name\n'
                  '  role   = each.value\n  member = "serviceAccount:${google_service_account.this["writer"].email}"')
READER_BINDING = 'role   = "roles/storage.%s"\n  member = "serviceAccount:${google_service_account.this["reader"].email}"'
MUTATIONS = [
    # (module, file, original text, mutated text, expected violation)
    ("backup_storage_aws", "iam.tf", 'actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]',
     'actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:DeleteObject"]', "writer statement PutGetAbort allows s3:DeleteObject"),
    ("backup_storage_aws", "iam.tf", 'actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]',
     'actions   = ["s3:*"]', "writer statement PutGetAbort allows s3:*"),
    ("backup_storage_aws", "iam.tf", 'actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]',
     'actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:Delete*"]', "allows s3:Delete*"),
    ("backup_storage_aws", "iam.tf", 'actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]',
     'actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:PutLifecycleConfiguration"]', "allows s3:PutLifecycleConfiguration"),
    ("backup_storage_aws", "iam.tf", 'actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]',
     'actions   = var.writer_actions', "cannot be resolved"),
    ("backup_storage_aws", "iam.tf", 'actions   = concat(local.destructive_actions, local.delete_actions, ["s3:PutObjectLegalHold"])',
     'actions   = local.destructive_actions', "writer policy lacks the explicit Deny"),
    ("backup_storage_aws", "main.tf", "object_lock_enabled = true", "object_lock_enabled = false", "Object Lock is not enabled"),
    ("backup_storage_aws", "main.tf", "      days = var.object_lock_days\n", "", "no default Object Lock retention"),
    ("backup_storage_aws", "main.tf", "block_public_policy     = true", "block_public_policy     = false", "block_public_policy is not true"),
    ("backup_storage_aws", "main.tf", 'values   = ["false"]', 'values   = ["true"]', "does not deny every request without TLS"),
    ("backup_storage_aws", "main.tf", 'status = "Enabled"\n  }\n}', 'status = "Suspended"\n  }\n}', "versioning is not Enabled"),
    ("backup_storage_aws", "main.tf", "force_destroy       = false", "force_destroy       = true", "force_destroy is on"),
    ("backup_storage_aws", "main.tf", "      expired_object_delete_marker = true\n", "      days = 90\n", "expires current versions"),
    ("backup_storage_aws", "iam.tf", 'actions   = ["s3:DeleteObject"]\n    resources = local.job_arns',
     'actions   = ["s3:DeleteObject"]\n    resources = [local.objects_arn]', "purger statement DeleteUnderJobPrefixes deletes outside the job prefixes"),
    ("backup_storage_aws", "iam.tf", 'actions   = ["s3:DeleteObject"]\n    resources = local.job_arns',
     'actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]\n    resources = local.job_arns', "allows s3:DeleteObjectVersion"),
    ("backup_storage_aws", "iam.tf", 'actions   = ["s3:GetObject", "s3:GetObjectVersion"]',
     'actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]', "restorer statement Read allows s3:PutObject"),
    ("backup_storage_gcs", "iam.tf", WRITER_BINDING % "objectCreator", WRITER_BINDING % "objectAdmin", "the writer gets roles/storage.objectAdmin"),
    ("backup_storage_gcs", "iam.tf", '    expression  = local.job_cond\n', '    expression  = "true"\n', "the purger may delete outside the job prefixes"),
    ("backup_storage_gcs", "iam.tf", READER_BINDING % "objectViewer", READER_BINDING % "objectCreator", "the reader may write beyond verification records"),
    ("backup_storage_gcs", "main.tf", 'public_access_prevention    = "enforced"', 'public_access_prevention    = "inherited"',
     "public access prevention is not enforced"),
    ("backup_storage_gcs", "main.tf", "uniform_bucket_level_access = true", "uniform_bucket_level_access = false", "uniform bucket-level access is off"),
    ("backup_storage_gcs", "main.tf", "for_each = local.use_retention ? [1] : []", "for_each = []", "no retention policy"),
    ("backup_storage_gcs", "variables.tf", 'default     = "retention_policy"', 'default     = "versioning"', "protection does not default to retention_policy"),
    ("backup_storage_gcs", "main.tf", '        with_state                 = "ARCHIVED"\n', "", "a lifecycle rule deletes live objects"),
    ("gcp_stack", "sql.tf", "  deletion_protection = true", "  deletion_protection = false", "Terraform deletion_protection is not true"),
    ("gcp_stack", "sql.tf", "deletion_protection_enabled = true", "deletion_protection_enabled = false", "API deletion protection"),
    ("gcp_stack", "sql.tf", "point_in_time_recovery_enabled = true", "point_in_time_recovery_enabled = false", "point-in-time recovery"),
    ("gcp_stack", "sql.tf", "ipv4_enabled                                  = false", "ipv4_enabled                                  = true", "public IPv4"),
    ("gcp_stack", "compute.tf", "  auto_healing_policies {\n    health_check      = google_compute_health_check.app.id",
     "  auto_healing_policies {\n    health_check      = null", "no health-checked autohealing"),
    ("gcp_stack", "compute.tf", "max_scaled_in_replicas", "max_scaled_in_percent", "no scale-in control"),
    ("gcp_stack", "lb.tf", 'action      = "rate_based_ban"', 'action      = "allow"', "no rate limiting rule"),
    ("gcp_stack", "lb.tf", "  security_policy       = google_compute_security_policy.this.id\n", "", "not behind the Cloud Armor policy"),
]


def _mutated(tmp_path, module, filename, before, after):
    copy = tmp_path / module
    shutil.copytree(os.path.join(MODULES, module), str(copy))
    path = copy / filename
    text = path.read_text(encoding="utf-8")
    assert text.count(before) == 1, "the mutation's original text must occur once in %s/%s: %r" % (module, filename, before)
    path.write_text(text.replace(before, after), encoding="utf-8")
    return str(copy)


@pytest.mark.parametrize("module,filename,before,after,expected", MUTATIONS, ids=[m[4][:48] for m in MUTATIONS])
def test_a_mutation_is_caught(tmp_path, module, filename, before, after, expected):
    problems = CHECKS[module](_mutated(tmp_path, module, filename, before, after))
    assert any(expected in p for p in problems), "mutation not caught as %r: %s" % (expected, problems)


def test_unmutated_copy_passes(tmp_path):
    """The copy mechanism itself changes nothing: a copy with a no-op replacement still passes."""
    copy = _mutated(tmp_path, "backup_storage_aws", "main.tf", "object_lock_enabled = true", "object_lock_enabled = true")
    assert tf_checks.check_aws_module(copy) == []


def test_action_patterns_follow_iam_wildcards():
    assert tf_checks.action_matches("s3:*", "s3:DeleteObject")
    assert tf_checks.action_matches("s3:delete*", "s3:DeleteObjectVersion")
    assert tf_checks.action_matches("*", "s3:PutBucketPolicy")
    assert tf_checks.action_matches("s3:Put*Policy", "s3:PutBucketPolicy")
    assert not tf_checks.action_matches("s3:Put*", "s3:DeleteObject")
    assert not tf_checks.action_matches("s3:GetObject", "s3:GetObjectVersion")


def test_every_checkov_skip_carries_a_reason():
    skips = 0
    for path in tf_checks.tf_files(TERRAFORM):
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if "checkov:skip" not in line:
                    continue
                skips += 1
                match = re.match(r"^\s*#checkov:skip=(CKV2?_[A-Z]+_\d+):(.+)$", line.rstrip("\n"))
                assert match, "%s:%d: a skip is '#checkov:skip=CKV_..:<reason>'" % (path, number)
                assert len(match.group(2).split()) >= 6, "%s:%d: the reason of %s is too short" % (path, number, match.group(1))
    assert skips > 0
