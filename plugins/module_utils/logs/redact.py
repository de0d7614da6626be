# -*- coding: utf-8 -*-
# Copyright: watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mask secrets in log lines before they leave the host (pure).

``mask(text)`` replaces the *values* of what looks like a secret with ``***`` and keeps enough around it
(the key, the scheme, the user of a URL) for the line to stay useful when troubleshooting:

- values of keys that name a secret (``password=…``, ``"api_key": "…"``, ``token: …``, ``PGPASSWORD=…``,
  ``--password …``), quoted or bare;
- ``Authorization``/``Proxy-Authorization`` headers and ``Bearer``/``Basic``/``Token`` credentials;
- the password of a URL (``postgresql://app:***@db1/app``);
- tokens recognisable by their shape: JSON Web Tokens, AWS access key ids, GitHub, GitLab, Slack, Stripe and
  Google API keys;
- private key blocks (from ``-----BEGIN … PRIVATE KEY-----`` to the end of the line or block).

It masks by patterns: a secret with no recognisable key or shape (a bare password on a line of its own) is not
found. Reports say so (docs/logs.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MASK = "***"

# Words that make a key's value a secret. Matched inside key names (db_password, X-Api-Key, client_secret…).
_SECRET_WORDS = (r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
                 r"|auth[_-]?key|credentials?|session[_-]?id|cookie|signature|sig")
_KEY = r"[A-Za-z0-9_.-]*(?:%s)[A-Za-z0-9_.-]*" % _SECRET_WORDS

_RULES = [
    # Private key blocks: everything from BEGIN to END (or to the end of the text).
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S),
     "-----BEGIN PRIVATE KEY-----" + MASK + "-----END PRIVATE KEY-----"),
    # Authorization headers: keep the scheme.
    (re.compile(r"(?i)\b((?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest|negotiate|apikey)\s+)?)"
                r"[^\s\"',;]+"), r"\1" + MASK),
    (re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1\2" + MASK),
    # URLs with a password: scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(@)"), r"\1" + MASK + r"\2"),
    # JSON style: "password": "value" / 'token': 'value'
    (re.compile(r"(?i)([\"'](?:%s)[\"']\s*:\s*)([\"'])(?:\\.|(?!\2).)*\2" % _KEY), r"\1\2" + MASK + r"\2"),
    # JSON style with a bare value: "password": 12345
    (re.compile(r"(?i)([\"'](?:%s)[\"']\s*:\s*)(?![\"'\s])[^,}\s]+" % _KEY), r"\1" + MASK),
    # key=value, key: value, key => value (quoted or bare)
    (re.compile(r"(?i)(?<![A-Za-z0-9_])((?:%s)\s*(?:=>|=|:)\s*)([\"'])(?:\\.|(?!\2).)*\2" % _KEY), r"\1\2" + MASK + r"\2"),
    (re.compile(r"(?i)(?<![A-Za-z0-9_])((?:%s)\s*(?:=>|=|:)\s*)(?![\"'\s*>])[^\s,;&\"'}\])]+" % _KEY), r"\1" + MASK),
    # command-line options: --password value / --password=value (the = form is caught above)
    (re.compile(r"(?i)(--?(?:%s)\s+)(?!-)[^\s]+" % _KEY), r"\1" + MASK),
    # Shapes
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), MASK),
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"), MASK),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), MASK),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), MASK),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"), MASK),
    (re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b"), MASK),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), MASK),
]

# A cheap first look: a line with none of these cannot match any rule.
_HINT = re.compile(r"(?i)pass|pwd|secret|token|key|auth|credential|session|cookie|sig|bearer|basic|://|eyJ|AKIA|ASIA"
                   r"|AGPA|AIDA|AROA|ANPA|gh[pousr]_|glpat-|xox|sk_|rk_|AIza|PRIVATE")


def mask(text):
    """Return ``text`` with the secrets it visibly carries replaced by ``***``."""
    if not text or not _HINT.search(text):
        return text
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def mask_all(lines):
    """``mask`` over a list of lines (None stays None)."""
    return [mask(line) if line is not None else None for line in lines]
