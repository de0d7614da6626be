# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup manifests: schema, keys, validation.

A backup exists for every reader exactly when its manifest exists: the manifest is written to a
destination last, after that destination confirmed every object byte for byte. The schema is
documented in ``docs/manifest.md``; ``SCHEMA_VERSION`` changes only with a migration note there.

Object keys (relative to the destination root):

    <job>/YYYY/MM/DD/<backup_id><ext>.zst.gpg       the main object (.pgdump, .sqlite, .tar)
    <job>/YYYY/MM/DD/<backup_id>.<role><ext>...     other objects (.globals.sql, .filelist.json)
    <job>/YYYY/MM/DD/<backup_id>.manifest.json      the manifest
    <job>/packs/<aa>/<pack_id>.tar.zst[.gpg]         shared packs of incremental file backups

``backup_id`` is ``<YYYYMMDDTHHMMSSZ>-<8 hex>``, so keys sort by time.
"""

import json
import re
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ManifestError

SCHEMA = "watchkeeper.ops/backup-manifest"
SCHEMA_VERSION = 2  # 2: fingerprint method copy-sha256-v2 (content digest of every table); 1 still reads
COLLECTION_VERSION = "1.0.0"
MANIFEST_SUFFIX = ".manifest.json"
JOB_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
BACKUP_ID_RE = re.compile(r"^(\d{8}T\d{6}Z)-([0-9a-f]{8})$")
REQUIRED = ("schema", "schema_version", "backup_id", "job", "status", "created_at", "completed_at", "source",
            "objects", "sizes", "compression", "encryption")


def check_job_name(job):
    if not JOB_RE.match(job or ""):
        raise ManifestError("job name %r must be 1-64 characters of letters, digits, '.', '_' or '-', starting with "
                            "a letter or digit" % job, step="configure")
    return job


def new_backup_id(when):
    return "%s-%s" % (clock.compact(when), uuid.uuid4().hex[:8])


def backup_time(backup_id):
    match = BACKUP_ID_RE.match(backup_id)
    if not match:
        raise ManifestError("not a backup id: %r" % backup_id)
    return clock.parse_compact(match.group(1))


def base_key(job, backup_id):
    when = backup_time(backup_id)
    return "%s/%s/%s" % (job, when.strftime("%Y/%m/%d"), backup_id)


def manifest_key(job, backup_id):
    return base_key(job, backup_id) + MANIFEST_SUFFIX


PRIMARY_ROLES = ("dump", "db", "tar")


def object_key(job, backup_id, role, ext):
    """``<base>.pgdump.zst.gpg`` for a backup's main object, ``<base>.<role><ext>...`` for the others."""
    if role in PRIMARY_ROLES:
        return base_key(job, backup_id) + ext
    return "%s.%s%s" % (base_key(job, backup_id), role, ext)


def pack_key(job, pack_id, ext):
    return "%s/packs/%s/%s%s" % (job, pack_id[:2], pack_id, ext)


def stream_ext(compression, encryption_mode):
    """File-name suffix that tells a human how to decode an object."""
    ext = ".zst" if compression else ""
    return ext + (".gpg" if encryption_mode != "none" else "")


def parse_manifest_key(job, key):
    """``backup_id`` if ``key`` is a manifest key of ``job``, else None."""
    if not key.endswith(MANIFEST_SUFFIX) or not key.startswith(job + "/"):
        return None
    name = key.rsplit("/", 1)[-1][:-len(MANIFEST_SUFFIX)]
    return name if BACKUP_ID_RE.match(name) else None


def dumps(manifest):
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")


def loads(data, key="manifest"):
    """Parse and validate a manifest; raises ``ManifestError`` naming what is wrong."""
    try:
        manifest = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError("%s is not valid JSON: %s" % (key, exc))
    problems = validate(manifest)
    if problems:
        raise ManifestError("%s is not a valid manifest: %s" % (key, "; ".join(problems)))
    return manifest


def validate(manifest):
    """List of problems (empty when the manifest is well-formed)."""
    if not isinstance(manifest, dict):
        return ["not a JSON object"]
    problems = ["missing field %s" % f for f in REQUIRED if f not in manifest]
    if problems:
        return problems
    if manifest["schema"] != SCHEMA:
        problems.append("schema is %r, expected %r" % (manifest["schema"], SCHEMA))
    if not isinstance(manifest["schema_version"], int) or manifest["schema_version"] > SCHEMA_VERSION:
        problems.append("schema_version %r is newer than this collection understands (%d)"
                        % (manifest["schema_version"], SCHEMA_VERSION))
    if manifest["status"] != "complete":
        problems.append("status is %r" % manifest["status"])
    if not BACKUP_ID_RE.match(str(manifest["backup_id"])):
        problems.append("bad backup_id %r" % manifest["backup_id"])
    objects = manifest["objects"]
    if not isinstance(objects, list) or not objects:
        problems.append("objects must be a non-empty list")
    else:
        for index, obj in enumerate(objects):
            for field in ("key", "role", "stored_bytes", "sha256"):
                if not isinstance(obj, dict) or field not in obj:
                    problems.append("objects[%d] lacks %s" % (index, field))
                    break
            else:
                if not re.match(r"^[0-9a-f]{64}$", str(obj["sha256"])):
                    problems.append("objects[%d].sha256 is not a SHA-256 hex digest" % index)
    packs = (manifest.get("files") or {}).get("packs", []) if isinstance(manifest.get("files") or {}, dict) else None
    if not isinstance(packs, list):
        problems.append("files.packs must be a list")
    else:
        for index, pack in enumerate(packs):
            if not isinstance(pack, dict) or not isinstance(pack.get("key"), str) or \
                    not re.match(r"^[0-9a-f]{64}$", str(pack.get("sha256"))):
                problems.append("files.packs[%d] needs a key and a SHA-256 hex digest" % index)
    return problems


def all_object_keys(manifest):
    """Every object key a backup depends on: its own objects and, for incremental file backups,
    the shared packs."""
    keys = [obj["key"] for obj in manifest.get("objects", [])]
    for pack in (manifest.get("files") or {}).get("packs", []):
        keys.append(pack["key"])
    return keys
