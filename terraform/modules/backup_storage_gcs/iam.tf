# Three service accounts, each with only what its modules call (docs/infrastructure.md lists the calls):
#   writer   - objectCreator + objectViewer: create (resumable uploads with ifGenerationMatch=0), get, list.
#              No storage.objects.delete, so it can neither delete nor overwrite a backup. With
#              protection = versioning it may also replace its job locks (_ops_state/<job>/job.lock): GCS counts a
#              replace as a delete, so that one permission is granted on those object names only.
#   purger   - the writer's rights, storage.buckets.get (the retention policy), and storage.objects.delete/update
#              (holds) only on <prefix>/<job>/ of the listed jobs. A retention policy still wins over it.
#   reader   - objectViewer only (restore, restore_verify, backup_info, backup_integrity).

locals {
  suffix       = substr(sha1(var.bucket_name), 0, 8)
  role_prefix  = replace(var.account_id_prefix, "-", "_")
  job_cond     = join(" || ", [for j in var.job_names : "resource.name.startsWith(\"${local.object_root}${j}/\")"])
  lock_cond    = "resource.name.startsWith(\"${local.object_root}_ops_state/\") && resource.name.endsWith(\"/job.lock\")"
  records_cond = "resource.name.startsWith(\"${local.object_root}_ops_state/\") && resource.name.endsWith(\".json\")"
  accounts     = { writer = "writer", purger = "purger", reader = "reader" }
}

resource "google_service_account" "this" {
  for_each = local.accounts

  project      = var.project
  account_id   = "${var.account_id_prefix}-${each.value}"
  display_name = "watchkeeper.ops backup ${each.key} for gs://${var.bucket_name}"
}

resource "google_service_account_key" "this" {
  for_each = var.create_keys ? local.accounts : {}

  service_account_id = google_service_account.this[each.key].name
}

resource "google_project_iam_custom_role" "object_delete" {
  project     = var.project
  role_id     = "${local.role_prefix}_object_delete_${local.suffix}"
  title       = "watchkeeper.ops object delete (granted with a name condition)"
  description = "storage.objects.delete and update, for the purger under the jobs' prefixes and for lock replacement"
  permissions = ["storage.objects.delete", "storage.objects.update"]
}

resource "google_project_iam_custom_role" "lock_replace" {
  project     = var.project
  role_id     = "${local.role_prefix}_lock_replace_${local.suffix}"
  title       = "watchkeeper.ops job lock replacement"
  description = "storage.objects.delete, granted only on _ops_state/<job>/job.lock: a GCS replace needs it"
  permissions = ["storage.objects.delete"]
}

resource "google_project_iam_custom_role" "bucket_get" {
  project     = var.project
  role_id     = "${local.role_prefix}_bucket_get_${local.suffix}"
  title       = "watchkeeper.ops bucket metadata reader"
  description = "storage.buckets.get: the purger reads the bucket retention policy"
  permissions = ["storage.buckets.get"]
}

# -- writer ------------------------------------------------------------------------------------------------------
resource "google_storage_bucket_iam_member" "writer" {
  for_each = toset(["roles/storage.objectCreator", "roles/storage.objectViewer"])

  bucket = google_storage_bucket.backup.name
  role   = each.value
  member = "serviceAccount:${google_service_account.this["writer"].email}"
}

resource "google_storage_bucket_iam_member" "lock_replace" {
  for_each = local.use_versioning ? toset(["writer", "purger"]) : toset([])

  bucket = google_storage_bucket.backup.name
  role   = google_project_iam_custom_role.lock_replace.id
  member = "serviceAccount:${google_service_account.this[each.key].email}"

  condition {
    title       = "watchkeeper-job-locks"
    description = "only the job lock objects"
    expression  = local.lock_cond
  }
}

# -- purger ------------------------------------------------------------------------------------------------------
resource "google_storage_bucket_iam_member" "purger" {
  for_each = toset(["roles/storage.objectCreator", "roles/storage.objectViewer"])

  bucket = google_storage_bucket.backup.name
  role   = each.value
  member = "serviceAccount:${google_service_account.this["purger"].email}"
}

resource "google_storage_bucket_iam_member" "purger_bucket_get" {
  bucket = google_storage_bucket.backup.name
  role   = google_project_iam_custom_role.bucket_get.id
  member = "serviceAccount:${google_service_account.this["purger"].email}"
}

resource "google_storage_bucket_iam_member" "purger_delete" {
  bucket = google_storage_bucket.backup.name
  role   = google_project_iam_custom_role.object_delete.id
  member = "serviceAccount:${google_service_account.this["purger"].email}"

  condition {
    title       = "watchkeeper-job-prefixes"
    description = "only under the backup jobs' prefixes"
    expression  = local.job_cond
  }
}

# -- reader ------------------------------------------------------------------------------------------------------
resource "google_storage_bucket_iam_member" "reader" {
  bucket = google_storage_bucket.backup.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.this["reader"].email}"
}

resource "google_storage_bucket_iam_member" "reader_records" {
  count = var.restorer_records_verifications ? 1 : 0

  bucket = google_storage_bucket.backup.name
  role   = "roles/storage.objectCreator"
  member = "serviceAccount:${google_service_account.this["reader"].email}"

  condition {
    title       = "watchkeeper-verification-records"
    description = "only verification records under _ops_state/"
    expression  = local.records_cond
  }
}
