# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The chain walk: re-hash every record, follow seq and prev_hash, check checkpoints and their signatures.

Works on any trail laid out as ``<prefix>/<chain>/{segments,checkpoints}/`` behind the storage interface: the
local spool and a directory (``local``), or a bucket (``s3``, ``gcs``). Every problem found is a *break* with
the place it names (``segment`` file, ``line``, ``seq`` or ``checkpoint`` file) and a reason; breaks are
ordered by their position in the chain, so ``first_break`` is the earliest. After a break inside a segment the
walk resumes at the next segment, so coverage and gaps still describe the whole trail.
"""

import hashlib
import json
import multiprocessing

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit import record
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.spool import CKPT_DIR, SEG_DIR, name_seq, seg_name
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.ship import join_key
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.sign import SIG_SUFFIXES

READ_MAX = 1024 * 1024 * 1024


def discover(storage, prefix):
    """``{chain: {"segments": {first: key}, "checkpoints": {seq: key}, "sigs": {ckpt key: key}, "meta": key}}``."""
    chains = {}
    base = join_key(prefix)
    for info in storage.list(base + "/" if base else ""):
        rel = info.key[len(base) + 1:] if base else info.key
        parts = rel.split("/")
        if len(parts) == 2 and parts[1] == "chain.json":
            chains.setdefault(parts[0], _new())["meta"] = info.key
            continue
        if len(parts) != 3 or parts[1] not in (SEG_DIR, CKPT_DIR):
            continue
        chain, kind, name = parts
        entry = chains.setdefault(chain, _new())
        seq = name_seq(name)
        if seq is None:
            continue
        if kind == SEG_DIR and name.endswith(".jsonl"):
            entry["segments"][seq] = info.key
        elif kind == CKPT_DIR and name.endswith(".json"):
            entry["checkpoints"][seq] = info.key
        elif kind == CKPT_DIR and name.endswith(SIG_SUFFIXES):
            entry["sigs"][info.key.rsplit(".", 1)[0]] = info.key
    return chains


def _new():
    return {"segments": {}, "checkpoints": {}, "sigs": {}, "meta": None}


def read(storage, key):
    if storage.kind == "local":
        with open(storage.path_for(key), "rb") as handle:
            return handle.read()
    return storage.get_bytes(key, max_bytes=READ_MAX)


class Walk(object):
    """The state of one chain's verification."""

    def __init__(self, chain):
        self.chain = chain
        self.breaks = []
        self.coverage = []
        self.gaps = []
        self.records = 0
        self.run = None  # the open coverage range
        self.last_seq = 0  # the last verified record

    def brk(self, pos, where, reason, **extra):
        item = {"chain": self.chain, "position": pos, "where": where, "reason": reason}
        item.update(extra)
        self.breaks.append(item)

    def span(self, first, last, first_ts, last_ts):
        """Records ``first..last`` verified; they extend the open coverage range or start a new one."""
        self.records += last - first + 1
        if self.run is None:
            self.run = {"from": first_ts, "to": last_ts, "first_seq": first, "last_seq": last}
            self.coverage.append(self.run)
        self.run["to"], self.run["last_seq"] = last_ts, last
        self.last_seq = last

    def cut(self):
        self.run = None


def check_checkpoints(storage, entry, walk, verifier):
    """Signatures and the checkpoint chain; returns ``{first_seq: checkpoint body}`` of the readable ones."""
    by_first = {}
    prev_sha, prev_name = record.GENESIS, None
    for seq in sorted(entry["checkpoints"]):
        key = entry["checkpoints"][seq]
        name = "%s/%012d.json" % (CKPT_DIR, seq)
        data = read(storage, key)
        try:
            body = json.loads(data)
            first = int(body["first_seq"])
        except (ValueError, KeyError, TypeError):
            walk.brk(seq, name, "checkpoint is not readable JSON", checkpoint=name)
            continue
        sig_key = entry["sigs"].get(key)
        if sig_key is None:
            walk.brk(first, name, "checkpoint has no signature file", checkpoint=name)
        else:
            reason = verifier.check(data, "." + sig_key.rsplit(".", 1)[1], read(storage, sig_key))
            if reason:
                walk.brk(first, name, "checkpoint %s" % reason, checkpoint=name)
        if body.get("seq") != seq or body.get("chain") != walk.chain:
            walk.brk(first, name, "checkpoint names seq %s of chain %s, not its own" % (body.get("seq"), body.get("chain")),
                     checkpoint=name)
        if body.get("prev_checkpoint_sha256") != prev_sha or body.get("prev_checkpoint") != prev_name:
            walk.brk(first, name, "checkpoint does not follow %s (a checkpoint before it was removed, added or changed)"
                     % (prev_name or "the start of the chain"), checkpoint=name)
        prev_sha, prev_name = hashlib.sha256(data).hexdigest(), name
        by_first[first] = body
    return by_first


def scan_segment(data, first):
    """Check one segment on its own (records parse, hashes hold, seq runs from ``first``, each links to the one
    before). Returns a summary the chain walk stitches: ``count``, ``first_prev``, ``last_hash``, ``first_ts``,
    ``last_ts``, ``sha256`` and ``error`` (``None`` or ``(position, line, seq, reason)``) at the first problem."""
    lines = data.split(b"\n")
    torn = lines.pop()
    out = {"count": 0, "first_prev": None, "last_hash": None, "first_ts": None, "last_ts": None,
           "sha256": hashlib.sha256(data).hexdigest(), "error": None}
    sha256, expected, head = hashlib.sha256, first, None
    for number, line in enumerate(lines, 1):
        pos = line.rfind(record.HASH_MEMBER)
        end = pos + 73
        rest = line[end + 87:]
        cut = rest.find(record.TS_MEMBER)
        if pos < 0 or cut < 1 or line[end:end + 15] != record.PREV_MEMBER or line[end + 79:end + 87] != record.SEQ_MEMBER \
                or not rest[:cut].isdigit():
            out["error"] = (expected, number, expected, "line %d is not a record" % number)
            break
        digest = line[pos + 9:end]
        seq = int(rest[:cut])
        if sha256(line[:pos] + line[end + 1:]).hexdigest().encode("ascii") != digest:
            out["error"] = (seq, number, seq, "record seq %d (line %d) was modified: its hash does not match its content" % (seq, number))
            break
        if seq != expected:
            if seq > expected:
                why = "record %d is missing here, seq %d found instead (deleted or reordered)" % (expected, seq)
            else:
                why = "seq %d is out of order (inserted or reordered), %d was expected" % (seq, expected)
            out["error"] = (expected, number, expected, "line %d: %s" % (number, why))
            break
        prev = line[end + 15:end + 79]
        if head is None:
            out["first_prev"] = prev.decode("ascii")
        elif prev != head:
            out["error"] = (seq, number, seq, "record seq %d (line %d) does not link to the record before it (prev_hash "
                            "differs: a record was replaced, inserted or reordered)" % (seq, number))
            break
        head, expected = digest, expected + 1
    good = expected - first
    out["count"] = good
    if good:
        out["last_hash"] = head.decode("ascii")
        out["first_ts"] = record.split_line(lines[0])[3]
        out["last_ts"] = record.split_line(lines[good - 1])[3]
    if out["error"] is None and torn:
        out["error"] = (expected, len(lines) + 1, expected, "segment ends in the middle of a record (line %d)" % (len(lines) + 1))
    return out


def _scan_file(job):
    path, first = job
    with open(path, "rb") as handle:
        return scan_segment(handle.read(), first)


def scans(storage, entry, segs, workers):
    """Iterate ``(first, data or None, summary)`` in seq order; local segments are scanned by ``workers`` processes."""
    if storage.kind == "local" and workers > 1 and len(segs) > 1:
        jobs = [(storage.path_for(entry["segments"][first]), first) for first in segs]
        pool = multiprocessing.get_context("fork").Pool(min(workers, len(segs)))
        try:
            for first, summary in zip(segs, pool.imap(_scan_file, jobs)):
                yield first, summary
        finally:
            pool.terminate()
        return
    for first in segs:
        yield first, scan_segment(read(storage, entry["segments"][first]), first)


def verify_chain(storage, chain, entry, verifier, sealed_only=False, workers=1):
    walk = Walk(chain)
    by_first = check_checkpoints(storage, entry, walk, verifier)
    expected, head, last_ts = 1, record.GENESIS, None
    segs = sorted(entry["segments"])
    unsealed = 0
    for first, res in scans(storage, entry, segs, workers):
        name = seg_name(first)
        if first != expected:
            if first > expected:
                walk.brk(expected, seg_name(expected), "segment %s is missing: records %d..%d are not in the trail"
                         % (seg_name(expected), expected, first - 1), segment=seg_name(expected))
                walk.gaps.append({"chain": chain, "from_seq": expected, "to_seq": first - 1, "after": last_ts, "before": None})
            else:
                walk.brk(first, name, "segment starts at seq %d although the trail already reached %d (inserted or "
                         "duplicated segment)" % (first, expected - 1), segment=name)
            walk.cut()
            head = None
        if res["count"] and head is not None and res["first_prev"] != head:
            walk.brk(first, name, "record seq %d (line 1) does not link to the last record of the segment before it "
                     "(a segment was replaced or records were removed at its end)" % first, segment=name, line=1, seq=first)
            walk.cut()
        elif res["count"]:
            walk.span(first, first + res["count"] - 1, res["first_ts"], res["last_ts"])
        if res["error"] is not None:
            pos, line, seq, reason = res["error"]
            walk.brk(pos, name, reason, segment=name, line=line, seq=seq)
            walk.cut()
            idx = segs.index(first)  # resume at the next segment, whatever seq it starts with
            expected, head, last_ts = (segs[idx + 1] if idx + 1 < len(segs) else first + res["count"]), None, res["last_ts"] or last_ts
            continue
        expected, head, last_ts = first + res["count"], res["last_hash"], res["last_ts"] or last_ts
        ck = by_first.get(first)
        if ck is None:
            if first != segs[-1] or sealed_only:
                walk.brk(first, name, "segment has no checkpoint (it was never sealed, or its checkpoint was removed)",
                         segment=name)
            else:
                unsealed = res["count"]
            continue
        if expected - 1 < ck.get("seq", 0):
            walk.brk(expected, name, "segment was truncated: it ends at seq %d but checkpoint %012d sealed it at seq %d"
                     % (expected - 1, ck["seq"], ck["seq"]), segment=name, seq=expected)
            walk.gaps.append({"chain": chain, "from_seq": expected, "to_seq": ck["seq"], "after": last_ts, "before": None})
            walk.cut()
            expected, head = ck["seq"] + 1, None
        elif expected - 1 > ck.get("seq", 0):
            walk.brk(ck["seq"] + 1, name, "segment holds records after seq %d, where its checkpoint sealed it" % ck["seq"],
                     segment=name, seq=ck["seq"] + 1)
        elif head != ck.get("head_hash") or res["sha256"] != ck.get("segment_sha256"):
            walk.brk(first, name, "segment does not match its checkpoint (head hash or SHA-256 differ)", segment=name)
    for first, ck in sorted(by_first.items()):
        if first not in entry["segments"] and (not segs or first > segs[-1]):
            walk.brk(first, ck.get("segment") or seg_name(first), "segment %s is missing (checkpoint %012d seals it)"
                     % (ck.get("segment"), ck.get("seq", 0)), segment=ck.get("segment"))
            walk.gaps.append({"chain": chain, "from_seq": first, "to_seq": ck.get("seq"), "after": last_ts, "before": None})
    _fill_gaps(walk)
    walk.breaks.sort(key=lambda b: b["position"])
    sealed = max([c.get("seq", 0) for c in by_first.values()] or [0])
    return {"chain": chain, "ok": not walk.breaks, "records": walk.records, "checkpoints": len(entry["checkpoints"]),
            "segments": len(segs), "sealed_seq": sealed, "unsealed_records": unsealed,
            "head_seq": walk.last_seq, "coverage": walk.coverage, "gaps": walk.gaps,
            "breaks": walk.breaks, "first_break": walk.breaks[0] if walk.breaks else None}


def _fill_gaps(walk):
    for gap in walk.gaps:
        later = [c for c in walk.coverage if c["first_seq"] > (gap["to_seq"] or 0)]
        gap["before"] = later[0]["from"] if later else None


def verify(storage, prefix, verifier, chains=None, sealed_only=False, workers=1):
    """Verify every chain found (or the ``chains`` named); returns the module's result fields."""
    found = discover(storage, prefix)
    results = []
    for chain in sorted(found):
        if chains and chain not in chains:
            continue
        results.append(verify_chain(storage, chain, found[chain], verifier, sealed_only, workers))
    missing = sorted(set(chains or ()) - set(found))
    breaks = sorted((b for r in results for b in r["breaks"]), key=lambda b: (b["chain"], b["position"]))
    return {"ok": bool(results) and not breaks and not missing, "chains": results, "missing_chains": missing,
            "first_break": breaks[0] if breaks else None, "records": sum(r["records"] for r in results),
            "coverage": [dict(c, chain=r["chain"]) for r in results for c in r["coverage"]],
            "gaps": [g for r in results for g in r["gaps"]]}
