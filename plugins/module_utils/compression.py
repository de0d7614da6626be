# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""zstd as a stream stage (multithreaded, ~5x faster than gzip at a similar ratio)."""

import subprocess

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.watchkeeper.ops.plugins.module_utils.pipeline import Stage


def zstd_version(zstd_path="zstd"):
    try:
        out = subprocess.run([zstd_path, "--version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return None
    for word in out.replace(",", " ").split():
        if word.startswith("v") and word[1:2].isdigit():
            return word[1:]
    return None


def compression_stage(level=3, threads=0, zstd_path="zstd"):
    """The zstd ``Stage``: level 1..19 (20..22 with --ultra), threads 0 = one per core."""
    level = int(level)
    if not 1 <= level <= 22:
        raise ConfigError("compression level must be between 1 and 22", step="compression")
    if int(threads) < 0:
        raise ConfigError("compression threads must be 0 (one per core) or more", step="compression")
    argv = [zstd_path, "-q", "-c", "--no-progress", "-%d" % level, "-T%d" % int(threads)]
    if level > 19:
        argv.insert(1, "--ultra")
    return Stage("zstd", argv)


def compression_facts(level, threads, zstd_path="zstd"):
    return {"algorithm": "zstd", "level": int(level), "threads": int(threads), "tool_version": zstd_version(zstd_path)}
