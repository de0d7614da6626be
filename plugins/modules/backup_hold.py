#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_hold
short_description: Put a backup under legal hold, or release it, in every destination
version_added: 1.0.0
description:
  - Writes (V(present)) or removes (V(absent)) the hold marker C(<job>/holds/<backup_id>.json) beside the backup in
    every destination. While the marker exists, M(watchkeeper.ops.retention_purge) never removes the backup, whatever
    its policy; the purge result names the hold (reason, case, who) as the reason it was kept.
  - With O(provider_hold) the store's own hold is also set or cleared on the backup's manifest and objects (an S3
    Object Lock legal hold, which needs a bucket created with Object Lock; a GCS temporary hold), so that nobody can
    delete them through the store either. A local destination has no such hold; the marker is the hold there.
  - Idempotent; an existing marker with other details is replaced (its C(created_at) is kept).
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.destination
attributes:
  check_mode:
    support: full
    details: Reports what would change; nothing is written.
  diff_mode:
    support: full
    details: The marker before and after, per destination.
  platform:
    platforms: posix
options:
  job:
    description: The backup job.
    type: str
    required: true
  backup_id:
    description: The backup to hold or release (C(20261127T013000Z-1a2b3c4d)). With V(present) it must exist in every destination.
    type: str
    required: true
  state:
    description: V(present) holds the backup, V(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  reason:
    description: Why the backup is held. Required with V(present).
    type: str
  case:
    description: Case or ticket reference of the hold.
    type: str
  created_by:
    description: Who asked for the hold.
    type: str
  provider_hold:
    description:
      - Also set (V(present)) or clear (V(absent)) the store's own hold on the manifest and every object of the backup
        (S3 Object Lock legal hold, GCS temporary hold). Shared packs of incremental file backups are not held,
        since the purge never removes a pack that a remaining manifest references.
      - A destination whose store cannot keep the hold fails (a local directory; an S3 bucket without Object Lock;
        a GCS-compatible store that ignores holds, such as gcp-storage-emulator, which is detected by reading the
        hold back).
    type: bool
    default: false
requirements:
  - boto3 for S3 destinations, google-cloud-storage for GCS destinations
notes:
  - Set C(WATCHKEEPER_NOW) in the task's environment to freeze the clock used for C(created_at).
seealso:
  - module: watchkeeper.ops.retention_purge
  - module: watchkeeper.ops.backup_info
"""

EXAMPLES = r"""
- name: Hold the backup of 27 November for the audit
  watchkeeper.ops.backup_hold:
    job: app-db
    backup_id: 20261127T013000Z-1a2b3c4d
    reason: litigation hold
    case: CASE-42
    created_by: alice
    provider_hold: true
    destinations:
      - name: offsite
        type: s3
        bucket: acme-backups-locked

- name: Release it
  watchkeeper.ops.backup_hold:
    job: app-db
    backup_id: 20261127T013000Z-1a2b3c4d
    state: absent
    provider_hold: true
    destinations:
      - name: offsite
        type: s3
        bucket: acme-backups-locked
"""

RETURN = r"""
marker:
  description: The marker written (V(present)), or null (V(absent)).
  returned: always
  type: dict
  sample: {backup_id: 20261127T013000Z-1a2b3c4d, reason: litigation hold, case: CASE-42, created_by: alice,
           created_at: "2026-11-27T10:00:00Z"}
destinations:
  description: Per destination name, what was done there.
  returned: always
  type: dict
  contains:
    status:
      description: V(ok) or V(failed).
      type: str
    error:
      description: Why the destination failed, or null.
      type: str
    marker_key:
      description: Key of the hold marker.
      type: str
    changed:
      description: Whether the marker or a provider hold changed (or would, in check mode).
      type: bool
    provider_holds:
      description: Keys whose provider hold was set or cleared (or would be, in check mode).
      type: list
      elements: str
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.common_args import DESTINATIONS_SPEC
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import StorageError, WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.retention import holds as markers
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.gcs_holds import TEMPORARY_HOLD
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.s3_holds import LEGAL_HOLD

DETAILS = ("reason", "case", "created_by")
PROVIDER = (LEGAL_HOLD, TEMPORARY_HOLD)


def _backup_keys(storage, job, backup_id):
    base = mf.base_key(job, backup_id)
    return sorted(i.key for i in storage.list(base.rsplit("/", 1)[0] + "/") if i.key.startswith(base + "."))


def _one(storage, params, now, check_mode):
    """``(outcome, before, after)`` for one destination."""
    job, backup_id, present = params["job"], params["backup_id"], params["state"] == "present"
    key = markers.marker_key(job, backup_id)
    out = {"status": "ok", "error": None, "marker_key": key, "changed": False, "provider_holds": []}
    before = markers.parse(storage.get_bytes(key, max_bytes=1024 * 1024), key) if storage.stat(key) else None
    after = None
    if present:
        if storage.stat(mf.manifest_key(job, backup_id)) is None:
            raise StorageError("backup %s of job %s does not exist here (no manifest %s)" % (
                backup_id, job, mf.manifest_key(job, backup_id)), step="hold", destination=storage.name)
        created_at = (before or {}).get("created_at") or clock.isoformat(now)
        after = markers.marker_doc(backup_id, params["reason"], params["case"], params["created_by"], created_at)
        if before != after:
            out["changed"] = True
            if not check_mode:
                storage.put_bytes(key, markers.dumps(after), overwrite=True)
    elif before is not None:
        out["changed"] = True
        if not check_mode:
            storage.delete(key)
    if params["provider_hold"]:
        for obj in _backup_keys(storage, job, backup_id):
            has = any(h in PROVIDER for h in storage.holds(obj, now=now))
            if has != present:
                out["provider_holds"].append(obj)
                out["changed"] = True
                if not check_mode:
                    storage.set_hold(obj, present)
    return out, before, after


def main():
    module = AnsibleModule(
        argument_spec=dict(
            job=dict(type="str", required=True),
            backup_id=dict(type="str", required=True),
            destinations=copy.deepcopy(DESTINATIONS_SPEC),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            reason=dict(type="str"),
            case=dict(type="str"),
            created_by=dict(type="str"),
            provider_hold=dict(type="bool", default=False),
        ),
        required_if=[("state", "present", ("reason",))],
        supports_check_mode=True,
    )
    params = module.params
    try:
        mf.check_job_name(params["job"])
        mf.backup_time(params["backup_id"])
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.msg, changed=False)
    now = clock.now()
    outcomes, failures, diffs, names, marker = {}, [], [], [], None
    for spec in params["destinations"]:
        spec["name"] = spec.get("name") or spec["type"]
        if spec["name"] in names:
            module.fail_json(msg="two destinations are named %r; give each a unique name" % spec["name"], changed=False)
        names.append(spec["name"])
    for spec in params["destinations"]:
        storage = None
        try:
            storage = open_storage(spec)
            out, before, after = _one(storage, params, now, module.check_mode)
            marker = marker or after
            diffs.append({"before_header": "%s: %s" % (spec["name"], out["marker_key"]), "before": before or {},
                          "after_header": "%s: %s" % (spec["name"], out["marker_key"]), "after": after or {}})
        except WatchkeeperError as exc:
            exc.destination = exc.destination or spec["name"]
            out = {"status": "failed", "error": exc.describe(), "marker_key": markers.marker_key(params["job"], params["backup_id"]),
                   "changed": False, "provider_holds": []}
            failures.append("destination %s: %s" % (spec["name"], exc.describe()))
        finally:
            if storage is not None:
                storage.close()
        outcomes[spec["name"]] = out
    result = dict(changed=any(o["changed"] for o in outcomes.values()), marker=marker, destinations=outcomes)
    if module._diff:
        result["diff"] = diffs
    if failures:
        module.fail_json(msg="backup_hold %s of %s/%s failed: %s" % (
            params["state"], params["job"], params["backup_id"], " | ".join(failures)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
