# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A producer's tap sees every raw byte in order, with and without stages, and a failing tap never fails
the stream."""

import hashlib
import os
import subprocess

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils import pipeline
from ansible_collections.watchkeeper.ops.plugins.module_utils.compression import compression_stage

from test_pipeline import MemWriter  # pylint: disable=import-error


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "input.bin"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 17) + b"watchkeeper " * 100000)
    return str(path)


@pytest.mark.parametrize("with_stage", [True, False])
def test_the_tap_sees_every_raw_byte_in_order(source, with_stage):
    seen = hashlib.sha256()
    sizes = []

    def tap(data):
        seen.update(data)
        sizes.append(len(data))
    writer = MemWriter()
    stages = [compression_stage(3, 1)] if with_stage else []
    result = pipeline.run_stream(pipeline.ProcessProducer("cat", ["cat", source], tap=tap), stages, {"m": writer})
    raw = open(source, "rb").read()
    assert seen.hexdigest() == hashlib.sha256(raw).hexdigest()
    assert sum(sizes) == len(raw) == result.raw_bytes
    stored = bytes(writer.data)
    if with_stage:
        stored = subprocess.run(["zstd", "-dc"], input=stored, capture_output=True, check=True).stdout
    assert stored == raw


@pytest.mark.parametrize("with_stage", [True, False])
def test_a_failing_tap_is_dropped_and_the_stream_goes_on(source, with_stage):
    calls = []

    def tap(data):
        calls.append(len(data))
        raise ValueError("parser gave up")
    producer = pipeline.ProcessProducer("cat", ["cat", source], tap=tap)
    writer = MemWriter()
    result = pipeline.run_stream(producer, [compression_stage(3, 1)] if with_stage else [], {"m": writer})
    assert len(calls) == 1
    assert isinstance(producer.tap_error, ValueError)
    assert result.raw_bytes == os.path.getsize(source)
