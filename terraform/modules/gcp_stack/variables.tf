variable "project" {
  description = "Project of the stack."
  type        = string
}

variable "region" {
  description = "Region of the stack (the managed instance group spreads over its zones)."
  type        = string
}

variable "name" {
  description = "Name prefix of every resource (e.g. watchkeeper-prod)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,28}[a-z0-9]$", var.name))
    error_message = "name must be 4-30 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "domains" {
  description = "Domains of the Google-managed certificate of the HTTPS load balancer (their DNS must point at the output lb_ip_address)."
  type        = list(string)

  validation {
    condition     = length(var.domains) > 0
    error_message = "domains needs at least one domain name."
  }
}

variable "subnet_cidr" {
  description = "Primary range of the stack's subnet."
  type        = string
  default     = "10.20.0.0/20"
}

variable "private_service_prefix_length" {
  description = "Prefix length of the range reserved for private services access (Cloud SQL, Memorystore)."
  type        = number
  default     = 20
}

# -- Cloud SQL -------------------------------------------------------------------------------------------------------
variable "db_version" {
  description = "Cloud SQL database version."
  type        = string
  default     = "POSTGRES_17"

  validation {
    condition     = can(regex("^POSTGRES_1[4-9]$", var.db_version))
    error_message = "db_version must be POSTGRES_14 or newer."
  }
}

variable "db_tier" {
  description = "Cloud SQL machine tier."
  type        = string
  default     = "db-custom-2-7680"
}

variable "db_high_availability" {
  description = "true: REGIONAL availability (a standby in another zone, automatic failover); false: ZONAL."
  type        = bool
  default     = true
}

variable "db_disk_size_gb" {
  description = "Initial data disk size (it grows automatically)."
  type        = number
  default     = 50
}

variable "db_backup_start_time" {
  description = "UTC start time (HH:MM) of the daily automated backup."
  type        = string
  default     = "02:00"
}

variable "db_retained_backups" {
  description = "Automated backups kept by Cloud SQL."
  type        = number
  default     = 14
}

variable "db_log_retention_days" {
  description = "Days of write-ahead log kept for point-in-time recovery (1-7)."
  type        = number
  default     = 7

  validation {
    condition     = var.db_log_retention_days >= 1 && var.db_log_retention_days <= 7
    error_message = "db_log_retention_days must be between 1 and 7."
  }
}

variable "db_name" {
  description = "Application database."
  type        = string
  default     = "app"
}

# -- Memorystore -----------------------------------------------------------------------------------------------------
variable "redis_tier" {
  description = "Memorystore tier: STANDARD_HA (replica, failover) or BASIC."
  type        = string
  default     = "STANDARD_HA"

  validation {
    condition     = contains(["STANDARD_HA", "BASIC"], var.redis_tier)
    error_message = "redis_tier must be STANDARD_HA or BASIC."
  }
}

variable "redis_memory_gb" {
  description = "Memorystore memory size."
  type        = number
  default     = 1
}

variable "redis_version" {
  description = "Memorystore Redis version."
  type        = string
  default     = "REDIS_7_2"
}

# -- instances and scaling -------------------------------------------------------------------------------------------
variable "machine_type" {
  description = "Machine type of the application instances."
  type        = string
  default     = "e2-standard-2"
}

variable "source_image" {
  description = "Boot image of the application instances (e.g. projects/debian-cloud/global/images/family/debian-12)."
  type        = string
  default     = "projects/debian-cloud/global/images/family/debian-12"
}

variable "startup_script" {
  description = "Startup script of the application instances (starts the application on app_port)."
  type        = string
  default     = ""
}

variable "app_port" {
  description = "Port the application listens on (named port http of the group)."
  type        = number
  default     = 8080
}

variable "health_path" {
  description = "HTTP path answering 200 when an instance is healthy (load balancer and autohealing)."
  type        = string
  default     = "/healthz"
}

variable "min_replicas" {
  description = "Autoscaler floor."
  type        = number
  default     = 2
}

variable "max_replicas" {
  description = "Autoscaler ceiling."
  type        = number
  default     = 10
}

variable "cpu_target" {
  description = "Target CPU utilisation of the group (0-1)."
  type        = number
  default     = 0.6

  validation {
    condition     = var.cpu_target > 0 && var.cpu_target < 1
    error_message = "cpu_target must be between 0 and 1 (exclusive)."
  }
}

variable "queue_metric" {
  description = "Cloud Monitoring metric of the job queue's depth for the whole group (a per-group metric, e.g. custom.googleapis.com/watchkeeper/queue_depth)."
  type        = string
  default     = "custom.googleapis.com/watchkeeper/queue_depth"
}

variable "queue_per_instance" {
  description = "Queued jobs one instance absorbs: the autoscaler wants ceil(queue depth / this) instances."
  type        = number
  default     = 50
}

variable "cooldown_seconds" {
  description = "Initialisation period of a new instance before its metrics count (seconds)."
  type        = number
  default     = 90
}

variable "scale_in_max_replicas" {
  description = "At most this many instances removed within scale_in_window_seconds (scale-in control)."
  type        = number
  default     = 1
}

variable "scale_in_window_seconds" {
  description = "Window of the scale-in control: the autoscaler uses the highest recommendation of that window."
  type        = number
  default     = 600
}

variable "scaling_schedules" {
  description = "Scheduled minimum sizes for known peaks (autoscaler scaling schedules): name => {min_replicas, schedule (cron), duration_seconds, time_zone, description}. capacity_schedule.yml documents how to change them."
  type = map(object({
    min_replicas     = number
    schedule         = string
    duration_seconds = number
    time_zone        = optional(string, "UTC")
    description      = optional(string, "")
    disabled         = optional(bool, false)
  }))
  default = {}

  validation {
    condition     = alltrue([for s in values(var.scaling_schedules) : s.duration_seconds >= 300 && s.min_replicas >= 0])
    error_message = "Each scaling schedule needs duration_seconds >= 300 and min_replicas >= 0."
  }
}

# -- Cloud Armor -----------------------------------------------------------------------------------------------------
variable "rate_limit_per_minute" {
  description = "Requests per minute one client IP may send before Cloud Armor answers 429."
  type        = number
  default     = 600
}

variable "ban_after_per_minute" {
  description = "Requests per minute after which a client IP is banned for ban_seconds."
  type        = number
  default     = 3000
}

variable "ban_seconds" {
  description = "Duration of a rate-based ban."
  type        = number
  default     = 600
}

variable "ssh_from_iap" {
  description = "Allow SSH to the instances from Identity-Aware Proxy (35.235.240.0/20) only."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels of the resources that take labels."
  type        = map(string)
  default     = {}
}
