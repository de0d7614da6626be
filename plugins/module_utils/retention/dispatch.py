# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``retention_purge``: one argument spec, three targets (``backups``, ``database``, ``ops_state``), one lock each.

The backup target takes the job's own lock (the one ``backup`` takes) itself; the database and ops_state targets are
locked here so that two schedulers never purge the same thing at once (a second run waits ``lock_timeout`` seconds,
then fails naming the holder).
"""

import copy
import hashlib

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.lock import JobLock
from ansible_collections.watchkeeper.ops.plugins.module_utils.retention import backups, database, state
from ansible_collections.watchkeeper.ops.plugins.module_utils.retention.backups_args import BACKUPS_OPTIONS
from ansible_collections.watchkeeper.ops.plugins.module_utils.retention.database_args import DATABASE_OPTIONS

TARGETS = ("backups", "database", "ops_state")


def argument_spec():
    spec = dict(target=dict(type="str", required=True, choices=list(TARGETS)))
    spec.update(copy.deepcopy(BACKUPS_OPTIONS))
    spec.update(copy.deepcopy(DATABASE_OPTIONS))
    spec.update(state_retention=dict(type="dict", default={}, options=copy.deepcopy(state.STATE_OPTIONS)),
                ops_state=dict(type="path", default="/var/lib/watchkeeper"),
                lock_timeout=dict(type="int", default=60))
    return spec


REQUIRED_IF = [
    ("target", "backups", ("job", "destinations", "policy")),
    ("target", "database", ("server", "tables")),
]


def _lock_name(target, params):
    if target == "database":
        server = params["server"] or {}
        where = "%s:%s/%s" % (server.get("login_host") or "local", server.get("login_port") or 5432,
                              server.get("database"))
        return "retention-database-%s" % hashlib.sha1(where.encode("utf-8")).hexdigest()[:12]
    return "retention-ops-state"


def run(params, check_mode, now, log=None):
    """``(result, failures)`` for the chosen target; bad options or a lock that cannot be taken are failures (and
    nothing was purged)."""
    target = params["target"]
    try:
        return _run(target, params, check_mode, now, log)
    except WatchkeeperError as exc:
        return {"changed": False}, ["%s (step %s)" % (exc.msg, exc.step or "configure")]
    except ValueError as exc:
        return {"changed": False}, ["%s (step configure)" % exc]


def _run(target, params, check_mode, now, log):
    if target == "backups":
        return backups.run(params, check_mode, now, log=log)
    runner = database.run if target == "database" else state.run
    if check_mode:
        return runner(params, check_mode, now, log=log)
    lock = JobLock(params["ops_state"], _lock_name(target, params), module="retention_purge")
    lock.acquire(timeout=params["lock_timeout"])
    try:
        return runner(params, check_mode, now, log=log)
    finally:
        lock.release()
