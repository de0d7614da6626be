# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SSH daemon rules, read from ``sshd -T`` (the effective configuration: includes, Match-less defaults and
compiled-in defaults count, not only what sshd_config spells out)."""

from ansible_collections.watchkeeper.ops.plugins.module_utils.security.rules import Rule, failed, not_applicable, outcome, passed, ERROR

# Algorithms the devsec ssh baseline and Lynis (SSH-7408) reject: CBC modes, RC4, 3DES; MD5/SHA-1/64-bit MACs;
# SHA-1 key exchange.
WEAK_CIPHERS = ("3des-cbc", "aes128-cbc", "aes192-cbc", "aes256-cbc", "blowfish-cbc", "cast128-cbc", "arcfour",
                "arcfour128", "arcfour256", "rijndael-cbc@lysator.liu.se")
WEAK_MAC_PARTS = ("md5", "sha1", "umac-64", "ripemd160", "-96")
WEAK_KEX = ("diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1",
            "gss-gex-sha1-", "gss-group1-sha1-", "gss-group14-sha1-")


def parse(text):
    """``sshd -T`` output -> ``{keyword: value}`` (keywords lower case, first occurrence wins)."""
    out = {}
    for line in (text or "").splitlines():
        parts = line.strip().split(None, 1)
        if parts and parts[0] not in out:
            out[parts[0].lower()] = parts[1] if len(parts) > 1 else ""
    return out


def effective(ctx):
    """The parsed ``sshd -T`` of the host, or an outcome (not applicable / error) to return as is."""
    if "sshd" not in ctx.cache:
        binary = ctx.params.get("sshd_path") or "/usr/sbin/sshd"
        rc, out, err = ctx.run([binary, "-T"])
        if rc == 127 or (ctx.stat(binary) is None and rc != 0):
            ctx.cache["sshd"] = not_applicable("%s is not installed" % binary)
        elif rc != 0:
            ctx.cache["sshd"] = outcome(ERROR, "sshd -T exited %d: %s" % (rc, (err or out).strip()[-500:]))
        else:
            ctx.cache["sshd"] = parse(out)
    return ctx.cache["sshd"]


def _setting(ctx, keyword, bad):
    conf = effective(ctx)
    if "status" in conf:
        return conf
    value = conf.get(keyword, "")
    line = "%s %s" % (keyword, value)
    return failed(line) if value.lower() in bad else passed(line)


def _algorithms(ctx, keyword, is_weak):
    conf = effective(ctx)
    if "status" in conf:
        return conf
    weak = [a for a in conf.get(keyword, "").split(",") if a and is_weak(a.lower())]
    if weak:
        return failed("%s %s (weak: %s)" % (keyword, conf.get(keyword, ""), ",".join(weak)))
    return passed("%s %s" % (keyword, conf.get(keyword, "")))


def check_root_login(ctx):
    return _setting(ctx, "permitrootlogin", ("yes",))


def check_password_auth(ctx):
    return _setting(ctx, "passwordauthentication", ("yes",))


def check_empty_passwords(ctx):
    return _setting(ctx, "permitemptypasswords", ("yes",))


def check_ciphers(ctx):
    return _algorithms(ctx, "ciphers", lambda a: a in WEAK_CIPHERS)


def check_macs(ctx):
    return _algorithms(ctx, "macs", lambda a: any(p in a for p in WEAK_MAC_PARTS))


def check_kex(ctx):
    return _algorithms(ctx, "kexalgorithms", lambda a: any(a.startswith(k) for k in WEAK_KEX))


RULES = [
    Rule("WK-SSH-001", "ssh", "high", "SSH root login with a password is not permitted",
         "Set 'PermitRootLogin no' (or prohibit-password) in /etc/ssh/sshd_config and reload sshd.", check_root_login,
         ["Lynis SSH-7408", "devsec ssh-baseline sshd-11"]),
    Rule("WK-SSH-002", "ssh", "high", "SSH password authentication is disabled",
         "Set 'PasswordAuthentication no' in /etc/ssh/sshd_config (keys only) and reload sshd.", check_password_auth,
         ["Lynis SSH-7408", "devsec ssh-baseline sshd-15"]),
    Rule("WK-SSH-003", "ssh", "critical", "SSH does not accept empty passwords",
         "Set 'PermitEmptyPasswords no' in /etc/ssh/sshd_config and reload sshd.", check_empty_passwords,
         ["devsec ssh-baseline sshd-17"]),
    Rule("WK-SSH-004", "ssh", "medium", "SSH offers no weak ciphers (CBC, RC4, 3DES)",
         "Set 'Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,"
         "aes192-ctr,aes128-ctr' and reload sshd.", check_ciphers, ["devsec ssh-baseline sshd-02"]),
    Rule("WK-SSH-005", "ssh", "medium", "SSH offers no weak MACs (MD5, SHA-1, 64-bit tags)",
         "Set 'MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com' and reload sshd.",
         check_macs, ["devsec ssh-baseline sshd-04"]),
    Rule("WK-SSH-006", "ssh", "medium", "SSH offers no SHA-1 key exchange",
         "Set 'KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,"
         "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512' and reload sshd.", check_kex,
         ["devsec ssh-baseline sshd-03"]),
]
