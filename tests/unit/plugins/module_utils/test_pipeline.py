"""The streamed pass with real processes: sizes, SHA-256, exit statuses, fan-out failures, timeouts."""

import hashlib
import os
import subprocess
import time

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils import pipeline
from ansible_collections.watchkeeper.ops.plugins.module_utils.compression import compression_stage
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import PipelineError, StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.base import Writer


class MemWriter(Writer):
    """An in-memory destination; ``fail_after`` bytes makes it fail like a dropped connection."""

    def __init__(self, name="mem", fail_after=None, delay=0.0):
        super(MemWriter, self).__init__(type("S", (), {"name": name})(), "key")
        self.data = bytearray()
        self.fail_after = fail_after
        self.delay = delay
        self.aborted = False

    def _write(self, chunk):
        if self.delay:
            time.sleep(self.delay)
        if self.fail_after is not None and len(self.data) + len(chunk) > self.fail_after:
            raise StorageError("connection reset", step="upload", destination=self.storage.name)
        self.data += chunk

    def _commit(self, size, sha256):
        return {}

    def _abort(self):
        self.aborted = True


def random_file(tmp_path, size):
    path = tmp_path / "input.bin"
    # Half random, half repetitive: realistic compression ratio.
    path.write_bytes(os.urandom(size // 2) + b"watchkeeper " * (size // 24))
    return str(path)


def test_sizes_and_sha256_of_every_stage(tmp_path):
    src = random_file(tmp_path, 3 * 1024 * 1024)
    writers = {"a": MemWriter("a"), "b": MemWriter("b")}
    result = pipeline.run_stream(pipeline.ProcessProducer("cat", ["cat", src]), [compression_stage(3, 1)], writers)
    raw = open(src, "rb").read()
    assert result.raw_bytes == len(raw)
    assert result.stage_bytes["cat"] == len(raw)
    stored = bytes(writers["a"].data)
    assert stored == bytes(writers["b"].data)
    assert result.stored_bytes == len(stored) == result.stage_bytes["zstd"]
    assert result.sha256 == hashlib.sha256(stored).hexdigest()
    assert subprocess.run(["zstd", "-dc"], input=stored, capture_output=True, check=True).stdout == raw
    assert result.ok_destinations() == ["a", "b"]
    assert not any(w.aborted for w in writers.values())


def test_function_producer_without_stages(tmp_path):
    def produce(out):
        for block in range(100):  # pylint: disable=unused-variable
            out.write(b"x" * 10000)
    writer = MemWriter()
    result = pipeline.run_stream(pipeline.FunctionProducer("py", produce), [], {"m": writer})
    assert result.raw_bytes == result.stored_bytes == 1000000 == len(writer.data)


def test_producer_that_dies_mid_stream_fails_even_though_zstd_succeeds(tmp_path):
    src = random_file(tmp_path, 2 * 1024 * 1024)
    script = "head -c 500000 %s; echo 'FATAL: connection lost' >&2; exit 2" % src
    writer = MemWriter()
    with pytest.raises(PipelineError) as err:
        pipeline.run_stream(pipeline.ProcessProducer("pg_dump", ["sh", "-c", script]), [compression_stage(1, 1)], {"m": writer})
    assert err.value.step == "pg_dump"
    assert "exited with status 2" in err.value.msg and "connection lost" in err.value.msg
    assert writer.aborted
    assert err.value.result.destinations["m"]["status"] == "failed"


def test_producer_killed_by_signal_is_named(tmp_path):
    writer = MemWriter()
    with pytest.raises(PipelineError) as err:
        pipeline.run_stream(pipeline.ProcessProducer("pg_dump", ["sh", "-c", "head -c 100000 /dev/zero; kill -9 $$"]),
                            [compression_stage(1, 1)], {"m": writer})
    assert "killed by SIGKILL" in err.value.msg


def test_failing_stage_is_the_root_cause_not_the_broken_pipe_upstream(tmp_path):
    src = random_file(tmp_path, 8 * 1024 * 1024)
    bad = pipeline.Stage("gpg", ["sh", "-c", "head -c 1000 >/dev/null; echo 'gpg: no valid recipients' >&2; exit 2"])
    with pytest.raises(PipelineError) as err:
        pipeline.run_stream(pipeline.ProcessProducer("cat", ["cat", src]), [compression_stage(1, 1), bad], {"m": MemWriter()})
    assert err.value.step == "gpg"
    assert "no valid recipients" in err.value.msg


def test_python_producer_error_fails_the_stream():
    def produce(out):
        out.write(b"partial")
        raise OSError("disk read error")
    with pytest.raises(PipelineError) as err:
        pipeline.run_stream(pipeline.FunctionProducer("tar", produce), [compression_stage(1, 1)], {"m": MemWriter()})
    assert err.value.step == "tar" and "disk read error" in err.value.msg


def test_one_failing_destination_does_not_stop_the_others(tmp_path):
    src = random_file(tmp_path, 6 * 1024 * 1024)
    good, bad = MemWriter("good"), MemWriter("bad", fail_after=100)
    result = pipeline.run_stream(pipeline.ProcessProducer("cat", ["cat", src]), [], {"good": good, "bad": bad}, chunk_size=65536)
    assert result.destinations["good"] == {"status": "ok"}
    assert result.destinations["bad"]["status"] == "failed"
    assert "connection reset" in result.destinations["bad"]["error"]
    assert bad.aborted and not good.aborted
    assert bytes(good.data) == open(src, "rb").read()


def test_all_destinations_failing_stops_the_stream_early(tmp_path):
    started = time.monotonic()
    with pytest.raises(PipelineError) as err:
        pipeline.run_stream(pipeline.ProcessProducer("yes", ["yes"]), [], {"a": MemWriter("a", fail_after=10)}, chunk_size=65536)
    assert time.monotonic() - started < 30
    assert err.value.result.destinations["a"]["status"] == "failed"


def test_timeout_stops_every_process():
    started = time.monotonic()
    with pytest.raises(PipelineError) as err:
        pipeline.run_stream(pipeline.ProcessProducer("sleepy", ["sleep", "30"]), [compression_stage(1, 1)], {"m": MemWriter()}, timeout=1)
    assert time.monotonic() - started < 15
    assert "did not finish within 1s" in err.value.msg


def test_secrets_are_redacted_from_stderr():
    with pytest.raises(PipelineError) as err:
        pipeline.run_stream(pipeline.ProcessProducer("p", ["sh", "-c", "echo 'password s3cr3t-value rejected' >&2; exit 1"]),
                            [], {"m": MemWriter()}, secrets=["s3cr3t-value"])
    assert "s3cr3t-value" not in err.value.describe() and "********" in err.value.msg


def test_missing_binary_is_a_clear_error():
    with pytest.raises(PipelineError) as err:
        pipeline.run_stream(pipeline.ProcessProducer("pg_dump", ["/nonexistent/pg_dump"]), [], {"m": MemWriter()})
    assert "cannot start pg_dump" in err.value.msg


def test_backpressure_keeps_memory_bounded(tmp_path):
    """A slow destination slows the producer instead of buffering the stream in memory."""
    src = random_file(tmp_path, 4 * 1024 * 1024)
    slow = MemWriter("slow", delay=0.05)
    result = pipeline.run_stream(pipeline.ProcessProducer("cat", ["cat", src]), [], {"slow": slow}, chunk_size=65536)
    assert result.destinations["slow"]["status"] == "ok" and len(slow.data) == os.path.getsize(src)
