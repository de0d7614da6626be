# The application tier: a dedicated service account, an instance template (no public IP, Shielded VM, OS Login,
# no project-wide SSH keys, no serial port), a regional managed instance group with health-checked autohealing and
# rolling updates that never take capacity away, and an autoscaler on CPU and the job queue with scale-in controls
# and scheduled minimums for known peaks.

resource "google_service_account" "app" {
  project      = var.project
  account_id   = "${var.name}-app"
  display_name = "watchkeeper stack ${var.name} application instances"
}

resource "google_project_iam_member" "app" {
  for_each = toset([
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/cloudsql.client",
    "roles/cloudsql.instanceUser",
  ])

  project = var.project
  role    = each.value
  member  = "serviceAccount:${google_service_account.app.email}"
}

resource "google_compute_instance_template" "app" {
  project              = var.project
  name_prefix          = "${var.name}-app-"
  machine_type         = var.machine_type
  region               = var.region
  tags                 = ["${var.name}-app"]
  labels               = var.labels
  can_ip_forward       = false
  instance_description = "watchkeeper stack ${var.name} application instance"

  disk {
    source_image = var.source_image
    auto_delete  = true
    boot         = true
    disk_type    = "pd-balanced"
    disk_size_gb = 20
  }

  network_interface {
    subnetwork = google_compute_subnetwork.this.id
  }

  service_account {
    email  = google_service_account.app.email
    scopes = ["cloud-platform"]
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  metadata = {
    block-project-ssh-keys = "true"
    enable-oslogin         = "TRUE"
    serial-port-enable     = "false"
    startup-script         = var.startup_script
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_compute_health_check" "app" {
  project             = var.project
  name                = "${var.name}-app-health"
  check_interval_sec  = 10
  timeout_sec         = 5
  healthy_threshold   = 2
  unhealthy_threshold = 3

  http_health_check {
    port         = var.app_port
    request_path = var.health_path
  }

  log_config {
    enable = true
  }
}

resource "google_compute_region_instance_group_manager" "app" {
  project            = var.project
  name               = "${var.name}-app"
  region             = var.region
  base_instance_name = "${var.name}-app"

  version {
    instance_template = google_compute_instance_template.app.id
  }

  named_port {
    name = "http"
    port = var.app_port
  }

  auto_healing_policies {
    health_check      = google_compute_health_check.app.id
    initial_delay_sec = 300
  }

  update_policy {
    type                         = "PROACTIVE"
    minimal_action               = "REPLACE"
    instance_redistribution_type = "PROACTIVE"
    max_surge_fixed              = 3
    max_unavailable_fixed        = 0
    replacement_method           = "SUBSTITUTE"
  }

  # The autoscaler owns the size.
  lifecycle {
    ignore_changes = [target_size]
  }
}

resource "google_compute_region_autoscaler" "app" {
  project = var.project
  name    = "${var.name}-app"
  region  = var.region
  target  = google_compute_region_instance_group_manager.app.id

  autoscaling_policy {
    min_replicas    = var.min_replicas
    max_replicas    = var.max_replicas
    cooldown_period = var.cooldown_seconds
    mode            = "ON"

    cpu_utilization {
      target = var.cpu_target
    }

    # A per-group metric: the autoscaler wants ceil(queue depth / queue_per_instance) instances.
    metric {
      name                       = var.queue_metric
      single_instance_assignment = var.queue_per_instance
      filter                     = "resource.type = \"global\""
    }

    scale_in_control {
      time_window_sec = var.scale_in_window_seconds

      max_scaled_in_replicas {
        fixed = var.scale_in_max_replicas
      }
    }

    dynamic "scaling_schedules" {
      for_each = var.scaling_schedules
      content {
        name                  = scaling_schedules.key
        min_required_replicas = scaling_schedules.value.min_replicas
        schedule              = scaling_schedules.value.schedule
        duration_sec          = scaling_schedules.value.duration_seconds
        time_zone             = scaling_schedules.value.time_zone
        description           = scaling_schedules.value.description
        disabled              = scaling_schedules.value.disabled
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.min_replicas >= 1 && var.min_replicas <= var.max_replicas
      error_message = "min_replicas must be at least 1 and not above max_replicas."
    }
    precondition {
      condition     = alltrue([for s in values(var.scaling_schedules) : s.min_replicas <= var.max_replicas])
      error_message = "A scaling schedule's min_replicas cannot exceed max_replicas."
    }
  }
}
