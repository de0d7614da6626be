# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    """Where maintenance windows, incidents and approvals live: the twin of C(COMMON) in
    plugins/module_utils/maintenance/args.py."""

    DOCUMENTATION = r'''
options:
  ops_state:
    description:
      - The ops_state directory shared by every controller and AWX node (an NFS mount, for example).
      - Maintenance windows are stored in C(<ops_state>/maintenance/windows/<id>.json), delivery records in
        C(<ops_state>/maintenance/deliveries/), incidents in C(<ops_state>/incidents/), approvals in
        C(<ops_state>/approvals/).
      - Ignored when O(ops_state_store) is set.
    type: path
    default: /var/lib/watchkeeper
  ops_state_store:
    description:
      - Keep this state in a bucket instead (the same layout under O(ops_state_store.prefix)). Claims use the
        store's conditional writes (S3 C(If-None-Match), GCS C(if_generation_match=0)), so several nodes can share it.
    type: dict
    suboptions:
      name:
        description: A label for messages.
        type: str
      type:
        description: The kind of store.
        type: str
        required: true
        choices: [local, s3, gcs]
      path:
        description: Only for V(local). The directory.
        type: path
      bucket:
        description: Only for V(s3) and V(gcs). The bucket.
        type: str
      prefix:
        description: Only for V(s3) and V(gcs). A key prefix inside the bucket, for example C(ops-state).
        type: str
        default: ""
      endpoint_url:
        description: Only for V(s3) and V(gcs). An S3- or GCS-compatible endpoint (MinIO, Ceph, an emulator).
        type: str
      timeout:
        description: Seconds per request.
        type: int
        default: 60
      retries:
        description: Retries of the storage client.
        type: int
        default: 3
      region:
        description: Only for V(s3). The region.
        type: str
      profile:
        description: Only for V(s3). An AWS profile name.
        type: str
      access_key:
        description: Only for V(s3). Access key id (prefer the environment or a profile).
        type: str
      secret_key:
        description: Only for V(s3). Secret access key (prefer the environment or a profile).
        type: str
      session_token:
        description: Only for V(s3). Session token.
        type: str
      project:
        description: Only for V(gcs). The project.
        type: str
      credentials_file:
        description: Only for V(gcs). A service account key file.
        type: path
      anonymous:
        description: Only for V(gcs). No credentials (emulators).
        type: bool
        default: false
'''
