output "bucket_name" {
  description = "The backup bucket (the s3 destination's `bucket`)."
  value       = aws_s3_bucket.backup.id
}

output "bucket_arn" {
  description = "ARN of the backup bucket."
  value       = aws_s3_bucket.backup.arn
}

output "region" {
  description = "Region of the bucket (the s3 destination's `region`)."
  value       = data.aws_region.current.name
}

output "key_prefix" {
  description = "The destination's `prefix`."
  value       = var.key_prefix
}

output "kms_key_arn" {
  description = "ARN of the KMS key of the bucket (the s3 destination's `kms_key_id`, with `server_side_encryption: aws:kms`)."
  value       = local.kms_arn
}

output "object_lock" {
  description = "Default Object Lock retention of every new object version."
  value       = { mode = var.object_lock_mode, days = var.object_lock_days }
}

output "writer_policy_arn" {
  description = "Managed policy of the backup writer (no delete)."
  value       = aws_iam_policy.writer.arn
}

output "purger_policy_arn" {
  description = "Managed policy of the retention purger (delete only under the jobs' prefixes)."
  value       = aws_iam_policy.purger.arn
}

output "restorer_policy_arn" {
  description = "Managed policy of the restorer (read only)."
  value       = aws_iam_policy.restorer.arn
}

output "role_arns" {
  description = "ARNs of the created roles by kind (writer, purger, restorer); a kind without trusted principals is absent."
  value       = { for k, r in aws_iam_role.this : k => r.arn }
}

output "destination" {
  description = "The s3 destination for the inventory's backup_destinations (credentials come from the profile of the role that host uses)."
  value = {
    type                   = "s3"
    bucket                 = aws_s3_bucket.backup.id
    prefix                 = var.key_prefix
    region                 = data.aws_region.current.name
    server_side_encryption = "aws:kms"
    kms_key_id             = local.kms_arn
  }
}

output "shared_state" {
  description = "The shared_state the backup, restore and retention_purge tasks on this bucket can use: destination (every write, the conditional lock writes included, sends the Content-MD5 that S3 requires under a default Object Lock retention; each lock replacement is a new, locked version)."
  value       = "destination"
}
