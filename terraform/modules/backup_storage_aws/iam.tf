# Three kinds of credentials, each with only what its modules call (docs/infrastructure.md lists the calls):
#   writer   - watchkeeper.ops.backup: puts (single and multipart, conditional If-None-Match / If-Match), reads,
#              lists, aborts its own multipart uploads. No delete of any kind, no lifecycle, lock or policy change.
#   purger   - watchkeeper.ops.retention_purge (and backup_hold): the writer's rights, the Object Lock reads, and
#              s3:DeleteObject only under <prefix>/<job>/ of the listed jobs. A plain DELETE on a versioned bucket
#              only adds a delete marker: the version stays until its lock ends and lifecycle removes it.
#   restorer - restore, restore_verify, backup_info, backup_integrity: reads and lists only.
# Every policy also carries an explicit Deny of the destructive actions, so a broader policy attached to the same
# principal by mistake cannot grant them (an explicit Deny wins).

locals {
  objects_arn = "${local.bucket_arn}/${local.key_root}*"
  job_arns    = [for j in var.job_names : "${local.bucket_arn}/${local.key_root}${j}/*"]

  # Never allowed to any of the three; the writer and restorer additionally may not delete anything.
  destructive_actions = [
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:DeleteBucketOwnershipControls",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectVersionTagging",
    "s3:BypassGovernanceRetention",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutObjectRetention",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketOwnershipControls",
    "s3:PutReplicationConfiguration",
    "s3:PutBucketLogging",
  ]
  delete_actions = ["s3:DeleteObject", "s3:DeleteObjectTagging"]

  kms_via_s3 = {
    test     = "StringEquals"
    variable = "kms:ViaService"
    values   = [local.s3_service]
  }
}

# -- writer ------------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "writer" {
  statement {
    sid       = "ListBucketAndUploads"
    effect    = "Allow"
    actions   = ["s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [local.bucket_arn]
  }

  statement {
    sid       = "PutGetAbort"
    effect    = "Allow"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
    resources = [local.objects_arn]
  }

  statement {
    sid       = "UseKmsThroughS3"
    effect    = "Allow"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [local.kms_arn]

    condition {
      test     = local.kms_via_s3.test
      variable = local.kms_via_s3.variable
      values   = local.kms_via_s3.values
    }
  }

  statement {
    sid       = "DenyDestructive"
    effect    = "Deny"
    actions   = concat(local.destructive_actions, local.delete_actions, ["s3:PutObjectLegalHold"])
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]
  }
}

resource "aws_iam_policy" "writer" {
  name        = "${var.role_name_prefix}-writer-${var.bucket_name}"
  description = "watchkeeper.ops backup writer on s3://${var.bucket_name}/${local.key_root}: put, list, multipart; no delete"
  policy      = data.aws_iam_policy_document.writer.json
  tags        = var.tags
}

# -- purger ------------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "purger" {
  statement {
    sid       = "ListBucketAndLock"
    effect    = "Allow"
    actions   = ["s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:GetBucketObjectLockConfiguration"]
    resources = [local.bucket_arn]
  }

  statement {
    sid       = "ReadWriteState"
    effect    = "Allow"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:GetObjectLegalHold", "s3:GetObjectRetention", "s3:AbortMultipartUpload"]
    resources = [local.objects_arn]
  }

  statement {
    sid       = "DeleteUnderJobPrefixes"
    effect    = "Allow"
    actions   = ["s3:DeleteObject"]
    resources = local.job_arns
  }

  statement {
    sid       = "LegalHolds"
    effect    = "Allow"
    actions   = ["s3:PutObjectLegalHold"]
    resources = local.job_arns

    dynamic "condition" {
      for_each = var.purger_can_release_legal_holds ? [] : [1]
      content {
        test     = "StringEquals"
        variable = "s3:object-lock-legal-hold"
        values   = ["ON"]
      }
    }
  }

  statement {
    sid       = "UseKmsThroughS3"
    effect    = "Allow"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [local.kms_arn]

    condition {
      test     = local.kms_via_s3.test
      variable = local.kms_via_s3.variable
      values   = local.kms_via_s3.values
    }
  }

  statement {
    sid       = "DenyDestructive"
    effect    = "Deny"
    actions   = local.destructive_actions
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]
  }

  statement {
    sid           = "DenyDeleteOutsideJobPrefixes"
    effect        = "Deny"
    actions       = local.delete_actions
    not_resources = local.job_arns
  }
}

resource "aws_iam_policy" "purger" {
  name        = "${var.role_name_prefix}-purger-${var.bucket_name}"
  description = "watchkeeper.ops retention purger on s3://${var.bucket_name}: delete only under the jobs' prefixes"
  policy      = data.aws_iam_policy_document.purger.json
  tags        = var.tags
}

# -- restorer ----------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "restorer" {
  statement {
    sid       = "List"
    effect    = "Allow"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [local.bucket_arn]
  }

  statement {
    sid       = "Read"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.objects_arn]
  }

  dynamic "statement" {
    for_each = var.restorer_records_verifications ? [1] : []
    content {
      sid       = "RecordVerifications"
      effect    = "Allow"
      actions   = ["s3:PutObject"]
      resources = ["${local.bucket_arn}/${local.key_root}_ops_state/*/verified/*"]
    }
  }

  statement {
    sid       = "DecryptThroughS3"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [local.kms_arn]

    condition {
      test     = local.kms_via_s3.test
      variable = local.kms_via_s3.variable
      values   = local.kms_via_s3.values
    }
  }

  dynamic "statement" {
    for_each = var.restorer_records_verifications ? [1] : []
    content {
      sid       = "EncryptRecordsThroughS3"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey"]
      resources = [local.kms_arn]

      condition {
        test     = local.kms_via_s3.test
        variable = local.kms_via_s3.variable
        values   = local.kms_via_s3.values
      }
    }
  }

  statement {
    sid       = "DenyDestructive"
    effect    = "Deny"
    actions   = concat(local.destructive_actions, local.delete_actions, ["s3:PutObjectLegalHold", "s3:AbortMultipartUpload"])
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]
  }
}

resource "aws_iam_policy" "restorer" {
  name        = "${var.role_name_prefix}-restorer-${var.bucket_name}"
  description = "watchkeeper.ops restorer on s3://${var.bucket_name}/${local.key_root}: read and list only"
  policy      = data.aws_iam_policy_document.restorer.json
  tags        = var.tags
}

# -- roles (only for the kinds that name trusted principals) ------------------------------------------------------
locals {
  roles = {
    writer   = { principals = var.writer_trusted_principals, policy = aws_iam_policy.writer.arn }
    purger   = { principals = var.purger_trusted_principals, policy = aws_iam_policy.purger.arn }
    restorer = { principals = var.restorer_trusted_principals, policy = aws_iam_policy.restorer.arn }
  }
  created_roles = { for k, v in local.roles : k => v if length(v.principals) > 0 }
}

data "aws_iam_policy_document" "trust" {
  for_each = local.created_roles

  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = each.value.principals
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = local.created_roles

  name                 = "${var.role_name_prefix}-${each.key}-${substr(sha1(var.bucket_name), 0, 10)}"
  description          = "watchkeeper.ops backup ${each.key} for s3://${var.bucket_name}"
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  max_session_duration = 43200
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each = local.created_roles

  role       = aws_iam_role.this[each.key].name
  policy_arn = each.value.policy
}
