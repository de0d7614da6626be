# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``restore_globals``: replay a backup's ``pg_dumpall --globals-only`` object on a (new) server.

The object is SQL text in pg_dumpall's own shape: ``SET`` lines, then per role ``CREATE ROLE x;``
``ALTER ROLE x WITH ...;`` (with the password hash), ``COMMENT ON ROLE``, ``ALTER ROLE x SET ...``
(per-role settings), ``GRANT a TO x ... GRANTED BY y;`` (memberships), ``CREATE TABLESPACE ...``,
psql meta-commands (``\\restrict``/``\\unrestrict`` on recent minor releases) and ``--`` comments.

* ``split_statements`` cuts the text into statements with a small lexer that knows string
  literals (``''``, ``E'..'``), quoted identifiers (``""``), dollar quotes and comments, so a ``;``
  or a newline inside a comment or an identifier never cuts a statement.
* ``plan`` decides per statement, against the roles the server has **before** the replay: roles that
  do not exist are created with their attributes, settings, comments and memberships; every
  statement about a role that already exists (``CREATE``/``ALTER``/``COMMENT``/``GRANT ... TO`` it) is
  skipped and reported, so an existing role is never altered (or, with ``on_existing: fail``, the task
  fails before anything runs). Tablespaces need a directory on the server's host: they are skipped
  with a warning. Anything else is skipped and reported too.
* ``replay`` runs the kept statements in **one transaction** (role DDL is transactional in
  PostgreSQL): all roles or none. Results and errors name statements by kind and role
  (``ALTER ROLE app``), never by their text, which can hold password hashes.
"""

import re

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError, SourceError
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.fetch import decode_to_reader

try:
    import psycopg
except ImportError:
    pass

_WORD = re.compile(r"[A-Za-z0-9_$]+")
_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
TABLESPACE_WARNING = ("tablespaces are not replayed: a tablespace needs an empty directory owned by the server's "
                      "operating system user on the server's host; create it by hand (see the globals object) "
                      "before restoring a database that uses it")


class Statement(object):
    """One SQL statement: its text (to execute) and its tokens ``(kind, value)``, kind ``word`` (upper-cased),
    ``ident`` (a quoted identifier's value), ``string`` or ``punct``."""

    def __init__(self, text, tokens):
        self.text = text
        self.tokens = tokens

    def words(self):
        return [v for k, v in self.tokens if k == "word"]


def _read_quoted(text, pos, quote, backslash=False):
    """Index after the closing ``quote`` of a literal starting at ``pos`` (the opening quote) and its value."""
    out = []
    i = pos + 1
    while i < len(text):
        char = text[i]
        if backslash and char == "\\" and i + 1 < len(text):
            out.append(text[i:i + 2])
            i += 2
            continue
        if char == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                out.append(quote)
                i += 2
                continue
            return i + 1, "".join(out)
        out.append(char)
        i += 1
    raise ConfigError("the globals object ends inside a quoted %s" % ("identifier" if quote == '"' else "string"),
                      step="globals")


def split_statements(text):
    """``[Statement]`` of pg_dumpall SQL; psql meta-commands (``\\...`` lines) and comments are dropped."""
    statements = []
    tokens = []
    start = None  # where the current statement's text starts
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char in " \t\r\n\f":
            i += 1
        elif char == "\\" and start is None:
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ConfigError("the globals object ends inside a comment", step="globals")
            i = end + 2
        else:
            if start is None:
                start = i
            if char == ";":
                statements.append(Statement(text[start:i + 1], tokens))
                tokens, start = [], None
                i += 1
            elif char == "'":
                i, value = _read_quoted(text, i, "'")
                tokens.append(("string", value))
            elif char == '"':
                i, value = _read_quoted(text, i, '"')
                tokens.append(("ident", value))
            elif char in "Ee" and text.startswith("'", i + 1):
                i, value = _read_quoted(text, i + 1, "'", backslash=True)
                tokens.append(("string", value))
            elif char == "$" and _DOLLAR.match(text, i):
                tag = _DOLLAR.match(text, i).group(0)
                end = text.find(tag, i + len(tag))
                if end < 0:
                    raise ConfigError("the globals object ends inside a dollar-quoted string", step="globals")
                tokens.append(("string", text[i + len(tag):end]))
                i = end + len(tag)
            elif _WORD.match(text, i):
                word = _WORD.match(text, i).group(0)
                tokens.append(("word", word.upper()))
                i += len(word)
            else:
                tokens.append(("punct", char))
                i += 1
    if start is not None and text[start:].strip():
        raise ConfigError("the globals object ends with an unterminated statement", step="globals")
    return statements


def _name(token):
    """A role or tablespace name as PostgreSQL stores it: quoted as written, bare ones folded to lower case."""
    if token is None or token[0] not in ("word", "ident"):
        return None
    return token[1] if token[0] == "ident" else token[1].lower()


def _after(tokens, *keywords):
    """The token that follows the first occurrence of the keyword sequence, or None."""
    words = [t[1] if t[0] == "word" else None for t in tokens]
    for index in range(len(tokens) - len(keywords)):
        if tuple(words[index:index + len(keywords)]) == keywords:
            return tokens[index + len(keywords)]
    return None


def classify(stmt):
    """``(kind, name, summary)``: kind ``set``, ``role`` (about role ``name``), ``create_role``, ``tablespace``,
    ``other``. ``summary`` names the statement without any literal (passwords stay out of results)."""
    words = stmt.words()
    head = words[:3]
    tokens = stmt.tokens
    if head[:1] == ["SET"] or head[:1] == ["RESET"]:
        return "set", None, " ".join(words[:2])
    if "TABLESPACE" in head or _after(tokens, "ON", "TABLESPACE") is not None:
        target = _after(tokens, "TABLESPACE")
        return "tablespace", _name(target), "%s TABLESPACE %s" % (" ".join(head[:1]), _name(target))
    if head[:2] in (["CREATE", "ROLE"], ["CREATE", "USER"], ["CREATE", "GROUP"]):
        role = _name(tokens[2] if len(tokens) > 2 else None)
        return "create_role", role, "CREATE ROLE %s" % role
    if head[:2] in (["ALTER", "ROLE"], ["ALTER", "USER"], ["ALTER", "GROUP"]):
        role = _name(tokens[2] if len(tokens) > 2 else None)
        return "role", role, "ALTER ROLE %s" % role
    if head[:3] == ["COMMENT", "ON", "ROLE"]:
        role = _name(_after(tokens, "ROLE"))
        return "role", role, "COMMENT ON ROLE %s" % role
    if head[:2] == ["SECURITY", "LABEL"] and _after(tokens, "ON", "ROLE") is not None:
        role = _name(_after(tokens, "ON", "ROLE"))
        return "role", role, "SECURITY LABEL ON ROLE %s" % role
    if head[:1] in (["GRANT"], ["REVOKE"]):
        member = _name(_after(tokens, "TO") if head[0] == "GRANT" else _after(tokens, "FROM"))
        granted = []
        for kind, value in tokens[1:]:
            if kind == "word" and value in ("TO", "FROM"):
                break
            if kind in ("word", "ident"):
                granted.append(value.lower() if kind == "word" else '"%s"' % value)
        return "role", member, "%s %s %s %s" % (head[0], " ".join(granted), "TO" if head[0] == "GRANT" else "FROM",
                                                member)
    return "other", None, " ".join(words[:3])


def plan(statements, existing, on_existing="skip"):
    """Which statements run: ``(run, report)`` where ``run`` is ``[Statement]`` and ``report`` the result's
    ``globals`` dict (``roles_created``, ``roles_existing``, ``skipped``, ``warnings``, ``statements``)."""
    run = []
    created = []
    existing_seen = []
    skipped = []
    warnings = []
    backup_roles = set()
    for stmt in statements:
        kind, name, summary = classify(stmt)
        if kind == "create_role":
            backup_roles.add(name)
        if kind == "set":
            if summary != "SET CLIENT_ENCODING":  # the text is already decoded; psycopg speaks the connection's
                run.append(stmt)
        elif kind in ("create_role", "role") and name is not None:
            if name in existing:
                if name not in existing_seen and name in backup_roles:
                    existing_seen.append(name)
                skipped.append({"statement": summary, "reason": "role %s exists on the server: left untouched" % name})
            else:
                if kind == "create_role":
                    created.append(name)
                run.append(stmt)
        elif kind == "tablespace":
            skipped.append({"statement": summary, "reason": "tablespace: not replayed"})
            if TABLESPACE_WARNING not in warnings:
                warnings.append(TABLESPACE_WARNING)
        else:
            skipped.append({"statement": summary, "reason": "not a role statement this module replays"})
            warnings.append("statement %r of the globals object was not replayed" % summary)
    report = {"roles_created": created, "roles_existing": existing_seen, "skipped": skipped, "warnings": warnings,
              "statements": {"total": len(statements), "applied": 0, "skipped": len(skipped)}}
    if on_existing == "fail" and existing_seen:
        raise ConfigError("the globals object defines roles that already exist on the server: %s; nothing was "
                          "replayed" % ", ".join(existing_seen), step="globals",
                          hint="set restore_globals_existing: skip to create only the missing roles and leave the "
                               "existing ones untouched")
    return run, report


def existing_roles(conn):
    return set(row[0] for row in conn.execute("SELECT rolname FROM pg_roles").fetchall())


def replay(connect, text, on_existing="skip", check_mode=False):
    """Replay the globals SQL ``text`` through ``connect()`` (a psycopg connection, autocommit). Returns the report;
    ``check_mode`` plans against the server's roles and changes nothing."""
    statements = split_statements(text)
    with connect() as conn:
        run, report = plan(statements, existing_roles(conn), on_existing)
        if check_mode:
            report["would_create"] = report.pop("roles_created")
            return report
        current = None
        try:
            with conn.transaction():
                for stmt in run:
                    current = stmt
                    conn.execute(stmt.text)
        except psycopg.Error as exc:
            # the server's message only (first line: never the statement, which may carry a password hash)
            message = str(exc).strip().split("\n", maxsplit=1)[0]
            raise SourceError("replaying the globals object failed at %s: %s; nothing of it was applied" % (
                classify(current)[2] if current else "the start", message), step="globals",
                hint="the login role needs CREATEROLE (SUPERUSER for superuser roles)")
    report["statements"]["applied"] = len(run)
    return report


def _globals_object(manifest):
    found = [o for o in manifest.get("objects") or [] if o.get("role") == "globals"]
    return found[0] if found else None


def require(params, manifest):
    """With ``restore_globals``: fail before anything is downloaded when the backup has no globals object."""
    if not params.get("restore_globals") or manifest["source"]["kind"] != "postgres":
        return
    if _globals_object(manifest) is None:
        raise ConfigError("restore_globals is true but backup %s of job %s has no globals object (it was taken "
                          "without include_globals)" % (manifest["backup_id"], manifest["job"]), step="globals",
                          hint="create the roles by hand, or restore a backup taken with source.include_globals: true")


def apply(run):
    """The runner's step: download and decode the globals object of ``run.manifest`` and replay it on
    ``run.open_server()``; in check mode only plan. Returns the result's ``globals`` (None when not asked)."""
    params = run.params
    if not params.get("restore_globals") or run.kind != "postgres":
        return None
    require(params, run.manifest)
    obj = _globals_object(run.manifest)
    raw = run.timed("download_decrypt_s", decode_to_reader, run.storage, obj, run.decryption.prepare(),
                    lambda stream: stream.read(), run.remaining())
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("the globals object is not UTF-8 text (%s)" % exc, step="globals")
    server = run.open_server()
    report = replay(server.connect, text, params.get("restore_globals_existing") or "skip", run.check_mode)
    report["object"] = obj["key"]
    if run.log:
        run.log("restore: globals of %s: %d roles created, existing left untouched: %s" % (
            run.manifest["backup_id"], len(report.get("roles_created") or []), ", ".join(report["roles_existing"]) or "none"))
    return report
