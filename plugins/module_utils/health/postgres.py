# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL reachability for ``health_facts``: connect, then connections against ``max_connections`` and the
server's role (primary or standby). ``pg_insights`` is the deep look; this is the one-line answer "is it up"."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import psycopg
    HAS_PSYCOPG = True
except ImportError:
    HAS_PSYCOPG = False

QUERY = ("SELECT current_setting('max_connections')::int, (SELECT count(*) FROM pg_stat_activity), "
         "pg_is_in_recovery(), current_setting('server_version')")


def target_name(spec):
    host = spec.get("login_host") or "local socket"
    return spec.get("name") or "%s:%s/%s" % (host, spec.get("login_port") or 5432, spec.get("database") or "postgres")


def check(spec):
    """``{target, connections, max_connections, connections_percent, in_recovery, server_version}`` or
    ``{target, error}``; the password never appears in the result (libpq does not echo it)."""
    result = {"target": target_name(spec)}
    if not HAS_PSYCOPG:
        result["error"] = "the Python library psycopg (3.x) is missing on the host (pip install 'psycopg[binary]')"
        return result
    params = {"dbname": spec.get("database") or "postgres", "connect_timeout": int(spec.get("timeout") or 5),
              "application_name": "watchkeeper-health"}
    for key, name in (("login_host", "host"), ("login_port", "port"), ("login_user", "user"),
                      ("login_password", "password"), ("passfile", "passfile")):
        if spec.get(key):
            params[name] = spec[key]
    try:
        with psycopg.connect(**params) as conn:
            maximum, used, recovery, version = conn.execute(QUERY).fetchone()
    except psycopg.Error as exc:
        text = " ".join(str(exc).split())
        if spec.get("login_password"):
            text = text.replace(spec["login_password"], "********")
        word = "authentication failed" if "authentication" in text or "password" in text else "unreachable"
        result["error"] = "%s: %s" % (word, text[:300])
        return result
    result.update(connections=used, max_connections=maximum, in_recovery=bool(recovery), server_version=version,
                  connections_percent=round(100.0 * used / maximum, 2) if maximum else None)
    return result
