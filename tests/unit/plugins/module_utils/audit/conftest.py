"""Fixtures of the audit unit tests."""

import pytest

from trailkit import Trail, build  # pylint: disable=import-error


@pytest.fixture
def trail(tmp_path):
    """Three sealed segments (seq 1-5, 6-10, 11-15) and two open records (16, 17), HMAC key ``trailkit.KEY``."""
    root = tmp_path / "spool"
    return Trail(root, build(root))
