# Staging: short GOVERNANCE locks and an unlocked GCS retention policy (both can still be corrected), a zonal
# database, a basic Redis and a small group. Same modules and same shapes as production.

module "backups_s3" {
  source = "../../modules/backup_storage_aws"

  bucket_name                 = var.s3_bucket_name
  key_prefix                  = var.environment
  job_names                   = var.backup_jobs
  object_lock_mode            = "GOVERNANCE"
  object_lock_days            = 7
  noncurrent_version_days     = 7
  writer_trusted_principals   = var.backup_host_role_arns
  purger_trusted_principals   = var.controller_role_arns
  restorer_trusted_principals = var.restore_host_role_arns
  tags                        = { environment = var.environment, managed-by = "terraform" }
}

module "backups_gcs" {
  source = "../../modules/backup_storage_gcs"

  project           = var.gcp_project
  bucket_name       = var.gcs_bucket_name
  location          = "EU"
  key_prefix        = var.environment
  job_names         = var.backup_jobs
  protection        = "versioning"
  noncurrent_days   = 7
  soft_delete_days  = 7
  account_id_prefix = "wk-stg-backup"
  labels            = { environment = var.environment }
}

module "stack" {
  source = "../../modules/gcp_stack"

  project              = var.gcp_project
  region               = var.gcp_region
  name                 = "wk-${var.environment}"
  domains              = var.domains
  db_tier              = "db-custom-1-3840"
  db_high_availability = false
  db_retained_backups  = 7
  redis_tier           = "BASIC"
  machine_type         = "e2-medium"
  min_replicas         = var.app_min_replicas
  max_replicas         = var.app_max_replicas
  labels               = { environment = var.environment }
}
