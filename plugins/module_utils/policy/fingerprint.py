# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare a backup's data fingerprint with the one recomputed on the restored data (pure).

Both sides are ``{"schema.table": {"rows": N, "checksum": "...", "sha256": "..."}}``. Every difference
becomes one check naming the table, what the manifest expected and what the restore holds: a table
missing or extra, a row count, a checksum (SQL md5 of ``checksum_tables``), a content digest (SHA-256
of the table's ``COPY`` data in the dump, manifests of method ``copy-sha256-v2``). Tables whose data the
backup excluded expect no rows. A content digest is compared only when the found side has one (the
content check ran); manifests without digests (``rows+md5sum-v1``) compare as before.
"""


def compare(expected, found):
    """Checks (dicts: name, kind, table, passed, expected, found, detail), one per table and field."""
    checks = []
    for table in sorted(set(expected) | set(found)):
        want = expected.get(table)
        have = found.get(table)
        if want is None:
            checks.append(_check(table, "table", False, "absent", "present",
                                 "table %s exists in the restore but not in the backup's fingerprint" % table))
            continue
        if have is None:
            checks.append(_check(table, "table", False, "present", "absent",
                                 "table %s is missing from the restore" % table))
            continue
        if have.get("uncounted"):
            continue  # its content digest was compared instead (every row, byte for byte)
        want_rows = 0 if want.get("data_excluded") else want.get("rows")
        ok = want_rows == have.get("rows")
        checks.append(_check(table, "rows", ok, want_rows, have.get("rows"),
                             None if ok else "table %s: expected %s rows, found %s" % (table, want_rows, have.get("rows"))))
        if "sha256" in want and "sha256" in have and not want.get("data_excluded"):
            checks.append(_content_check(table, want["sha256"], have["sha256"]))
        if want.get("checksum") is not None:
            ok = want["checksum"] == have.get("checksum")
            checks.append(_check(table, "checksum", ok, want["checksum"], have.get("checksum"),
                                 None if ok else "table %s: checksum %s expected, %s found" % (
                                     table, want["checksum"], have.get("checksum"))))
    return checks


def _content_check(table, want, have):
    ok = want == have
    if ok:
        detail = None
    elif have is None:
        detail = "table %s: content differs from the backup (sha256 %s expected, no data found)" % (table, want)
    elif want is None:
        detail = "table %s: content differs from the backup (no data expected, sha256 %s found)" % (table, have)
    else:
        detail = "table %s: content differs from the backup (sha256 %s expected, %s found)" % (table, want, have)
    return _check(table, "sha256", ok, want, have, detail)


def compare_content(expected, digests, tables=None):
    """Content checks alone: every table of ``expected`` that has a digest (``sha256`` key, data not excluded)
    against ``digests`` (``{"schema.table": {"sha256"}}`` from a dump). ``tables``: only these names (the
    ones the check could read); None: all, and a digest for a table the backup does not know fails too."""
    checks = []
    names = set(n for n, e in expected.items() if "sha256" in e and not e.get("data_excluded"))
    if tables is not None:
        names &= set(tables)
    for table in sorted(names):
        checks.append(_content_check(table, expected[table]["sha256"], (digests.get(table) or {}).get("sha256")))
    if tables is None:
        for table in sorted(set(digests) - set(expected)):
            checks.append(_check(table, "sha256", False, None, digests[table]["sha256"],
                                 "table %s: the dump holds data the backup's fingerprint does not know" % table))
    return checks


def compare_large_objects(expected, found):
    """One check of the large objects (count and one SHA-256 over all of them); ``expected``/``found``
    are ``{"count", "sha256"}`` or None (none)."""
    want = expected or {"count": 0, "sha256": None}
    have = found or {"count": 0, "sha256": None}
    ok = want.get("count") == have.get("count") and want.get("sha256") == have.get("sha256")
    detail = None if ok else "large objects: content differs from the backup (%s objects, sha256 %s expected; " \
        "%s objects, sha256 %s found)" % (want.get("count"), want.get("sha256"), have.get("count"), have.get("sha256"))
    return {"name": "fingerprint large objects", "kind": "content", "table": "large objects", "field": "sha256",
            "passed": ok, "expected": want.get("sha256"), "found": have.get("sha256"), "detail": detail}


def _check(table, field, passed, expected, found, detail):
    kind = {"checksum": "checksum", "sha256": "content"}.get(field, "fingerprint")
    return {"name": "fingerprint %s %s" % (table, field), "kind": kind,
            "table": table, "field": field, "passed": passed, "expected": expected, "found": found, "detail": detail}


def mismatches(checks):
    """One line per failed check, for messages."""
    return [c["detail"] or "%s: expected %s, found %s" % (c["name"], c["expected"], c["found"])
            for c in checks if not c["passed"]]
