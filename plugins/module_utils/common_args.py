# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs shared by several modules.

Each dict here has exactly one twin in ``plugins/doc_fragments/`` (same option names, types,
defaults and choices); ansible-test's validate-modules catches drift between them.
"""

DESTINATION_OPTIONS = dict(
    name=dict(type="str"),
    type=dict(type="str", required=True, choices=["local", "s3", "gcs"]),
    # local
    path=dict(type="path"),
    verify_readback=dict(type="bool", default=True),
    # s3 and gcs
    bucket=dict(type="str"),
    prefix=dict(type="str", default=""),
    endpoint_url=dict(type="str"),
    timeout=dict(type="int", default=60),
    retries=dict(type="int", default=3),
    part_size_mb=dict(type="int", default=16),
    # s3
    region=dict(type="str"),
    profile=dict(type="str"),
    access_key=dict(type="str", no_log=True),
    secret_key=dict(type="str", no_log=True),
    session_token=dict(type="str", no_log=True),
    storage_class=dict(type="str"),
    server_side_encryption=dict(type="str", choices=["AES256", "aws:kms"]),
    kms_key_id=dict(type="str", no_log=False),
    upload_concurrency=dict(type="int", default=4),
    # gcs
    project=dict(type="str"),
    credentials_file=dict(type="path"),
    anonymous=dict(type="bool", default=False),
)

DESTINATIONS_SPEC = dict(type="list", elements="dict", required=True, options=DESTINATION_OPTIONS)
DESTINATION_SPEC = dict(type="dict", required=True, options=DESTINATION_OPTIONS)
