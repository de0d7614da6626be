"""Synthetic but valid backups for the listing benches (``backup_info``, ``dashboards``): per backup a small
object, a schema-valid manifest and its index entry, as the backup module writes them.

The caller must have made the collection importable first (``ansible_run.collections_path()`` on ``sys.path``,
or ``import wkbench_env``).

* ``synthetic(job, count)`` yields ``(key, bytes)`` pairs, one backup per ``step_s`` going back from ``newest``;
  write them with ``storage.put_bytes`` (``fill``) or, for many local backups, ``write_local`` (plain files at the
  keys' paths, no fsync: the same bytes as the local storage writes, in a fraction of the time).
* ``rich=True`` gives manifests shaped like a real PostgreSQL backup's (source host and version, zstd level,
  public-key encryption with a recipient) so that restore summaries and drill runbooks can be built from them;
  the default is the minimal manifest ``backup_info.py`` has always measured.
"""

import concurrent.futures
import datetime
import hashlib
import os
import time
import uuid

from ansible_collections.watchkeeper.ops.plugins.module_utils import catalog_index
from ansible_collections.watchkeeper.ops.plugins.module_utils import manifest as mf

FPR = "3AA5C34371567BD2C2A51B2D0C8B6E9F00112233"


def stamp(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def manifest(job, when, payload, rich=False, host="db1.internal", database="app", duration_s=70):
    """The manifest document of one backup taken at ``when`` (aware UTC) whose only object is ``payload``."""
    backup_id = "%s-%s" % (when.strftime("%Y%m%dT%H%M%SZ"), uuid.uuid4().hex[:8])
    key = mf.object_key(job, backup_id, "dump", ".pgdump.zst.gpg")
    digest = hashlib.sha256(payload).hexdigest()
    doc = {"schema": mf.SCHEMA, "schema_version": 1, "backup_id": backup_id, "job": job, "status": "complete",
           "created_at": stamp(when), "completed_at": stamp(when), "source": {"kind": "postgres", "database": database},
           "sizes": {"stored_bytes": len(payload)}, "compression": {"algorithm": "zstd"},
           "encryption": {"mode": "public_key"},
           "objects": [{"role": "dump", "key": key, "stored_bytes": len(payload), "sha256": digest}]}
    if rich:
        done = when + datetime.timedelta(seconds=duration_s)
        doc.update(completed_at=stamp(done), sha256=digest, compression={"algorithm": "zstd", "level": 3},
                   source={"kind": "postgres", "host": host, "port": 5432, "database": database, "server_version": "15.8"},
                   encryption={"mode": "public_key", "tool": "gnupg", "recipients": [{"fingerprint": FPR}]})
        doc["objects"][0].update(format="dump", raw_bytes=len(payload) * 4, compressed_bytes=len(payload))
    return doc


def files_of(doc, payload):
    """``[(key, bytes)]`` of one backup: object, manifest, index entry (in the order the backup module writes)."""
    data = mf.dumps(doc)
    mkey = mf.manifest_key(doc["job"], doc["backup_id"])
    return [(doc["objects"][0]["key"], payload), (mkey, data),
            (catalog_index.index_key(doc["job"], doc["backup_id"]), catalog_index.build(doc, mkey, data))]


def synthetic(job, count, newest=None, step_s=3600, payload=None, rich=False, docs=None, **kwargs):
    """(key, bytes) pairs for ``count`` backups of ``job``, the newest at ``newest`` (epoch seconds, default now),
    then one every ``step_s`` going back. ``docs`` (a list) receives every manifest document, newest first."""
    newest = time.time() if newest is None else newest
    payload = os.urandom(2048) if payload is None else payload
    for index in range(count):
        when = datetime.datetime.fromtimestamp(int(newest - step_s * index), datetime.timezone.utc)
        doc = manifest(job, when, payload, rich=rich, **kwargs)
        if docs is not None:
            docs.append(doc)
        yield from files_of(doc, payload)


def fill(storage, items, workers=8):
    """Write ``(key, bytes)`` pairs through ``storage.put_bytes`` with ``workers`` threads."""
    items = list(items)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda item: storage.put_bytes(item[0], item[1]), items))
    return len(items)


def write_local(root, items):
    """Write ``(key, bytes)`` pairs as files under ``root`` (the local storage's layout: ``root/<key>``)."""
    made = set()
    count = 0
    for key, data in items:
        path = os.path.join(root, *key.split("/"))
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        with open(path, "wb") as handle:
            handle.write(data)
        count += 1
    return count
