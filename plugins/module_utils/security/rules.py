# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rule table of the security audit and the engine that runs it (no I/O of its own).

A rule is data: a fixed ``id`` (``WK-<AREA>-<NNN>``, never reused), a ``title``, a ``severity``, the ``area`` it
belongs to, the ``remediation`` text and a ``check`` function. ``check(ctx)`` returns one outcome or a list of
outcomes ``{"status", "evidence", "subject"}`` (``subject`` names the bucket, job, file... a rule looks at more
than one of); ``ctx`` (``HostContext`` in ``context``) is the only way checks reach the host, so unit tests pass a
fake one. A check that raises becomes an ``error`` finding naming the exception: one broken check never hides
the others.
"""

import re

PASS, FAIL, NOT_APPLICABLE, ERROR = "pass", "fail", "not_applicable", "error"
STATUSES = (PASS, FAIL, NOT_APPLICABLE, ERROR)
SEVERITIES = ("low", "medium", "high", "critical")
ID_RE = re.compile(r"\AWK-[A-Z]{2,4}-\d{3}\Z")
EVIDENCE_MAX = 2000

SECRET_RE = re.compile(r"(?i)\b(requirepass|masterauth|password|passphrase|secret|token|access_key|secret_key)(\s*[=:]\s*)"
                       r"(\"[^\"]*\"|'[^']*'|[^\s,;]+)")


class Rule(object):
    """One rule of the table (see the module docstring)."""

    def __init__(self, rule_id, area, severity, title, remediation, check, references=()):
        if not ID_RE.match(rule_id):
            raise ValueError("bad rule id %r" % rule_id)
        if severity not in SEVERITIES:
            raise ValueError("bad severity %r of %s" % (severity, rule_id))
        self.id, self.area, self.severity, self.title = rule_id, area, severity, title
        self.remediation, self.check, self.references = remediation, check, tuple(references)

    def describe(self):
        return {"id": self.id, "area": self.area, "severity": self.severity, "title": self.title,
                "remediation": self.remediation, "references": list(self.references)}


def outcome(status, evidence, subject=None):
    if status not in STATUSES:
        raise ValueError("bad status %r" % status)
    return {"status": status, "evidence": mask(evidence), "subject": subject}


def passed(evidence, subject=None):
    return outcome(PASS, evidence, subject)


def failed(evidence, subject=None):
    return outcome(FAIL, evidence, subject)


def not_applicable(evidence, subject=None):
    return outcome(NOT_APPLICABLE, evidence, subject)


def mask(text):
    """Evidence as a bounded string with the values of secret-looking settings replaced by ``********``."""
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    text = SECRET_RE.sub(lambda m: m.group(1) + m.group(2) + "********", text)
    return text if len(text) <= EVIDENCE_MAX else text[:EVIDENCE_MAX] + " ...(truncated)"


def _finding(rule, result):
    out = rule.describe()
    out.pop("references")
    out.update(status=result["status"], evidence=result["evidence"], subject=result.get("subject"))
    if result["status"] != FAIL:
        out["remediation"] = None if result["status"] == PASS else out["remediation"]
    return out


def run(rules, ctx, skip=None):
    """Findings of every rule (in table order). ``skip`` maps a rule id to the reason it is waived: the rule
    is not run and its finding is ``not_applicable`` with the reason as evidence (an accepted exception)."""
    skip = skip or {}
    findings = []
    for rule in rules:
        if rule.id in skip:
            findings.append(_finding(rule, not_applicable("waived: %s" % (skip[rule.id] or "no reason given"))))
            continue
        try:
            results = rule.check(ctx)
        except Exception as exc:  # pylint: disable=broad-except
            results = outcome(ERROR, "%s: %s" % (type(exc).__name__, exc))
        if isinstance(results, dict):
            results = [results]
        if not results:
            results = [not_applicable("nothing to check")]
        findings.extend(_finding(rule, r) for r in results)
    return findings


def key(finding):
    """A finding's identity across audits: rule id and subject."""
    return "%s|%s" % (finding["id"], finding.get("subject") or "")


def counts(findings):
    out = dict((s, 0) for s in STATUSES)
    for finding in findings:
        out[finding["status"]] += 1
    return out


def failed_ids(findings):
    return sorted(set(f["id"] for f in findings if f["status"] == FAIL))
