# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument spec of the ``backup`` module (its DOCUMENTATION is the twin of this dict)."""

import copy

from ansible_collections.watchkeeper.ops.plugins.module_utils.common_args import DESTINATIONS_SPEC

SOURCE_OPTIONS = dict(
    type=dict(type="str", required=True, choices=["postgres", "sqlite", "files"]),
    # postgres
    database=dict(type="str", aliases=["db"]),
    login_host=dict(type="str"),
    login_port=dict(type="int"),
    login_user=dict(type="str"),
    login_password=dict(type="str", no_log=True),
    passfile=dict(type="path", no_log=False),
    conninfo=dict(type="str", no_log=True),
    ssl_mode=dict(type="str", choices=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
    ca_cert=dict(type="path"),
    connect_timeout=dict(type="int", default=10),
    include_globals=dict(type="bool", default=False),
    globals_no_role_passwords=dict(type="bool", default=False, no_log=False),
    checksum_tables=dict(type="list", elements="str", default=[]),
    fingerprint=dict(type="bool", default=True),
    exclude_table_data=dict(type="list", elements="str", default=[]),
    pg_bin_dir=dict(type="path"),
    # sqlite
    path=dict(type="path"),
    # files
    paths=dict(type="list", elements="path"),
    exclude=dict(type="list", elements="str", default=[]),
    mode=dict(type="str", choices=["full", "incremental"], default="full"),
    pack_size_mb=dict(type="int", default=32),
    skip_unreadable=dict(type="bool", default=False),
)

ENCRYPTION_OPTIONS = dict(
    mode=dict(type="str", choices=["public_key", "symmetric", "none"], default="public_key"),
    public_keys=dict(type="list", elements="str", default=[], no_log=False),
    recipients=dict(type="list", elements="str", default=[]),
    passphrase_file=dict(type="path", no_log=False),
    passphrase=dict(type="str", no_log=True),
    cipher=dict(type="str", default="AES256", choices=["AES256", "AES192", "AES", "CAMELLIA256", "TWOFISH"]),
)

COMPRESSION_OPTIONS = dict(
    level=dict(type="raw", default="auto"),
    threads=dict(type="int", default=0),
)


def backup_argument_spec():
    return dict(
        job=dict(type="str", required=True),
        source=dict(type="dict", required=True, options=copy.deepcopy(SOURCE_OPTIONS),
                    required_if=[("type", "sqlite", ["path"]), ("type", "files", ["paths"])]),
        destinations=copy.deepcopy(DESTINATIONS_SPEC),
        encryption=dict(type="dict", required=True, options=copy.deepcopy(ENCRYPTION_OPTIONS),
                        mutually_exclusive=[("passphrase_file", "passphrase")]),
        compression=dict(type="dict", default={}, options=copy.deepcopy(COMPRESSION_OPTIONS)),
        ops_state=dict(type="path", default="/var/lib/watchkeeper"),
        shared_state=dict(type="str", default="destination", choices=["destination", "local"]),
        lock_timeout=dict(type="int", default=60),
        timeout=dict(type="int", default=21600),
        tmp_dir=dict(type="path"),
    )


def with_defaults(spec, values):
    """``values`` completed with the defaults of an argument ``spec`` (recursively for dict options),
    the way AnsibleModule would: for code that calls ``run_backup`` itself (safety backups)."""
    out = {}
    for name, opt in spec.items():
        value = values.get(name)
        if value is None:
            value = copy.deepcopy(opt.get("default"))
        if opt.get("type") == "dict" and opt.get("options") and isinstance(value, dict):
            value = with_defaults(opt["options"], value)
        elif opt.get("type") == "list" and opt.get("options") and isinstance(value, list):
            value = [with_defaults(opt["options"], item) for item in value]
        out[name] = value
    return out
