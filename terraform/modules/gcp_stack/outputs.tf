output "lb_ip_address" {
  description = "Address of the HTTPS load balancer (point the domains' A records here)."
  value       = google_compute_global_address.lb.address
}

output "instance_group_manager" {
  description = "Self link of the regional managed instance group."
  value       = google_compute_region_instance_group_manager.app.self_link
}

output "autoscaler" {
  description = "Name, region, floor and ceiling of the autoscaler (scale.yml and capacity_schedule.yml change min_replicas and scaling_schedules)."
  value = {
    name         = google_compute_region_autoscaler.app.name
    region       = var.region
    min_replicas = var.min_replicas
    max_replicas = var.max_replicas
  }
}

output "db_instance" {
  description = "Cloud SQL instance name and connection name (for the Cloud SQL Auth Proxy)."
  value = {
    name            = google_sql_database_instance.this.name
    connection_name = google_sql_database_instance.this.connection_name
    private_ip      = google_sql_database_instance.this.private_ip_address
    database        = google_sql_database.app.name
  }
}

output "redis" {
  description = "Memorystore host and port (TLS; the AUTH string is read with gcloud redis instances get-auth-string, never an output)."
  value = {
    host = google_redis_instance.this.host
    port = google_redis_instance.this.port
  }
}

output "app_service_account" {
  description = "Service account of the application instances (also their IAM database user)."
  value       = google_service_account.app.email
}

output "network" {
  description = "Self link of the stack's network."
  value       = google_compute_network.this.self_link
}
