"""Processes of the ``backup_pg`` bench: reading ``/proc``, stopping its descendants on a signal, and
cleaning up what a killed run left behind (work directory, gpg agents, moto / emulator servers)."""

import json
import os
import shutil
import signal
import subprocess

from wkbench_env import BENCH_DIR, log

CLK_TCK = os.sysconf("SC_CLK_TCK")


def read_stat(pid):
    """(comm, ppid, starttime, own_ticks, children_ticks) of one process, or None."""
    try:
        with open("/proc/%s/stat" % pid, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    comm = data[data.find(b"(") + 1:data.rfind(b")")].decode("utf-8", "replace")
    rest = data[data.rfind(b")") + 2:].split()
    # rest[0] is field 3 (state): ppid=4, utime=14, stime=15, cutime=16, cstime=17, starttime=22
    return (comm, int(rest[1]), int(rest[19]), int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14]))


def stat_all():
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = read_stat(name)
            if stat is not None:
                out[int(name)] = stat
    return out


def tree(stats, roots):
    """Pids of ``roots`` and all their live descendants."""
    children = {}
    for pid, stat in stats.items():
        children.setdefault(stat[1], []).append(pid)
    found, todo = set(), [r for r in roots if r in stats]
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def descendants(pid):
    return sorted(tree(stat_all(), [pid]) - {pid})


def machine_ticks(with_steal=False):
    """(total, busy[, steal]) jiffies of all CPUs from /proc/stat (busy excludes idle and iowait;
    steal is time the hypervisor gave to other guests)."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:9]]
    fields += [0] * (8 - len(fields))
    if with_steal:
        return sum(fields), sum(fields) - fields[3] - fields[4], fields[7]
    return sum(fields), sum(fields) - fields[3] - fields[4]


# --------------------------------------------------------------------------- signals

def on_signal(signum, _frame):
    """SIGINT/SIGTERM: stop every descendant (ansible-playbook, its module, pg_dump, zstd, gpg,
    moto, the emulator) by pid before unwinding, so nothing keeps running after the bench."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for pid in descendants(os.getpid()):
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    raise KeyboardInterrupt("signal %d" % signum)


def install_signal_handlers():
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


# --------------------------------------------------------------------------- cleanup

def kill_gpg_agents(homes):
    for home in homes:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True, check=False)


def remove_workdir(path):
    """Remove a run's work directory, after stopping the gpg agents of its two GnuPG homes."""
    kill_gpg_agents(home for home in (os.path.join(path, "gpg-private"), os.path.join(path, "gpg-story"))
                    if os.path.isdir(home))
    shutil.rmtree(path, ignore_errors=True)


def record_services(work, services):
    """Write the pid and start time of the run's servers (moto, emulator) to ``work/services.json``,
    so that the next run can stop them if this one is killed (-9)."""
    with open(os.path.join(work, "services.json"), "w") as handle:
        json.dump([{"pid": p.pid, "start": (read_stat(p.pid) or (0, 0, 0))[2]} for p in services], handle)


def stop_stale_services(path):
    """Stop the moto/emulator servers of a run that was killed (-9): by pid, and only when the pid
    still is the same process (same start time) that the run recorded."""
    try:
        with open(os.path.join(path, "services.json")) as handle:
            entries = json.load(handle)
    except (OSError, ValueError):
        return
    for entry in entries:
        stat = read_stat(entry["pid"])
        if stat is not None and stat[2] == entry["start"]:
            log("stopping server pid %d left by that run" % entry["pid"])
            try:
                os.killpg(entry["pid"], signal.SIGTERM)
            except OSError:
                pass


def remove_stale_workdirs():
    """Remove the ``run-<pid>-*`` work directories of runs whose process is gone, and their servers."""
    for name in os.listdir(BENCH_DIR):
        if not name.startswith("run-"):
            continue
        try:
            pid = int(name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not os.path.exists("/proc/%d" % pid):
            log("removing %s left by an interrupted run" % name)
            stop_stale_services(os.path.join(BENCH_DIR, name))
            remove_workdir(os.path.join(BENCH_DIR, name))
