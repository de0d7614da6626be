# The backup bucket: uniform bucket-level access, public access prevention, a retention policy (optionally
# locked) or versioning, soft delete, optional CMEK, lifecycle to colder classes. GCS refuses versioning on a
# bucket with a retention policy, so `protection` picks one. prevent_destroy is literal on purpose.

locals {
  key_root       = var.key_prefix == "" ? "" : "${var.key_prefix}/"
  use_retention  = var.protection == "retention_policy"
  use_versioning = var.protection == "versioning"
  object_root    = "projects/_/buckets/${var.bucket_name}/objects/${local.key_root}"
}

data "google_storage_project_service_account" "gcs" {
  project = var.project
}

resource "google_kms_crypto_key_iam_member" "gcs_agent" {
  count = var.kms_key_name == null ? 0 : 1

  crypto_key_id = var.kms_key_name
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

resource "google_storage_bucket" "backup" {
  #checkov:skip=CKV_GCP_78:Versioning is the alternative to the retention policy (protection = versioning); GCS refuses both on one bucket and the retention policy is the stronger protection.
  name                        = var.bucket_name
  project                     = var.project
  location                    = var.location
  storage_class               = var.storage_class
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = var.labels

  versioning {
    enabled = local.use_versioning
  }

  dynamic "retention_policy" {
    for_each = local.use_retention ? [1] : []
    content {
      retention_period = var.retention_days * 86400
      is_locked        = var.retention_locked
    }
  }

  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_days * 86400
  }

  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [1]
    content {
      default_kms_key_name = var.kms_key_name
    }
  }

  dynamic "logging" {
    for_each = var.access_log_bucket == null ? [] : [1]
    content {
      log_bucket        = var.access_log_bucket
      log_object_prefix = var.bucket_name
    }
  }

  # Current objects are never deleted by lifecycle: retention_purge decides which backups go.
  dynamic "lifecycle_rule" {
    for_each = var.transitions
    content {
      action {
        type          = "SetStorageClass"
        storage_class = lifecycle_rule.value.storage_class
      }
      condition {
        age            = lifecycle_rule.value.age
        matches_prefix = local.key_root == "" ? null : [local.key_root]
      }
    }
  }

  lifecycle_rule {
    action {
      type = "AbortIncompleteMultipartUpload"
    }
    condition {
      age = 7
    }
  }

  dynamic "lifecycle_rule" {
    for_each = local.use_versioning ? [1] : []
    content {
      action {
        type = "Delete"
      }
      condition {
        with_state                 = "ARCHIVED"
        days_since_noncurrent_time = var.noncurrent_days
      }
    }
  }

  lifecycle {
    prevent_destroy = true
  }

  depends_on = [google_kms_crypto_key_iam_member.gcs_agent]
}
