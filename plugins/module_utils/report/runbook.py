# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore runbooks of one backup, as data first, then Markdown (pure: no I/O).

``build(backup, destination)`` takes the two secret-free summaries of ``restore/summary.py`` and
returns ``{..., "env": [...], "collection": [steps], "by_hand": [steps]}``; a step is
``{"title", "commands": [shell lines], "note", "lang"}``. The by-hand commands use only standard
tools (cp/aws/gcloud, sha256sum, gpg, zstd, pg_restore, sqlite3, tar, jq) and the environment
variables listed in ``env``; everything else is a literal of the backup (keys, paths, checksums),
shell-quoted, so an operator can paste them verbatim. Every step starts in ``$WORK_DIR`` (the
first one creates it) and
ends with the command that fails when the step did not work (``bash -euo pipefail`` safe).
"""

import json
import re
import shlex

q = shlex.quote
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
DECODED = {"dump": ".pgdump", "globals": ".globals.sql", "db": ".sqlite3", "filelist": ".filelist.json"}
CD = 'cd "$WORK_DIR"'
FILES_SCRIPT = "docs/restore-files-by-hand.sh"


def _step(title, commands, note="", lang="bash"):
    return {"title": title, "commands": list(commands), "note": note, "lang": lang}


def _literal(value, what):
    text = "" if value is None else str(value)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValueError("%s contains control characters; no runbook can quote it safely" % what)
    return text


def _url(destination, key):
    """Where ``key`` lives in the destination, in the form the download tool takes."""
    kind = destination.get("type")
    if kind == "local":
        root = _literal(destination.get("path") or destination.get("location"), "destination path")
        if not root:
            raise ValueError("the local destination has no path")
        return "%s/%s" % (root.rstrip("/") or "", key)
    if kind in ("s3", "gcs"):
        bucket = _literal(destination.get("bucket"), "bucket")
        if not bucket:
            raise ValueError("the %s destination has no bucket" % kind)
        prefix = _literal(destination.get("prefix"), "prefix").strip("/")
        return "%s://%s/%s" % ("s3" if kind == "s3" else "gs", bucket, "%s/%s" % (prefix, key) if prefix else key)
    raise ValueError("unknown destination type %r" % kind)


def _download(destination, key):
    src = q(_url(destination, key))
    kind = destination["type"]
    if kind == "local":
        return "cp %s %s" % (src, q(key))
    if kind == "gcs":
        return "gcloud storage cp %s %s" % (src, q(key))
    line = "aws s3 cp %s %s" % (src, q(key))
    if destination.get("endpoint_url"):
        line += " --endpoint-url %s" % q(_literal(destination["endpoint_url"], "endpoint_url"))
    if destination.get("region"):
        line += " --region %s" % q(_literal(destination["region"], "region"))
    return line


def _stream(key, encryption, compressed):
    """A pipeline writing the decrypted, decompressed object to stdout."""
    parts = []
    if encryption == "public_key":
        parts.append("gpg --batch --decrypt %s" % q(key))
    elif encryption == "symmetric":
        parts.append('gpg --batch --pinentry-mode loopback --passphrase-file "$PASSPHRASE_FILE" --decrypt %s' % q(key))
    if compressed:
        parts.append("zstd -d -q -c" if parts else "zstd -d -q -c %s" % q(key))
    return " | ".join(parts) if parts else "cat %s" % q(key)


def _env(backup, destination):
    kind, enc = backup["kind"], backup["encryption"]
    job = backup["job"]
    env = [("WORK_DIR", "Absolute path of an empty directory on the restore host for the downloaded objects and the "
            "decoded files (room for about %s bytes stored, plus the decoded data)." % (backup.get("stored_bytes") or "?"),
            "/var/tmp/restore-%s" % job)]
    if enc == "public_key":
        env.append(("GNUPGHOME", "GnuPG home holding the private key of a recipient of this backup (%s). Only on the "
                    "restore host, never on the backup host." % (", ".join(backup.get("recipients") or []) or "see the manifest"),
                    "/root/.gnupg-restore"))
    elif enc == "symmetric":
        env.append(("PASSPHRASE_FILE", "File holding the backup passphrase (mode 0600).", "/root/backup.pass"))
    if kind == "postgres":
        env.append(("TARGET_DB", "Name of a NEW database to restore into (it must not exist; never the live database).",
                    "%s_restored" % ((backup.get("source") or {}).get("database") or "db")))
        env += [("PGHOST", "Target PostgreSQL server (libpq).", "db-restore.internal"),
                ("PGPORT", "Its port.", "5432"),
                ("PGUSER", "A user with CREATEDB on it.", "postgres"),
                ("PGPASSWORD", "Its password (or a ~/.pgpass file instead).", None)]
    elif kind == "sqlite":
        env.append(("TARGET_DB", "Path of the restored SQLite file (it must not exist; never the live file).",
                    "/var/tmp/restore-%s.sqlite3" % job))
    else:
        env.append(("TARGET_DIR", "Directory to rebuild the tree in; stored paths come back below it without their "
                    "leading /.", "/var/tmp/restore-%s-tree" % job))
        if backup.get("files_mode") == "incremental":
            env.append(("RESTORE_FILES_SCRIPT", "Path of %s from the watchkeeper.ops collection (Git repository or "
                        "`ansible-galaxy collection download`)." % FILES_SCRIPT, "/opt/watchkeeper.ops/%s" % FILES_SCRIPT))
    if destination.get("type") == "s3":
        env.append(("AWS_PROFILE or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY", "Credentials of the aws CLI (its usual "
                    "chain; read access to the bucket is enough).", None))
    return [{"name": n, "description": d, "example": e} for n, d, e in env]


def _tools(backup, destination):
    tools = {"local": ["cp"], "s3": ["aws"], "gcs": ["gcloud"]}[destination["type"]] + ["sha256sum", "jq"]
    tools += ["gpg"] if backup["encryption"] != "none" else []
    tools += ["zstd"] if backup.get("compression") else []
    tools += {"postgres": ["createdb", "pg_restore", "psql"], "sqlite": ["sqlite3"]}.get(backup["kind"], ["tar"])
    return tools + (["bash", "coreutils"] if backup.get("files_mode") == "incremental" else [])


def _by_hand(backup, destination):
    enc, compressed = backup["encryption"], bool(backup.get("compression"))
    bid, manifest = backup["backup_id"], backup["manifest_key"]
    objects = backup["objects"]
    keys = [o["key"] for o in objects] + [manifest]
    dirs = sorted(set(k.rsplit("/", 1)[0] for k in keys if "/" in k))
    where = "%s (%s)" % (destination.get("name") or destination["type"], destination.get("location") or _url(destination, ""))
    fetch_note = {"local": "Read access to the directory is enough.",
                  "s3": "Uses the aws CLI's credentials (see the environment above).",
                  "gcs": "Uses gcloud's credentials (`gcloud auth login` or a service account)."}[destination["type"]]
    if destination["type"] == "gcs" and destination.get("endpoint_url"):
        fetch_note += " This destination uses the endpoint %s: set `gcloud config set api_endpoint_overrides/storage " \
                      "%s/storage/v1/` first." % (destination["endpoint_url"], destination["endpoint_url"].rstrip("/"))
    steps = [
        _step("Fetch the backup from %s" % where, ['mkdir -p "$WORK_DIR"', CD]
              + (["mkdir -p %s" % " ".join(q(d) for d in dirs)] if dirs else [])
              + [_download(destination, k) for k in keys],
              "Keeps the keys as paths under $WORK_DIR. " + fetch_note),
        _step("Check every object's SHA-256 against the manifest",
              [CD] + ["echo %s | sha256sum --strict -c -" % q("%s  %s" % (o["sha256"], o["key"])) for o in objects],
              "Each line must print `OK`. A mismatch means this copy is damaged: fetch it from another destination."),
    ]
    roles = dict((o["role"], o["key"]) for o in objects if o["role"] != "pack")
    kind = backup["kind"]
    if kind in ("postgres", "sqlite"):
        decode = [CD] + ["%s > %s" % (_stream(roles[r], enc, compressed), q(bid + DECODED[r]))
                         for r in ("dump", "globals", "db") if r in roles]
        steps.append(_step("Decrypt and decompress", decode, _decrypt_note(backup)))
    if kind == "postgres":
        if "globals" in roles:
            steps.append(_step("Roles and tablespaces (only on a new server)", [CD, "psql -X -d postgres -f %s" % q(bid + ".globals.sql")],
                               "Skip this step when the target server already has the source's roles. It creates the roles "
                               "and sets their passwords to the source's; `already exists` errors are harmless."))
        steps.append(_step("Create the target database and restore into it", [
            CD, 'createdb "$TARGET_DB"',
            'pg_restore -j "$(nproc)" --no-owner --exit-on-error -d "$TARGET_DB" %s' % q(bid + ".pgdump")],
            "Never restore over the source database. pg_restore -j needs a file, not a pipe."))
        steps.append(_rows_step(manifest, bid, 'psql -X -At -d "$TARGET_DB" -c "SELECT count(*) FROM ONLY '
                                '\\"${table%%.*}\\".\\"${table#*.}\\"" </dev/null'))
    elif kind == "sqlite":
        tmp = q(bid + ".sqlite3")
        steps.append(_step("Copy the database into place and check its integrity", [
            CD, 'if [ -e "$TARGET_DB" ]; then echo "$TARGET_DB exists; choose a new TARGET_DB" >&2; false; '
                'else cp %s "$TARGET_DB"; fi' % tmp,
            'check=$(sqlite3 "$TARGET_DB" \'PRAGMA integrity_check\'); echo "integrity_check: $check"; [ "$check" = ok ]'],
            "Stop the application before replacing a live file with it; keep the old file until the restore is checked."))
        steps.append(_rows_step(manifest, bid, 'sqlite3 "$TARGET_DB" "SELECT count(*) FROM \\"$table\\"" </dev/null'))
    elif backup.get("files_mode") == "incremental":
        run = 'bash "$RESTORE_FILES_SCRIPT" %s "$WORK_DIR" "$TARGET_DIR"' % q(manifest)
        if enc != "symmetric":
            run = "env -u PASSPHRASE_FILE " + run
        steps.append(_step("Rebuild the tree from the packs with %s" % FILES_SCRIPT, [CD, run],
                           "The script decrypts every pack and the file list (%s), rebuilds directories, files and "
                           "symlinks, checks every file's SHA-256 and sets modes and mtimes. %s"
                           % (FILES_SCRIPT, _decrypt_note(backup))))
    else:
        listing = q(bid + ".filelist.json")
        steps.append(_step("Decrypt the file list", [CD, "%s > %s" % (_stream(roles["filelist"], enc, compressed), listing)],
                           _decrypt_note(backup)))
        steps.append(_step("Unpack the tree into $TARGET_DIR", [
            CD, 'mkdir -p "$TARGET_DIR"', '%s | tar -x -C "$TARGET_DIR" -f -' % _stream(roles["tar"], enc, compressed)],
            "Paths are stored without their leading /: /srv/uploads comes back as $TARGET_DIR/srv/uploads."))
        sums = q(bid + ".SHA256SUMS")
        steps.append(_step("Check every file against the file list's SHA-256", [
            CD, "jq -r --arg t \"$TARGET_DIR\" '.files[] | select(.type == \"file\") | \"\\(.sha256)  \\($t)/\\(.path)\"' "
                "%s > %s" % (listing, sums),
            "sha256sum --quiet --strict -c %s" % sums,
            'echo "$(wc -l < %s) files match the file list"' % sums]))
    return steps


def _decrypt_note(backup):
    enc = backup["encryption"]
    if enc == "public_key":
        return "Needs the private key of a recipient (%s) in $GNUPGHOME; a protected key asks for its passphrase." % (
            ", ".join(backup.get("recipients") or []) or "see the manifest")
    if enc == "symmetric":
        return "Reads the passphrase from $PASSPHRASE_FILE."
    return "This backup is not encrypted."


def _rows_step(manifest, bid, count_cmd):
    expected, restored = q(bid + ".rows.expected"), q(bid + ".rows.restored")
    return _step("Compare the row count of every table with the manifest's fingerprint", [
        CD, "jq -r '(.fingerprint.tables // {}) | to_entries[] | [.key, .value.rows] | @tsv' %s > %s" % (q(manifest), expected),
        "while IFS=$'\\t' read -r table rows; do printf '%%s\\t%%s\\n' \"$table\" \"$(%s)\"; done < %s > %s"
        % (count_cmd, expected, restored),
        "diff %s %s" % (expected, restored),
        'echo "row counts of $(wc -l < %s) tables match the manifest"' % expected],
        "The fingerprint was taken in the snapshot the dump was made from. `jq -r .fingerprint.checksum_sql` on the "
        "manifest gives the query behind the recorded table checksums.")


def _collection(backup, destination):
    job, bid, kind, enc = backup["job"], backup["backup_id"], backup["kind"], backup["encryption"]
    dest = dict((k, v) for k, v in destination.items() if k != "location" and v not in (None, ""))
    env = "\"{{ lookup('ansible.builtin.env', '%s') }}\""
    task = ["- name: %s" % json.dumps("Restore %s from backup %s (destination %s)" % (job, bid, dest.get("name"))),
            "  watchkeeper.ops.restore:", "    job: %s" % json.dumps(job), "    backup_id: %s" % json.dumps(bid),
            "    destinations: [%s]" % json.dumps(dest, sort_keys=True)]
    if enc == "public_key":
        task += ["    decryption:", "      private_keys: [/etc/watchkeeper/keys/restore-private.asc]  # the private key of %s"
                 % (", ".join(backup.get("recipients") or []) or "a recipient")]
    elif enc == "symmetric":
        task += ["    decryption:", "      passphrase_file: %s" % (env % "PASSPHRASE_FILE")]
    if kind == "postgres":
        task += ["    server:", "      login_host: %s" % (env % "PGHOST"), "      login_port: %s" % (env % "PGPORT"),
                 "      login_user: %s" % (env % "PGUSER"), "      passfile: ~/.pgpass"]
    target = ("database", "TARGET_DB") if kind == "postgres" else ("path", "TARGET_DB" if kind == "sqlite" else "TARGET_DIR")
    task += ["    target:", "      %s: %s" % (target[0], env % target[1])]
    note = ("The module picks the backup by id, checks every object's SHA-256, restores under a staging name, runs the "
            "data checks and only then puts the data in place; a non-empty target is refused unless force: true "
            "(which takes a safety backup first). Add the destination's credentials as `ansible-doc watchkeeper.ops.restore` "
            "documents; never write them into a runbook.")
    steps = []
    if kind == "postgres":
        extra = {"recovery_destinations": [dest]}
        if enc == "public_key":
            extra["recovery_decryption"] = {"private_keys": ["/etc/watchkeeper/keys/restore-private.asc"]}
        elif enc == "symmetric":
            extra["recovery_decryption"] = {"passphrase_file": "/etc/watchkeeper/backup.pass"}
        command = ("ansible-playbook watchkeeper.ops.database_recovery -e %s -e %s -e %s -e \"recovery_target=$TARGET_DB\" "
                   "-e \"recovery_confirm=$TARGET_DB\"") % (
                       q("recovery_job=%s" % job), q("recovery_backup_id=%s" % bid), q(json.dumps(extra, sort_keys=True)))
        why = ("The runbook playbook wraps the task below with its pre-checks, maintenance hooks and notification; "
               "recovery_confirm must repeat the target's name, and a non-empty target also needs -e recovery_force=true "
               "(a safety backup is taken first). Set recovery_server for the database server's login.")
        steps.append(_step("Run the recovery playbook", [command], why))
    steps.append(_step("Restore with a task (in your own playbook)", task, note, lang="yaml"))
    return steps


def build(backup, destination):
    """The runbook of one backup read from one destination (both from ``restore/summary.py``).

    Raises ValueError when the summaries lack what a runbook needs."""
    for field in ("job", "backup_id", "kind", "objects", "manifest_key"):
        if not backup.get(field):
            raise ValueError("the backup summary has no %s" % field)
    if backup["kind"] not in ("postgres", "sqlite", "files"):
        raise ValueError("unknown backup kind %r" % backup["kind"])
    if destination.get("type") not in ("local", "s3", "gcs"):
        raise ValueError("unknown destination type %r" % destination.get("type"))
    backup = dict(backup, encryption=backup.get("encryption") or "none")
    for obj in backup["objects"]:
        _literal(obj.get("key"), "object key")
        if not SHA_RE.match(str(obj.get("sha256"))):
            raise ValueError("object %s has no SHA-256 in the manifest" % obj.get("key"))
    _literal(backup["manifest_key"], "manifest key")
    roles = set(o["role"] for o in backup["objects"])
    need = {"postgres": "dump", "sqlite": "db", "files": "filelist" if backup.get("files_mode") == "incremental" else "tar"}
    if need[backup["kind"]] not in roles or (backup["kind"] == "files" and "filelist" not in roles):
        raise ValueError("the backup has no %s object" % need[backup["kind"]])
    return {
        "job": backup["job"], "backup_id": backup["backup_id"], "created_at": backup.get("created_at"),
        "kind": backup["kind"], "files_mode": backup.get("files_mode"), "encryption": backup["encryption"],
        "recipients": backup.get("recipients") or [], "manifest_key": backup["manifest_key"],
        "destination": {"name": destination.get("name"), "type": destination["type"],
                        "location": destination.get("location") or _url(destination, "").rstrip("/")},
        "objects": [{"role": o["role"], "key": o["key"], "sha256": o["sha256"], "stored_bytes": o.get("stored_bytes")}
                    for o in backup["objects"]],
        "tools": _tools(backup, destination),
        "env": _env(backup, destination),
        "collection": _collection(backup, destination),
        "by_hand": _by_hand(backup, destination),
    }


def script(steps):
    """The by-hand steps as one bash script (what the tests run)."""
    lines = ["set -euo pipefail"]
    for index, step in enumerate(steps, 1):
        lines.append("# %d. %s" % (index, step["title"]))
        lines.extend(step["commands"])
    return "\n".join(lines) + "\n"


def _md_steps(steps):
    out = []
    for index, step in enumerate(steps, 1):
        out += ["### %d. %s" % (index, step["title"]), ""]
        if step.get("note"):
            out += [step["note"], ""]
        out += ["```%s" % step.get("lang", "bash")] + step["commands"] + ["```", ""]
    return out


def to_markdown(runbook, drill_id=None, generated_at=None):
    kinds = {"postgres": "PostgreSQL", "sqlite": "SQLite", "files": "files (%s)" % runbook.get("files_mode")}
    dest = runbook["destination"]
    out = ["# Restore runbook: %s" % runbook["job"], ""]
    if drill_id:
        out += ["Generated by watchkeeper.ops drill_report for drill %s at %s from the backup's manifest." % (
            drill_id, generated_at), ""]
    out += ["| | |", "|---|---|",
            "| job | `%s` |" % runbook["job"], "| kind | %s |" % kinds[runbook["kind"]],
            "| backup | `%s` (created %s) |" % (runbook["backup_id"], runbook.get("created_at")),
            "| destination | %s (%s, `%s`) |" % (dest["name"], dest["type"], dest["location"]),
            "| encryption | %s |" % runbook["encryption"], "| manifest | `%s` |" % runbook["manifest_key"],
            "| tools | %s |" % ", ".join(runbook["tools"]), "",
            "## Objects", "", "| role | key | SHA-256 | stored bytes |", "|---|---|---|---|"]
    out += ["| %s | `%s` | `%s` | %s |" % (o["role"], o["key"], o["sha256"], o.get("stored_bytes")) for o in runbook["objects"]]
    out += ["", "## Environment", "", "Set these first; every other value below is literal.", "",
            "| variable | meaning |", "|---|---|"]
    out += ["| `%s` | %s |" % (e["name"], e["description"].replace("|", "\\|")) for e in runbook["env"]]
    out += ["", "```bash"]
    out += ["export %s=%s" % (e["name"], q(e["example"])) for e in runbook["env"] if e["example"] is not None]
    out += ["```", "", "## A. With the collection", ""] + _md_steps(runbook["collection"])
    out += ["## B. By hand, with standard tools only", "",
            "Every step starts in `$WORK_DIR`; run it in bash (each line fails loudly when something is wrong).", ""]
    return "\n".join(out + _md_steps(runbook["by_hand"]))
