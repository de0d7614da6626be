# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host facts from /proc: CPU over a short sample, load per core, memory and swap, PSI, open files, uptime."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

PROC = "/proc"


def read(path):
    with open(path) as handle:
        return handle.read()


def cpu_times(proc=PROC):
    """``(busy, total)`` jiffies from the aggregate ``cpu`` line of /proc/stat (iowait counts as idle)."""
    fields = [int(x) for x in read(os.path.join(proc, "stat")).splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])  # guest times are already inside user/nice
    return total - idle, total


def cpu_percent(before, after):
    busy = after[0] - before[0]
    total = after[1] - before[1]
    return round(100.0 * busy / total, 2) if total > 0 else 0.0


def load(proc=PROC):
    parts = read(os.path.join(proc, "loadavg")).split()
    cores = os.cpu_count() or 1
    load1, load5, load15 = float(parts[0]), float(parts[1]), float(parts[2])
    return {"load1": load1, "load5": load5, "load15": load15, "cores": cores, "per_core": round(load1 / cores, 3)}


def memory(proc=PROC):
    info = {}
    for line in read(os.path.join(proc, "meminfo")).splitlines():
        key, _sep, rest = line.partition(":")
        info[key] = int(rest.split()[0]) * 1024
    total = info.get("MemTotal", 0)
    avail = info.get("MemAvailable", info.get("MemFree", 0))
    swap_total = info.get("SwapTotal", 0)
    swap_free = info.get("SwapFree", 0)
    return {"total_bytes": total, "available_bytes": avail,
            "percent": round(100.0 * (total - avail) / total, 2) if total else None,
            "swap_total_bytes": swap_total, "swap_free_bytes": swap_free,
            "swap_percent": round(100.0 * (swap_total - swap_free) / swap_total, 2) if swap_total else None}


def pressure(proc=PROC):
    """PSI ``some`` (and ``full``) averages per resource, {} when the kernel has no /proc/pressure."""
    result = {}
    base = os.path.join(proc, "pressure")
    if not os.path.isdir(base):
        return result
    for resource in ("cpu", "memory", "io"):
        try:
            text = read(os.path.join(base, resource))
        except (IOError, OSError):
            continue
        values = {}
        for line in text.splitlines():
            words = line.split()
            if not words:
                continue
            for pair in words[1:]:
                key, _sep, value = pair.partition("=")
                if key.startswith("avg"):
                    values["%s_%s" % (words[0], key)] = float(value)
        result[resource] = values
    return result


def open_files(proc=PROC):
    allocated, _unused, maximum = [int(x) for x in read(os.path.join(proc, "sys", "fs", "file-nr")).split()[:3]]
    return {"allocated": allocated, "max": maximum, "percent": round(100.0 * allocated / maximum, 3) if maximum else None}


def uptime(proc=PROC):
    return float(read(os.path.join(proc, "uptime")).split()[0])


def collect_static(proc=PROC):
    """Everything but CPU (which needs two readings): ``(facts, errors)``; one failing reader never stops the rest."""
    facts, errors = {}, []
    for key, func in (("load", load), ("memory", memory), ("pressure", pressure), ("files", open_files), ("uptime_s", uptime)):
        try:
            facts[key] = func(proc)
        except (IOError, OSError, ValueError, IndexError) as exc:
            errors.append({"name": key, "kind": "host", "error": "cannot read: %s" % exc})
    if "load" in facts:
        facts["load_per_core"] = facts["load"]["per_core"]
    return facts, errors


def sample_cpu(seconds, proc=PROC, during=None):
    """CPU busy percent over ``seconds``; ``during()`` (other checks) runs inside the sample window."""
    before = cpu_times(proc)
    start = time.time()
    if during is not None:
        during()
    rest = seconds - (time.time() - start)
    if rest > 0:
        time.sleep(rest)
    return cpu_percent(before, cpu_times(proc))
