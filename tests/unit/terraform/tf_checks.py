# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the security properties of the modules of terraform/ (parsed by ``tf_parse``).

No terraform binary is needed: each ``check_*`` function takes a module directory, parses every ``.tf`` file of it
and returns a list of violations (strings), empty when the module keeps its promises. The tests call them on the
real modules (no violation) and on mutated copies (each mutation must produce one).

The reader resolves what the policies need and nothing more: ``local.<name>`` references and ``concat(...)`` of
locals and list literals. A policy action that cannot be resolved counts as a violation in an Allow statement, so
an action list moved behind a variable is refused rather than trusted.
"""

import re

# TerraformParseError, parse_file and tf_files: re-exported for the tests, which use this module only.
from tf_parse import (  # noqa: F401  pylint: disable=import-error,unused-import
    Module, TerraformParseError, action_matches, blk, parse_file, statements, tf_files, _listify)

# Actions no backup writer may ever be allowed (directly or through a wildcard).
WRITER_FORBIDDEN = (
    "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteObjectTagging", "s3:DeleteBucket", "s3:DeleteBucketPolicy",
    "s3:PutLifecycleConfiguration", "s3:PutBucketObjectLockConfiguration", "s3:PutObjectRetention",
    "s3:BypassGovernanceRetention", "s3:PutBucketPolicy", "s3:PutBucketVersioning", "s3:PutObjectLegalHold",
    "s3:PutBucketPublicAccessBlock", "s3:PutEncryptionConfiguration", "s3:PutBucketAcl", "s3:PutObjectAcl",
)
# The purger may delete (s3:DeleteObject, under the job prefixes only) and set legal holds; nothing else here.
PURGER_FORBIDDEN = tuple(a for a in WRITER_FORBIDDEN if a not in ("s3:DeleteObject", "s3:PutObjectLegalHold"))
GCS_ADMIN_ROLES = ("roles/storage.admin", "roles/storage.objectAdmin", "roles/storage.objectUser",
                   "roles/storage.legacyBucketOwner", "roles/storage.legacyBucketWriter", "roles/storage.legacyObjectOwner")


def _allowed_forbidden(module, doc, forbidden, who):
    problems = []
    for st in statements(doc):
        if (st.get("effect") or "Allow") != "Allow":
            continue
        sid = st.get("sid") or "?"
        if "not_actions" in st:
            problems.append("%s statement %s uses not_actions (allows everything else)" % (who, sid))
        actions = module.resolve(st.get("actions"))
        if actions is None:
            problems.append("%s statement %s has actions that cannot be resolved: %r" % (who, sid, st.get("actions")))
            continue
        for pattern in actions:
            hits = [a for a in forbidden if action_matches(pattern, a)]
            if hits:
                problems.append("%s statement %s allows %s (covers %s)" % (who, sid, pattern, ", ".join(hits)))
    return problems


def _denies(module, doc, action):
    for st in statements(doc):
        if st.get("effect") == "Deny" and "resources" in st:
            actions = module.resolve(st.get("actions")) or []
            if any(action_matches(p, action) for p in actions):
                return True
    return False


def check_aws_module(directory):
    """Violations of backup_storage_aws's promises (empty list: none)."""
    m = Module(directory)
    problems = []
    bucket = m.resource("aws_s3_bucket", "backup")
    if bucket is None:
        return ["no aws_s3_bucket.backup"]
    if bucket.get("object_lock_enabled") is not True:
        problems.append("Object Lock is not enabled on the bucket (object_lock_enabled = %r)" % bucket.get("object_lock_enabled"))
    if bucket.get("force_destroy") not in (False, None):
        problems.append("force_destroy is on")
    if not _prevent_destroy(bucket):
        problems.append("the bucket lacks lifecycle.prevent_destroy = true")
    lock = m.resource("aws_s3_bucket_object_lock_configuration", "backup")
    retention = blk(blk(lock, "rule"), "default_retention")
    if not lock or not retention.get("mode") or not retention.get("days"):
        problems.append("no default Object Lock retention (mode and days)")
    versioning = blk(m.resource("aws_s3_bucket_versioning", "backup"), "versioning_configuration").get("status")
    if versioning != "Enabled":
        problems.append("versioning is not Enabled (%r)" % versioning)
    pab = m.resource("aws_s3_bucket_public_access_block", "backup") or {}
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        if pab.get(flag) is not True:
            problems.append("public access block: %s is not true" % flag)
    sse = m.resource("aws_s3_bucket_server_side_encryption_configuration", "backup") or {}
    default = blk(blk(sse, "rule"), "apply_server_side_encryption_by_default")
    if default.get("sse_algorithm") != "aws:kms" or not default.get("kms_master_key_id"):
        problems.append("default encryption is not SSE-KMS with a key")
    problems += _check_tls_only(m)
    problems += _check_lifecycle(m)
    writer = m.data.get("aws_iam_policy_document", {}).get("writer")
    purger = m.data.get("aws_iam_policy_document", {}).get("purger")
    restorer = m.data.get("aws_iam_policy_document", {}).get("restorer")
    if writer is None or purger is None or restorer is None:
        return problems + ["the writer, purger and restorer policy documents must all exist"]
    problems += _allowed_forbidden(m, writer, WRITER_FORBIDDEN, "writer")
    if not _denies(m, writer, "s3:DeleteObject") or not _denies(m, writer, "s3:PutLifecycleConfiguration"):
        problems.append("writer policy lacks the explicit Deny of deletes and lifecycle changes")
    problems += _allowed_forbidden(m, restorer, WRITER_FORBIDDEN, "restorer")
    problems += _check_restorer(m, restorer)
    problems += _allowed_forbidden(m, purger, PURGER_FORBIDDEN, "purger")
    problems += _check_purger(m, purger)
    return problems


def _prevent_destroy(body):
    return blk(body, "lifecycle").get("prevent_destroy") is True


def _check_tls_only(m):
    doc = m.data.get("aws_iam_policy_document", {}).get("bucket") or {}
    for st in statements(doc):
        for cond in _listify(st.get("condition")):
            if (st.get("effect") == "Deny" and cond.get("variable") == "aws:SecureTransport" and cond.get("values") == ["false"]
                    and "s3:*" in (m.resolve(st.get("actions")) or [])):
                return []
    return ["the bucket policy does not deny every request without TLS (aws:SecureTransport false)"]


def _check_lifecycle(m):
    problems = []
    life = m.resource("aws_s3_bucket_lifecycle_configuration", "backup")
    if life is None:
        return ["no lifecycle configuration"]
    for rule in _listify(life.get("rule")):
        for exp in _listify(rule.get("expiration")):
            if set(exp) - {"expired_object_delete_marker"}:
                problems.append("lifecycle rule %s expires current versions (%s): only retention_purge decides" % (rule.get("id"), sorted(exp)))
    return problems


def _check_purger(m, purger):
    problems = []
    job_arns = m.locals.get("job_arns") or ""
    if "var.job_names" not in str(job_arns) or not str(job_arns).rstrip("}]\"").endswith("${j}/*"):
        problems.append("local.job_arns is not <bucket>/<prefix>/<job>/* per job (%r)" % job_arns)
    for st in statements(purger):
        actions = m.resolve(st.get("actions")) or []
        if st.get("effect", "Allow") == "Allow" and any(action_matches(p, "s3:DeleteObject") for p in actions):
            if st.get("resources") not in ("${local.job_arns}", ["${local.job_arns}"]):
                problems.append("purger statement %s deletes outside the job prefixes: %r" % (st.get("sid"), st.get("resources")))
    denied = [st for st in statements(purger) if st.get("effect") == "Deny" and st.get("not_resources") == "${local.job_arns}"
              and any(action_matches(p, "s3:DeleteObject") for p in (m.resolve(st.get("actions")) or []))]
    if not denied:
        problems.append("purger policy lacks the Deny of deletes outside the job prefixes")
    return problems


def _check_restorer(m, restorer):
    problems = []
    for st in statements(restorer):
        if st.get("effect", "Allow") != "Allow":
            continue
        for action in m.resolve(st.get("actions")) or []:
            reading = action.startswith(("s3:Get", "s3:List")) or action == "kms:Decrypt"
            recording = st.get("sid") in ("RecordVerifications", "EncryptRecordsThroughS3") and action in ("s3:PutObject", "kms:GenerateDataKey")
            if not reading and not recording:
                problems.append("restorer statement %s allows %s (the restorer only reads)" % (st.get("sid"), action))
            if "*" in action:
                problems.append("restorer statement %s uses a wildcard action %s" % (st.get("sid"), action))
    for dyn in _listify(restorer.get("dynamic")):
        body = dyn.get("statement") or {}
        if "restorer_records_verifications" not in str(body.get("for_each")):
            problems.append("restorer has a dynamic statement not behind restorer_records_verifications")
        for content in _listify(body.get("content")):
            if content.get("sid") == "RecordVerifications" and content.get("resources") != ["${local.bucket_arn}/${local.key_root}_ops_state/*/verified/*"]:
                problems.append("restorer may write outside _ops_state/*/verified/: %r" % content.get("resources"))
    return problems


def _iam_members(m):
    return m.resources.get("google_storage_bucket_iam_member", {})


def check_gcs_module(directory):
    """Violations of backup_storage_gcs's promises (empty list: none)."""
    m = Module(directory)
    problems = []
    bucket = m.resource("google_storage_bucket", "backup")
    if bucket is None:
        return ["no google_storage_bucket.backup"]
    if bucket.get("uniform_bucket_level_access") is not True:
        problems.append("uniform bucket-level access is off")
    if bucket.get("public_access_prevention") != "enforced":
        problems.append("public access prevention is not enforced (%r)" % bucket.get("public_access_prevention"))
    if bucket.get("force_destroy") not in (False, None):
        problems.append("force_destroy is on")
    if not _prevent_destroy(bucket):
        problems.append("the bucket lacks lifecycle.prevent_destroy = true")
    dynamics = {name: body for d in _listify(bucket.get("dynamic")) for name, body in d.items()}
    retention = dynamics.get("retention_policy")
    if not retention or "local.use_retention" not in str(retention.get("for_each")) or "retention_days" not in str(retention.get("content")):
        problems.append("no retention policy (retention_days) behind protection = retention_policy")
    if blk(bucket, "versioning").get("enabled") != "${local.use_versioning}":
        problems.append("versioning is not on with protection = versioning")
    if m.locals.get("use_retention") != '${var.protection == "retention_policy"}':
        problems.append("local.use_retention does not follow var.protection")
    if (m.variables.get("protection") or {}).get("default") != "retention_policy":
        problems.append("protection does not default to retention_policy")
    rules = _listify(bucket.get("lifecycle_rule"))
    for dyn in _listify(bucket.get("dynamic")):
        rules += _listify((dyn.get("lifecycle_rule") or {}).get("content"))
    for rule in rules:
        if blk(rule, "action").get("type") == "Delete" and blk(rule, "condition").get("with_state") != "ARCHIVED":
            problems.append("a lifecycle rule deletes live objects")
    problems += _check_gcs_iam(m)
    return problems


# What each account may hold on the bucket: role -> the IAM condition it needs (None: unconditional).
GCS_ALLOWED = {
    "writer": {"roles/storage.objectCreator": None, "roles/storage.objectViewer": None,
               "${google_project_iam_custom_role.lock_replace.id}": "${local.lock_cond}"},
    "purger": {"roles/storage.objectCreator": None, "roles/storage.objectViewer": None,
               "${google_project_iam_custom_role.bucket_get.id}": None,
               "${google_project_iam_custom_role.object_delete.id}": "${local.job_cond}",
               "${google_project_iam_custom_role.lock_replace.id}": "${local.lock_cond}"},
    "reader": {"roles/storage.objectViewer": None, "roles/storage.objectCreator": "${local.records_cond}"},
}


def _binding_pairs(member):
    """(account, role) pairs of one google_storage_bucket_iam_member, for_each over roles or accounts included."""
    each = str(member.get("for_each") or "")
    role = member.get("role") or ""
    roles = re.findall(r'"(roles/[^"]+)"', each) if role == "${each.value}" else [role]
    who = str(member.get("member") or "")
    named = re.findall(r'this\["([a-z]+)"\]', who)
    accounts = named or (re.findall(r'"(writer|purger|reader)"', each) if "this[each.key]" in who else ["?"])
    return [(a, r) for a in accounts for r in roles]


def _check_gcs_iam(m):
    problems = []
    roles = m.resources.get("google_project_iam_custom_role", {})
    for name, role in roles.items():
        perms = role.get("permissions") or []
        if any(p.startswith("storage.buckets.") and p != "storage.buckets.get" for p in perms):
            problems.append("custom role %s can change the bucket: %s" % (name, perms))
        if any(not p.startswith("storage.objects.") and p != "storage.buckets.get" for p in perms):
            problems.append("custom role %s holds more than object and bucket-read permissions: %s" % (name, perms))
    lock_perms = (roles.get("lock_replace") or {}).get("permissions")
    if lock_perms != ["storage.objects.delete"]:
        problems.append("lock_replace must hold storage.objects.delete only (%r)" % lock_perms)
    for name, member in _iam_members(m).items():
        condition = blk(member, "condition").get("expression")
        for account, role in _binding_pairs(member):
            allowed = GCS_ALLOWED.get(account, {})
            if role not in allowed:
                problems.append("the %s gets %s (binding %s)" % (account, role, name))
            elif allowed[role] is not None and condition != allowed[role]:
                what = {"${local.job_cond}": "may delete outside the job prefixes", "${local.lock_cond}": "may delete beyond its job locks",
                        "${local.records_cond}": "may write beyond verification records"}[allowed[role]]
                problems.append("the %s %s (binding %s, condition %r)" % (account, what, name, condition))
    lock_binding = _iam_members(m).get("lock_replace") or {}
    if "local.use_versioning" not in str(lock_binding.get("for_each")):
        problems.append("lock replacement must exist only with protection = versioning")
    job_cond, lock_cond = str(m.locals.get("job_cond")), str(m.locals.get("lock_cond"))
    if "var.job_names" not in job_cond or "startsWith" not in job_cond or '${j}/' not in job_cond:
        problems.append("local.job_cond does not limit names to <prefix>/<job>/ (%r)" % job_cond)
    if "_ops_state/" not in lock_cond or 'endsWith("/job.lock")' not in lock_cond:
        problems.append("local.lock_cond does not limit names to _ops_state/.../job.lock (%r)" % lock_cond)
    return problems


def check_stack_module(directory):
    """Violations of gcp_stack's promises (empty list: none)."""
    m = Module(directory)
    problems = []
    sql = m.resource("google_sql_database_instance", "this") or {}
    settings = blk(sql, "settings")
    backup = blk(settings, "backup_configuration")
    ip = blk(settings, "ip_configuration")
    if sql.get("deletion_protection") is not True:
        problems.append("Cloud SQL: Terraform deletion_protection is not true")
    if settings.get("deletion_protection_enabled") is not True:
        problems.append("Cloud SQL: API deletion protection (deletion_protection_enabled) is not true")
    if not _prevent_destroy(sql):
        problems.append("Cloud SQL: no lifecycle.prevent_destroy")
    if backup.get("enabled") is not True or backup.get("point_in_time_recovery_enabled") is not True:
        problems.append("Cloud SQL: backups with point-in-time recovery are not both on")
    if ip.get("ipv4_enabled") is not False:
        problems.append("Cloud SQL: a public IPv4 address is enabled")
    if ip.get("ssl_mode") not in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"):
        problems.append("Cloud SQL: TLS is not required (%r)" % ip.get("ssl_mode"))
    redis = m.resource("google_redis_instance", "this") or {}
    if redis.get("auth_enabled") is not True or redis.get("transit_encryption_mode") != "SERVER_AUTHENTICATION":
        problems.append("Memorystore: AUTH and in-transit encryption must both be on")
    mig = m.resource("google_compute_region_instance_group_manager", "app") or {}
    healing = blk(mig, "auto_healing_policies")
    if not str(healing.get("health_check", "")).startswith("${google_compute_health_check."):
        problems.append("the instance group has no health-checked autohealing")
    policy = blk(m.resource("google_compute_region_autoscaler", "app"), "autoscaling_policy")
    if "cpu_utilization" not in policy or "queue" not in str(policy.get("metric")):
        problems.append("the autoscaler must scale on CPU and on the queue metric")
    if "max_scaled_in_replicas" not in str(policy.get("scale_in_control")):
        problems.append("the autoscaler has no scale-in control")
    if "scaling_schedules" not in str(policy.get("dynamic")):
        problems.append("the autoscaler has no scaling schedules")
    template = m.resource("google_compute_instance_template", "app") or {}
    if "access_config" in str(template.get("network_interface")):
        problems.append("instances get public IP addresses")
    armor = m.resource("google_compute_security_policy", "this") or {}
    if not any(r.get("action") in ("throttle", "rate_based_ban") for r in _listify(armor.get("rule"))):
        problems.append("Cloud Armor has no rate limiting rule")
    backend = m.resource("google_compute_backend_service", "app") or {}
    if backend.get("security_policy") != "${google_compute_security_policy.this.id}":
        problems.append("the backend service is not behind the Cloud Armor policy")
    proxy = m.resource("google_compute_target_https_proxy", "this") or {}
    if "managed_ssl_certificate" not in str(proxy.get("ssl_certificates")) or not proxy.get("ssl_policy"):
        problems.append("the HTTPS proxy needs the managed certificate and the TLS policy")
    return problems
