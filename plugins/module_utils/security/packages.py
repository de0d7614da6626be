# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Package and time rules: pending security updates (``apt-get -s upgrade`` against the lists as they are),
unattended-upgrades installed and enabled, a time synchronisation service active."""

import os
import re
import time

from ansible_collections.watchkeeper.ops.plugins.module_utils.security.rules import ERROR, Rule, failed, not_applicable, outcome, passed

INST_RE = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+) ([^\[)]*)")
PERIODIC_RE = re.compile(r'^APT::Periodic::Unattended-Upgrade "([^"]*)";', re.M)
LISTS = "/var/lib/apt/lists"
TIME_SERVICES = ("systemd-timesyncd", "chrony", "chronyd", "ntpsec", "ntp", "openntpd")
SHOWN = 15


def security_upgrades(text):
    """``[(package, installed, candidate, origin)]`` of the ``Inst`` lines of ``apt-get -s upgrade`` whose origin is
    a security archive (``Debian-Security``, ``<suite>-security``, Ubuntu's ``-security`` pockets)."""
    out = []
    for line in (text or "").splitlines():
        match = INST_RE.match(line)
        if match and "security" in match.group(4).lower():
            out.append((match.group(1), match.group(2), match.group(3), match.group(4).strip()))
    return out


def lists_age_s(ctx):
    """Age in seconds of the newest apt list file, or None when there are none."""
    names = [n for n in ctx.listdir(LISTS) if n.endswith(("_Packages", "_InRelease", "_Release")) or "_Packages" in n]
    times = [s.st_mtime for s in (ctx.stat(os.path.join(LISTS, n)) for n in names) if s is not None]
    return (time.time() - max(times)) if times else None


def check_security_updates(ctx):
    age = lists_age_s(ctx)
    if ctx.params.get("apt_update") and not ctx.params.get("check_mode"):
        ctx.run(["apt-get", "-q", "update"], timeout=600)
        age = lists_age_s(ctx)
    rc, out, err = ctx.run(["apt-get", "-s", "-q", "-o", "Debug::NoLocking=true", "upgrade"])
    if rc == 127:
        return not_applicable("apt-get is not installed (not a Debian-family host)")
    if rc != 0:
        return outcome(ERROR, "apt-get -s upgrade exited %d: %s" % (rc, (err or out).strip()[-500:]))
    if age is None:
        return outcome(ERROR, "no package lists in %s: pending updates cannot be judged (run apt-get update, or set "
                              "security_audit_apt_update)" % LISTS)
    found = security_upgrades(out)
    lists = "lists %.1f h old" % (age / 3600.0)
    if found:
        shown = ", ".join("%s %s -> %s (%s)" % (p, i or "?", c, o) for p, i, c, o in found[:SHOWN])
        more = " and %d more" % (len(found) - SHOWN) if len(found) > SHOWN else ""
        return failed("%d pending security updates (%s): %s%s" % (len(found), lists, shown, more))
    max_age = ctx.params.get("apt_lists_max_age_h")
    if max_age and age > max_age * 3600:
        return failed("no pending security update, but the apt lists are %.1f h old (more than %s h)" % (age / 3600.0, max_age))
    return passed("apt-get -s upgrade: no pending security update (%s)" % lists)


def check_unattended_upgrades(ctx):
    rc, out, _err = ctx.run(["dpkg-query", "-W", "-f=${Status} ${Version}", "unattended-upgrades"])
    if rc == 127:
        return not_applicable("dpkg-query is not installed (not a Debian-family host)")
    if rc != 0 or not out.startswith("install ok installed"):
        return failed("unattended-upgrades: %s" % (out.strip() or "not installed"))
    rc, dump, err = ctx.run(["apt-config", "dump"])
    match = PERIODIC_RE.search(dump or "")
    value = match.group(1) if match else None
    if value is None or value.strip() in ("", "0"):
        return failed("unattended-upgrades %s installed, but APT::Periodic::Unattended-Upgrade is %s"
                      % (out.split()[-1], '"%s"' % value if value is not None else "unset"))
    return passed("unattended-upgrades %s; APT::Periodic::Unattended-Upgrade \"%s\"" % (out.split()[-1], value))


def check_time_sync(ctx):
    if ctx.in_container():
        return not_applicable("a container: its clock is the host kernel's, audit time sync on the container host")
    states = []
    for name in TIME_SERVICES:
        rc, out, _err = ctx.run(["systemctl", "is-active", name])
        if rc == 127:
            return outcome(ERROR, "systemctl is not available: cannot tell whether a time service runs")
        if out.strip() == "active":
            return passed("%s is active" % name)
        states.append("%s %s" % (name, out.strip() or "unknown"))
    return failed("no time synchronisation service active: %s" % ", ".join(states))


RULES = [
    Rule("WK-PKG-001", "packages", "high", "No pending security updates",
         "Install them (apt-get upgrade, or let unattended-upgrades run); keep the apt lists current.",
         check_security_updates, ["Lynis PKGS-7392", "ISO 27001 8.8"]),
    Rule("WK-PKG-002", "packages", "medium", "unattended-upgrades is installed and enabled",
         "apt-get install unattended-upgrades and set APT::Periodic::Unattended-Upgrade \"1\" "
         "(dpkg-reconfigure -plow unattended-upgrades).", check_unattended_upgrades, ["Lynis PKGS-7420"]),
    Rule("WK-TIME-001", "time", "medium", "A time synchronisation service is active",
         "Enable systemd-timesyncd or chrony (systemctl enable --now chrony).", check_time_sync,
         ["Lynis TIME-3104", "ISO 27001 8.17"]),
]
