# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Account rules: UID-0 accounts besides root, accounts without a password, sudo NOPASSWD."""

import re

from ansible_collections.watchkeeper.ops.plugins.module_utils.security.rules import Rule, failed, not_applicable, passed

SUDOERS = "/etc/sudoers"
SUDOERS_D = "/etc/sudoers.d"
# sudo skips files in an includedir whose name ends in ~ or contains a dot
SKIPPED_NAME = re.compile(r"(~$|\.)")


def uid0_accounts(passwd_text):
    """Lines of /etc/passwd with UID 0 other than root's."""
    out = []
    for line in (passwd_text or "").splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] != "root" and fields[2].strip() == "0":
            out.append(line)
    return out


def empty_password_accounts(shadow_text):
    """Names of accounts whose /etc/shadow password field is empty (login without a password)."""
    out = []
    for line in (shadow_text or "").splitlines():
        fields = line.split(":")
        if len(fields) >= 2 and fields[0] and not line.startswith("#") and fields[1] == "":
            out.append(fields[0])
    return out


def nopasswd_lines(files, allowed=()):
    """``[(file, line)]`` of sudoers rules granting NOPASSWD to a principal not in ``allowed``."""
    out = []
    for path, text in files:
        joined = re.sub(r"\\\n", " ", text or "")
        for line in joined.splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#") or stripped.startswith("Defaults"):
                continue
            if "NOPASSWD" in stripped and stripped.split()[0] not in allowed:
                out.append((path, stripped))
    return out


def sudoers_files(ctx):
    files = []
    for path in [SUDOERS] + ["%s/%s" % (SUDOERS_D, n) for n in ctx.listdir(SUDOERS_D) if not SKIPPED_NAME.search(n)]:
        text = ctx.read(path)
        if text is not None:
            files.append((path, text))
    return files


def check_uid0(ctx):
    text = ctx.read("/etc/passwd")
    if text is None:
        return not_applicable("/etc/passwd is not readable")
    extra = uid0_accounts(text)
    return failed("; ".join(extra)) if extra else passed("only root has UID 0")


def check_empty_passwords(ctx):
    text = ctx.read("/etc/shadow")
    if text is None:
        return not_applicable("/etc/shadow is not readable (run the audit with become)")
    names = empty_password_accounts(text)
    if names:
        return failed("/etc/shadow: empty password field for %s" % ", ".join(names))
    return passed("no account in /etc/shadow has an empty password field")


def check_nopasswd(ctx):
    files = sudoers_files(ctx)
    if not files:
        return not_applicable("no readable sudoers file (sudo not installed or no become)")
    lines = nopasswd_lines(files, ctx.params.get("sudo_nopasswd_allowed") or ())
    if lines:
        return failed("; ".join("%s: %s" % item for item in lines))
    return passed("no NOPASSWD rule in %s" % ", ".join(p for p, _t in files))


RULES = [
    Rule("WK-ACC-001", "accounts", "critical", "No account other than root has UID 0",
         "Give the account its own UID (usermod -u) or remove it.", check_uid0, ["Lynis AUTH-9204"]),
    Rule("WK-ACC-002", "accounts", "critical", "No account has an empty password",
         "Lock the account (passwd -l NAME) or set a password.", check_empty_passwords, ["Lynis AUTH-9283"]),
    Rule("WK-ACC-003", "accounts", "high", "sudo asks for a password (no NOPASSWD rule)",
         "Remove NOPASSWD from the rule, or list the principal in security_audit_sudo_nopasswd_allowed when the "
         "exception is accepted (for example an automation account with a restricted command list).", check_nopasswd,
         ["CIS Debian 5.3"]),
]
