# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs of ``restore_verify`` and ``restore`` (twins: doc fragment ``watchkeeper.ops.restore``
and each module's own DOCUMENTATION for the options only it has)."""

import copy

from ansible_collections.watchkeeper.ops.plugins.module_utils.common_args import DESTINATIONS_SPEC

SERVER_OPTIONS = dict(
    login_host=dict(type="str"),
    login_port=dict(type="int"),
    login_user=dict(type="str"),
    login_password=dict(type="str", no_log=True),
    passfile=dict(type="path", no_log=False),
    ssl_mode=dict(type="str", choices=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
    ca_cert=dict(type="path"),
    connect_timeout=dict(type="int", default=10),
    maintenance_db=dict(type="str", default="postgres"),
    pg_bin_dir=dict(type="path"),
)

DECRYPTION_OPTIONS = dict(
    private_keys=dict(type="list", elements="str", default=[], no_log=True),
    private_key_passphrase_file=dict(type="path", no_log=False),
    passphrase_file=dict(type="path", no_log=False),
    passphrase=dict(type="str", no_log=True),
)

ASSERTION_OPTIONS = dict(
    name=dict(type="str"),
    sql=dict(type="str", required=True),
    op=dict(type="str", default="eq", choices=["eq", "ne", "lt", "le", "gt", "ge", "within"]),
    value=dict(type="raw"),
)

CHECKS_OPTIONS = dict(
    fingerprint=dict(type="bool", default=True),
    content=dict(type="str", default="database", choices=["database", "dump", "none"]),
    assertions=dict(type="list", elements="dict", default=[], options=ASSERTION_OPTIONS),
)


def common_spec():
    return dict(
        job=dict(type="str", required=True),
        destinations=copy.deepcopy(DESTINATIONS_SPEC),
        backup_id=dict(type="str"),
        at_or_before=dict(type="str"),
        decryption=dict(type="dict", default={}, options=copy.deepcopy(DECRYPTION_OPTIONS),
                        mutually_exclusive=[("passphrase_file", "passphrase")]),
        server=dict(type="dict", options=copy.deepcopy(SERVER_OPTIONS)),
        checks=dict(type="dict", default={}, options=copy.deepcopy(CHECKS_OPTIONS)),
        jobs=dict(type="int"),
        scratch_dir=dict(type="path"),
        scratch_max_age=dict(type="str", default="24h"),
        ops_state=dict(type="path", default="/var/lib/watchkeeper"),
        shared_state=dict(type="str", default="destination", choices=["destination", "local"]),
        timeout=dict(type="int", default=21600),
        tmp_dir=dict(type="path"),
    )


def restore_verify_spec():
    spec = common_spec()
    spec["existing_database"] = dict(type="str")
    return spec


def restore_spec():
    spec = common_spec()
    spec.update(
        target=dict(type="dict", required=True, options=dict(database=dict(type="str"), path=dict(type="path"),
                                                             owner=dict(type="str")),
                    required_one_of=[("database", "path")], mutually_exclusive=[("database", "path")]),
        force=dict(type="bool", default=False),
        keep_replaced=dict(type="bool", default=False),
        no_owner=dict(type="bool", default=False),
        restore_globals=dict(type="bool", default=False),
        restore_globals_existing=dict(type="str", default="skip", choices=["skip", "fail"]),
        lock_timeout=dict(type="int", default=60),
        safety_backup=dict(type="dict", default={}, options=dict(
            job=dict(type="str"),
            destinations=dict(type="list", elements="str"),
            public_keys=dict(type="list", elements="str", no_log=False),
        )),
    )
    return spec
