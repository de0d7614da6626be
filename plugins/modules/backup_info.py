#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_info
short_description: List the backups of a job in a destination and check that they are fresh
version_added: 1.0.0
description:
  - Lists the backups of one job in one destination, newest first, with their age, sizes and whether each
    manifest is valid (well-formed, known schema, every object present at the recorded size).
  - Objects without a manifest (failed or interrupted runs) are never counted as backups; they are reported in
    RV(incomplete).
  - With O(max_age) it reports RV(stale) (no valid backup, or the newest valid one is older than O(max_age)) and,
    with O(fail_if_stale), fails so that a playbook or an AWX schedule turns a missed backup into an alert
    (the RPO watch).
  - Reads only the destination and needs no keys; the only local state is an optional cache of manifests (O(cache_dir)).
  - Every backup written by this collection also has an index entry, C(<job>/_index/<backup_id>.json). With
    O(listing=index) only those entries are listed (one key per backup instead of every object), see O(listing).
  - Keys under C(<job>/_<name>/) (index entries, lock and verification records), C(<job>/packs/) and
    C(<job>/holds/) belong to no backup run and are never counted as backups or incomplete runs.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.destination.single
attributes:
  check_mode:
    support: full
    details: Reads only; behaves the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  job:
    description: The backup job.
    type: str
    required: true
  max_age:
    description:
      - Maximum age of the newest valid backup, as seconds or a duration such as V(90m), V(26h), V(7d), V(1d 2h).
      - Without it, RV(stale) is true only when there is no valid backup at all.
    type: str
  fail_if_stale:
    description: Fail the task when RV(stale) is true.
    type: bool
    default: false
  validate:
    description:
      - Read and check every manifest. With V(false) only the keys are listed (faster; RV(backups[].valid) is then
        not checked and sizes are unknown).
    type: bool
    default: true
  limit:
    description: Return only the newest N backups in RV(backups) (all are still counted). V(0) returns all.
    type: int
    default: 0
  listing:
    description:
      - V(full) lists every key of the job and checks every backup's objects against that listing; it also
        reports RV(incomplete) runs and the backups without an index entry (RV(unindexed)).
      - V(index) lists only the job's index entries (one key per backup) and takes manifests from O(cache_dir), so
        a warm call reads no data key. The newest backups are checked object by object until one is valid, so
        RV(latest), RV(stale) and RV(newest_age_s) are as proven as with V(full); older backups are reported as
        their index entry and manifest say (RV(backups[].checked) is V(index)), and RV(incomplete) is not
        looked for (empty).
      - V(index) falls back to V(full) (RV(listing_reason) says why) without O(cache_dir), with O(validate=false),
        on the first call for a destination and job on this host, when the last full listing on this host is more
        than 24 h old, while the last full listing found backups without an index entry (written before index
        entries existed), and when the job has no index entry.
      - Index entries whose manifest is gone are reported in RV(orphans) with either value, never as backups.
    type: str
    choices: [full, index]
    default: full
  cache_dir:
    description:
      - Directory on the host running the module where parsed manifests are cached. Manifests never change once
        written, so later runs read only new manifests; object presence and sizes are always checked against a
        fresh listing. Empty string disables the cache.
    type: path
    default: ~/.cache/watchkeeper/catalog
requirements:
  - boto3 for S3 destinations, google-cloud-storage for GCS destinations
notes:
  - Set C(WATCHKEEPER_NOW) in the task's environment to freeze the clock (tests, reports for a past date).
seealso:
  - module: watchkeeper.ops.backup
"""

EXAMPLES = r"""
- name: Fail when the database backup in S3 is older than the 4 h RPO
  watchkeeper.ops.backup_info:
    job: app-db
    destination:
      type: s3
      bucket: acme-backups
      prefix: prod
    max_age: 4h
    fail_if_stale: true

- name: List the ten newest backups on the NAS
  watchkeeper.ops.backup_info:
    job: uploads
    destination:
      type: local
      path: /mnt/nas/backups
    limit: 10
  register: uploads_backups
"""

RETURN = r"""
job:
  description: The job.
  returned: always
  type: str
destination:
  description: Name, type and location of the destination that was read.
  returned: always
  type: dict
  sample: {name: s3, type: s3, location: s3://acme-backups/prod}
count:
  description: Number of backups (manifests) found.
  returned: always
  type: int
valid_count:
  description: Number of backups whose manifest and objects are valid.
  returned: always
  type: int
backups:
  description: Backups, newest first (at most O(limit)).
  returned: always
  type: list
  elements: dict
  contains:
    backup_id:
      description: Backup id.
      type: str
    created_at:
      description: When the backup started (UTC, ISO 8601).
      type: str
    completed_at:
      description: When its manifest was built.
      type: str
    age_s:
      description: Age in seconds at the time of the check.
      type: float
    age:
      description: Age for humans (V(4h 05m)).
      type: str
    valid:
      description:
        - Whether the manifest is valid and every object is present at the recorded size.
        - When RV(backups[].checked) is V(index), the objects were not looked at in this call.
      type: bool
    checked:
      description:
        - How far this call checked the backup. V(objects) every object against a listing or one by one,
          V(index) the index entry and the manifest only (O(listing=index), older backups), V(none) nothing
          (O(validate=false)).
      type: str
    indexed:
      description: Whether the backup has an index entry.
      type: bool
    problems:
      description: What is wrong when not valid.
      type: list
      elements: str
    sizes:
      description: raw_bytes, compressed_bytes, stored_bytes from the manifest.
      type: dict
    sha256:
      description: SHA-256 of the main object.
      type: str
    source:
      description: Source facts (kind, host, database or path, mode, server version).
      type: dict
    encryption:
      description: Encryption mode.
      type: str
    manifest_key:
      description: Key of the manifest.
      type: str
    objects:
      description: Keys of the backup's own objects.
      type: list
      elements: str
latest:
  description: The newest valid backup, or null.
  returned: always
  type: dict
newest_age_s:
  description: Age in seconds of the newest valid backup, or null.
  returned: always
  type: float
stale:
  description: True when there is no valid backup, or the newest valid one is older than O(max_age).
  returned: always
  type: bool
stale_reason:
  description: Why the job is stale.
  returned: when stale
  type: str
incomplete:
  description: Ids of runs that left objects but no manifest (they are not backups). Empty with the index listing.
  returned: always
  type: list
  elements: str
orphans:
  description: Index entries without a readable manifest (they are not backups); retention removes them with the
    incomplete runs.
  returned: always
  type: list
  elements: dict
  contains:
    backup_id:
      description: The backup id the entry names.
      type: str
    index_key:
      description: Key of the index entry.
      type: str
    problem:
      description: What is wrong.
      type: str
unindexed:
  description: Ids of backups that have a manifest but no index entry (written before index entries existed, or the
    index write failed); they are listed and counted like any backup. Null with the index listing.
  returned: always
  type: list
  elements: str
listing:
  description: The listing used, V(full) or V(index).
  returned: always
  type: str
listing_reason:
  description: Why a full listing was used when O(listing=index) was asked for.
  returned: when the index listing fell back to a full one
  type: str
checked_at:
  description: The time the ages were computed against (UTC).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils import catalog
from ansible_collections.watchkeeper.ops.plugins.module_utils.common_args import DESTINATION_SPEC
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.manifest import check_job_name
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import freshness
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage


def main():
    module = AnsibleModule(
        argument_spec=dict(
            job=dict(type="str", required=True),
            destination=dict(DESTINATION_SPEC),
            max_age=dict(type="str"),
            fail_if_stale=dict(type="bool", default=False),
            validate=dict(type="bool", default=True),
            limit=dict(type="int", default=0),
            listing=dict(type="str", choices=["full", "index"], default="full"),
            cache_dir=dict(type="path", default="~/.cache/watchkeeper/catalog"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        max_age_s = freshness.parse_duration(params["max_age"]) if params["max_age"] else None
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    spec = dict(params["destination"])
    spec["name"] = spec.get("name") or spec["type"]
    storage = None
    try:
        job = check_job_name(params["job"])
        storage = open_storage(spec)
        found = catalog.read(storage, job, validate=params["validate"], cache_dir=params["cache_dir"] or None,
                             mode=params["listing"])
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.describe(), step=exc.step, destination=spec["name"], stale=True)
    finally:
        if storage is not None:
            storage.close()

    backups = found.backups
    now = clock.now()
    for entry in backups:
        age = (now - clock.parse_time(entry["created_at"])).total_seconds()
        entry["age_s"] = round(max(age, 0.0), 1)
        entry["age"] = freshness.human_duration(age)
    valid = [b for b in backups if b["valid"]]
    verdict = freshness.assess([clock.parse_time(b["created_at"]) for b in valid], now, max_age_s)
    stale = bool(verdict["stale"])
    result = dict(
        changed=False, job=job, destination={"name": spec["name"], "type": storage.kind, "location": storage.describe()},
        count=len(backups), valid_count=len(valid), backups=backups[:params["limit"]] if params["limit"] else backups,
        latest=valid[0] if valid else None, newest_age_s=verdict["newest_age_s"], stale=stale,
        incomplete=found.incomplete, orphans=found.orphans, unindexed=found.unindexed, listing=found.listing,
        checked_at=clock.isoformat(now),
    )
    if found.reason:
        result["listing_reason"] = found.reason
    if stale:
        result["stale_reason"] = verdict["reason"]
        if params["fail_if_stale"]:
            module.fail_json(msg="job %s in destination %s is stale: %s" % (job, spec["name"], verdict["reason"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
