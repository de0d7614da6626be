# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Content checks of a PostgreSQL restore against the manifest's per-table digests (``copy-sha256-v2``).

``checks.content`` chooses what is digested:

* ``database`` (default): the restored database, dumped again with ``pg_dump --data-only`` in parallel
  (``pgdump_verify.digest_database``). Proves that the data a client reads from the restored database
  is, table by table, exactly what the backup streamed.
* ``dump``: the decoded dump file, before ``pg_restore`` reads it (``pgdump_verify.digest_file``).
  Cheaper (one read of a local file); proves that the dump holds exactly what was fingerprinted, so an
  object altered and re-checksummed is caught before anything is restored; it does not read the
  restored database (row counts still do).
* ``none``: row counts (and ``checksum_tables``) only.

Manifests without digests (``rows+md5sum-v1``, or a backup whose dump could not be digested) get no
content check; the result says so in the check list (nothing is claimed that was not checked).
"""

from ansible_collections.watchkeeper.ops.plugins.module_utils import pgdump_format, pgdump_verify
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ChecksumMismatch, ConfigError
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import fingerprint as policy_fp


def method(checks_opt, fingerprint):
    """``database``, ``dump`` or None (no content check: turned off, or the manifest has no digests)."""
    chosen = (checks_opt or {}).get("content") or "database"
    if chosen == "none" or not checks_opt.get("fingerprint", True):
        return None
    content = (fingerprint or {}).get("content") or {}
    if fingerprint.get("method") != pgdump_format.METHOD or content.get("status") != "ok":
        return None
    return chosen


def check_dump(path, fingerprint):
    """Checks of the decoded dump file against the manifest: every table's digest and the large objects.
    A dump that cannot be read as a custom-format archive is one failed check."""
    try:
        summary = pgdump_verify.digest_file(path)
    except pgdump_format.DumpFormatError as exc:
        return [{"name": "dump archive", "kind": "content", "table": None, "field": "archive", "passed": False,
                 "expected": "a pg_dump custom-format archive", "found": str(exc),
                 "detail": "the decoded dump cannot be read as the backup's archive: %s" % exc}]
    checks = policy_fp.compare_content(fingerprint["tables"], summary["tables"])
    checks.append(policy_fp.compare_large_objects((fingerprint.get("content") or {}).get("large_objects"),
                                                  summary.get("large_objects")))
    return checks


def check_database(server, dbname, fingerprint, present, parallel, timeout=None):
    """Checks of database ``dbname`` (the tables in ``present``) against the manifest's digests."""
    content = fingerprint.get("content") or {}
    tables = fingerprint["tables"]
    sizes = dict((name, entry.get("bytes") or 0) for name, entry in tables.items()
                 if name in present and entry.get("sha256") and not entry.get("data_excluded"))
    found = server.content_digests(dbname, sizes, content, parallel, timeout)
    checks = policy_fp.compare_content(tables, found["tables"],
                                       tables=[n for n in present if n in tables])
    if (content.get("large_objects") or {}).get("count"):
        checks.append(policy_fp.compare_large_objects(content["large_objects"], found["large_objects"]))
    return checks


def verify_database(server, dbname, fingerprint, parallel, timeout=None):
    """``checks.content: database``: the fingerprint of ``dbname``, content first.

    A table whose content digest is compared is not counted with ``count(*)``: equal digests mean every row
    the backup dumped, byte for byte (and the backup counted those rows in the same snapshot), so a count adds
    nothing but time (about a third of the checks). Tables whose digest differs are counted afterwards, so
    the failure also says how many rows are missing or extra. Tables without a digest, and
    ``checksum_tables``, are counted (and checksummed) as before."""
    tables = fingerprint["tables"]
    skip = set(n for n, e in tables.items() if e.get("sha256") and not e.get("data_excluded")
               and e.get("checksum") is None)
    found = server.fingerprint(dbname, tables, parallel, skip=skip)
    checks = check_database(server, dbname, fingerprint, found, parallel, timeout)
    differ = set(c["table"] for c in checks if not c["passed"]) & skip & set(found)
    if differ:
        found.update(server.fingerprint(dbname, tables, parallel, only=differ))
    return policy_fp.compare(tables, found) + checks


def check_dump_copy(run, manifest):
    """``checks.content: dump`` in a restore run (``runner._Run``): the decoded dump against the manifest's digests,
    before pg_restore. A copy whose data differs is a bad copy (the next destination is tried), named by table."""
    checks = check_dump(run.dump_path, manifest["fingerprint"])
    run.checks += checks
    failed = policy_fp.mismatches(checks)
    if failed:
        raise ChecksumMismatch("the dump's data differs from the backup's fingerprint: %s" % "; ".join(failed[:10]),
                               step="checks")


def use_existing(run, manifest):
    """``existing_database``: the run checks the backup's manifest against a database restored earlier (kept)."""
    if run.kind != "postgres":
        raise ConfigError("existing_database verifies PostgreSQL backups; job %s holds %s backups" % (run.job, run.kind),
                          step="configure")
    server = run.open_server(manifest)
    name = run.params["existing_database"]
    if not server.exists(name):
        raise ConfigError("database %s does not exist on %s" % (name, server.where()), step="configure")
    run.scratch = {"kind": "database", "name": name, "removed": False, "kept": True, "existing": True,
                   "server": server.where()}
