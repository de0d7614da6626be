"""Per-run scratch directories: created private, removed when their process is gone."""

import os
import subprocess

from ansible_collections.watchkeeper.ops.plugins.module_utils import rundir


def test_create_is_private_and_records_its_owner(tmp_path):
    path, swept = rundir.create(str(tmp_path))
    assert swept == [] and os.stat(path).st_mode & 0o777 == 0o700
    assert open(os.path.join(path, rundir.OWNER)).read().split()[0] == str(os.getpid())
    rundir.remove(path)
    assert not os.path.exists(path)


def test_sweep_removes_only_dead_runs(tmp_path):
    mine, _swept = rundir.create(str(tmp_path))
    dead = tmp_path / ("%s99999999-abc" % rundir.PREFIX)
    dead.mkdir()
    proc = subprocess.Popen(["true"])
    proc.wait()
    (dead / rundir.OWNER).write_text("%d 12345\n" % proc.pid)
    (dead / "wk-pgpass-x").write_text("*:*:*:*:secret\n")
    unrelated = tmp_path / "other-dir"
    unrelated.mkdir()
    path, swept = rundir.create(str(tmp_path))
    assert swept == [str(dead)] and not dead.exists()
    assert os.path.isdir(mine) and unrelated.exists()
    assert sorted(rundir.create(str(tmp_path), sweep_dead=False)[1]) == []
    for item in (mine, path):
        rundir.remove(item)
