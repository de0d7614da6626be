variable "bucket_name" {
  description = "Name of the backup bucket (globally unique, 3-63 lowercase letters, digits, dots, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 characters of lowercase letters, digits, dots and hyphens."
  }
}

variable "key_prefix" {
  description = "The destination's prefix inside the bucket (the `prefix` of the s3 destination), without slashes at either end; empty for the bucket root."
  type        = string
  default     = ""

  validation {
    condition     = var.key_prefix == "" || can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.key_prefix))
    error_message = "key_prefix is empty or path segments of letters, digits, '.', '_', '-' joined by '/' (no leading or trailing '/')."
  }
}

variable "job_names" {
  description = "Backup jobs whose objects the purger may delete (<prefix>/<job>/...). Nothing outside these prefixes can be deleted by it."
  type        = list(string)

  validation {
    condition     = length(var.job_names) > 0 && alltrue([for j in var.job_names : can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", j))])
    error_message = "job_names needs at least one job; each one like the collection's job names: a letter or digit, then up to 63 letters, digits, '.', '_', '-'."
  }
}

variable "object_lock_mode" {
  description = "Default Object Lock retention mode: COMPLIANCE (nobody, not even the root user, can shorten it) or GOVERNANCE (principals with s3:BypassGovernanceRetention can)."
  type        = string
  default     = "COMPLIANCE"

  validation {
    condition     = contains(["COMPLIANCE", "GOVERNANCE"], var.object_lock_mode)
    error_message = "object_lock_mode must be COMPLIANCE or GOVERNANCE."
  }
}

variable "object_lock_days" {
  description = "Default Object Lock retention of every new object version, in days. Choose at least the time an intrusion may go unnoticed."
  type        = number
  default     = 30

  validation {
    condition     = var.object_lock_days >= 1 && var.object_lock_days <= 36500 && floor(var.object_lock_days) == var.object_lock_days
    error_message = "object_lock_days must be a whole number of days between 1 and 36500."
  }
}

variable "kms_key_arn" {
  description = "ARN of an existing KMS key for SSE-KMS; null creates a dedicated key with rotation."
  type        = string
  default     = null
}

variable "kms_deletion_window_days" {
  description = "Waiting period before a scheduled deletion of the created KMS key takes effect (7-30 days). Deleting the key makes every backup unreadable: alert on ScheduleKeyDeletion."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

variable "transitions" {
  description = "Lifecycle transitions of current versions to colder storage classes. Use classes readable without a restore request (STANDARD_IA, ONEZONE_IA, GLACIER_IR, INTELLIGENT_TIERING): restores read objects directly."
  type = list(object({
    days          = number
    storage_class = string
  }))
  default = [
    { days = 30, storage_class = "STANDARD_IA" },
    { days = 90, storage_class = "GLACIER_IR" },
  ]

  validation {
    condition     = alltrue([for t in var.transitions : contains(["STANDARD_IA", "ONEZONE_IA", "GLACIER_IR", "INTELLIGENT_TIERING"], t.storage_class) && t.days >= 0])
    error_message = "transitions may only use STANDARD_IA, ONEZONE_IA, GLACIER_IR or INTELLIGENT_TIERING (GLACIER and DEEP_ARCHIVE need a restore request before a read), with days >= 0."
  }
}

variable "noncurrent_version_days" {
  description = "Days after which a noncurrent version (left by the purger's delete markers, or by an overwrite) is removed by lifecycle; a version still under Object Lock is kept until its lock ends."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "noncurrent_version_days must be at least 1."
  }
}

variable "abort_incomplete_multipart_days" {
  description = "Days after which lifecycle aborts an incomplete multipart upload (a backstop: the backup module aborts its own)."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_days >= 1
    error_message = "abort_incomplete_multipart_days must be at least 1."
  }
}

variable "access_log_bucket" {
  description = "Existing bucket that receives the server access logs of the backup bucket; null turns access logging off."
  type        = string
  default     = null
}

variable "access_log_prefix" {
  description = "Key prefix of the access logs in access_log_bucket."
  type        = string
  default     = "s3-access/"
}

variable "writer_trusted_principals" {
  description = "IAM principal ARNs allowed to assume the writer role (backup hosts' instance roles, an AWX role); empty: no role is created, attach writer_policy_arn yourself."
  type        = list(string)
  default     = []
}

variable "purger_trusted_principals" {
  description = "IAM principal ARNs allowed to assume the purger role (the controller running retention_purge); empty: no role is created."
  type        = list(string)
  default     = []
}

variable "restorer_trusted_principals" {
  description = "IAM principal ARNs allowed to assume the restorer role (restore and drill hosts); empty: no role is created."
  type        = list(string)
  default     = []
}

variable "role_name_prefix" {
  description = "Prefix of the IAM role and policy names (roles are <prefix>-<kind>-<10 hex of the bucket name>, within IAM's 64 characters)."
  type        = string
  default     = "watchkeeper-backup"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,40}$", var.role_name_prefix))
    error_message = "role_name_prefix must be 1-40 characters allowed in IAM names."
  }
}

variable "purger_can_release_legal_holds" {
  description = "true lets the purger clear S3 legal holds (backup_hold state=absent with provider_hold); false (default) lets it only set them."
  type        = bool
  default     = false
}

variable "restorer_records_verifications" {
  description = "true lets the restorer write verification records under <prefix>/_ops_state/<job>/verified/ (shared_state: destination of restore_verify); false keeps it strictly read-only (records stay local)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
