variable "environment" {
  description = "Environment name: the destinations' prefix and part of every name."
  type        = string
  default     = "staging"
}

variable "aws_region" {
  description = "Region of the S3 backup bucket."
  type        = string
  default     = "eu-west-1"
}

variable "gcp_project" {
  description = "GCP project of the stack and the GCS backup bucket."
  type        = string
}

variable "gcp_region" {
  description = "GCP region of the stack."
  type        = string
  default     = "europe-west1"
}

variable "s3_bucket_name" {
  description = "Name of the S3 backup bucket."
  type        = string
}

variable "gcs_bucket_name" {
  description = "Name of the GCS backup bucket."
  type        = string
}

variable "backup_jobs" {
  description = "The backup jobs of this environment (names as in backup_jobs of the inventory)."
  type        = list(string)
  default     = ["app-db", "app-files"]
}

variable "backup_host_role_arns" {
  description = "Instance roles of the backup runners (they assume the writer role)."
  type        = list(string)
  default     = []
}

variable "controller_role_arns" {
  description = "Roles of the controllers running retention_purge (they assume the purger role)."
  type        = list(string)
  default     = []
}

variable "restore_host_role_arns" {
  description = "Roles of the restore and drill hosts (they assume the restorer role)."
  type        = list(string)
  default     = []
}

variable "credentials_dir" {
  description = "Directory on the managed hosts holding the credentials files (root-only)."
  type        = string
  default     = "/etc/watchkeeper"
}

variable "domains" {
  description = "Domains served by the stack's HTTPS load balancer."
  type        = list(string)
}

variable "app_min_replicas" {
  description = "Floor of the application group's autoscaler (playbooks/scale.yml terraform mode writes it: -e scale_tfvars_variable=app_min_replicas)."
  type        = number
  default     = 1
}

variable "app_max_replicas" {
  description = "Ceiling of the application group's autoscaler."
  type        = number
  default     = 3
}
