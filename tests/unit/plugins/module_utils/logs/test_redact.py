"""Secrets in log lines are masked before a line leaves the host (pure; property-tested)."""

import pytest
from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import redact

SECRET = st.from_regex(r"\A[A-Za-z0-9]{12,30}\Z")


@pytest.mark.parametrize("line, secret, kept", [
    ("login failed password=hunter2secret for user bob", "hunter2secret", "password=***"),
    ("db_password: 's3cr3t value' host=db1", "s3cr3t value", "db_password: '***'"),
    ('{"level":"error","api_key":"AbCdEf123456","msg":"x"}', "AbCdEf123456", '"api_key":"***"'),
    ('{"token": 123456789012}', "123456789012", '"token": ***'),
    ("GET /v1 Authorization: Bearer eyJhbGciOi.abc.def-ghi", "eyJhbGciOi.abc.def-ghi", "Authorization: Bearer ***"),
    ("curl -H 'authorization: Basic dXNlcjpwYXNzd29yZA=='", "dXNlcjpwYXNzd29yZA==", "authorization: Basic ***"),
    ("sent bearer abcdefghijklmnop1234 to upstream", "abcdefghijklmnop1234", "bearer ***"),
    ("connect postgresql://app:Pa55w0rdX@db1:5432/app failed", "Pa55w0rdX", "postgresql://app:***@db1"),
    ("PGPASSWORD=topsecret123 pg_dump app", "topsecret123", "PGPASSWORD=***"),
    ("pg_restore --password zzTopSecret --host db1", "zzTopSecret", "--password ***"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijkl issued", "eyJzdWIiOiIxMjM0In0", "jwt *** issued"),
    ("aws key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE", "aws key *** used"),
    ("pushed with ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "pushed with ***"),
    ("slack xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij", "slack ***"),
    ("stripe sk_live_abcdefghijklmnop1234", "sk_live_abcdefghijklmnop1234", "stripe ***"),
    ("key -----BEGIN RSA PRIVATE KEY-----MIIEpAIBAAKCAQEA", "MIIEpAIBAAKCAQEA", "-----BEGIN PRIVATE KEY-----***"),
    ("client_secret => \"x y z\" ok", "x y z", 'client_secret => "***" ok'),
])
def test_known_secrets_are_masked(line, secret, kept):
    out = redact.mask(line)
    assert secret not in out
    assert kept in out


@pytest.mark.parametrize("line", [
    "2026-12-05T08:25:13Z app1 nginx: GET /index.html 200 512 0.003",
    "checkpoint complete: wrote 120 buffers (0.7%); distance=1024 kB",
    "user bob logged in from 10.0.0.7",
    "password authentication failed for user \"app\"",
    "token bucket refilled",
    "",
])
def test_lines_without_secrets_are_unchanged(line):
    assert redact.mask(line) == line


@given(SECRET, st.sampled_from(["password", "db_pass", "API_KEY", "x-auth-token", "secret", "passphrase"]),
       st.sampled_from(["=", ": ", " = ", ":"]), st.sampled_from(["", "'", '"']),
       st.text(alphabet="abc def", max_size=10))
def test_any_secret_behind_a_secret_key_is_masked(secret, key, sep, quote, tail):
    line = "event %s%s%s%s%s %s" % (key, sep, quote, secret, quote, tail)
    out = redact.mask(line)
    assert secret not in out
    assert out.startswith("event " + key)
    assert out.endswith(" " + tail)


@given(SECRET)
def test_mask_is_idempotent(secret):
    once = redact.mask("password=%s Authorization: Bearer %s" % (secret, secret))
    assert redact.mask(once) == once


def test_mask_all_keeps_none():
    assert redact.mask_all(["password=abc", None]) == ["password=***", None]
