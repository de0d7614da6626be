# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who is acting: the AWX/Controller launching user, else an explicit identity, else the local user; then mapped.

AWX and Automation Controller inject ``awx_user_name`` (and the older ``tower_user_name``) into every job's extra
vars; the task files pass it as ``awx_user``. When it is present it is the identity, and an explicit ``identity`` that
names someone else is refused (a survey field must not let a launcher pose as a colleague). Outside AWX the explicit
identity, else the local account running the module, is used.

``identity_map`` unifies the names one person has in several places (``{"awx:jdoe": "john", "local:john": "john"}``):
keys are ``<source>:<name>`` or a bare name, compared without case; values are the canonical identity. Identities are
compared without case and surrounding spaces, so ``Alice`` cannot approve a request of ``alice``.
"""

import getpass

SOURCES = ("awx", "explicit", "local")


class IdentityError(ValueError):
    pass


def local_user():
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):
        return None


def canonical(name):
    return str(name or "").strip().lower()


def apply_map(raw, source, mapping):
    table = dict((canonical(k), v) for k, v in (mapping or {}).items())
    for key in ("%s:%s" % (source, canonical(raw)), canonical(raw)):
        if key in table and canonical(table[key]):
            return canonical(table[key])
    return canonical(raw)


def resolve(awx_user=None, identity=None, mapping=None, local=local_user):
    """``{"identity": canonical name, "raw": as given, "source": awx|explicit|local}``."""
    awx = str(awx_user or "").strip()
    explicit = str(identity or "").strip()
    if awx:
        if explicit and apply_map(explicit, "explicit", mapping) != apply_map(awx, "awx", mapping):
            raise IdentityError("identity %r differs from the AWX launching user %r; under AWX the launching user is "
                                "the identity (map both names to one person with identity_map if they are)"
                                % (explicit, awx))
        raw, source = awx, "awx"
    elif explicit:
        raw, source = explicit, "explicit"
    else:
        raw, source = (local() or "").strip(), "local"
    if not canonical(raw):
        raise IdentityError("no identity: pass awx_user (AWX's awx_user_name) or identity")
    return {"identity": apply_map(raw, source, mapping), "raw": raw, "source": source}
