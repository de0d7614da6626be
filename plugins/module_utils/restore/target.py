# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restores into a named target: refuse, protect, stage, swap.

1. ``preflight``: a target that exists and is not empty is refused unless ``force``; nothing has
   been downloaded or changed at that point. With ``force``, a safety backup of what will be
   replaced is taken first, through the backup module's own code (``run_backup``); if it fails, the
   restore stops there.
2. The backup is restored under a staging name (a scratch database, a hidden sibling file or
   directory) and checked like a verification.
3. ``swap_in``: only data that passed its checks replaces the target: databases by renaming (the
   old one's connections are closed first), files and directories by ``rename``. What was replaced
   is dropped unless ``keep_replaced``, in which case its name is returned.
"""

import os
import re
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.backup_args import backup_argument_spec, with_defaults
from ansible_collections.watchkeeper.ops.plugins.module_utils.backup_runner import BackupFailed, run_backup
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError, WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.lock import JobLock
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.files import remove_tree
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.sqlite import is_sqlite

SERVER_LOGIN = ("login_host", "login_port", "login_user", "login_password", "passfile", "ssl_mode", "ca_cert",
                "connect_timeout", "pg_bin_dir")


def _non_empty_path(path):
    if os.path.isdir(path) and not os.path.islink(path):
        return bool(os.listdir(path))
    return os.path.lexists(path) and (os.path.islink(path) or os.path.getsize(path) > 0)


class Target(object):
    def __init__(self, params, run):
        self.spec = params.get("target") or {}
        self.params = params
        self.run = run
        self.database = self.spec.get("database")
        self.path = self.spec.get("path")
        if bool(self.database) == bool(self.path):
            raise ConfigError("target needs exactly one of 'database' (PostgreSQL) or 'path' (SQLite file, file tree)",
                              step="configure")
        if self.path:
            self.path = os.path.abspath(self.path)
        self.force = bool(params.get("force"))
        self.existed = None
        self.non_empty = None
        self.replaced = None
        self.lock = None
        self.suffix = uuid.uuid4().hex[:8]
        self.planned = {}

    def describe(self):
        out = {"database" if self.database else "path": self.database or self.path, "existed": self.existed,
               "non_empty": self.non_empty, "replaced": self.replaced}
        if self.database:
            out["server"] = self.run.server.where() if self.run.server else None
        out.update(self.planned)
        return out

    # -- 1. refuse or protect ------------------------------------------------------------------
    def inspect(self):
        if self.database:
            server = self.run.open_server()
            self.existed = server.exists(self.database)
            self.non_empty = bool(self.existed and server.user_objects(self.database) > 0)
        else:
            self.existed = os.path.lexists(self.path)
            self.non_empty = self.existed and _non_empty_path(self.path)

    def refusal(self):
        if self.non_empty and not self.force:
            what = "database %s on %s" % (self.database, self.run.server.where()) if self.database else self.path
            return "the target %s exists and is not empty; set force: true to replace it (a safety backup of it is " \
                   "taken first)" % what
        return None

    def plan(self):
        """check_mode: what the real run would do with the target."""
        self.inspect()
        self.planned = {"would_refuse": self.refusal(), "safety_backup": bool(self.non_empty and self.force)}

    def preflight(self):
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", self.database or self.path.strip("/"))[:100]
        self.lock = JobLock(self.params["ops_state"], "restore-%s" % name, module="restore")
        self.lock.acquire(timeout=self.params.get("lock_timeout", 60))
        self.inspect()
        reason = self.refusal()
        if reason:
            raise ConfigError(reason, step="preflight")
        if self.non_empty:
            self.run.safety = self.safety_backup()

    def _safety_params(self):
        given = self.params.get("safety_backup") or {}
        dec = self.params.get("decryption") or {}
        if given.get("public_keys"):
            encryption = {"mode": "public_key", "public_keys": given["public_keys"]}
        elif dec.get("private_keys"):
            encryption = {"mode": "public_key", "public_keys": self.run.decryption.public_key_sources()}
        elif dec.get("passphrase_file") or dec.get("passphrase"):
            encryption = {"mode": "symmetric", "passphrase_file": dec.get("passphrase_file"),
                          "passphrase": dec.get("passphrase")}
        else:
            encryption = {"mode": "none"}
        by_name = dict(((d.get("name") or d.get("type")), d) for d in self.params["destinations"])
        names = given.get("destinations") or [self.params["destinations"][0].get("name") or
                                              self.params["destinations"][0].get("type")]
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ConfigError("safety_backup.destinations names %s, which is not in destinations (%s)" % (
                ", ".join(unknown), ", ".join(by_name)), step="configure")
        if self.database:
            server = self.params.get("server") or {}
            source = dict((k, server.get(k)) for k in SERVER_LOGIN)
            source.update(type="postgres", database=self.database)
        elif os.path.isdir(self.path):
            source = {"type": "files", "paths": [self.path], "mode": "full"}
        elif is_sqlite(self.path):
            source = {"type": "sqlite", "path": self.path}
        else:
            source = {"type": "files", "paths": [self.path], "mode": "full"}
        values = {"job": given.get("job") or "%s-safety" % self.params["job"], "source": source,
                  "destinations": [by_name[n] for n in names],
                  "encryption": encryption, "ops_state": self.params["ops_state"],
                  "tmp_dir": self.params.get("tmp_dir"), "timeout": self.params.get("timeout")}
        return with_defaults(backup_argument_spec(), values)

    def safety_backup(self):
        self.run.log("restore: taking a safety backup of %s before replacing it" % (self.database or self.path))
        try:
            result = run_backup(self._safety_params(), log=self.run.log)
        except BackupFailed as exc:
            raise WatchkeeperError("the safety backup of the target failed, so nothing was restored: %s" % exc.msg,
                                   step="safety_backup", destination=exc.destination)
        return {"job": result["job"], "backup_id": result["backup_id"],
                "destinations": [{"name": d["name"], "location": d["location"], "manifest_key": d.get("manifest_key")}
                                 for d in result["destinations"]]}

    # -- 2. staging names --------------------------------------------------------------------
    def check_kind(self, kind):
        if kind == "postgres" and not self.database:
            raise ConfigError("the backup is a PostgreSQL dump: give target.database", step="configure")
        if kind in ("sqlite", "files") and not self.path:
            raise ConfigError("the backup is a %s backup: give target.path" % kind, step="configure")
        if kind == "sqlite" and self.existed and os.path.isdir(self.path):
            raise ConfigError("target.path %s is a directory; an SQLite backup restores into a file" % self.path,
                              step="configure")
        if kind == "files" and self.existed and not os.path.isdir(self.path):
            raise ConfigError("target.path %s is not a directory; a file backup restores into a directory" % self.path,
                              step="configure")

    def _sibling(self, what):
        parent, base = os.path.split(self.path)
        os.makedirs(parent, exist_ok=True)
        return os.path.join(parent, ".%s.wk-%s-%s" % (base, what, self.suffix))

    def staging_file(self):
        self.check_kind("sqlite")
        return self._sibling("restoring")

    def staging_dir(self):
        self.check_kind("files")
        return self._sibling("restoring")

    # -- 3. swap -------------------------------------------------------------------------------
    def swap_in(self):
        scratch = self.run.scratch
        keep = bool(self.params.get("keep_replaced"))
        if self.database:
            server = self.run.server
            if self.existed:
                old = ("%s_wk_replaced_%s" % (self.database, clock.compact(clock.now()).lower()))[-63:]
                server.close_connections(self.database)
                server.rename(self.database, old)
                self.replaced = old
            server.rename(scratch["name"], self.database)
            scratch["kept"] = True
            server.allow_connections(self.database, (self.spec.get("owner") or None))
            if self.replaced and not keep:
                server.drop(self.replaced)
        else:
            if self.existed:
                old = self._sibling("replaced")
                os.rename(self.path, old)
                self.replaced = old
            os.rename(scratch["name"], self.path)
            scratch["kept"] = True
            if self.replaced and not keep:
                if os.path.isdir(self.replaced) and not os.path.islink(self.replaced):
                    remove_tree(self.replaced)
                else:
                    os.unlink(self.replaced)
        if self.replaced:
            self.replaced = {"name": self.replaced, "kept": keep}

    def release(self):
        if self.lock is not None:
            self.lock.release()
