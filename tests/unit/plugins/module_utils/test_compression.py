# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The zstd level: ``auto`` from the cores, explicit values validated."""

import os

import pytest
from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils import compression
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError


@pytest.mark.parametrize("cores, level", [(1, 1), (2, 1), (3, 2), (4, 3), (64, 3)])
def test_auto_level_follows_the_cores(cores, level):
    assert compression.auto_level(cores) == level


@given(st.integers(min_value=1, max_value=4096), st.integers(min_value=1, max_value=4096))
def test_auto_level_never_drops_as_cores_grow(one, other):
    low, high = sorted((one, other))
    assert 1 <= compression.auto_level(low) <= compression.auto_level(high) <= compression.DEFAULT_LEVEL


@pytest.mark.parametrize("value", ["auto", "AUTO", " auto ", None])
def test_auto_is_resolved_from_the_given_cores(value):
    assert compression.resolve_level(value, cores=2) == 1
    assert compression.resolve_level(value, cores=8) == 3


def test_auto_without_cores_uses_this_process_affinity():
    cores = len(os.sched_getaffinity(0))
    assert compression.available_cores() == cores
    assert compression.resolve_level("auto") == compression.auto_level(cores)


@given(st.integers(min_value=1, max_value=22))
def test_explicit_levels_pass_as_int_or_string(level):
    assert compression.resolve_level(level) == level
    assert compression.resolve_level(str(level)) == level


@pytest.mark.parametrize("value", [0, 23, -1, "fast", "3.5", True, "", [3]])
def test_bad_levels_fail_clearly(value):
    with pytest.raises((ConfigError, TypeError)) as err:
        compression.resolve_level(value)
    if isinstance(err.value, ConfigError):
        assert "compression level" in str(err.value)


def test_facts_record_what_auto_chose():
    facts = compression.compression_facts(1, 0, requested="auto")
    assert facts["level"] == 1 and facts["level_requested"] == "auto" and facts["cores"] >= 1
    assert "level_requested" not in compression.compression_facts(3, 0, requested=3)
