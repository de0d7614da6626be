# The key that encrypts the backups at rest (SSE-KMS), created unless kms_key_arn names one. Whoever can schedule
# its deletion can make every locked backup unreadable: only the account's administrators (through IAM) manage it,
# the writer, purger and restorer get data-key use only, through S3.

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means this key only; administration stays with the account's IAM administrators.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means this key only; administration stays with the account's IAM administrators.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means this key only; administration stays with the account's IAM administrators.
  statement {
    sid       = "AccountAdministration"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "backup" {
  count = var.kms_key_arn == null ? 1 : 0

  description             = "watchkeeper.ops backups in s3://${var.bucket_name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_kms_alias" "backup" {
  count = var.kms_key_arn == null ? 1 : 0

  name          = "alias/${var.role_name_prefix}-${replace(var.bucket_name, ".", "-")}"
  target_key_id = aws_kms_key.backup[0].key_id
}
