# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare a backup's data fingerprint with the one recomputed on the restored data (pure).

Both sides are ``{"schema.table": {"rows": N, "checksum": "..."}}``. Every difference becomes one
check naming the table, what the manifest expected and what the restore holds: a table missing or
extra, a row count, a checksum. Tables whose data the backup excluded expect no rows.
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
        want_rows = 0 if want.get("data_excluded") else want.get("rows")
        ok = want_rows == have.get("rows")
        checks.append(_check(table, "rows", ok, want_rows, have.get("rows"),
                             None if ok else "table %s: expected %s rows, found %s" % (table, want_rows, have.get("rows"))))
        if want.get("checksum") is not None:
            ok = want["checksum"] == have.get("checksum")
            checks.append(_check(table, "checksum", ok, want["checksum"], have.get("checksum"),
                                 None if ok else "table %s: checksum %s expected, %s found" % (
                                     table, want["checksum"], have.get("checksum"))))
    return checks


def _check(table, field, passed, expected, found, detail):
    return {"name": "fingerprint %s %s" % (table, field), "kind": "checksum" if field == "checksum" else "fingerprint",
            "table": table, "field": field, "passed": passed, "expected": expected, "found": found, "detail": detail}


def mismatches(checks):
    """One line per failed check, for messages."""
    return [c["detail"] or "%s: expected %s, found %s" % (c["name"], c["expected"], c["found"])
            for c in checks if not c["passed"]]
