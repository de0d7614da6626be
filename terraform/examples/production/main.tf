# Production: COMPLIANCE Object Lock (nobody can shorten it, not even the account's root user), a locked GCS
# retention policy (irreversible), a regional database with PITR, Redis with a replica, and scheduled minimums
# before the known peaks.

module "backups_s3" {
  source = "../../modules/backup_storage_aws"

  bucket_name                 = var.s3_bucket_name
  key_prefix                  = var.environment
  job_names                   = var.backup_jobs
  object_lock_mode            = "COMPLIANCE"
  object_lock_days            = 35
  noncurrent_version_days     = 30
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
  protection        = "retention_policy"
  retention_days    = 35
  retention_locked  = true
  soft_delete_days  = 30
  account_id_prefix = "wk-prod-backup"
  labels            = { environment = var.environment }
}

module "stack" {
  source = "../../modules/gcp_stack"

  project              = var.gcp_project
  region               = var.gcp_region
  name                 = "wk-${var.environment}"
  domains              = var.domains
  db_high_availability = true
  db_retained_backups  = 30
  redis_tier           = "STANDARD_HA"
  redis_memory_gb      = 4
  min_replicas         = var.app_min_replicas
  max_replicas         = var.app_max_replicas

  # Known peaks: the Monday-morning rush and the month-end billing run.
  scaling_schedules = {
    monday-morning = {
      min_replicas     = 8
      schedule         = "30 7 * * MON"
      duration_seconds = 14400
      time_zone        = "Europe/Paris"
      description      = "Monday 07:30-11:30 rush"
    }
    month-end = {
      min_replicas     = 10
      schedule         = "0 18 28-31 * *"
      duration_seconds = 21600
      time_zone        = "Europe/Paris"
      description      = "Month-end billing run"
    }
  }

  labels = { environment = var.environment }
}
