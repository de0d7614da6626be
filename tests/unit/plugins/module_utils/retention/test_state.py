"""ops_state retention: old reports and audit segments go, the newest and ``latest*`` stay, nothing else is touched."""

import datetime
import os

from ansible_collections.watchkeeper.ops.plugins.module_utils.retention import state

UTC = datetime.timezone.utc
NOW = datetime.datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def touch(path, days_old, data=b"x" * 10):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    stamp = (NOW - datetime.timedelta(days=days_old)).timestamp()
    os.utime(path, (stamp, stamp))


def params(ops_state, **options):
    return {"ops_state": str(ops_state), "state_retention": options}


def build(root):
    for age in (1, 100, 400, 500, 800):
        touch(str(root / "reports" / "verify" / ("r-%03d.json" % age)), age)
    touch(str(root / "reports" / "dr_drill" / "latest.json"), 900)
    for age in (10, 370, 700):
        touch(str(root / "reports" / "dr_drill" / ("d-%03d" % age) / "report.json"), age)
        touch(str(root / "reports" / "dr_drill" / ("d-%03d" % age) / "runbooks" / "app.md"), age)
    touch(str(root / "reports" / "dr_drill" / "d-old-but-touched" / "report.json"), 900)
    touch(str(root / "reports" / "dr_drill" / "d-old-but-touched" / "note.md"), 5)  # newest file decides
    for age in (3, 366, 367, 368, 369):
        touch(str(root / "audit" / ("segment-%03d.jsonl" % age)), age)
    touch(str(root / "locks" / "job-app.lock"), 1000)
    touch(str(root / "verified" / "app" / "old.json"), 1000)


def names(root, rel):
    return sorted(os.listdir(str(root / rel)))


def test_dry_run_then_purge(tmp_path):
    build(tmp_path)
    before = sorted(os.path.join(r, f) for r, _d, fs in os.walk(str(tmp_path)) for f in fs)
    result, failures = state.run(params(tmp_path, keep_within="365d", min_keep=1), True, NOW)
    assert failures == [] and result["changed"] is False
    assert before == sorted(os.path.join(r, f) for r, _d, fs in os.walk(str(tmp_path)) for f in fs)
    plan = result["ops_state"]
    # verify: r-400, r-500, r-800; dr_drill: d-370, d-700 (two files each); audit: the four older than a year
    assert plan["to_remove"] == 3 + 2 + 4 and plan["bytes_to_free"] == 10 * (3 + 4 + 4)

    result, failures = state.run(params(tmp_path, keep_within="365d", min_keep=1), False, NOW)
    assert failures == [] and result["changed"] is True and result["ops_state"]["removed"] == 9
    assert names(tmp_path, "reports/verify") == ["r-001.json", "r-100.json"]
    assert names(tmp_path, "reports/dr_drill") == ["d-010", "d-old-but-touched", "latest.json"]
    # min_keep 1 keeps the newest segment only, which is young anyway; the four older than a year go
    assert names(tmp_path, "audit") == ["segment-003.jsonl"]
    assert names(tmp_path, "locks") == ["job-app.lock"] and names(tmp_path, "verified/app") == ["old.json"]
    reasons = dict((e["name"], (e["verdict"], e["reason"])) for d in result["ops_state"]["directories"]
                   for e in d["entries"])
    assert reasons["latest.json"] == ("keep", "pointer to the newest report")
    assert reasons["d-370"] == ("removed", "older than 365d 0h")


def test_min_keep_keeps_the_newest_even_when_old(tmp_path):
    for age in (400, 500, 600, 700):
        touch(str(tmp_path / "audit" / ("s-%d" % age)), age)
    result, failures = state.run(params(tmp_path, keep_within="30d", min_keep=2), False, NOW)
    assert failures == [] and names(tmp_path, "audit") == ["s-400", "s-500"]
    assert [e["reason"] for e in result["ops_state"]["directories"][0]["entries"]][:2] == [
        "min_keep: 2 newest of the directory"] * 2


def test_missing_directories_are_nothing_to_do(tmp_path):
    result, failures = state.run(params(tmp_path / "absent"), False, NOW)
    assert failures == [] and result == {"changed": False, "ops_state": {
        "status": "ok", "directories": [], "removed": 0, "bytes_freed": 0, "kept": 0, "keep_within": "365d",
        "min_keep": 3}}


def test_paths_outside_ops_state_and_bad_durations_are_refused(tmp_path):
    result, failures = state.run(params(tmp_path, segment_dirs=["../etc"]), False, NOW)
    assert failures == ["ops_state retention: '../etc' is not inside ops_state"]
    assert result["ops_state"]["status"] == "failed"
    _result, failures = state.run(params(tmp_path, keep_within="a while"), False, NOW)
    assert "not a duration" in failures[0]


def test_an_entry_that_cannot_be_removed_fails_and_the_rest_goes_on(tmp_path, monkeypatch):
    for age in (400, 500):
        touch(str(tmp_path / "audit" / ("s-%d" % age)), age)
    touch(str(tmp_path / "reports" / "verify" / "old.json"), 800)
    touch(str(tmp_path / "reports" / "verify" / "new.json"), 1)
    real_unlink = os.unlink
    stuck = str(tmp_path / "reports" / "verify" / "old.json")

    def unlink(path, *args, **kwargs):
        if path == stuck:  # permissions cannot stop root, who runs these tests in CI
            raise PermissionError(1, "Operation not permitted", path)
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    result, failures = state.run(params(tmp_path, min_keep=0), False, NOW)
    assert len(failures) == 1 and "cannot remove reports/verify/old.json" in failures[0]
    assert names(tmp_path, "audit") == [] and result["ops_state"]["status"] == "failed"
    assert names(tmp_path, "reports/verify") == ["new.json", "old.json"]
