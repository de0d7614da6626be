# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The source interface: what to stream for a backup, and the facts to record about it.

A source is used in this order by the backup runner:

1. ``check()``: connect/inspect, raise ``SourceError`` with a clear cause (database down, wrong
   password, tool version mismatch, missing path). Returns ``facts`` for the manifest.
2. ``estimate_bytes()``: size estimate for the check_mode plan (None when unknown).
3. ``artifacts(ctx)``: a generator of ``Artifact``; each is streamed through the pipeline to
   every destination before the next one is asked for. ``ctx`` is the ``RunContext`` (job, backup
   id, destinations still alive, ops_state, tmp_dir).
4. ``manifest_extra()``: fields added to the manifest once every artifact is stored
   (``fingerprint`` for databases, ``files`` for file trees).
5. ``close()``: always called; releases connections and temporary files.

New kinds (MySQL, Redis) implement the same five methods and register in ``sources.factory``.
"""


class Artifact(object):
    """One object of a backup.

    ``role``: what it is (``dump``, ``globals``, ``db``, ``tar``, ``filelist``, ``pack``);
    ``ext``: the plaintext format suffix (``.pgdump``, ``.sql``, ``.sqlite``, ``.tar``, ``.json``);
    ``producer``: ``pipeline.ProcessProducer`` or ``pipeline.FunctionProducer``;
    ``key``: an explicit object key (shared packs); None for the default per-backup key;
    ``on_stored``: optional callback ``fn(stream_result)`` once every destination confirmed it.
    ``secrets``: strings to redact from this producer's error output.
    """

    def __init__(self, role, ext, producer, key=None, on_stored=None, secrets=()):
        self.role = role
        self.ext = ext
        self.producer = producer
        self.key = key
        self.on_stored = on_stored
        self.secrets = list(secrets)


class RunContext(object):
    def __init__(self, job, backup_id, storages, ops_state, tmp_dir=None, check_mode=False, log=None):
        self.job = job
        self.backup_id = backup_id
        self.storages = storages  # name -> Storage, only the destinations still alive
        self.ops_state = ops_state
        self.tmp_dir = tmp_dir
        self.check_mode = check_mode
        self.log = log or (lambda msg: None)


class Source(object):
    kind = "base"

    def __init__(self, spec, tmp_dir=None):
        self.spec = spec
        self.tmp_dir = tmp_dir

    def check(self):
        raise NotImplementedError

    def estimate_bytes(self):
        return None

    def artifacts(self, ctx):
        raise NotImplementedError

    def manifest_extra(self):
        return {}

    def close(self):
        """Release resources; must be safe to call more than once."""
