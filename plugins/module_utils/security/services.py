# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx rules (from ``nginx -T``: protocols, ciphers, certificate expiry, key modes) and Redis rules (from its
configuration file: protected mode, authentication, bind)."""

import datetime
import re
import stat as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.security.files import secret_mode_problem
from ansible_collections.watchkeeper.ops.plugins.module_utils.security.rules import ERROR, Rule, failed, not_applicable, outcome, passed

DIRECTIVE_RE = r"^\s*%s\s+([^;]*);"
WEAK_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1")
WEAK_CIPHER_PARTS = ("RC4", "DES", "MD5", "NULL", "EXPORT", "aNULL", "eNULL", "ADH", "AECDH")
LOOPBACK_BIND = ("127.0.0.1", "::1", "-::1", "localhost")


def nginx_config(ctx):
    if "nginx" not in ctx.cache:
        binary = ctx.params.get("nginx_path") or "/usr/sbin/nginx"
        rc, out, err = ctx.run([binary, "-T"])
        if rc == 127 or (rc != 0 and ctx.stat(binary) is None):
            ctx.cache["nginx"] = not_applicable("%s is not installed" % binary)
        elif rc != 0:
            ctx.cache["nginx"] = outcome(ERROR, "nginx -T exited %d: %s" % (rc, (err or out).strip()[-500:]))
        else:
            ctx.cache["nginx"] = strip_comments(out)
    return ctx.cache["nginx"]


def strip_comments(text):
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def directives(text, name):
    return [v.strip() for v in re.findall(DIRECTIVE_RE % re.escape(name), text, re.M)]


def uses_tls(text):
    return bool(re.search(r"^\s*listen\s+[^;]*\bssl\b", text, re.M)) or bool(directives(text, "ssl_certificate"))


def _tls_config(ctx):
    conf = nginx_config(ctx)
    if not isinstance(conf, str):
        return conf
    if not uses_tls(conf):
        return not_applicable("nginx -T: no TLS server (no listen ... ssl, no ssl_certificate)")
    return conf


def check_nginx_protocols(ctx):
    conf = _tls_config(ctx)
    if not isinstance(conf, str):
        return conf
    values = directives(conf, "ssl_protocols")
    if not values:
        return passed("no ssl_protocols: nginx's default (TLSv1.2 TLSv1.3 since 1.23)")
    weak = sorted(set(p for v in values for p in v.split() if p in WEAK_PROTOCOLS))
    lines = "; ".join("ssl_protocols %s" % v for v in values)
    return failed("%s (weak: %s)" % (lines, " ".join(weak))) if weak else passed(lines)


def weak_ciphers(value):
    """Cipher-string elements that enable a weak family (``!RC4`` excludes it and is fine)."""
    out = []
    for element in re.split(r"[:\s,]+", value):
        if element and element[0] not in "!-" and any(part.upper() in element.upper() for part in WEAK_CIPHER_PARTS):
            out.append(element)
    return out


def check_nginx_ciphers(ctx):
    conf = _tls_config(ctx)
    if not isinstance(conf, str):
        return conf
    values = [v.strip("\"'") for v in directives(conf, "ssl_ciphers")]
    if not values:
        return passed("no ssl_ciphers: nginx's default HIGH:!aNULL:!MD5")
    weak = sorted(set(e for v in values for e in weak_ciphers(v)))
    lines = "; ".join("ssl_ciphers %s" % v for v in values)
    return failed("%s (weak: %s)" % (lines, " ".join(weak))) if weak else passed(lines)


def not_after(ctx, path):
    """The certificate's notAfter as an aware datetime (``openssl x509``)."""
    rc, out, err = ctx.run(["openssl", "x509", "-noout", "-enddate", "-in", ctx.path(path)])
    if rc != 0:
        raise ValueError("openssl x509 on %s: %s" % (path, (err or out).strip()[-300:]))
    text = out.strip().split("=", 1)[1]
    return datetime.datetime.strptime(text.replace("  ", " "), "%b %d %H:%M:%S %Y %Z").replace(tzinfo=datetime.timezone.utc)


def check_nginx_certificates(ctx):
    conf = _tls_config(ctx)
    if not isinstance(conf, str):
        return conf
    now = ctx.now or datetime.datetime.now(datetime.timezone.utc)
    days_min = ctx.params.get("certificate_min_days", 21)
    results = []
    for path in sorted(set(v.strip("\"'") for v in directives(conf, "ssl_certificate"))):
        try:
            end = not_after(ctx, path)
        except ValueError as exc:
            results.append(outcome(ERROR, str(exc), subject=path))
            continue
        days = (end - now).total_seconds() / 86400.0
        line = "%s notAfter %s (%.1f days left)" % (path, end.strftime("%Y-%m-%dT%H:%M:%SZ"), days)
        results.append(failed(line, subject=path) if days < days_min else passed(line, subject=path))
    return results


def check_nginx_keys(ctx):
    conf = _tls_config(ctx)
    if not isinstance(conf, str):
        return conf
    results = []
    for path in sorted(set(v.strip("\"'") for v in directives(conf, "ssl_certificate_key"))):
        info = ctx.stat(path)
        if info is None:
            results.append(outcome(ERROR, "%s does not exist" % path, subject=path))
            continue
        problem = secret_mode_problem(st.S_IMODE(info.st_mode), info.st_uid)
        line = "%s mode %04o uid %d" % (path, st.S_IMODE(info.st_mode), info.st_uid)
        results.append(failed("%s: %s" % (line, problem), subject=path) if problem else passed(line, subject=path))
    return results


def parse_redis(text):
    """redis.conf -> ``{directive: [values]}`` (directive names lower case, values as written)."""
    out = {}
    for line in (text or "").splitlines():
        parts = line.strip().split(None, 1)
        if parts and not parts[0].startswith("#"):
            out.setdefault(parts[0].lower(), []).append(parts[1].strip() if len(parts) > 1 else "")
    return out


def redis_config(ctx):
    path = ctx.params.get("redis_config") or "/etc/redis/redis.conf"
    text = ctx.read(path)
    if text is None:
        return not_applicable("%s does not exist (Redis not installed)" % path), path
    conf = parse_redis(text)
    for include in conf.get("include", []):
        conf.update(parse_redis(ctx.read(include, "")))
    return conf, path


def check_redis_protected(ctx):
    conf, path = redis_config(ctx)
    if "status" in conf:
        return conf
    value = (conf.get("protected-mode") or ["yes"])[-1]
    return failed("%s: protected-mode %s" % (path, value)) if value.lower() == "no" else passed("%s: protected-mode %s" % (path, value))


def check_redis_auth(ctx):
    conf, path = redis_config(ctx)
    if "status" in conf:
        return conf
    if conf.get("requirepass") and conf["requirepass"][-1].strip("\"'"):
        return passed("%s: requirepass ********" % path)
    users = [u for u in conf.get("user", []) if u.split()[0] == "default"]
    if users:
        rule = users[-1].split()
        if "off" in rule or "nopass" not in rule:
            return passed("%s: user default %s" % (path, " ".join("********" if w.startswith((">", "#")) else w for w in rule[1:])))
        return failed("%s: user default %s (nopass)" % (path, " ".join(rule[1:])))
    if conf.get("aclfile"):
        return outcome(ERROR, "%s: aclfile %s - the default user is defined there" % (path, conf["aclfile"][-1]))
    return failed("%s: no requirepass and no ACL for the default user (anyone connecting is the default user)" % path)


def check_redis_bind(ctx):
    conf, path = redis_config(ctx)
    if "status" in conf:
        return conf
    binds = conf.get("bind")
    if not binds:
        return failed("%s: no bind directive (Redis listens on every interface)" % path)
    addresses = binds[-1].split()
    public = [a for a in addresses if a not in LOOPBACK_BIND and a not in (ctx.params.get("redis_bind_allowed") or [])]
    return failed("%s: bind %s" % (path, binds[-1])) if public else passed("%s: bind %s" % (path, binds[-1]))


RULES = [
    Rule("WK-NGX-001", "nginx", "high", "nginx accepts no SSL or TLS 1.0/1.1",
         "Set 'ssl_protocols TLSv1.2 TLSv1.3;' in every server and the http block; nginx -t && systemctl reload nginx.",
         check_nginx_protocols, ["Mozilla server-side TLS (intermediate)"]),
    Rule("WK-NGX-002", "nginx", "high", "nginx offers no weak cipher suites",
         "Use the Mozilla intermediate ssl_ciphers list (no RC4, DES, 3DES, MD5, NULL, EXPORT, anonymous suites).",
         check_nginx_ciphers, ["Mozilla server-side TLS (intermediate)"]),
    Rule("WK-NGX-003", "nginx", "high", "nginx certificates are valid for at least certificate_min_days",
         "Renew the certificate (certbot renew or your CA) and reload nginx.", check_nginx_certificates),
    Rule("WK-NGX-004", "nginx", "high", "nginx private keys are private (no access for others, owner root)",
         "chmod 0600 and chown root the key file; replace the key and certificate if others could read it.",
         check_nginx_keys),
    Rule("WK-RDS-001", "redis", "high", "Redis protected mode is on",
         "Set 'protected-mode yes' in redis.conf and restart Redis.", check_redis_protected),
    Rule("WK-RDS-002", "redis", "critical", "Redis requires authentication",
         "Set requirepass (or an ACL for the default user without nopass) and restart Redis.", check_redis_auth),
    Rule("WK-RDS-003", "redis", "high", "Redis binds to loopback only",
         "Set 'bind 127.0.0.1 -::1' in redis.conf (or list a private address in security_audit_redis_bind_allowed).",
         check_redis_bind),
]
