#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_integrity
short_description: Read stored backups back and check them against their manifests (integrity sweep)
version_added: 1.0.0
description:
  - Checks the stored backups of one job in one or more destinations. For every backup it checks that the manifest is
    well-formed (known schema, names this job and backup), that every object the manifest names is present with the
    manifest's C(stored_bytes), and that the SHA-256 of the stored bytes equals the manifest's C(sha256).
  - Incremental file backups also depend on shared packs (C(files.packs) in the manifest). Each pack is read once per
    run however many backups use it; a bad pack makes every checked backup that uses it bad.
  - Objects are streamed (never held in memory) and read O(parallel) at a time. Reads only; needs no keys, since the
    checksums are of the stored (encrypted) bytes.
  - With O(subset=1/N) a run reads only one slot of backups, so that N runs, one per O(subset_period), read every backup
    exactly once. The rule is stateless and the same on every host (see RV(subset)); backups outside the slot are
    reported as V(skipped).
  - Destinations are checked at the same time (up to O(parallel_destinations), a thread each); the results keep the
    order of O(destinations). Each destination is checked even when another one fails or hangs (O(destination_timeout)).
    The task fails when a destination cannot be listed, or
    (with O(fail_on_bad)) when any checked backup is bad; the message names each destination and backup. It is never
    V(changed).
  - See C(docs/integrity.md) for scheduling daily and monthly sweeps in AWX.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.destination
attributes:
  check_mode:
    support: full
    details: Reads only. In check mode the pack verdicts and the sweep record are not written in O(ops_state); everything else is the same.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  job:
    description: The backup job whose backups are checked.
    type: str
    required: true
  backup_ids:
    description:
      - Check exactly these backups (for example the one a restore is about to use). A listed id that has no manifest in
        a destination is bad there. Other backups are V(skipped).
      - Cannot be combined with O(subset) other than V(all).
    type: list
    elements: str
  subset:
    description:
      - V(all) reads every backup.
      - V(1/N) reads one slot out of N. The run's slot is C(floor(now / subset_period) mod N); a backup's slot is
        C(floor(created_at / subset_period) mod N), with C(created_at) from the backup id (both in seconds since the
        Unix epoch, UTC). N consecutive periods therefore read every backup exactly once.
      - For example V(1/30) with O(subset_period=1d), run daily, reads every backup once a month.
    type: str
    default: all
  subset_period:
    description:
      - The length of one rotation period, the interval at which the sweep is scheduled, as seconds or a duration
        such as V(3600s), V(12h), V(1d), V(7d).
    type: str
    default: 1d
  parallel:
    description: How many objects are read at the same time per destination.
    type: int
    default: 4
  parallel_destinations:
    description: How many destinations are checked at the same time (one thread each).
    type: int
    default: 4
  destination_timeout:
    description:
      - Seconds a destination's check may take. One that takes longer is reported V(failed) (step V(read)) and the task
        goes on with the others' results; its reads are abandoned, not waited for. V(0) sets no limit.
    type: int
    default: 21600
  ops_state:
    description:
      - Where the incremental backups of O(job) keep their state (the backup module's C(ops_state)). When set, the
        verdict of every shared pack this run read is recorded in C(<ops_state>/integrity/<job>.json) (not in check
        mode), and the next incremental backup of the job does not reuse a pack whose last sweep failed in any
        destination, and reads those files again into a new pack instead (RV(pack_record)).
      - When set, the outcome of each destination is also kept as the job's last sweep (RV(sweep_record)).
      - Unset, nothing is written.
    type: path
  fail_on_bad:
    description:
      - Fail the task when any checked backup is bad. With V(false) bad backups are only reported (RV(passed) is false),
        and only a destination that cannot be listed fails the task.
    type: bool
    default: true
requirements:
  - boto3 for S3 destinations, google-cloud-storage for GCS destinations
notes:
  - Set C(WATCHKEEPER_NOW) in the task's environment to freeze the clock (tests, or replaying the slot of another day).
  - A bad backup is not deleted or repaired; restore from a good one (RV(good_restore_points)) and find out why.
seealso:
  - module: watchkeeper.ops.backup
  - module: watchkeeper.ops.backup_info
"""

EXAMPLES = r"""
- name: Daily sweep, every backup read once every 30 days, in the NAS and in S3
  watchkeeper.ops.backup_integrity:
    job: app-db
    destinations:
      - name: nas
        type: local
        path: /mnt/nas/backups
      - name: offsite
        type: s3
        bucket: acme-backups
        prefix: prod
    subset: "1/30"
    subset_period: 1d

- name: Check the backup a restore is about to use, and keep going when it is bad
  watchkeeper.ops.backup_integrity:
    job: uploads
    destinations:
      - type: gcs
        bucket: acme-uploads-backups
    backup_ids:
      - 20261127T013000Z-1a2b3c4d
    fail_on_bad: false
  register: sweep
"""

RETURN = r"""
passed:
  description: True when every destination was checked and no checked backup is bad.
  returned: always
  type: bool
job:
  description: The job.
  returned: always
  type: str
destinations:
  description: The outcome per destination name.
  returned: always
  type: dict
  contains:
    status:
      description: V(ok) when the destination was listed and its selected backups read, V(failed) when it could not be.
      type: str
    error:
      description: Why it failed (step, destination, cause, what to do); null when V(ok).
      type: str
    step:
      description: The step that failed (V(configure), V(list), V(read), V(catalog)); null when V(ok).
      type: str
    type:
      description: The destination type.
      type: str
    location:
      description: Where it is, without credentials.
      type: str
    checked:
      description: Backups read in this run (good plus bad).
      type: int
    good:
      description: Checked backups whose every object and pack matches its manifest.
      type: int
    bad:
      description: Checked backups with at least one problem.
      type: int
    skipped:
      description: Backups not in this run's selection (other rotation slot, or not in O(backup_ids)).
      type: int
    bytes_read:
      description: Bytes of objects and packs read and hashed (manifests not counted).
      type: int
    objects_read:
      description: Objects and packs read; a pack shared by several backups counts once.
      type: int
    duration_s:
      description: Seconds spent on this destination.
      type: float
    started_at:
      description: When this destination's check started (UTC, wall clock, microseconds); checks of several destinations overlap.
      type: str
    finished_at:
      description: When it finished, or when the task gave up on it (O(destination_timeout)).
      type: str
    incomplete:
      description: Ids of runs that left objects but no manifest (they are no backups and are not checked).
      type: list
      elements: str
    backups:
      description: Every backup of the job in this destination, newest first.
      type: list
      elements: dict
      contains:
        backup_id:
          description: The backup id.
          type: str
        created_at:
          description: When the backup started (UTC, ISO 8601).
          type: str
        verdict:
          description: V(good), V(bad) or V(skipped).
          type: str
        problems:
          description:
            - For a bad backup, what is wrong, each naming the object key, its location and, for a changed object, the
              SHA-256 found and the one the manifest expects.
            - For a skipped backup, what this run found anyway without reading it (from the listing, or a shared pack
              found bad for another backup); its own slot's run reports it bad.
          type: list
          elements: str
  sample:
    offsite: {status: ok, error: null, step: null, type: s3, location: s3://acme-backups/prod, checked: 1, good: 1, bad: 0,
              skipped: 0, bytes_read: 73400320, objects_read: 1, duration_s: 2.4, incomplete: [],
              backups: [{backup_id: 20261127T013000Z-1a2b3c4d, created_at: "2026-11-27T01:30:00Z", verdict: good,
                         problems: []}]}
bad_backups:
  description: Every bad backup, per destination.
  returned: always
  type: list
  elements: dict
  contains:
    destination:
      description: Destination name.
      type: str
    backup_id:
      description: The backup id.
      type: str
    problems:
      description: What is wrong.
      type: list
      elements: str
good_restore_points:
  description:
    - Per destination name, the ids of the backups verified good by this run, newest first. Skipped backups are not
      listed (they were not read).
  returned: always
  type: dict
  sample: {nas: [20261127T013000Z-1a2b3c4d, 20261126T013000Z-5e6f7a8b]}
subset:
  description: The run's rotation. V(all) is the cycle of 1 (slot 0).
  returned: always
  type: dict
  contains:
    slot:
      description: The slot this run read, C(floor(now / period_s) mod cycle).
      type: int
    cycle:
      description: N of O(subset=1/N), 1 for V(all).
      type: int
    period_s:
      description: O(subset_period) in seconds.
      type: int
    period_start:
      description: Start of the current period (UTC).
      type: str
    next_period_start:
      description: When the next slot begins (UTC).
      type: str
  sample: {slot: 17, cycle: 30, period_s: 86400, period_start: "2026-11-27T00:00:00Z",
           next_period_start: "2026-11-28T00:00:00Z"}
pack_record:
  description:
    - Path of the record of shared pack verdicts (O(ops_state)); null when O(ops_state) is unset, in check mode, or
      when no shared pack was read.
  returned: always
  type: str
sweep_record:
  description:
    - Path of the job's last-sweep record C(<ops_state>/integrity/<job>.sweep.json) (each destination's status
      V(passed), V(damaged) or V(failed), the bad backups and the reason), read by M(watchkeeper.ops.ops_dashboard);
      null when O(ops_state) is unset or in check mode.
  returned: always
  type: str
checked_at:
  description: The time the slot was computed for (UTC).
  returned: always
  type: str
"""

import copy
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock, integrity_record
from ansible_collections.watchkeeper.ops.plugins.module_utils.common_args import DESTINATIONS_SPEC
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.integrity import each_in_parallel, sweep
from ansible_collections.watchkeeper.ops.plugins.module_utils.manifest import BACKUP_ID_RE, check_job_name
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import rotation
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage

MESSAGE_BAD = 10  # bad backups named in the failure message; all are in bad_backups


def _options(module):
    """Validated options, or fail_json naming the option."""
    params = module.params
    try:
        check_job_name(params["job"])
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.describe(), passed=False, changed=False)
    try:
        cycle = rotation.parse_subset(params["subset"])
        period_s = rotation.parse_period(params["subset_period"])
    except ValueError as exc:
        module.fail_json(msg=str(exc), passed=False, changed=False)
    ids = params["backup_ids"]
    if ids is not None and cycle != 1:
        module.fail_json(msg="backup_ids and subset %r cannot be combined: give the ids to check, or a rotation, "
                             "not both" % params["subset"], passed=False, changed=False)
    for backup_id in ids or []:
        if not BACKUP_ID_RE.match(backup_id):
            module.fail_json(msg="backup_ids: %r is not a backup id (YYYYMMDDTHHMMSSZ-xxxxxxxx, as listed by "
                                 "watchkeeper.ops.backup_info)" % backup_id, passed=False, changed=False)
    for option in ("parallel", "parallel_destinations"):
        if params[option] < 1:
            module.fail_json(msg="%s must be at least 1, not %d" % (option, params[option]), passed=False, changed=False)
    if params["destination_timeout"] < 0:
        module.fail_json(msg="destination_timeout must be 0 (no limit) or more seconds", passed=False, changed=False)
    names = []
    for spec in params["destinations"]:
        spec["name"] = spec.get("name") or spec["type"]
        if spec["name"] in names:
            module.fail_json(msg="two destinations are named %r; give each a unique name" % spec["name"],
                             passed=False, changed=False)
        names.append(spec["name"])
    if not names:
        module.fail_json(msg="at least one destination is required", passed=False, changed=False)
    return cycle, period_s, ids


def _outcome(spec):
    return {"status": "ok", "error": None, "step": None, "type": spec["type"], "location": None, "checked": 0, "good": 0,
            "bad": 0, "skipped": 0, "bytes_read": 0, "objects_read": 0, "duration_s": 0.0, "incomplete": [], "backups": []}


def _failed(spec, why):
    """The outcome of a destination whose check raised something unexpected or never finished."""
    out = _outcome(spec)
    out.update(status="failed", step="read", error="destination %s: %s" % (spec["name"], why))
    return out, [], why


def _check(spec, job, now, cycle, period_s, ids, parallel):
    """``(outcome, good restore points, None)``, or ``(outcome, [], reason)`` when the destination failed."""
    out = _outcome(spec)
    storage = None
    started = time.monotonic()
    try:
        storage = open_storage(spec)
        out["location"] = storage.describe()
        found = sweep(storage, job, now=now, cycle=cycle, period_s=period_s, backup_ids=ids, parallel=parallel)
        points = found.pop("good_restore_points")
        out["_pack_verdicts"] = found.pop("pack_verdicts")
        out.update(found)
        return out, points, None
    except WatchkeeperError as exc:
        exc.destination = exc.destination or spec["name"]
        out.update(status="failed", error=exc.describe(), step=exc.step, duration_s=round(time.monotonic() - started, 3))
        reason = "%s%s" % (exc.msg, " (%s)" % exc.hint if exc.hint else "")
        return out, [], reason
    finally:
        if storage is not None:
            storage.close()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            job=dict(type="str", required=True),
            destinations=copy.deepcopy(DESTINATIONS_SPEC),
            backup_ids=dict(type="list", elements="str"),
            subset=dict(type="str", default="all"),
            subset_period=dict(type="str", default="1d"),
            parallel=dict(type="int", default=4),
            parallel_destinations=dict(type="int", default=4),
            destination_timeout=dict(type="int", default=21600),
            ops_state=dict(type="path"),
            fail_on_bad=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    cycle, period_s, ids = _options(module)
    job = module.params["job"]
    now = clock.now()
    run = rotation.describe(now, cycle, period_s)
    run.update(period_start=clock.isoformat(run["period_start"]), next_period_start=clock.isoformat(run["next_period_start"]))

    destinations, points, bad_backups, failures = {}, {}, [], []
    specs = module.params["destinations"]
    timeout = module.params["destination_timeout"]
    checked = each_in_parallel(
        specs, lambda spec: _check(spec, job, now, cycle, period_s, ids, module.params["parallel"]),
        parallel=module.params["parallel_destinations"], timeout=timeout or None, name=lambda spec: spec["name"],
        log=lambda msg: module.log("backup_integrity %s: %s" % (job, msg)))
    for spec, (done, times, error) in zip(specs, checked):
        if error is not None:
            why = "the check did not finish within %d s (destination_timeout)" % timeout \
                if isinstance(error, TimeoutError) else "%s: %s" % (type(error).__name__, error)
            done = _failed(spec, why)
        out, points[spec["name"]], reason = done
        out.update(times)
        destinations[spec["name"]] = out
        if reason:
            failures.append("destination %s could not be checked (step %s): %s" % (spec["name"], out["step"], reason))
        for row in out["backups"]:
            if row["verdict"] == "bad":
                bad_backups.append({"destination": spec["name"], "backup_id": row["backup_id"], "problems": row["problems"]})

    verdicts = dict((name, out.pop("_pack_verdicts", None) or {}) for name, out in destinations.items())
    record = None
    if module.params["ops_state"] and not module.check_mode and any(verdicts.values()):
        try:
            record = integrity_record.record(module.params["ops_state"], job, clock.isoformat(clock.now()), verdicts)
        except OSError as exc:
            failures.append("the sweep's pack verdicts could not be recorded in %s: %s" % (module.params["ops_state"], exc))
    sweep_record = None
    if module.params["ops_state"] and not module.check_mode:
        try:
            sweep_record = integrity_record.record_sweep(
                module.params["ops_state"], job, clock.isoformat(now),
                dict((name, integrity_record.sweep_summary(out)) for name, out in destinations.items()))
        except OSError as exc:
            failures.append("the sweep's outcome could not be recorded in %s: %s" % (module.params["ops_state"], exc))
    result = dict(changed=False, passed=not failures and not bad_backups, job=job, destinations=destinations,
                  pack_record=record, sweep_record=sweep_record,
                  bad_backups=bad_backups, good_restore_points=points, subset=run, checked_at=clock.isoformat(now))
    reasons = list(failures)
    if module.params["fail_on_bad"]:
        reasons += ["destination %s: backup %s is bad: %s%s" % (
            b["destination"], b["backup_id"], b["problems"][0], " (and %d more problems)" % (len(b["problems"]) - 1)
            if len(b["problems"]) > 1 else "") for b in bad_backups[:MESSAGE_BAD]]
        if len(bad_backups) > MESSAGE_BAD:
            reasons.append("%d more bad backups, see bad_backups" % (len(bad_backups) - MESSAGE_BAD))
    if reasons:
        module.fail_json(msg="integrity sweep of job %s failed: %s" % (job, " | ".join(reasons)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
