# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP(S) endpoint checks with urllib: status, latency, keyword."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import ssl
import time

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.request import Request, build_opener, HTTPSHandler

MAX_BODY = 1024 * 1024


def check(spec):
    """``{url, status, expected_status, latency_s, keyword, keyword_found}`` or ``{url, error}``."""
    url = spec["url"]
    expected = spec.get("status") or [200]
    result = {"url": url, "expected_status": expected, "keyword": spec.get("keyword")}
    ctx = ssl.create_default_context()
    if not spec.get("validate_certs", True):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    opener = build_opener(HTTPSHandler(context=ctx))
    request = Request(url, headers={"User-Agent": "watchkeeper-health/1"}, method=spec.get("method") or "GET")
    start = time.time()
    try:
        try:
            response = opener.open(request, timeout=spec.get("timeout") or 5)
        except HTTPError as exc:  # a 4xx/5xx answer is still an answer
            response = exc
        with response:
            body = response.read(MAX_BODY) if spec.get("keyword") else response.read(65536)
            status = response.getcode()
    except URLError as exc:
        result["error"] = "unreachable: %s" % (exc.reason,)
        return result
    except (socket.timeout, OSError, ValueError) as exc:
        result["error"] = "request failed: %s" % (exc,)
        return result
    result["latency_s"] = round(time.time() - start, 4)
    result["status"] = status
    if spec.get("keyword"):
        result["keyword_found"] = spec["keyword"].encode("utf-8") in body
    return result
