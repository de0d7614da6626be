# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    """Where backups go: the twin of C(DESTINATION_OPTIONS) in plugins/module_utils/common_args.py."""

    # DOCUMENTATION documents a list of destinations, SINGLE one destination; their suboptions are
    # identical (ansible-test reads these strings literally, so they are written out twice). A unit test
    # keeps the two in step with each other and with DESTINATION_OPTIONS.
    DOCUMENTATION = r'''
options:
  destinations:
    description:
      - Where the backup is stored. Every destination receives the same bytes, streamed once from the source.
      - A run succeeds only when every destination has confirmed its copy (size, and a checksum where the store offers one).
      - Nothing that already exists is ever overwritten; an interrupted or failed upload leaves nothing visible behind.
    type: list
    elements: dict
    required: true
    suboptions:

      name:
        description:
          - A label for this destination in results, reports and error messages, for example C(nas) or C(offsite).
          - Defaults to the destination's type; names must be unique within a task.
        type: str
      type:
        description:
          - V(local) is a directory on the managed host, a local disk or a mounted NAS share (NFS, SMB).
          - V(s3) is AWS S3 or any S3-compatible store (MinIO, Ceph RGW, Wasabi, ...) reached through C(endpoint_url).
          - V(gcs) is Google Cloud Storage.
        type: str
        required: true
        choices: [local, s3, gcs]
      path:
        description:
          - Only for V(local). The root directory of the destination; backups are written below it.
          - The directory B(must already exist). It is never created, so that an unmounted NAS share fails the backup
            instead of silently filling the local disk under the empty mount point.
          - Each object is written to a temporary C(*.wk-partial-*) file, flushed to disk, then given its final name.
        type: path
      verify_readback:
        description:
          - Only for V(local). Read every file back after writing and compare its SHA-256 before publishing it.
          - Doubles the read I/O on the destination; worth it on network shares.
        type: bool
        default: true
      bucket:
        description:
          - For V(s3) and V(gcs), required. The bucket name; the bucket must already exist.
        type: str
      prefix:
        description:
          - For V(s3) and V(gcs). A folder-like prefix inside the bucket, without leading or trailing slash, for example C(backups/db01).
          - Object keys become C(<prefix>/<key>).
        type: str
        default: ""
      endpoint_url:
        description:
          - For V(s3), the URL of an S3-compatible service, for example C(https://minio.example.com:9000); leave unset for AWS.
          - For V(gcs), another JSON API endpoint, for example an emulator (C(http://127.0.0.1:9023)); leave unset for Google Cloud.
        type: str
      timeout:
        description:
          - For V(s3) and V(gcs). Seconds to wait to connect and for each answer.
          - For V(gcs) it also bounds the retries of one call, so an unreachable endpoint fails in about this long
            instead of the library's default of two minutes.
        type: int
        default: 60
      retries:
        description:
          - For V(s3) and V(gcs). How often a failed request is retried (throttling, 5xx, network errors). V(0) disables retries.
          - For V(s3) this is botocore's C(max_attempts) in C(standard) mode. For V(gcs) any value above V(0) enables the
            library's retries, bounded by C(timeout).
        type: int
        default: 3
      part_size_mb:
        description:
          - For V(s3) and V(gcs). The size in MiB of each piece sent over the network.
          - For V(s3) it is the multipart part size (at least 5); memory use is about
            (C(upload_concurrency) + 1) times this size. Past 1000 parts the part size doubles every 1000
            parts so that a single object can reach the S3 limit of 10000 parts (about 5 TiB with the default).
            Objects smaller than one part are sent with a single PutObject.
          - For V(gcs) it is the resumable upload chunk size; memory use is about this size.
        type: int
        default: 16
      region:
        description:
          - Only for V(s3). The AWS region of the bucket, for example C(eu-central-1). Falls back to the AWS configuration
            (C(AWS_REGION), C(AWS_DEFAULT_REGION), the profile).
        type: str
      profile:
        description:
          - Only for V(s3). A named profile from C(~/.aws/credentials) or C(~/.aws/config) on the managed host.
          - Used when C(access_key) is not set.
        type: str
      access_key:
        description:
          - Only for V(s3). The access key ID. Together with C(secret_key) it takes precedence over
            C(profile), which takes precedence over the default AWS chain (C(AWS_ACCESS_KEY_ID) and
            C(AWS_SECRET_ACCESS_KEY) as injected by an AWX Amazon Web Services credential, the shared files, an instance
            or task role).
          - This is a secret; it is never logged or shown in messages.
        type: str
      secret_key:
        description:
          - Only for V(s3). The secret access key belonging to C(access_key).
          - This is a secret; it is never logged or shown in messages.
        type: str
      session_token:
        description:
          - Only for V(s3). A session token for temporary credentials (STS); needs C(access_key) and
            C(secret_key).
          - This is a secret; it is never logged or shown in messages.
        type: str
      storage_class:
        description:
          - Only for V(s3). The storage class of new objects, for example C(STANDARD), C(STANDARD_IA), C(ONEZONE_IA),
            C(INTELLIGENT_TIERING), C(GLACIER_IR), C(GLACIER) or C(DEEP_ARCHIVE). Unset means the bucket default.
          - Objects in C(GLACIER) or C(DEEP_ARCHIVE) must be restored before they can be read, so restore tests and
            read-back checks cannot use them directly; prefer a lifecycle rule that moves older backups there.
        type: str
      server_side_encryption:
        description:
          - Only for V(s3). Server-side encryption of new objects. V(AES256) uses S3-managed keys, V(aws:kms) uses KMS.
          - Setting C(kms_key_id) alone implies V(aws:kms).
        type: str
        choices: [AES256, "aws:kms"]
      kms_key_id:
        description:
          - Only for V(s3). The KMS key ID, ARN or alias (C(alias/backups)) for V(aws:kms) encryption.
            Not a secret.
        type: str
      upload_concurrency:
        description:
          - Only for V(s3). How many parts are uploaded in parallel.
        type: int
        default: 4
      project:
        description:
          - Only for V(gcs). The Google Cloud project. Defaults to the project of the credentials file, then to
            C(GCE_PROJECT) (set by an AWX Google Compute Engine credential).
        type: str
      credentials_file:
        description:
          - Only for V(gcs). Path on the managed host to a service account JSON key.
          - Precedence is this option, then C(GOOGLE_APPLICATION_CREDENTIALS), then C(GCE_CREDENTIALS_FILE_PATH) (what an
            AWX Google Compute Engine credential injects), then the application default credentials (gcloud, or the
            service account of a GCE VM or GKE workload).
          - The file holds a private key; keep it readable only by the user running the backup.
        type: path
      anonymous:
        description:
          - Only for V(gcs). Send unauthenticated requests; meant for emulators together with C(endpoint_url).
        type: bool
        default: false
'''

    SINGLE = r'''
options:
  destination:
    description:
      - One storage destination, with the same options as each entry of C(destinations) in the backup modules.
      - Options that do not apply to its O(destination.type) are ignored.
    type: dict
    required: true
    suboptions:

      name:
        description:
          - A label for this destination in results, reports and error messages, for example C(nas) or C(offsite).
          - Defaults to the destination's type; names must be unique within a task.
        type: str
      type:
        description:
          - V(local) is a directory on the managed host, a local disk or a mounted NAS share (NFS, SMB).
          - V(s3) is AWS S3 or any S3-compatible store (MinIO, Ceph RGW, Wasabi, ...) reached through C(endpoint_url).
          - V(gcs) is Google Cloud Storage.
        type: str
        required: true
        choices: [local, s3, gcs]
      path:
        description:
          - Only for V(local). The root directory of the destination; backups are written below it.
          - The directory B(must already exist). It is never created, so that an unmounted NAS share fails the backup
            instead of silently filling the local disk under the empty mount point.
          - Each object is written to a temporary C(*.wk-partial-*) file, flushed to disk, then given its final name.
        type: path
      verify_readback:
        description:
          - Only for V(local). Read every file back after writing and compare its SHA-256 before publishing it.
          - Doubles the read I/O on the destination; worth it on network shares.
        type: bool
        default: true
      bucket:
        description:
          - For V(s3) and V(gcs), required. The bucket name; the bucket must already exist.
        type: str
      prefix:
        description:
          - For V(s3) and V(gcs). A folder-like prefix inside the bucket, without leading or trailing slash, for example C(backups/db01).
          - Object keys become C(<prefix>/<key>).
        type: str
        default: ""
      endpoint_url:
        description:
          - For V(s3), the URL of an S3-compatible service, for example C(https://minio.example.com:9000); leave unset for AWS.
          - For V(gcs), another JSON API endpoint, for example an emulator (C(http://127.0.0.1:9023)); leave unset for Google Cloud.
        type: str
      timeout:
        description:
          - For V(s3) and V(gcs). Seconds to wait to connect and for each answer.
          - For V(gcs) it also bounds the retries of one call, so an unreachable endpoint fails in about this long
            instead of the library's default of two minutes.
        type: int
        default: 60
      retries:
        description:
          - For V(s3) and V(gcs). How often a failed request is retried (throttling, 5xx, network errors). V(0) disables retries.
          - For V(s3) this is botocore's C(max_attempts) in C(standard) mode. For V(gcs) any value above V(0) enables the
            library's retries, bounded by C(timeout).
        type: int
        default: 3
      part_size_mb:
        description:
          - For V(s3) and V(gcs). The size in MiB of each piece sent over the network.
          - For V(s3) it is the multipart part size (at least 5); memory use is about
            (C(upload_concurrency) + 1) times this size. Past 1000 parts the part size doubles every 1000
            parts so that a single object can reach the S3 limit of 10000 parts (about 5 TiB with the default).
            Objects smaller than one part are sent with a single PutObject.
          - For V(gcs) it is the resumable upload chunk size; memory use is about this size.
        type: int
        default: 16
      region:
        description:
          - Only for V(s3). The AWS region of the bucket, for example C(eu-central-1). Falls back to the AWS configuration
            (C(AWS_REGION), C(AWS_DEFAULT_REGION), the profile).
        type: str
      profile:
        description:
          - Only for V(s3). A named profile from C(~/.aws/credentials) or C(~/.aws/config) on the managed host.
          - Used when C(access_key) is not set.
        type: str
      access_key:
        description:
          - Only for V(s3). The access key ID. Together with C(secret_key) it takes precedence over
            C(profile), which takes precedence over the default AWS chain (C(AWS_ACCESS_KEY_ID) and
            C(AWS_SECRET_ACCESS_KEY) as injected by an AWX Amazon Web Services credential, the shared files, an instance
            or task role).
          - This is a secret; it is never logged or shown in messages.
        type: str
      secret_key:
        description:
          - Only for V(s3). The secret access key belonging to C(access_key).
          - This is a secret; it is never logged or shown in messages.
        type: str
      session_token:
        description:
          - Only for V(s3). A session token for temporary credentials (STS); needs C(access_key) and
            C(secret_key).
          - This is a secret; it is never logged or shown in messages.
        type: str
      storage_class:
        description:
          - Only for V(s3). The storage class of new objects, for example C(STANDARD), C(STANDARD_IA), C(ONEZONE_IA),
            C(INTELLIGENT_TIERING), C(GLACIER_IR), C(GLACIER) or C(DEEP_ARCHIVE). Unset means the bucket default.
          - Objects in C(GLACIER) or C(DEEP_ARCHIVE) must be restored before they can be read, so restore tests and
            read-back checks cannot use them directly; prefer a lifecycle rule that moves older backups there.
        type: str
      server_side_encryption:
        description:
          - Only for V(s3). Server-side encryption of new objects. V(AES256) uses S3-managed keys, V(aws:kms) uses KMS.
          - Setting C(kms_key_id) alone implies V(aws:kms).
        type: str
        choices: [AES256, "aws:kms"]
      kms_key_id:
        description:
          - Only for V(s3). The KMS key ID, ARN or alias (C(alias/backups)) for V(aws:kms) encryption.
            Not a secret.
        type: str
      upload_concurrency:
        description:
          - Only for V(s3). How many parts are uploaded in parallel.
        type: int
        default: 4
      project:
        description:
          - Only for V(gcs). The Google Cloud project. Defaults to the project of the credentials file, then to
            C(GCE_PROJECT) (set by an AWX Google Compute Engine credential).
        type: str
      credentials_file:
        description:
          - Only for V(gcs). Path on the managed host to a service account JSON key.
          - Precedence is this option, then C(GOOGLE_APPLICATION_CREDENTIALS), then C(GCE_CREDENTIALS_FILE_PATH) (what an
            AWX Google Compute Engine credential injects), then the application default credentials (gcloud, or the
            service account of a GCE VM or GKE workload).
          - The file holds a private key; keep it readable only by the user running the backup.
        type: path
      anonymous:
        description:
          - Only for V(gcs). Send unauthenticated requests; meant for emulators together with C(endpoint_url).
        type: bool
        default: false
'''
