# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS certificate days left, also for certificates the host does not trust (self-signed, private CA)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import socket
import ssl
import tempfile

try:
    from cryptography import x509
    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False


def peer_der(host, port, timeout, server_name=None, verify=True):
    """``(der, verify_error)``: the leaf certificate, fetched without verification when verification fails."""
    verify_error = None
    if verify:
        ctx = ssl.create_default_context()
        try:
            with socket.create_connection((host, port), timeout=timeout) as sock:
                with ctx.wrap_socket(sock, server_hostname=server_name or host) as tls:
                    return tls.getpeercert(binary_form=True), None
        except ssl.SSLCertVerificationError as exc:
            verify_error = exc.verify_message or str(exc)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=timeout) as sock:
        with ctx.wrap_socket(sock, server_hostname=server_name or host) as tls:
            return tls.getpeercert(binary_form=True), verify_error


def not_after(der):
    """Expiry (aware UTC datetime) and subject of a DER certificate."""
    if HAS_CRYPTOGRAPHY:
        cert = x509.load_der_x509_certificate(der)
        expiry = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
        return expiry, cert.subject.rfc4514_string()
    # stdlib fallback: the private decoder needs a PEM file
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(ssl.DER_cert_to_PEM_cert(der))
        decoded = ssl._ssl._test_decode_cert(path)  # pylint: disable=protected-access
    finally:
        os.unlink(path)
    expiry = datetime.datetime.fromtimestamp(ssl.cert_time_to_seconds(decoded["notAfter"]), datetime.timezone.utc)
    subject = ",".join("%s=%s" % pair for rdn in decoded.get("subject", ()) for pair in rdn)
    return expiry, subject


def check(host, port, timeout=5.0, server_name=None, verify=True, now=None):
    """``{target, days_left, not_after, subject, trusted, verify_error}`` or ``{target, error}``."""
    target = "%s:%d" % (host, port)
    result = {"target": target, "verify": verify}
    try:
        der, verify_error = peer_der(host, port, timeout, server_name, verify)
        expiry, subject = not_after(der)
    except (OSError, ssl.SSLError, ValueError) as exc:
        result["error"] = "TLS connection failed: %s" % exc
        return result
    now = now or datetime.datetime.now(datetime.timezone.utc)
    result.update({"days_left": round((expiry - now).total_seconds() / 86400.0, 3), "not_after": expiry.isoformat(),
                   "subject": subject, "trusted": None if not verify else verify_error is None,
                   "verify_error": verify_error})
    return result
