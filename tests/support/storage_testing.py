"""Helpers shared by the storage tests (the contract suite and the per-backend tests)."""

import hashlib


def sha(data):
    return hashlib.sha256(data).hexdigest()


def upload(st, key, data, chunk=256 * 1024):
    """Stream ``data`` into ``key`` through the storage's writer in ``chunk``-sized writes and commit it."""
    writer = st.open_writer(key)
    for start in range(0, len(data), chunk):
        writer.write(data[start:start + chunk])
    return writer.commit(len(data), sha(data))
