# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole rule table, by area (docs/security-audit.md lists it; tests/unit keep the two equal)."""

from ansible_collections.watchkeeper.ops.plugins.module_utils.security import accounts, backup_estate, buckets, files, network
from ansible_collections.watchkeeper.ops.plugins.module_utils.security import packages, postgres, services, ssh

AREAS = ("ssh", "accounts", "files", "network", "packages", "time", "nginx", "postgres", "redis", "backup", "buckets")
HOST_AREAS = AREAS[:-2]
RULES = ssh.RULES + accounts.RULES + files.RULES + network.RULES + packages.RULES + services.RULES + postgres.RULES \
    + backup_estate.RULES + buckets.RULES


def select(areas=None, rule_ids=None):
    """The rules of ``areas`` (all by default), narrowed to ``rule_ids`` when given; raises ValueError on unknown names."""
    areas = list(areas or AREAS)
    unknown = [a for a in areas if a not in AREAS]
    if unknown:
        raise ValueError("unknown area(s) %s; known: %s" % (", ".join(unknown), ", ".join(AREAS)))
    known = set(r.id for r in RULES)
    bad = [i for i in rule_ids or [] if i not in known]
    if bad:
        raise ValueError("unknown rule id(s) %s" % ", ".join(bad))
    return [r for r in RULES if r.area in areas and (not rule_ids or r.id in rule_ids)]


def describe():
    return [r.describe() for r in RULES]
