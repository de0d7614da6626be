output "bucket_name" {
  description = "The backup bucket (the gcs destination's `bucket`)."
  value       = google_storage_bucket.backup.name
}

output "bucket_url" {
  description = "gs:// URL of the bucket."
  value       = google_storage_bucket.backup.url
}

output "key_prefix" {
  description = "The destination's `prefix`."
  value       = var.key_prefix
}

output "protection" {
  description = "retention_policy (with days and locked) or versioning (with noncurrent days)."
  value = local.use_retention ? {
    kind = "retention_policy", days = var.retention_days, locked = var.retention_locked
    } : {
    kind = "versioning", days = var.noncurrent_days, locked = false
  }
}

output "shared_state" {
  description = "The shared_state the backup, restore and retention_purge tasks on this bucket need: local under a retention policy (a lock object cannot be replaced before it is retention_days old), destination with versioning."
  value       = local.use_retention ? "local" : "destination"
}

output "service_accounts" {
  description = "E-mail of the writer, purger and reader service accounts."
  value       = { for k, sa in google_service_account.this : k => sa.email }
}

output "service_account_keys" {
  description = "Private JSON keys (base64) by account, when create_keys is true; write each to the host's credentials_file with Ansible Vault, never to the repository."
  value       = { for k, key in google_service_account_key.this : k => key.private_key }
  sensitive   = true
}

output "destination" {
  description = "The gcs destination for the inventory's backup_destinations (credentials_file is set per host)."
  value = {
    type    = "gcs"
    bucket  = google_storage_bucket.backup.name
    prefix  = var.key_prefix
    project = var.project
  }
}
