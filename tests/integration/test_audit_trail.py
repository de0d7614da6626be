# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 14, acceptance 1 and 2: the audit callback on real runs, and audit_verify against tampering.

1. ``playbooks/backup.yml`` (a files job to a local destination, encrypted with a passphrase held in a variable)
   runs through ``ansible-runner`` the way AWX runs it: a project directory, AWX's extra vars (``awx_*`` and
   ``tower_*``) and environment (``JOB_ID``, ``AWX_HOST``, ``PROJECT_REVISION``). The records name the job id,
   template and user; the passphrase appears nowhere in the spool or the shipped segments, not even as the HMAC
   fingerprint of an argument, and the ``no_log`` backup task is recorded with its name and outcome only.
2. A trail of three runs of a small playbook (6 records each), shipped to a directory, is verified by ``audit_verify``; every
   tampering makes it fail naming the first broken record or segment, the untouched copy passes.
"""

import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

from helpers import run_module, run_playbook
from ansible_run import ROOT, collections_path  # pylint: disable=import-error

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.record import value_fingerprint
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.sign import HmacSigner

PASSPHRASE = "Horse-Battery-9f3c1e-never-logged"
KEY_HEX = "5f" * 32
OTHER_KEY = b"another key, not the chain's one"


def callback_env(spool, key_file, ship_dir=None, **extra):
    env = {"ANSIBLE_CALLBACKS_ENABLED": "watchkeeper.ops.audit", "WATCHKEEPER_AUDIT_SPOOL": str(spool),
           "WATCHKEEPER_AUDIT_HMAC_KEY_FILE": str(key_file)}
    if ship_dir:
        env["WATCHKEEPER_AUDIT_SHIP_DIR"] = str(ship_dir)
    env.update(extra)
    return env


def key_file(tmp):
    path = os.path.join(str(tmp), "checkpoint.key")
    with open(path, "w") as handle:
        handle.write(KEY_HEX + "\n")
    os.chmod(path, 0o600)
    return path


def all_bytes(root):
    out = []
    for dirpath, _dirs, files in os.walk(str(root)):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as handle:
                out.append((os.path.join(dirpath, name), handle.read()))
    return out


def records_of(root, prefix=""):
    base = os.path.join(str(root), prefix)
    (chain,) = [d for d in os.listdir(base) if os.path.isdir(os.path.join(base, d, "segments"))]
    seg_dir = os.path.join(base, chain, "segments")
    out = []
    for name in sorted(os.listdir(seg_dir)):
        with open(os.path.join(seg_dir, name)) as handle:
            out.extend(json.loads(line) for line in handle)
    return chain, out


def verify_dir(path, key, prefix="audit", **extra):
    args = {"destination": {"type": "local", "path": str(path)}, "prefix": prefix, "hmac_key_files": [str(key)]}
    args.update(extra)
    return run_module("watchkeeper.ops.audit_verify", args)


# --------------------------------------------------------------------------- acceptance 1

def test_backup_playbook_through_ansible_runner_as_awx(tmp_path):
    import ansible_runner  # requirements.txt installs it: a missing runner fails, never skips
    source = tmp_path / "data"
    source.mkdir()
    (source / "orders.csv").write_text("id,amount\n1,10\n")
    private = tmp_path / "runner"
    private.mkdir()
    os.symlink(ROOT, str(private / "project"))  # AWX checks the project out there
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[backup_runners]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    spool, shipped, key = tmp_path / "spool", tmp_path / "ops_state" / "audit-trail", key_file(tmp_path)
    extravars = {
        "backup_jobs": [{"name": "audit-files", "source": {"type": "files", "paths": [str(source)]},
                         "destinations": [{"name": "nas", "type": "local", "path": str(tmp_path / "nas")}],
                         "encryption": {"mode": "symmetric", "passphrase": "{{ wk_backup_passphrase }}"}}],
        "wk_backup_passphrase": PASSPHRASE,
        "backup_ops_state": str(tmp_path / "state"), "backup_shared_state": "local",
        "backup_install_packages": False, "backup_install_python_packages": False,
        # what AWX injects into every job (both spellings)
        "awx_job_id": 4711, "tower_job_id": 4711, "awx_job_template_name": "Nightly backup",
        "tower_job_template_name": "Nightly backup", "awx_user_name": "alice", "tower_user_name": "alice",
        "awx_job_launch_type": "manual",
    }
    (tmp_path / "nas").mkdir()
    env = callback_env(spool, key, shipped, ANSIBLE_COLLECTIONS_PATH=collections_path(), JOB_ID="4711",
                       AWX_HOST="https://awx.example.invalid", PROJECT_REVISION="0123456789abcdef0123456789abcdef01234567",
                       PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    run = ansible_runner.run(private_data_dir=str(private), playbook="playbooks/backup.yml", inventory=str(inventory),
                             extravars=extravars, envvars=env, quiet=True)
    assert (run.status, run.rc) == ("successful", 0), run.stdout.read()[-3000:]
    assert os.listdir(str(tmp_path / "nas" / "audit-files")), "the backup itself ran"

    chain, records = records_of(spool)
    start = records[0]["data"]
    assert start["event"] == "play_start" and start["playbook"] == os.path.join(ROOT, "playbooks", "backup.yml")
    assert start["who"]["awx"] == {"job_id": 4711, "job_template": "Nightly backup", "user": "alice", "launch_type": "manual"}
    assert start["commit"] == "0123456789abcdef0123456789abcdef01234567"
    assert start["hosts"] == ["localhost"]
    backup = [r["data"] for r in records if r["data"].get("task", "").endswith("Back up each selected job")]
    assert len(backup) == 1 and backup[0]["no_log"] is True and backup[0]["outcome"] == "changed"
    assert "args" not in backup[0] and "action" not in backup[0], "a no_log task keeps its name and outcome only"
    assert records[-1]["data"]["event"] == "run_end"

    with open(os.path.join(str(spool), "args.key")) as handle:
        arg_key = bytes.fromhex(handle.read().strip())
    forbidden = [PASSPHRASE.encode(), value_fingerprint(arg_key, PASSPHRASE).encode()]
    places = all_bytes(spool) + all_bytes(shipped)
    assert any(path.endswith(".jsonl") for path, _data in all_bytes(shipped)), "segments were shipped"
    for path, data in places:
        for secret in forbidden:
            assert secret not in data, "secret material in %s" % path
    result = verify_dir(shipped, key)
    assert result["ok"] and result["records"] == len(records), result.get("msg")
    assert result["chains"][0]["chain"] == chain


# --------------------------------------------------------------------------- acceptance 2

SMALL_PLAY = [{"hosts": "localhost", "gather_facts": False,
               "vars": {"ansible_python_interpreter": sys.executable, "db_password": PASSPHRASE},
               "tasks": [{"name": "Say hello", "ansible.builtin.command": "echo hello", "changed_when": False},
                         {"name": "Use the password", "ansible.builtin.set_fact": {"pw_len": "{{ db_password | length }}"}},
                         {"name": "Hidden", "ansible.builtin.debug": {"msg": "{{ db_password }}"}, "no_log": True},
                         {"name": "Write a file", "ansible.builtin.copy": {"content": "x\n", "dest": "{{ out }}"}}]}]


@pytest.fixture(scope="module")
def shipped_trail(tmp_path_factory):
    """Three runs (three sealed segments of 6 records each), shipped to a directory."""
    tmp = tmp_path_factory.mktemp("audit-trail")
    play = tmp / "play.yml"
    play.write_text(json.dumps(SMALL_PLAY))
    key = key_file(tmp)
    for number in range(3):
        code, _data, stdout, stderr = run_playbook(str(play), extra_vars={"out": str(tmp / ("out-%d" % number))},
                                                   env=callback_env(tmp / "spool", key, tmp / "shipped"))
        assert code == 0, stdout[-2000:] + stderr[-2000:]
    return tmp / "shipped", key


@pytest.fixture
def trail_copy(shipped_trail, tmp_path):
    src, key = shipped_trail
    dst = tmp_path / "shipped"
    shutil.copytree(str(src), str(dst))
    chain = os.listdir(str(dst / "audit"))[0]
    base = dst / "audit" / chain
    segs = sorted(os.listdir(str(base / "segments")))
    return dst, key, base, segs


def lines(path):
    with open(str(path), "rb") as handle:
        return handle.read().split(b"\n")[:-1]


def write(path, new_lines):
    with open(str(path), "wb") as handle:
        handle.write(b"".join(line + b"\n" for line in new_lines))


def test_untouched_trail_passes(trail_copy):
    dst, key, _base, segs = trail_copy
    assert segs == ["000000000001.jsonl", "000000000007.jsonl", "000000000013.jsonl"]
    result = verify_dir(dst, key)
    assert result["ok"] and not result.failed and result["records"] == 18 and result["gaps"] == []
    assert [(c["first_seq"], c["last_seq"]) for c in result["coverage"]] == [(1, 18)]


def tamper_byte(base, segs):
    seg = base / "segments" / segs[1]
    data = lines(seg)
    data[2] = data[2].replace(b'"Use the password"', b'"Use the passwore"')
    write(seg, data)
    return "segments/000000000007.jsonl", 3, 9


def tamper_delete(base, segs):
    seg = base / "segments" / segs[1]
    data = lines(seg)
    del data[2]
    write(seg, data)
    return "segments/000000000007.jsonl", 3, 9


def tamper_insert(base, segs):
    seg = base / "segments" / segs[1]
    data = lines(seg)
    data.insert(2, lines(base / "segments" / segs[0])[2])
    write(seg, data)
    return "segments/000000000007.jsonl", 3, 9


def tamper_swap(base, segs):
    seg = base / "segments" / segs[1]
    data = lines(seg)
    data[2], data[3] = data[3], data[2]
    write(seg, data)
    return "segments/000000000007.jsonl", 3, 9


def tamper_truncate(base, segs):
    seg = base / "segments" / segs[2]
    write(seg, lines(seg)[:-2])
    return "segments/000000000013.jsonl", None, 17


def tamper_remove_segment(base, segs):
    os.unlink(str(base / "segments" / segs[1]))
    return "segments/000000000007.jsonl", None, None


def tamper_resign(base, segs):
    ckpt = base / "checkpoints" / "000000000012.json"
    with open(str(ckpt), "rb") as handle:
        data = handle.read()
    with open(str(ckpt) + ".sig", "wb") as handle:
        handle.write(HmacSigner(OTHER_KEY).sign(data))
    return "checkpoints/000000000012.json", None, None


@pytest.mark.parametrize("tamper", [tamper_byte, tamper_delete, tamper_insert, tamper_swap, tamper_truncate,
                                    tamper_remove_segment, tamper_resign])
def test_tampering_is_named(trail_copy, tamper):
    dst, key, base, segs = trail_copy
    where, line, seq = tamper(base, segs)
    result = verify_dir(dst, key)
    assert result.failed, "tampering %s went unnoticed" % tamper.__name__
    brk = result["first_break"]
    assert brk["where"] == where and where in result["msg"], result["msg"]
    if line is not None:
        assert brk["line"] == line
    if seq is not None:
        assert brk["seq"] == seq
    assert not result["ok"]


def test_unknown_key_and_report_only_mode(trail_copy, tmp_path):
    dst, _key, _base, _segs = trail_copy
    other = tmp_path / "other.key"
    other.write_bytes(OTHER_KEY)
    result = verify_dir(dst, other, fail_on_break=False)
    assert not result.failed and not result["ok"]
    assert "unknown key" in result["first_break"]["reason"]


def test_bad_options_fail_clearly(trail_copy, tmp_path):
    dst, key, _base, _segs = trail_copy
    result = verify_dir(dst, tmp_path / "absent.key")
    assert result.failed and "cannot read the audit key file" in result["msg"]
    result = run_module("watchkeeper.ops.audit_verify", {"destination": {"type": "local", "path": str(dst)}, "prefix": "audit"})
    assert result.failed and "no trusted key" in result["msg"]
    result = verify_dir(tmp_path, key)
    assert result.failed and "no audit chain found" in result["msg"]
    result = verify_dir(dst, key, chains=["not-a-chain"])
    assert result.failed and "no chain not-a-chain" in result["msg"]


# --------------------------------------------------------------------------- audit_query on the same trail

def test_query_exports_and_check_mode(trail_copy, tmp_path):
    dst, _key, _base, _segs = trail_copy
    args = {"destination": {"type": "local", "path": str(dst)}, "hosts": ["localhost"], "outcomes": ["changed"],
            "export_path": str(tmp_path / "changed.json")}
    result = run_module("watchkeeper.ops.audit_query", args, check_mode=True)
    assert not result.failed and result["changed"] and result["count"] == 3
    assert not (tmp_path / "changed.json").exists(), "check mode writes no export"
    result = run_module("watchkeeper.ops.audit_query", args)
    assert [r["task"] for r in result["records"]] == ["Write a file"] * 3
    with open(str(tmp_path / "changed.json"), "rb") as handle:
        doc = json.loads(handle.read())
    assert doc["count"] == 3 and doc["query"]["outcomes"] == ["changed"]
    assert result["export_sha256"] and all(r["data"]["args"] for r in doc["records"])
    hidden = run_module("watchkeeper.ops.audit_query", dict(args, outcomes=[], export_path=None))
    assert [r["task"] for r in hidden["records"] if r["task"] == "Hidden"] == ["Hidden"] * 3
    bad = run_module("watchkeeper.ops.audit_query", dict(args, since="yesterday-ish"))
    assert bad.failed and "ISO 8601" in bad["msg"]


# --------------------------------------------------------------------------- GnuPG checkpoints, concurrent runs

def gpg_signing_key(tmp):
    """A signing-only ed25519 key in ``tmp/signer`` and a keyring ``tmp/verifier`` holding only its public key."""
    signer, verifier = str(tmp / "signer"), str(tmp / "verifier")
    for home in (signer, verifier):
        os.makedirs(home, mode=0o700)
    subprocess.run(["gpg", "--homedir", signer, "--batch", "--passphrase", "", "--quick-gen-key",
                    "Audit Signer <audit@example.invalid>", "ed25519", "sign", "never"], check=True, capture_output=True)
    out = subprocess.run(["gpg", "--homedir", signer, "--list-keys", "--with-colons"], check=True, capture_output=True, text=True).stdout
    fpr = [line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:")][0]
    public = subprocess.run(["gpg", "--homedir", signer, "--armor", "--export", fpr], check=True, capture_output=True).stdout
    subprocess.run(["gpg", "--homedir", verifier, "--batch", "--import"], input=public, check=True, capture_output=True)
    return signer, verifier, fpr


def test_gpg_signed_checkpoints_from_concurrent_runs(tmp_path):
    signer, verifier, fpr = gpg_signing_key(tmp_path)
    play = tmp_path / "play.yml"
    play.write_text(json.dumps(SMALL_PLAY))
    env = {"ANSIBLE_CALLBACKS_ENABLED": "watchkeeper.ops.audit", "WATCHKEEPER_AUDIT_SPOOL": str(tmp_path / "spool"),
           "WATCHKEEPER_AUDIT_GPG_KEY": fpr, "WATCHKEEPER_AUDIT_GPG_HOME": signer,
           "WATCHKEEPER_AUDIT_SHIP_DIR": str(tmp_path / "shipped")}
    threads, codes = [], []
    for number in range(2):  # two jobs of one controller at the same time (AWX runs them side by side)
        thread = threading.Thread(target=lambda n=number: codes.append(run_playbook(
            str(play), extra_vars={"out": str(tmp_path / ("out-%d" % n))}, env=env)[0]))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(300)
    assert codes == [0, 0]
    assert any(name.endswith(".json.asc") for name in os.listdir(str(next((tmp_path / "spool").glob("*/checkpoints")))))
    args = {"destination": {"type": "local", "path": str(tmp_path / "shipped")}, "gpg_home": verifier,
            "gpg_fingerprints": [fpr], "sealed_only": True}
    result = run_module("watchkeeper.ops.audit_verify", args)
    assert result["ok"] and result["records"] == 12 and len(result["chains"]) == 1, result.get("msg")
    runs = {r["data"]["run"] for r in records_of(tmp_path / "shipped", "audit")[1]}
    assert len(runs) == 2, "both runs in one chain"
    stranger = run_module("watchkeeper.ops.audit_verify", dict(args, gpg_fingerprints=["0" * 40]))
    assert stranger.failed and "unknown key" in stranger["msg"]


def test_configured_through_ansible_cfg(tmp_path):
    """The documented ansible.cfg section configures the plugin (no WATCHKEEPER_AUDIT_* variable set)."""
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\ncallbacks_enabled = watchkeeper.ops.audit\n\n[callback_watchkeeper.ops.audit]\n"
                   "spool_dir = %s\nhmac_key_file = %s\nship_dir = %s\nship_prefix = trail\n"
                   % (tmp_path / "spool", key_file(tmp_path), tmp_path / "shipped"))
    play = tmp_path / "play.yml"
    play.write_text(json.dumps(SMALL_PLAY))
    assert not [k for k in os.environ if k.startswith("WATCHKEEPER_AUDIT_") or k == "ANSIBLE_CALLBACKS_ENABLED"]
    code, _data, stdout, stderr = run_playbook(str(play), extra_vars={"out": str(tmp_path / "out")}, env={"ANSIBLE_CONFIG": str(cfg)})
    assert code == 0, stdout[-2000:] + stderr[-2000:]
    result = verify_dir(tmp_path / "shipped", os.path.join(str(tmp_path), "checkpoint.key"), prefix="trail")
    assert result["ok"] and result["records"] == 6, result.get("msg")
