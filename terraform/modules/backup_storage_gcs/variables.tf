variable "project" {
  description = "Project of the bucket, the service accounts and the custom roles."
  type        = string
}

variable "bucket_name" {
  description = "Name of the backup bucket (globally unique)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 characters of lowercase letters, digits, '.', '_' and '-'."
  }
}

variable "location" {
  description = "Bucket location (a region, dual-region or multi-region such as EU)."
  type        = string
}

variable "key_prefix" {
  description = "The destination's prefix inside the bucket (the gcs destination's `prefix`), without slashes at either end; empty for the bucket root."
  type        = string
  default     = ""

  validation {
    condition     = var.key_prefix == "" || can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.key_prefix))
    error_message = "key_prefix is empty or path segments of letters, digits, '.', '_', '-' joined by '/' (no leading or trailing '/')."
  }
}

variable "job_names" {
  description = "Backup jobs whose objects the purger may delete (<prefix>/<job>/...)."
  type        = list(string)

  validation {
    condition     = length(var.job_names) > 0 && alltrue([for j in var.job_names : can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", j))])
    error_message = "job_names needs at least one job; each one like the collection's job names: a letter or digit, then up to 63 letters, digits, '.', '_', '-'."
  }
}

variable "protection" {
  description = "retention_policy (default): every object is kept retention_days after its creation, nobody can delete or replace it earlier (GCS forbids versioning together with it). versioning: replaced or deleted objects stay as noncurrent generations for noncurrent_days (weaker: an account with delete can remove generations; soft delete still keeps them)."
  type        = string
  default     = "retention_policy"

  validation {
    condition     = contains(["retention_policy", "versioning"], var.protection)
    error_message = "protection must be retention_policy or versioning."
  }
}

variable "retention_days" {
  description = "Retention period of the bucket retention policy in days (protection = retention_policy)."
  type        = number
  default     = 30

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 36500 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number of days between 1 and 36500."
  }
}

variable "retention_locked" {
  description = "Lock the retention policy: it can then never be reduced or removed, and the bucket cannot be deleted before its objects expire. Irreversible; production only."
  type        = bool
  default     = false
}

variable "noncurrent_days" {
  description = "Days a noncurrent generation is kept before lifecycle deletes it (protection = versioning)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_days >= 1
    error_message = "noncurrent_days must be at least 1."
  }
}

variable "soft_delete_days" {
  description = "Soft delete: deleted objects stay restorable this many days (7-90; GCS's default is 7)."
  type        = number
  default     = 14

  validation {
    condition     = var.soft_delete_days >= 7 && var.soft_delete_days <= 90
    error_message = "soft_delete_days must be between 7 and 90."
  }
}

variable "storage_class" {
  description = "Initial storage class of new objects."
  type        = string
  default     = "STANDARD"
}

variable "transitions" {
  description = "Lifecycle moves to colder classes by object age (days). Mind the minimum storage durations (NEARLINE 30, COLDLINE 90, ARCHIVE 365 days): a purge earlier than that is billed as if the object stayed."
  type = list(object({
    age           = number
    storage_class = string
  }))
  default = [
    { age = 30, storage_class = "NEARLINE" },
    { age = 90, storage_class = "COLDLINE" },
  ]

  validation {
    condition     = alltrue([for t in var.transitions : contains(["NEARLINE", "COLDLINE", "ARCHIVE"], t.storage_class) && t.age >= 0])
    error_message = "transitions may use NEARLINE, COLDLINE or ARCHIVE, with age >= 0."
  }
}

variable "kms_key_name" {
  description = "Cloud KMS key (projects/.../cryptoKeys/...) for CMEK; null keeps Google-managed encryption. The module grants the project's Cloud Storage service agent encrypt/decrypt on it."
  type        = string
  default     = null
}

variable "access_log_bucket" {
  description = "Existing bucket receiving usage and storage logs; null turns them off."
  type        = string
  default     = null
}

variable "create_keys" {
  description = "Create a JSON key per service account (the private keys then live in the Terraform state: prefer attached service accounts or workload identity federation)."
  type        = bool
  default     = false
}

variable "account_id_prefix" {
  description = "Prefix of the service account ids (<prefix>-writer, -purger, -reader; 6-30 characters in all)."
  type        = string
  default     = "wk-backup"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{3,20}[a-z0-9]$", var.account_id_prefix))
    error_message = "account_id_prefix must be 5-22 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "restorer_records_verifications" {
  description = "true lets the reader create verification records under <prefix>/_ops_state/ (restore_verify with shared_state: destination); false keeps it read-only."
  type        = bool
  default     = false
}

variable "labels" {
  description = "Labels of the bucket."
  type        = map(string)
  default     = {}
}
