"""CPU accounting of the ``backup_pg`` bench: which processes are the bench's, how much of the machine
others used during a measurement (contention), waiting for a quiet machine, and the per-stage
``/proc`` CPU sampler of the profiled pass."""

import os
import threading
import time

from wkbench_env import DB, log
from wkbench_procs import CLK_TCK, machine_ticks, stat_all, tree


class Ours(object):
    """Which processes belong to this bench: its own descendants (ansible-playbook, the module,
    pg_dump, zstd, gpg, moto, the GCS emulator) and the bench's PostgreSQL cluster (postmaster and
    backends). Everything else on the machine is load from somebody else."""

    def __init__(self, postmaster_pid=None, marker=None):
        self.postmaster_pid = postmaster_pid
        self.marker = marker  # a path in the cmdline of our daemons that leave the tree (gpg-agent)

    def roots(self):
        return [os.getpid()] + ([self.postmaster_pid] if self.postmaster_pid else [])

    def cpu_ticks(self):
        """CPU ticks used so far by the bench's process trees: every live member's own time plus
        the time of members that exited and were reaped (which Linux adds to the reaper's cutime).

        A process reaped while /proc is being read (e.g. the backend of a pg_dump that just ended:
        the postmaster's line was read before the reap, the backend's is gone after it) would be
        missed, so the tree is read twice, 0.2 s apart, and the larger sum is taken (the true sum
        only grows)."""
        sums = []
        for attempt in range(2):
            if attempt:
                time.sleep(0.2)
            stats = stat_all()
            sums.append(sum(stats[pid][3] + stats[pid][4] for pid in tree(stats, self.roots())))
        return max(sums)


class LoadMeter(object):
    """Machine busy share and the share of it that was not the bench, over one measurement."""

    def __init__(self, ours):
        self.ours = ours

    def start(self):
        self.o0 = self.ours.cpu_ticks()
        self.m0 = machine_ticks(with_steal=True)
        return self

    def stop(self):
        total1, busy1, steal1 = machine_ticks(with_steal=True)
        ours1 = self.ours.cpu_ticks()
        total = max(1, total1 - self.m0[0])
        busy = busy1 - self.m0[1]
        ours = ours1 - self.o0
        foreign = max(0, busy - ours)
        return {"machine_busy_pct": round(100.0 * busy / total, 1), "bench_cpu_s": round(ours / float(CLK_TCK), 2),
                "foreign_cpu_s": round(foreign / float(CLK_TCK), 2),
                "foreign_pct": round(100.0 * foreign / total, 1),
                "steal_pct": round(100.0 * (steal1 - self.m0[2]) / total, 1)}


def wait_quiet(max_wait, threshold_pct, window=2.0):
    """Wait until the machine is idle (busy < threshold over two consecutive windows), at most
    ``max_wait`` seconds. Returns (seconds waited, last busy %, quiet reached)."""
    started = time.monotonic()
    quiet = 0
    busy_pct = None
    announced = False
    while True:
        t0, b0 = machine_ticks()
        time.sleep(window)
        t1, b1 = machine_ticks()
        busy_pct = 100.0 * (b1 - b0) / max(1, t1 - t0)
        quiet = quiet + 1 if busy_pct < threshold_pct else 0
        waited = time.monotonic() - started
        if quiet >= 2:
            return waited, busy_pct, True
        if waited >= max_wait:
            return waited, busy_pct, False
        if not announced and waited > 5:
            log("machine busy (%.0f%% of all cores, not this bench): waiting up to %ds for it to quieten"
                % (busy_pct, max_wait))
            announced = True


# --------------------------------------------------------------------------- CPU profile

def _classify(pid, comm, titles, self_pid):
    cmd = " ".join(titles)
    if pid == self_pid:
        return "bench itself (sampler)"
    if comm == "pg_dump":
        return "pg_dump"
    if comm == "postgres":
        if (" %s " % DB) in cmd:
            if "COPY" in cmd:
                return "postgres backend serving pg_dump (COPY)"
            return "postgres backend (module's fingerprint / other)"
        return "postgres server (other processes)"
    if comm.startswith("zstd"):
        return "zstd"
    if comm == "gpg":
        return "gpg"
    if comm.startswith("gpg-agent") or comm == "keyboxd":
        return "gpg-agent"
    if "AnsiballZ_backup" in cmd:
        return "module python (relay, sha256, fan-out, uploads)"
    if "ansible-playbook" in cmd:
        return "ansible-playbook"
    if "moto_server" in cmd:
        return "moto S3 server"
    if "gcp-storage-emulator" in cmd:
        return "GCS emulator"
    return "other (bench)"


class CpuSampler(threading.Thread):
    """Samples utime+stime of every process every ``interval`` s and sums the CPU used during
    the window per stage of the bench; everything outside the bench's process trees is summed as
    'not the bench'. A process that exits between two samples loses at most one interval."""

    FOREIGN = "NOT the bench (other processes on the machine)"

    def __init__(self, ours, interval=0.2):
        super(CpuSampler, self).__init__(name="cpu-sampler", daemon=True)
        self.ours = ours
        self.interval = interval
        self.stop_event = threading.Event()
        self.base = {}
        self.last = {}
        self.label = {}
        self.titles = {}

    def _sample(self):
        stats = stat_all()
        mine = tree(stats, self.ours.roots())
        for pid, (comm, _ppid, start, own, _children) in stats.items():
            key = (pid, start)
            self.last[key] = own
            if pid in mine or (key in self.label and self.label[key] != self.FOREIGN):
                titles = self.titles.setdefault(key, set())
                if comm == "postgres" or not titles:
                    try:
                        with open("/proc/%d/cmdline" % pid, "rb") as handle:
                            text = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
                        if text:
                            titles.add(text)
                    except OSError:
                        pass
                self.label[key] = _classify(pid, comm, titles, os.getpid())
            elif key not in self.label:
                cmd = ""
                if self.ours.marker:
                    try:
                        with open("/proc/%d/cmdline" % pid, "rb") as handle:
                            cmd = handle.read().decode("utf-8", "replace")
                    except OSError:
                        pass
                if self.ours.marker and self.ours.marker in cmd:
                    self.label[key] = _classify(pid, comm, [cmd], os.getpid())
                elif comm.startswith(("kworker", "ksoftirq", "jbd2", "kswapd", "kdamond", "rcu_")):
                    self.label[key] = "kernel threads"
                else:
                    self.label[key] = self.FOREIGN

    def start(self):
        self.base = {(pid, s[2]): s[3] for pid, s in stat_all().items()}
        self.m0 = machine_ticks()
        self.t0 = time.monotonic()
        self._sample()
        super(CpuSampler, self).start()

    def run(self):
        while not self.stop_event.wait(self.interval):
            self._sample()

    def stop(self):
        self.stop_event.set()
        self.join()
        self._sample()
        wall = time.monotonic() - self.t0
        total1, busy1 = machine_ticks()
        busy = (busy1 - self.m0[1]) / float(max(1, total1 - self.m0[0]))
        per = {}
        for key, ticks in self.last.items():
            used = (ticks - self.base.get(key, 0)) / float(CLK_TCK)
            if used > 0:
                label = self.label.get(key, self.FOREIGN)
                per[label] = per.get(label, 0.0) + used
        ncpu = len(os.sched_getaffinity(0))
        stages = [{"stage": k, "cpu_s": round(v, 2), "pct_of_one_core": round(100.0 * v / wall, 1)}
                  for k, v in sorted(per.items(), key=lambda kv: -kv[1]) if v >= 0.05]
        return {"wall_s": round(wall, 2), "machine_busy_pct": round(100.0 * busy, 1), "cores": ncpu,
                "cpu_s_total": round(sum(per.values()), 2), "stages": stages}
