# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: audit
type: notification
short_description: Record every run in a tamper-evident audit trail (hash chain with signed checkpoints)
version_added: 1.0.0
description:
  - Appends one record per play start, per task result and per run end to a local spool on the controller
    (JSON lines, fsync per record, written by a writer thread so that no task waits for the disk). Each record
    carries C(seq), C(prev_hash) and C(hash), the SHA-256 of its canonical encoding; one chain per controller.
  - "Records say who ran what: the local user; the AWX / Automation Controller job id, template and launching user
    (extra vars C(awx_job_id)/C(tower_job_id), C(awx_job_template_name)/C(tower_job_template_name),
    C(awx_user_name)/C(tower_user_name)); Semaphore's task id and user (C(semaphore_vars.task_details)); the
    playbook path and the project's git commit; the inventory hosts of each play; per task its name, action, host,
    outcome, check mode, diff size and argument names with HMAC-SHA256 fingerprints of their values."
  - A C(no_log) task is recorded with its name, host and outcome only. No variable value is ever recorded.
  - At the end of every run, and when the open segment is older than O(seal_interval), the segment is sealed
    with a signed checkpoint (HMAC-SHA256 key file or GnuPG detached signature). Sealed segments are shipped
    after the play to O(ship_dir) and/or O(ship_destination); what cannot be shipped stays in the spool and is
    shipped by the next run.
  - The plugin never fails a play. A spool that cannot be written produces one loud warning per run.
  - Verify the trail with M(watchkeeper.ops.audit_verify), search it with M(watchkeeper.ops.audit_query).
    See C(docs/audit-trail.md) in the collection.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
requirements:
  - Enabled with C(callbacks_enabled = watchkeeper.ops.audit) in C(ansible.cfg) or
    C(ANSIBLE_CALLBACKS_ENABLED=watchkeeper.ops.audit).
  - python-gnupg for GnuPG signatures; boto3 or google-cloud-storage to ship to a bucket.
options:
  spool_dir:
    description:
      - The local spool holding this controller's chain. Created with mode 0700.
    type: path
    default: ~/.ansible/watchkeeper/audit
    env:
      - name: WATCHKEEPER_AUDIT_SPOOL
    ini:
      - section: callback_watchkeeper.ops.audit
        key: spool_dir
  hmac_key_file:
    description:
      - File holding the HMAC-SHA256 key that signs checkpoints (hex text or raw bytes, at least 16 bytes).
      - Without it and without O(gpg_key), a key is generated once as C(<spool_dir>/checkpoint.key); keep a copy of
        it away from the controller, where M(watchkeeper.ops.audit_verify) runs.
    type: path
    env:
      - name: WATCHKEEPER_AUDIT_HMAC_KEY_FILE
    ini:
      - section: callback_watchkeeper.ops.audit
        key: hmac_key_file
  gpg_key:
    description:
      - Sign checkpoints with this GnuPG secret key (fingerprint, key id or user id) instead of an HMAC key.
    type: str
    env:
      - name: WATCHKEEPER_AUDIT_GPG_KEY
    ini:
      - section: callback_watchkeeper.ops.audit
        key: gpg_key
  gpg_home:
    description: GnuPG home directory holding O(gpg_key); the default keyring when unset.
    type: path
    env:
      - name: WATCHKEEPER_AUDIT_GPG_HOME
    ini:
      - section: callback_watchkeeper.ops.audit
        key: gpg_home
  gpg_passphrase_file:
    description: File holding the passphrase of O(gpg_key), when it has one.
    type: path
    env:
      - name: WATCHKEEPER_AUDIT_GPG_PASSPHRASE_FILE
    ini:
      - section: callback_watchkeeper.ops.audit
        key: gpg_passphrase_file
  seal_interval:
    description: Seal the open segment when its first record is older than this many seconds (at least hourly by default).
    type: int
    default: 3600
    env:
      - name: WATCHKEEPER_AUDIT_SEAL_INTERVAL
    ini:
      - section: callback_watchkeeper.ops.audit
        key: seal_interval
  ship_dir:
    description:
      - Ship sealed segments and checkpoints to this directory (for example the C(ops_state) location on a share,
        C(/var/lib/watchkeeper/audit)). Created when missing.
    type: path
    env:
      - name: WATCHKEEPER_AUDIT_SHIP_DIR
    ini:
      - section: callback_watchkeeper.ops.audit
        key: ship_dir
  ship_destination:
    description:
      - "Ship to a bucket: a JSON object with the destination options of the backup modules, for example
        V({\"type\": \"s3\", \"bucket\": \"audit\", \"region\": \"eu-west-1\"}). Credentials come best from the
        SDK's own chain (AWS_* variables, profile, instance role, GOOGLE_APPLICATION_CREDENTIALS)."
    type: str
    env:
      - name: WATCHKEEPER_AUDIT_DESTINATION
    ini:
      - section: callback_watchkeeper.ops.audit
        key: ship_destination
  ship_prefix:
    description: Key prefix of the trail in O(ship_dir) and O(ship_destination).
    type: str
    default: audit
    env:
      - name: WATCHKEEPER_AUDIT_SHIP_PREFIX
    ini:
      - section: callback_watchkeeper.ops.audit
        key: ship_prefix
  ship_timeout:
    description: Connect and read timeout in seconds of one request to O(ship_destination); one retry.
    type: int
    default: 10
    env:
      - name: WATCHKEEPER_AUDIT_SHIP_TIMEOUT
    ini:
      - section: callback_watchkeeper.ops.audit
        key: ship_timeout
  object_lock_days:
    description:
      - On an S3 bucket with Object Lock, keep each shipped object locked this many days. V(0) relies on the
        bucket's default retention.
    type: int
    default: 0
    env:
      - name: WATCHKEEPER_AUDIT_OBJECT_LOCK_DAYS
    ini:
      - section: callback_watchkeeper.ops.audit
        key: object_lock_days
  object_lock_mode:
    description: The Object Lock mode of O(object_lock_days).
    type: str
    default: GOVERNANCE
    choices: [GOVERNANCE, COMPLIANCE]
    env:
      - name: WATCHKEEPER_AUDIT_OBJECT_LOCK_MODE
    ini:
      - section: callback_watchkeeper.ops.audit
        key: object_lock_mode
"""

import getpass
import json
import os
import queue
import socket
import subprocess
import threading
import time
import uuid

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import context as audit_context
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.record import fmt_ts, utc_now
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.ship import ship_quietly, storage_for
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.sign import (
    GpgSigner, HmacSigner, create_key_file, read_key_file)
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.spool import Spool


def _local_user():
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def _git_commit(path):
    try:
        proc = subprocess.run(["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


class CallbackModule(CallbackBase):
    """Tamper-evident audit trail of every run (see DOCUMENTATION)."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "watchkeeper.ops.audit"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self.spool = None
        self.broken = False
        self.run_id = str(uuid.uuid4())
        self.playbook = None
        self.commit = None
        self.who = None
        self.started = time.time()
        self.check_mode = False
        self._queue = queue.Queue()
        self._writer = None
        self._failure = None

    # -- plumbing -------------------------------------------------------------------------
    def _warn(self, what, exc):
        """One loud warning per run; afterwards the plugin stays quiet and records nothing more."""
        if not self.broken:
            self.broken = True
            self._display.warning("WATCHKEEPER AUDIT TRAIL NOT WRITTEN: %s: %s. This run is NOT in the audit trail "
                                  "of spool %s from here on; the play goes on." % (what, exc, self.get_option("spool_dir")))

    def _open(self):
        if self.spool is not None or self.broken:
            return self.spool
        try:
            spool = Spool(self.get_option("spool_dir"), hostname=socket.gethostname())
            spool.open()
            self.spool = spool
        except Exception as exc:  # pylint: disable=broad-except
            self._warn("cannot open the spool", exc)
            return None
        try:
            self._signer()  # create the checkpoint key now (and warn about it) rather than in the writer thread
        except Exception as exc:  # pylint: disable=broad-except
            self._display.warning("watchkeeper.ops.audit cannot sign checkpoints (%s); records are still appended, "
                                  "but no segment is sealed" % exc)
        return self.spool

    def _append(self, data):
        """Queue a record for the writer thread: the fsync of each record never holds up the strategy."""
        self._report_failure()
        if self._open() is None:
            return
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_records, name="watchkeeper-audit-writer", daemon=True)
            self._writer.start()
        self._queue.put(data)

    def _write_records(self):
        """The writer thread: append (fsync per record) in arrival order; seal when the segment is due."""
        interval = self.get_option("seal_interval")
        while True:
            data = self._queue.get()
            if data is None:
                return
            if self._failure is not None:
                continue
            try:
                self.spool.append(data)
                if self.spool.seal_due(interval):
                    self.spool.seal(self._signer(), "interval")
            except Exception as exc:  # pylint: disable=broad-except
                self._failure = ("cannot append to the spool", exc)

    def _flush(self):
        """Wait until every queued record is on disk (end of the run)."""
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None
        self._report_failure()

    def _report_failure(self):
        if self._failure is not None and not self.broken:
            self._warn(*self._failure)

    def _signer(self):
        if self.get_option("gpg_key"):
            return GpgSigner(self.get_option("gpg_home"), self.get_option("gpg_key"), self.get_option("gpg_passphrase_file"))
        path = self.get_option("hmac_key_file")
        if not path:
            path = os.path.join(self.spool.root, "checkpoint.key")
            if not os.path.exists(path):
                create_key_file(path)
                self._display.warning("watchkeeper.ops.audit generated the checkpoint key %s; copy it to where audit_verify "
                                      "runs and set hmac_key_file (see docs/audit-trail.md)" % path)
        return HmacSigner(read_key_file(path))

    # -- events ---------------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        name = getattr(playbook, "_file_name", None) or ""
        self.playbook = os.path.abspath(name) if name else None
        basedir = getattr(playbook, "_basedir", None) or (os.path.dirname(self.playbook) if self.playbook else None)
        self.commit = audit_context.project_commit(os.environ, _git_commit(basedir) if basedir else None)
        self.check_mode = bool(context.CLIARGS.get("check", False))
        self.started = time.time()

    def v2_playbook_on_play_start(self, play):
        extra, hosts = {}, []
        try:
            manager = play.get_variable_manager()
            extra = dict(manager.extra_vars)
            hosts = [h.get_name() for h in manager._inventory.get_hosts(play.hosts)]  # pylint: disable=protected-access
        except Exception:  # pylint: disable=broad-except
            pass
        self.who = audit_context.who(extra, os.environ, _local_user())
        self._append({"event": "play_start", "run": self.run_id, "playbook": self.playbook, "commit": self.commit,
                      "who": self.who, "play": play.get_name(), "hosts": sorted(hosts), "check_mode": self.check_mode,
                      "diff_mode": bool(context.CLIARGS.get("diff", False)), "limit": context.CLIARGS.get("subset"),
                      "tags": list(context.CLIARGS.get("tags") or []), "skip_tags": list(context.CLIARGS.get("skip_tags") or [])})

    def _task(self, result, outcome, ignored=False):
        task = result.task if hasattr(result, "task") else result._task  # pylint: disable=protected-access
        res = result.result if hasattr(result, "result") else result._result  # pylint: disable=protected-access
        host = (result.host if hasattr(result, "host") else result._host).get_name()  # pylint: disable=protected-access
        if outcome == "ok" and res.get("changed"):
            outcome = "changed"
        no_log = (isinstance(task.no_log, bool) and task.no_log) or bool(res.get("_ansible_no_log")) or "censored" in res
        args, source = None, None
        if not no_log:
            invocation = res.get("invocation") if isinstance(res.get("invocation"), dict) else {}
            if isinstance(invocation.get("module_args"), dict):
                args, source = invocation["module_args"], "invocation"
            else:
                args, source = dict(task.args or {}), "task"
        spool = self._open()
        key = spool.arg_key if spool is not None else b""
        self._append(audit_context.task_data(
            self.run_id, task.get_name(), host, outcome, no_log, action=task.action, args=args, arg_key=key,
            check_mode=self.check_mode or task.check_mode is True, diff=res.get("diff"), ignored=ignored, args_source=source))

    def v2_runner_on_ok(self, result):
        self._task(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._task(result, "failed", ignored=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._task(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._task(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        summary = {}
        for host in sorted(stats.processed):
            summary[host] = stats.summarize(host)
        self._append({"event": "run_end", "run": self.run_id, "playbook": self.playbook, "who": self.who,
                      "hosts": summary, "duration_ms": int((time.time() - self.started) * 1000)})
        self._flush()
        spool = self.spool
        if spool is None or self.broken:
            return
        try:
            spool.seal(self._signer(), "run_end")
        except Exception as exc:  # pylint: disable=broad-except
            self._warn("cannot seal the segment", exc)
            return
        self._ship(spool)
        spool.close()

    def _ship(self, spool):
        prefix = self.get_option("ship_prefix")
        lock = {"object_lock_days": self.get_option("object_lock_days"), "object_lock_mode": self.get_option("object_lock_mode")}
        targets = []
        if self.get_option("ship_dir"):
            targets.append(("ship_dir", lambda: storage_for(directory=self.get_option("ship_dir"))))
        if self.get_option("ship_destination"):
            try:
                spec = json.loads(self.get_option("ship_destination"))
            except ValueError as exc:
                self._display.warning("watchkeeper.ops.audit: ship_destination is not JSON (%s); nothing shipped there" % exc)
            else:
                targets.append(("ship_destination", lambda: storage_for(spec=spec, timeout=self.get_option("ship_timeout"))))
        for label, factory in targets:
            outcome = ship_quietly(spool, factory, prefix, **lock)
            if outcome["error"]:
                self._display.warning("watchkeeper.ops.audit could not ship the audit trail to %s (kept in the spool, "
                                      "retried at the next run): %s" % (label, outcome["error"]))
            else:
                self._display.vvv("watchkeeper.ops.audit shipped %d file(s) to %s at %s"
                                  % (len(outcome["shipped"]), label, fmt_ts(utc_now())))
