"""Realistic inputs of the drill report: manifests shaped like the backup module's, their summaries
(through restore/summary.py, as restore_verify builds them) and restore_verify results."""

import copy
import hashlib

from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.summary import backup_summary, destination_summary

FPR = "3AA5C34371567BD2C2A51B2D0C8B6E9F00112233"


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def manifest(kind="postgres", job="app-db", backup_id="20261127T013000Z-3f9a1c2b", encryption="public_key",
             files_mode="full", globals_=False, compression=True):
    """A manifest as the backup module writes it (keys from manifest.py), valid for mf.validate."""
    ext = mf.stream_ext(compression, encryption)
    main = {"postgres": ("dump", ".pgdump"), "sqlite": ("db", ".sqlite"), "files": ("tar", ".tar")}[kind]
    objects = []
    if kind != "files" or files_mode == "full":
        objects.append({"role": main[0], "key": mf.object_key(job, backup_id, main[0], main[1] + ext)})
    if globals_:
        objects.append({"role": "globals", "key": mf.object_key(job, backup_id, "globals", ".sql" + ext)})
    if kind == "files":
        objects.append({"role": "filelist", "key": mf.object_key(job, backup_id, "filelist", ".json" + ext)})
    for obj in objects:
        obj.update(format=obj["role"], raw_bytes=4096, compressed_bytes=2048, stored_bytes=2100, sha256=sha(obj["key"]))
    source = {"postgres": {"kind": "postgres", "host": "db1.internal", "port": 5432, "database": "app", "server_version": "15.8"},
              "sqlite": {"kind": "sqlite", "path": "/srv/app/app.sqlite3"},
              "files": {"kind": "files", "mode": files_mode, "paths": ["/srv/uploads"]}}[kind]
    doc = {"schema": mf.SCHEMA, "schema_version": 1, "backup_id": backup_id, "job": job, "status": "complete",
           "created_at": "2026-11-27T01:30:00Z", "completed_at": "2026-11-27T01:31:10Z", "source": source,
           "objects": objects, "sizes": {"stored_bytes": 2100 * len(objects)}, "sha256": objects[0]["sha256"],
           "compression": {"algorithm": "zstd", "level": 3} if compression else {},
           "encryption": {"mode": encryption, "tool": "gnupg",
                          "recipients": [{"fingerprint": FPR}] if encryption == "public_key" else []}}
    if kind == "postgres":
        doc["fingerprint"] = {"method": "rows+md5sum-v1", "tables": {"public.users": {"rows": 1200}}}
    if kind == "files":
        doc["files"] = {"mode": files_mode, "count": 3}
        if files_mode == "incremental":
            doc["files"]["packs"] = [{"key": mf.pack_key(job, pid, ".tar" + ext), "stored_bytes": 9000, "sha256": sha(pid), "new": True}
                                     for pid in ("ab12" + "0" * 60, "cd34" + "1" * 60)]
    assert mf.validate(doc) == [], mf.validate(doc)
    return doc


DESTINATIONS = {
    "local": ({"name": "nas", "type": "local", "path": "/mnt/nas/backups"}, "/mnt/nas/backups"),
    "s3": ({"name": "offsite", "type": "s3", "bucket": "acme-backups", "prefix": "prod", "endpoint_url": "https://minio.example:9000",
            "region": "eu-central-1", "access_key": "AKIA-SECRET-ID", "secret_key": "very-secret"}, "s3://acme-backups/prod"),
    "gcs": ({"name": "gcs", "type": "gcs", "bucket": "acme-eu", "prefix": "", "project": "acme",
             "credentials_file": "/etc/wk/gcs.json"}, "gs://acme-eu"),
}


def summaries(kind="postgres", dest="local", **kwargs):
    """(backup summary, destination summary) exactly as restore_verify returns them."""
    spec, location = DESTINATIONS[dest]
    return backup_summary(manifest(kind, **kwargs)), destination_summary(spec, location)


def result(job="app-db", kind="postgres", dest="local", rto_total=1800.0, rpo=3600.0, passed=True, **kwargs):
    """A registered restore_verify result (passed unless told otherwise)."""
    backup, destination = summaries(kind, dest, job=job, **kwargs)
    checks = [{"name": "rows public.users", "kind": "fingerprint", "table": "public.users", "passed": True,
               "expected": 1200, "found": 1200, "detail": None},
              {"name": "checksum public.users", "kind": "checksum", "table": "public.users", "passed": passed,
               "expected": "9f1c", "found": "9f1c" if passed else "0000", "detail": None if passed else "checksum differs"}]
    return {
        "changed": False, "failed": False, "passed": passed, "status": "verified", "job": job, "kind": kind,
        "backup_id": backup["backup_id"], "created_at": backup["created_at"], "backup": backup, "destination": destination,
        "attempts": [{"destination": "broken", "status": "failed", "error": "step download: unreachable"},
                     {"destination": destination["name"], "status": "ok", "error": None}],
        "scratch": {"kind": "database", "name": "wk_scratch_app_db_5f2c9e1a", "removed": True},
        "rto": {"select_s": 0.2, "download_decrypt_s": rto_total * 0.2, "restore_data_s": rto_total * 0.5,
                "indexes_constraints_s": rto_total * 0.2, "checks_s": rto_total * 0.1 - 0.2, "cleanup_s": 1.5,
                "restore_s": rto_total * 0.9, "total_s": rto_total},
        "rpo": {"achieved_s": rpo, "backup_created_at": backup["created_at"], "verify_started_at": "2026-11-27T02:30:00Z"},
        "checks": checks, "mismatches": [] if passed else ["checksum public.users: expected 9f1c, found 0000"],
    }


def failed_result(job="uploads", msg="step download, destination nas: no valid backup of job uploads"):
    """A FAILED registered result: only what Ansible keeps of a failing module."""
    return {"failed": True, "changed": False, "msg": msg, "job": job,
            "attempts": [{"destination": "nas", "status": "failed", "error": msg}],
            "rto": {"select_s": 0.4, "total_s": 0.4}, "checks": [], "mismatches": []}


def copy_of(value):
    return copy.deepcopy(value)
