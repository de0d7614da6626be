# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL rules through psycopg, read-only SQL in a read-only transaction: ssl, password_encryption,
pg_hba.conf lines (``trust``, ``md5``, ``0.0.0.0/0``), superusers, CREATE on schema public for PUBLIC.

The login needs ``pg_read_all_settings`` (for ``SHOW hba_file``); pg_hba.conf is read from that path on the
host (``pg_hba_file_rules`` is for superusers only), so the audit runs as root on the database host."""

import re

from ansible_collections.watchkeeper.ops.plugins.module_utils.security.rules import ERROR, Rule, failed, not_applicable, outcome, passed

OPEN_ADDRESSES = ("0.0.0.0/0", "::/0", "all", "0.0.0.0", "::0/0")


def connect(params):
    import psycopg  # pylint: disable=import-outside-toplevel
    kwargs = dict(dbname=params.get("database") or "postgres", connect_timeout=params.get("timeout") or 5,
                  application_name="watchkeeper-security-audit", options="-c default_transaction_read_only=on")
    for ours, theirs in (("login_host", "host"), ("login_port", "port"), ("login_user", "user"),
                         ("login_password", "password"), ("passfile", "passfile")):
        if params.get(ours) not in (None, ""):
            kwargs[theirs] = params[ours]
    return psycopg.connect(**kwargs)


def facts(ctx):
    """One read-only session collects everything the rules look at (cached); an outcome when it cannot."""
    if "postgres" in ctx.cache:
        return ctx.cache["postgres"]
    params = ctx.params.get("postgres")
    if not params:
        ctx.cache["postgres"] = not_applicable("no PostgreSQL server to audit (security_audit_postgres unset)")
        return ctx.cache["postgres"]
    try:
        conn = connect(params)
    except ImportError:
        ctx.cache["postgres"] = outcome(ERROR, "psycopg is not installed on the host")
        return ctx.cache["postgres"]
    except Exception as exc:  # pylint: disable=broad-except
        ctx.cache["postgres"] = outcome(ERROR, "cannot connect: %s" % str(exc).strip().splitlines()[0])
        return ctx.cache["postgres"]
    with conn:
        cur = conn.cursor()
        out = {}
        for name in ("ssl", "password_encryption", "hba_file"):
            cur.execute("SELECT current_setting(%s, true)", (name,))
            out[name] = cur.fetchone()[0]
        cur.execute("SELECT rolname FROM pg_roles WHERE rolsuper ORDER BY rolname")
        out["superusers"] = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT coalesce(array_to_string(nspacl, ','), '') FROM pg_namespace WHERE nspname = 'public'")
        row = cur.fetchone()
        out["public_acl"] = row[0] if row else None
        cur.execute("SELECT current_database()")
        out["database"] = cur.fetchone()[0]
    ctx.cache["postgres"] = out
    return out


def hba_lines(text):
    """Effective lines of pg_hba.conf (comments and blank lines dropped, continuation lines joined)."""
    out = []
    for line in re.sub(r"\\\n", " ", text or "").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(" ".join(line.split()))
    return out


def weak_hba(lines):
    bad = []
    for line in lines:
        words = line.split()
        if words[0] == "local":
            method = words[3] if len(words) > 3 else ""
            address = None
        else:
            address = words[3] if len(words) > 3 else ""
            method = words[4] if len(words) > 4 else ""
            if "/" not in address and len(words) > 5 and re.match(r"^[\d.]+$", words[4]):
                address, method = "%s %s" % (words[3], words[4]), words[5] if len(words) > 5 else ""
        problems = [m for m in ("trust", "md5", "password") if method == m]
        if address and address.split()[0] in OPEN_ADDRESSES:
            problems.append("open to every address")
        if problems:
            bad.append("%s (%s)" % (line, ", ".join(problems)))
    return bad


def _with_facts(ctx, judge):
    found = facts(ctx)
    return found if "status" in found else judge(found)


def check_ssl(ctx):
    return _with_facts(ctx, lambda f: passed("ssl = on") if f["ssl"] == "on" else failed("ssl = %s" % f["ssl"]))


def check_password_encryption(ctx):
    return _with_facts(ctx, lambda f: passed("password_encryption = %s" % f["password_encryption"])
                       if f["password_encryption"] == "scram-sha-256" else failed("password_encryption = %s" % f["password_encryption"]))


def check_hba(ctx):
    def judge(found):
        if not found["hba_file"]:
            return outcome(ERROR, "SHOW hba_file is empty: grant pg_read_all_settings to the audit login")
        text = ctx.read(found["hba_file"])
        if text is None:
            return outcome(ERROR, "%s is not readable (run the audit on the database host with become)" % found["hba_file"])
        bad = weak_hba(hba_lines(text))
        return failed("%s: %s" % (found["hba_file"], "; ".join(bad))) if bad else passed(
            "%s: no trust, md5, password or open-address line" % found["hba_file"])
    return _with_facts(ctx, judge)


def check_superusers(ctx):
    allowed = (ctx.params.get("postgres") or {}).get("superusers_allowed") or ["postgres"]

    def judge(found):
        extra = [r for r in found["superusers"] if r not in allowed]
        line = "superusers: %s" % ", ".join(found["superusers"])
        return failed("%s (not allowed: %s)" % (line, ", ".join(extra))) if extra else passed(line)
    return _with_facts(ctx, judge)


def check_public_create(ctx):
    def judge(found):
        grants = [g for g in (found["public_acl"] or "").split(",") if g.startswith("=") and "C" in g.split("/")[0]]
        line = "database %s, schema public ACL {%s}" % (found["database"], found["public_acl"])
        return failed(line + " (PUBLIC has CREATE)") if grants else passed(line)
    return _with_facts(ctx, judge)


RULES = [
    Rule("WK-PG-001", "postgres", "high", "PostgreSQL has ssl on",
         "Set ssl = on with a certificate and key (ssl_cert_file, ssl_key_file) and reload.", check_ssl, ["CIS PostgreSQL 6.7"]),
    Rule("WK-PG-002", "postgres", "medium", "PostgreSQL hashes passwords with scram-sha-256",
         "Set password_encryption = scram-sha-256, reload, and reset every password.", check_password_encryption),
    Rule("WK-PG-003", "postgres", "high", "pg_hba.conf has no trust, md5 or password method and no line open to every address",
         "Use scram-sha-256 (or peer for local) and the narrowest address; reload PostgreSQL.", check_hba, ["CIS PostgreSQL 4.x"]),
    Rule("WK-PG-004", "postgres", "high", "No superuser besides the allowed ones",
         "ALTER ROLE name NOSUPERUSER (grant the predefined roles the account needs instead).", check_superusers),
    Rule("WK-PG-005", "postgres", "medium", "PUBLIC cannot CREATE in schema public",
         "REVOKE CREATE ON SCHEMA public FROM PUBLIC; (the PostgreSQL 15 default).", check_public_create, ["CVE-2018-1058"]),
]
