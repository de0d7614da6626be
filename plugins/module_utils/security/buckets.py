# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bucket rules (S3 through boto3, GCS through google-cloud-storage), for the destinations of the backup estate.

A bucket entry is a destination spec as the backup role writes it (``type``, ``bucket``, ``endpoint_url``,
credentials) whose credentials are the **backup writer's**. The delete test writes one canary object
(``_ops_state/security_audit/canary``, overwritten by every audit) and tries to delete it with those credentials:
a refused delete passes. That canary is the only write of the whole audit.
"""

import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils.security.rules import ERROR, NOT_APPLICABLE, Rule, not_applicable, outcome
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

CANARY = "_ops_state/security_audit/canary"
PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
GCS_PUBLIC = ("allUsers", "allAuthenticatedUsers")
PAB_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _code(exc):
    response = getattr(exc, "response", None) or {}
    return (response.get("Error") or {}).get("Code") or type(exc).__name__


def _buckets(ctx):
    return [b for b in ctx.params.get("buckets") or [] if b.get("type") in ("s3", "gcs")]


def _client(ctx, spec):
    cache = ctx.cache.setdefault("bucket_clients", {})
    name = spec.get("name") or spec["bucket"]
    if name not in cache:
        cache[name] = open_storage(dict(spec, name=name))
    return cache[name]


def _each(ctx, s3_judge, gcs_judge):
    buckets = _buckets(ctx)
    if not buckets:
        return not_applicable("no bucket to audit (security_audit_buckets is empty)")
    results = []
    for spec in buckets:
        subject = "%s://%s" % ("s3" if spec["type"] == "s3" else "gs", spec["bucket"])
        try:
            storage = _client(ctx, spec)
            status, evidence = (s3_judge if spec["type"] == "s3" else gcs_judge)(storage, spec)
            results.append(outcome(status, "%s: %s" % (subject, evidence), subject=subject))
        except Exception as exc:  # pylint: disable=broad-except
            results.append(outcome(ERROR, "%s: %s: %s" % (subject, _code(exc), str(exc)[:300]), subject=subject))
    return results


def _s3_call(fn, missing, **kwargs):
    """The call's response, or None when the error code is one of ``missing`` (configuration absent)."""
    try:
        return fn(**kwargs)
    except Exception as exc:  # pylint: disable=broad-except
        if _code(exc) in missing:
            return None
        raise


def s3_public(storage, spec):
    client, bucket = storage.client, spec["bucket"]
    pab = _s3_call(client.get_public_access_block, ("NoSuchPublicAccessBlockConfiguration",), Bucket=bucket)
    conf = (pab or {}).get("PublicAccessBlockConfiguration") or {}
    acl = client.get_bucket_acl(Bucket=bucket)
    public = ["%s %s" % (g["Grantee"].get("URI"), g["Permission"]) for g in acl.get("Grants", [])
              if g.get("Grantee", {}).get("URI") in PUBLIC_GRANTEES]
    off = [k for k in PAB_KEYS if not conf.get(k)]
    text = "public access block %s; ACL grants to the public: %s" % (
        "missing" if pab is None else ", ".join("%s=%s" % (k, conf.get(k)) for k in PAB_KEYS), "; ".join(public) or "none")
    return ("fail" if public or off else "pass"), text


def gcs_public(storage, _spec):
    bucket = storage.client.get_bucket(storage.bucket_name)
    prevention = getattr(bucket.iam_configuration, "public_access_prevention", None)
    try:
        policy = bucket.get_iam_policy(requested_policy_version=3)
        public = ["%s %s" % (b["role"], m) for b in policy.bindings for m in b.get("members", []) if m in GCS_PUBLIC]
    except Exception as exc:  # pylint: disable=broad-except
        public = ["IAM policy not readable: %s" % _code(exc)]
    text = "publicAccessPrevention %s; public IAM members: %s" % (prevention, "; ".join(public) or "none")
    return ("pass" if prevention == "enforced" or (not public and prevention != "inherited") else "fail"), text


def s3_encryption(storage, spec):
    conf = _s3_call(storage.client.get_bucket_encryption, ("ServerSideEncryptionConfigurationNotFoundError",), Bucket=spec["bucket"])
    rules = ((conf or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
    algos = [r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules]
    return ("pass" if any(algos) else "fail"), "default encryption %s" % (", ".join(a for a in algos if a) or "none")


def gcs_encryption(storage, _spec):
    bucket = storage.client.get_bucket(storage.bucket_name)
    key = bucket.default_kms_key_name
    return "pass", "default encryption %s" % ("CMEK %s" % key if key else "Google-managed keys (GCS encrypts every object at rest)")


def s3_versioning(storage, spec):
    client, bucket = storage.client, spec["bucket"]
    status = client.get_bucket_versioning(Bucket=bucket).get("Status") or "never enabled"
    lock = _s3_call(client.get_object_lock_configuration, ("ObjectLockConfigurationNotFoundError",), Bucket=bucket)
    locked = ((lock or {}).get("ObjectLockConfiguration") or {}).get("ObjectLockEnabled") == "Enabled"
    return ("pass" if status == "Enabled" or locked else "fail"), "versioning %s; Object Lock %s" % (status, "enabled" if locked else "off")


def gcs_versioning(storage, _spec):
    bucket = storage.client.get_bucket(storage.bucket_name)
    locked = bool(bucket.retention_policy_locked)
    period = bucket.retention_period
    ok = bool(bucket.versioning_enabled) or bool(period)
    return ("pass" if ok else "fail"), "versioning %s; retention policy %s%s" % (
        "enabled" if bucket.versioning_enabled else "off", "%ss" % period if period else "none", " (locked)" if locked else "")


def s3_canary(storage, spec):
    client, bucket = storage.client, spec["bucket"]
    key = (spec.get("prefix") or "").strip("/") + "/" + CANARY if spec.get("prefix") else CANARY
    client.put_object(Bucket=bucket, Key=key, Body=("watchkeeper security audit canary %s\n" % uuid.uuid4().hex).encode())
    try:
        client.delete_object(Bucket=bucket, Key=key)
    except Exception as exc:  # pylint: disable=broad-except
        if _code(exc) in ("AccessDenied", "403", "Forbidden"):
            return "pass", "DeleteObject %s with the writer's credentials refused (%s)" % (key, _code(exc))
        raise
    return "fail", "DeleteObject %s with the writer's credentials succeeded" % key


def gcs_canary(storage, spec):
    key = (spec.get("prefix") or "").strip("/") + "/" + CANARY if spec.get("prefix") else CANARY
    blob = storage.bucket.blob(key)
    blob.upload_from_string(b"watchkeeper security audit canary\n")
    try:
        blob.delete()
    except Exception as exc:  # pylint: disable=broad-except
        if _code(exc) in ("Forbidden", "PermissionDenied") or getattr(exc, "code", None) == 403:
            return "pass", "delete of %s with the writer's credentials refused (%s)" % (key, _code(exc))
        raise
    return "fail", "delete of %s with the writer's credentials succeeded" % key


def check_public(ctx):
    return _each(ctx, s3_public, gcs_public)


def check_encryption(ctx):
    return _each(ctx, s3_encryption, gcs_encryption)


def check_versioning(ctx):
    return _each(ctx, s3_versioning, gcs_versioning)


def check_canary(ctx):
    if ctx.params.get("check_mode"):
        return _each(ctx, _skipped, _skipped)
    return _each(ctx, s3_canary, gcs_canary)


def _skipped(_storage, _spec):
    return NOT_APPLICABLE, "check mode: the canary write and delete are skipped"


RULES = [
    Rule("WK-BKT-001", "buckets", "critical", "Backup buckets are not public (public access blocked, no public grants)",
         "S3: put-public-access-block with all four settings true and remove AllUsers/AuthenticatedUsers grants; "
         "GCS: set publicAccessPrevention enforced and remove allUsers/allAuthenticatedUsers.", check_public,
         ["Prowler s3_bucket_public_access", "Checkov CKV_AWS_53..56"]),
    Rule("WK-BKT-002", "buckets", "high", "Backup buckets have default encryption",
         "S3: put-bucket-encryption (SSE-S3 or SSE-KMS); GCS encrypts at rest always (set a CMEK if policy asks).",
         check_encryption, ["Checkov CKV_AWS_19"]),
    Rule("WK-BKT-003", "buckets", "high", "Backup buckets keep versions or lock objects",
         "Enable versioning or Object Lock (S3), versioning or a retention policy (GCS).", check_versioning,
         ["Checkov CKV_AWS_21", "Prowler s3_bucket_object_versioning"]),
    Rule("WK-BKT-004", "buckets", "critical", "The backup writer's credentials cannot delete objects",
         "Give the writer a policy without s3:DeleteObject / storage.objects.delete (retention runs with its own "
         "credentials), or lock objects (Object Lock compliance mode, GCS retention policy).", check_canary,
         ["docs/security-audit.md"]),
]
