# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What restore results, drill reports and runbooks say about a backup and a destination.

Both summaries are secret-free by construction (they copy named fields, never the whole spec), so
they can go into module results, reports and generated runbooks.
"""

DESTINATION_FIELDS = ("name", "type", "path", "bucket", "prefix", "endpoint_url", "region", "project")


def destination_summary(spec, location=None):
    """``{name, type, location, path|bucket, prefix, endpoint_url, region, project}`` of a destination spec.

    ``location`` is ``Storage.describe()`` (``/srv/backups``, ``s3://bucket/prefix``, ``gs://...``)."""
    out = dict((k, spec.get(k)) for k in DESTINATION_FIELDS if spec.get(k) not in (None, ""))
    out.setdefault("name", spec.get("type"))
    out["location"] = location
    return out


def backup_summary(manifest):
    """The facts a restore needs about one backup, from its manifest.

    ``objects`` lists the backup's own objects (roles ``dump``, ``globals``, ``db``, ``tar``,
    ``filelist``) then, for incremental file backups, every shared pack it needs (role ``pack``),
    each with ``key``, ``sha256`` and ``stored_bytes``.
    """
    source = manifest.get("source") or {}
    files = manifest.get("files") or {}
    objects = [{"role": o["role"], "key": o["key"], "sha256": o["sha256"], "stored_bytes": o.get("stored_bytes")}
               for o in manifest.get("objects", [])]
    for pack in files.get("packs", []):
        objects.append({"role": "pack", "key": pack["key"], "sha256": pack["sha256"],
                        "stored_bytes": pack.get("stored_bytes")})
    return {
        "job": manifest["job"],
        "backup_id": manifest["backup_id"],
        "created_at": manifest["created_at"],
        "completed_at": manifest.get("completed_at"),
        "kind": source.get("kind"),
        "source": dict((k, v) for k, v in source.items()
                       if k in ("kind", "host", "port", "database", "server_version", "path", "mode", "paths")),
        "files_mode": files.get("mode"),
        "encryption": (manifest.get("encryption") or {}).get("mode", "none"),
        "recipients": [r.get("fingerprint") for r in (manifest.get("encryption") or {}).get("recipients", [])],
        "compression": (manifest.get("compression") or {}).get("algorithm"),
        "objects": objects,
        "manifest_key": "%s.manifest.json" % _base_key(manifest),
        "stored_bytes": sum(o["stored_bytes"] or 0 for o in objects),
    }


def _base_key(manifest):
    for obj in manifest.get("objects", []):
        if obj["role"] in ("dump", "db", "tar", "filelist"):
            key = obj["key"]
            return key[:key.index(manifest["backup_id"]) + len(manifest["backup_id"])]
    raise ValueError("manifest %s has no main object" % manifest.get("backup_id"))
