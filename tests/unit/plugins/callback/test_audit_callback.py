"""The audit callback driven with stand-in Ansible objects: records, secrets, sealing, shipping, and never failing."""

import json
import os

from ansible_collections.watchkeeper.ops.plugins.callback.audit import CallbackModule
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.sign import Verifier, read_key_file
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.verify import verify
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.local import LocalStorage

SECRET = "Pa55-w0rd-never-stored"


class Display(object):
    verbosity = 0

    def __init__(self):
        self.warnings = []

    def warning(self, msg, *args, **kwargs):
        self.warnings.append(msg)

    def __getattr__(self, name):
        return lambda *a, **k: None


class Named(object):
    def __init__(self, name, **attrs):
        self.name = name
        self.__dict__.update(attrs)

    def get_name(self):
        return self.name


class Inventory(object):
    def get_hosts(self, pattern):
        return [Named("db1"), Named("db2")]


class Play(Named):
    hosts = "all"

    def __init__(self, extra):
        super(Play, self).__init__("Back up")
        self.manager = Named("vm", extra_vars=extra, _inventory=Inventory())

    def get_variable_manager(self):
        return self.manager


class Result(object):
    def __init__(self, host, task, result):
        self.host, self.task, self.result = Named(host), task, result


class Stats(object):
    processed = {"db1": 1, "db2": 1}

    def summarize(self, host):
        return {"ok": 2, "changed": 1, "failures": 0, "unreachable": 0, "skipped": 0, "rescued": 0, "ignored": 0}


def plugin(tmp_path, **options):
    display = Display()
    cb = CallbackModule(display=display)
    options = dict({"spool_dir": str(tmp_path / "spool"), "hmac_key_file": None, "gpg_key": None, "gpg_home": None,
                    "gpg_passphrase_file": None, "seal_interval": 3600, "ship_dir": None, "ship_destination": None,
                    "ship_prefix": "audit", "ship_timeout": 5, "object_lock_days": 0, "object_lock_mode": "GOVERNANCE"}, **options)
    cb._plugin_options = options  # pylint: disable=protected-access
    return cb, display


def play_run(cb):
    cb.v2_playbook_on_start(Named("pb", _file_name="/srv/project/playbooks/backup.yml", _basedir="/nonexistent"))
    cb.v2_playbook_on_play_start(Play({"awx_job_id": 4711, "awx_job_template_name": "Nightly backup",
                                       "awx_user_name": "alice", "db_password": SECRET}))
    copy = Named("Write the config", action="ansible.builtin.copy", no_log=False, args={"content": "{{ db_password }}"},
                 check_mode=False)
    cb.v2_runner_on_ok(Result("db1", copy, {"changed": True, "invocation": {"module_args": {"content": SECRET, "dest": "/etc/x"}},
                                            "diff": {"before": "", "after": SECRET}}))
    hidden = Named("Set the password", action="ansible.builtin.user", no_log=True, args={"password": SECRET}, check_mode=False)
    cb.v2_runner_on_failed(Result("db2", hidden, {"censored": "hidden", "_ansible_no_log": True}), ignore_errors=True)
    cb.v2_runner_on_skipped(Result("db2", copy, {"skipped": True}))
    cb.v2_runner_on_unreachable(Result("db2", copy, {"unreachable": True, "msg": "ssh: connect refused"}))
    cb.v2_playbook_on_stats(Stats())


def everything(root):
    data = b""
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as handle:
                data += handle.read()
    return data


def test_records_who_and_outcomes_but_no_secret(tmp_path):
    cb, display = plugin(tmp_path, ship_dir=str(tmp_path / "ops_state"))
    play_run(cb)
    spool = str(tmp_path / "spool")
    key = read_key_file(os.path.join(spool, "checkpoint.key"))
    shipped = LocalStorage({"type": "local", "path": str(tmp_path / "ops_state")})
    result = verify(shipped, "audit", Verifier([key]))
    assert result["ok"] and result["records"] == 6, result["first_break"]
    assert SECRET.encode() not in everything(spool) and SECRET.encode() not in everything(str(tmp_path / "ops_state"))
    chain = os.listdir(os.path.join(str(tmp_path / "ops_state"), "audit"))[0]
    with open(os.path.join(spool, chain, "segments", "000000000001.jsonl")) as handle:
        records = [json.loads(line)["data"] for line in handle]
    start, copy, hidden, skipped, unreachable, end = records
    assert start["who"]["awx"] == {"job_id": 4711, "job_template": "Nightly backup", "user": "alice"}
    assert start["hosts"] == ["db1", "db2"] and start["playbook"] == "/srv/project/playbooks/backup.yml"
    assert (copy["outcome"], sorted(copy["args"]), copy["args_source"]) == ("changed", ["content", "dest"], "invocation")
    assert copy["diff_bytes"] > 0
    assert hidden == {"event": "task", "run": hidden["run"], "task": "Set the password", "host": "db2", "outcome": "failed",
                      "changed": False, "failed": True, "skipped": False, "unreachable": False, "ignored": True, "no_log": True}
    assert (skipped["outcome"], unreachable["outcome"]) == ("skipped", "unreachable")
    assert "msg" not in json.dumps(unreachable), "failure messages may hold secrets; they are not recorded"
    assert end["event"] == "run_end" and end["hosts"]["db1"]["changed"] == 1
    assert len(display.warnings) == 1 and "generated the checkpoint key" in display.warnings[0]


def test_unwritable_spool_warns_once_and_never_raises(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the spool should be")
    cb, display = plugin(tmp_path, spool_dir=str(blocker / "spool"))
    play_run(cb)
    assert len(display.warnings) == 1
    assert "AUDIT TRAIL NOT WRITTEN" in display.warnings[0] and "play goes on" in display.warnings[0]


def test_unreachable_destination_keeps_the_spool_and_warns(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    dest = json.dumps({"type": "local", "path": str(blocker / "no")})
    cb, display = plugin(tmp_path, ship_destination=dest, hmac_key_file=None)
    play_run(cb)
    assert any("could not ship" in w and "retried at the next run" in w for w in display.warnings)
    assert not (tmp_path / "spool" / "shipped").exists(), "nothing is marked shipped"
    chain = (tmp_path / "spool" / "current").read_text().strip()
    assert (tmp_path / "spool" / chain / "checkpoints" / "000000000006.json").exists(), "sealed and kept for the next run"


def test_hourly_seal_during_a_run(tmp_path):
    cb, _display = plugin(tmp_path, seal_interval=0)
    play_run(cb)
    chain = open(str(tmp_path / "spool" / "current")).read().strip()
    assert len(os.listdir(str(tmp_path / "spool" / chain / "checkpoints"))) == 2 * 6, "each record sealed (interval 0)"


def test_bad_destination_json_is_a_warning(tmp_path):
    cb, display = plugin(tmp_path, ship_destination="{not json")
    play_run(cb)
    assert any("not JSON" in w for w in display.warnings)


def test_unusable_signing_key_keeps_recording_and_says_so(tmp_path):
    cb, display = plugin(tmp_path, gpg_key="nobody@example.invalid", gpg_home=str(tmp_path / "empty-gnupg"))
    os.makedirs(str(tmp_path / "empty-gnupg"), mode=0o700)
    play_run(cb)
    assert any("cannot sign checkpoints" in w for w in display.warnings)
    assert any("cannot seal" in w for w in display.warnings)
    chain = (tmp_path / "spool" / "current").read_text().strip()
    with open(str(tmp_path / "spool" / chain / "segments" / "000000000001.jsonl")) as handle:
        assert len(handle.readlines()) == 6, "every record is still in the spool"
