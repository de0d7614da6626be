# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the integration tests (the session services come from ``tests/conftest.py``)."""

import os
import shutil
import tempfile

import pytest

import helpers


@pytest.fixture(scope="session")
def big_db(pg):
    """A database whose backup streams ~50 MB (pgbench scale 2, JSON rows and random bytea).

    Tests only read it. With ``SLOW_COMPRESSION`` its backup takes several seconds.
    """
    name = "big_%s" % os.getpid()
    helpers.drop_db(pg, name)
    pg.psql("CREATE DATABASE %s" % name)
    helpers.fill_database(pg, name, scale=2, json_rows=5000)
    pg.psql("CREATE EXTENSION IF NOT EXISTS pgcrypto", dbname=name)
    pg.psql("CREATE TABLE public.blobs (id int PRIMARY KEY, data bytea NOT NULL); "
            "INSERT INTO public.blobs SELECT g, gen_random_bytes(1024) || gen_random_bytes(1024) || "
            "gen_random_bytes(1024) || gen_random_bytes(1024) FROM generate_series(1, %d) g" % (helpers.BIG_RANDOM_MB * 256),
            dbname=name)
    yield name
    helpers.drop_db(pg, name)


@pytest.fixture
def scratch():
    """A private scratch directory (module tmp_dir, gpg homes), removed afterwards."""
    path = tempfile.mkdtemp(prefix="wk-it-")
    yield path
    shutil.rmtree(path, ignore_errors=True)
