locals {
  credentials_files = {
    gcs_writer = "${var.credentials_dir}/gcs-backup.json"
    gcs_purger = "${var.credentials_dir}/gcs-purger.json"
    gcs_reader = "${var.credentials_dir}/gcs-reader.json"
  }
  aws_profiles = {
    writer   = "watchkeeper-backup-writer"
    purger   = "watchkeeper-backup-purger"
    restorer = "watchkeeper-backup-restorer"
  }
}

output "backup_destinations" {
  description = "backup_destinations for the backup runners' group_vars (the writer's credentials); the purger and restore hosts use the same list with their own profile and credentials_file."
  value = [
    merge(module.backups_s3.destination, { name = "s3", profile = local.aws_profiles.writer }),
    merge(module.backups_gcs.destination, { name = "gcs", credentials_file = local.credentials_files.gcs_writer }),
  ]
}

output "shared_state" {
  description = "The shared_state the backup, restore and retention tasks need with these buckets: local as soon as one bucket needs it (docs/infrastructure.md, Locks, retention and shared_state)."
  value       = contains([module.backups_s3.shared_state, module.backups_gcs.shared_state], "local") ? "local" : "destination"
}

output "credentials_files" {
  description = "Where each GCS service account's key goes on the hosts (written from Ansible Vault, mode 0600)."
  value       = local.credentials_files
}

output "aws_profiles" {
  description = "AWS config profiles to create on the hosts: role_arn is the role of that kind, credential_source Ec2InstanceMetadata (or a source_profile)."
  value       = { for k, arn in module.backups_s3.role_arns : local.aws_profiles[k] => arn }
}

output "gcs_service_accounts" {
  description = "Writer, purger and reader service accounts of the GCS bucket."
  value       = module.backups_gcs.service_accounts
}

output "stack" {
  description = "What the inventory and the scaling playbooks need from the stack."
  value = {
    lb_ip_address = module.stack.lb_ip_address
    autoscaler    = module.stack.autoscaler
    db_instance   = module.stack.db_instance
    redis         = module.stack.redis
  }
}
