# -*- coding: utf-8 -*-
# Copyright: watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Message templates: the variable parts of a log message replaced by typed placeholders (pure).

``template(message)`` masks, in this order (the brief's order, with dates first), each as a whole token (see *Tokens* below):

==========  ==============================================================================================
``<time>``  ISO 8601 date and time inside the message (``2026-12-05T08:25:13.123Z``, ``2026-12-05 08:25``)
``<uuid>``  UUIDs (``8-4-4-4-12`` hex digits, any case)
``<email>`` e-mail addresses
``<ip>``    IPv4 with an optional ``:port``; IPv6 with ``::`` or all eight groups (and a digit somewhere),
            also ``[v6]:port``; a time such as ``08:25:13`` is not an address
``<val>``   the value of every ``key=value`` in a URL's query string (``?id=<val>&page=<val>``)
``<hex>``   ``0x``-prefixed hex, and words of 8 or more hex digits holding at least one digit and one letter
            ``a-f`` (``deadbeef`` is a word, ``12345678`` is a number, ``9f86d081`` is an id, ``1000000B`` a size)
``<path>``  absolute paths with two or more segments (``/var/lib/app/x.db``, ``/api/v1/users/42``); a path
            inside a URL is not one (its numbers are masked as numbers)
``<str>``   the contents of a quoted string (``"..."``, or ``'...'`` whose quotes are not apostrophes), when
            ``quoted`` is true (the default): ``user "alice" not found`` and ``user "bob" not found`` are one
            template. Turn it off when quoted text is what tells messages apart.
``<num>``   numbers: integers, decimals, versions (``1.2.3``), a leading sign, and a unit glued to them:
            durations (``12ms``, ``3.5s``, ``1h30m``), sizes (``10MB``, ``1.5GiB``, ``512k``), ``45%``
==========  ==============================================================================================

Tokens: a thing is masked only when it stands alone, i.e. is not glued to letters or digits on either side
(underscore, dash, dot, slash, quotes and brackets separate). So ``error404page``, ``eth0``, ``v2``, ``sha256``
and ``utf8`` stay as they are, while ``worker-3``, ``id=42`` and ``user_17`` become ``worker-<num>``,
``id=<num>`` and ``user_<num>``. Runs of white space collapse to one space.

JSON lines: when the message is a JSON object with a ``msg`` or ``message`` string, the template is made from
that field, not from the whole object (other fields carry ids and times that would make every line unique).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

# Not glued to a letter or digit on the left / right.
_L = r"(?<![A-Za-z0-9])"
_R = r"(?![A-Za-z0-9])"

_TIME = re.compile(_L + r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?" + _R)
_UUID = re.compile(_L + r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}" + _R)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}" + _R)
_IPV4 = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
_H = r"[0-9A-Fa-f]{1,4}"
_IPV6 = (r"(?:(?:[0-9A-Fa-f]{0,4}:){2,6}%(v4)s"                # ::ffff:10.0.0.1
         r"|(?:%(h)s:){7}%(h)s"                                 # eight groups
         r"|(?:%(h)s:){1,7}:"                                   # 1:: ... 1:2:3:4:5:6:7::
         r"|(?:%(h)s:){1,6}:%(h)s"                              # 1::8
         r"|(?:%(h)s:){1,5}(?::%(h)s){1,2}"
         r"|(?:%(h)s:){1,4}(?::%(h)s){1,3}"
         r"|(?:%(h)s:){1,3}(?::%(h)s){1,4}"
         r"|(?:%(h)s:){1,2}(?::%(h)s){1,5}"
         r"|%(h)s:(?::%(h)s){1,6}"
         r"|:(?::%(h)s){1,7})"                                  # ::8, ::1
         r"(?:%%[0-9A-Za-z]+)?" % {"h": _H, "v4": _IPV4})
_PORT = r"(?::\d{1,5})?"
# IPv4 (a dot followed by a digit after it would make it a longer version number, not an address).
_IP4_RE = re.compile(r"(?<![A-Za-z0-9.])" + _IPV4 + _PORT + r"(?![A-Za-z0-9]|\.\d)")
# IPv6: bracketed with an optional port, or bare; a digit somewhere, so ``dead::beef`` and ``a::b`` stay words.
_IP6_RE = re.compile(r"\[(?:" + _IPV6 + r"|::)\]" + _PORT
                     + r"|(?<![A-Za-z0-9:.])(?=[0-9A-Fa-f:]*[0-9])" + _IPV6 + r"(?![A-Za-z0-9:]|\.\d)")
# A URL (scheme://...) or a path starting a token, up to its ``?``; then each ``&key=``. The lookbehinds keep the
# starts few (no quadratic scan of long words or of paths with many slashes).
_QUERY = re.compile(r"((?:(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://|(?<![^\s\"'(=,;\[])/)[^\s?\"'<>]*\?|&)"
                    r"([A-Za-z0-9_.~%\[\]-]+=)[^&\s#\"'<>]*", re.I)
# Digits with one hex letter as a unit (``1000000B``, ``12345678d``) are a size or a duration, not an id.
_HEX = re.compile(_L + r"(?:0[xX][0-9A-Fa-f]+|(?!\d+[bBdD]" + _R + r")(?=[0-9A-Fa-f]*[0-9])(?=[0-9A-Fa-f]*[A-Fa-f])[0-9A-Fa-f]{8,})" + _R)
# Segments may hold placeholders masked before (``/var/lib/<uuid>/data``); a path glued to a placeholder (the host
# of a URL, ``http://<ip>/x/y``) is not one.
_PATH = re.compile(r"(?<![A-Za-z0-9_.~:/>-])(?:/(?:[A-Za-z0-9_.@%+~-]|<[a-z]+>)+){2,}/?(?![A-Za-z0-9_@%+~/-])")
_QUOTED = re.compile(r"\"(?:[^\"\\\n]|\\.){1,500}\"|(?<![A-Za-z0-9])'[^'\n]{1,500}'(?![A-Za-z0-9])")
_UNITS = (r"(?:ns|us|µs|ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hrs?|hours?|d|days?"
          r"|[kKMGTP]i?[bB]|[kKMGTP]|[bB]|bytes?|%|x)")
_DURATION = r"(?:\d+(?:\.\d+)?(?:ms|us|ns|h|m|s|d)){2,}"
_NUM = re.compile(r"(?<![A-Za-z0-9.])[-+]?(?:" + _DURATION + r"|\d+(?:\.\d+)*(?:[eE][-+]?\d+)?" + _UNITS + r"?)" + _R)
_SPACE = re.compile(r"\s+")

# Placeholders, in the order the rules run.
PLACEHOLDERS = ("<time>", "<uuid>", "<email>", "<ip>", "<val>", "<hex>", "<path>", "<str>", "<num>")


def _quoted(match):
    text = match.group(0)
    return text[0] + "<str>" + text[-1]


def _query(match):
    return match.group(1) + match.group(2) + "<val>"


def message_text(message):
    """The text to template: the ``msg``/``message`` field of a JSON object, else the message itself."""
    if message is None:
        return ""
    text = message.strip()
    if text.startswith("{") and text.endswith("}"):
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if isinstance(data, dict):
            for key in ("msg", "message", "MESSAGE"):
                value = data.get(key)
                if isinstance(value, str):
                    return value.strip()
    return text


def template(message, quoted=True):
    """The template of one message (see the module docstring for the rules and their order)."""
    text = message_text(message)
    # The cheap ``in`` tests skip rules that cannot match (most lines have no ``@``, ``::`` or ``/``).
    if "-" in text:
        text = _TIME.sub("<time>", text)
        text = _UUID.sub("<uuid>", text)
    if "@" in text:
        text = _EMAIL.sub("<email>", text)
    if ":" in text:
        text = _IP6_RE.sub("<ip>", text)
    if "." in text:
        text = _IP4_RE.sub("<ip>", text)
    if "=" in text:
        text = _QUERY.sub(_query, text)
    text = _HEX.sub("<hex>", text)
    if "/" in text:
        text = _PATH.sub("<path>", text)
    if quoted:
        text = _QUOTED.sub(_quoted, text)
    text = _NUM.sub("<num>", text)
    return _SPACE.sub(" ", text).strip()
