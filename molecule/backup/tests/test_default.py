"""What the role watchkeeper.ops.backup left in the molecule instance (a fleet container with systemd as PID 1),
and that a timer it enabled fires by itself and writes a backup.

Paths are the role's defaults, the destination and test inputs come from the scenario's inventory
(molecule.yml group_vars), the generated PostgreSQL password from the controller's ephemeral directory.
"""

import calendar
import datetime
import json
import os
import time

import pytest

JOBS = {"molecule-db": "*-*-* 02:30:00", "molecule-files": "minutely"}
UNIT = "watchkeeper-backup"
SYSTEMD_DIR = "/etc/systemd/system"
CONFIG_DIR = "/etc/watchkeeper/backup"
KEYS_DIR = "/etc/watchkeeper/keys"
OPS_STATE = "/var/lib/watchkeeper"
# The timer of molecule-files elapses every minute (AccuracySec=1min, RandomizedDelaySec=1s) and a run takes some
# seconds (up to a minute on a busy machine). A run already going when the test starts does not count, and an
# elapse during a run starts nothing new: about two minutes in the worst case.
TIMER_WAIT_S = 180


@pytest.fixture(scope="module")
def wk(host):
    return host.ansible.get_variables()


class Secret(str):
    """The generated password, kept out of pytest's reports (they show the arguments of a failed test)."""

    def __repr__(self):
        return "<the generated password>"


@pytest.fixture(scope="module")
def password(wk):
    with open(os.path.join(wk["wk_controller_root"], "pg_password")) as handle:
        return Secret(handle.read().strip())


def find(host, path, name):
    return sorted(host.run("find %s -type f -name %s", path, name).stdout.split())


def show(host, unit, *props):
    out = host.check_output("systemctl show --timestamp=unix %s --property=%s", unit, ",".join(props))
    return dict(line.split("=", 1) for line in out.splitlines())


def test_tools_installed(host):
    major = host.check_output("pg_lsclusters -h").split()[0]
    for package in ("gnupg", "zstd", "postgresql-client-%s" % major):
        assert host.package(package).is_installed, package
    assert host.run("zstd --version").rc == 0
    pg_dump = host.run("/usr/lib/postgresql/%s/bin/pg_dump --version" % major)
    assert pg_dump.rc == 0 and (" %s." % major) in pg_dump.stdout


def test_only_public_keys_on_the_host(host):
    key = host.file(os.path.join(KEYS_DIR, "molecule-recipient.asc"))
    assert key.is_file and key.mode == 0o644
    assert "BEGIN PGP PUBLIC KEY BLOCK" in key.content_string
    for path in find(host, KEYS_DIR, "*"):
        assert "PRIVATE KEY" not in host.file(path).content_string, path
        listed = host.run("gpg --show-keys --with-colons %s" % path)
        assert listed.rc == 0
        kinds = {line.split(":")[0] for line in listed.stdout.splitlines()}
        assert "pub" in kinds and not kinds & {"sec", "ssb"}, path


def test_ops_state_mode(host):
    state = host.file(OPS_STATE)
    assert state.is_directory and state.mode == 0o750


def test_service_unit(host, password):
    service = host.file(os.path.join(SYSTEMD_DIR, "%s@.service" % UNIT))
    assert service.is_file and service.mode == 0o644
    text = service.content_string
    assert "Type=oneshot" in text
    assert "ExecStart=/usr/local/bin/ansible-playbook -i localhost, -c local %s/%%i.yml" % CONFIG_DIR in text
    assert password not in text


@pytest.mark.parametrize("job", sorted(JOBS))
def test_timer_enabled_and_active(host, password, job):
    timer = host.file(os.path.join(SYSTEMD_DIR, "%s@%s.timer" % (UNIT, job)))
    assert timer.is_file
    assert "OnCalendar=%s\n" % JOBS[job] in timer.content_string
    assert "Persistent=true" in timer.content_string and "RandomizedDelaySec=1s" in timer.content_string
    assert password not in timer.content_string
    # systemctl enable made the link, and systemd runs the timer.
    link = host.file(os.path.join(SYSTEMD_DIR, "timers.target.wants", "%s@%s.timer" % (UNIT, job)))
    assert link.is_symlink and link.linked_to == timer.path
    state = show(host, "%s@%s.timer" % (UNIT, job), "UnitFileState", "ActiveState", "SubState", "Triggers")
    # SubState is "running" while the service it triggered runs.
    assert state.pop("SubState") in ("waiting", "running"), state
    assert state == {"UnitFileState": "enabled", "ActiveState": "active", "Triggers": "%s@%s.service" % (UNIT, job)}
    verify = host.run("systemd-analyze verify %s@%s.service %s", UNIT, job, timer.path)
    assert verify.rc == 0, verify.stderr


@pytest.mark.parametrize("job", sorted(JOBS))
def test_scheduled_playbook(host, password, job):
    playbook = host.file(os.path.join(CONFIG_DIR, "%s.yml" % job))
    assert playbook.is_file and "watchkeeper.ops.backup" in playbook.content_string
    assert password not in playbook.content_string
    settings = host.file(os.path.join(CONFIG_DIR, "%s.vars.yml" % job))
    assert settings.is_file and settings.mode == 0o600 and settings.user == "root"
    assert "name: %s" % job in settings.content_string
    # The job's secrets live here, and only here.
    assert (password in settings.content_string) == (job == "molecule-db")


@pytest.mark.parametrize("job", sorted(JOBS))
def test_fresh_backup(host, wk, job):
    dest = wk["backup_destinations"][0]["path"]
    manifests = find(host, os.path.join(dest, job), "*.manifest.json")
    assert manifests, "no backup of %s in %s" % (job, dest)
    manifest = json.loads(host.file(manifests[-1]).content_string)
    assert manifest["job"] == job and manifest["status"] == "complete"
    created = datetime.datetime.strptime(manifest["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    assert datetime.datetime.now(datetime.timezone.utc) - created < datetime.timedelta(minutes=10)
    for obj in manifest["objects"]:
        stored = host.file(os.path.join(dest, obj["key"]))
        assert stored.is_file and stored.size == obj["stored_bytes"], stored.path
    assert manifest["encryption"]["mode"] == "public_key"
    if job == "molecule-db":
        assert manifest["fingerprint"]["tables"]["public.customers"]["rows"] == 500


def epoch(value):
    """A timestamp property of systemctl show --timestamp=unix ("@1796399971"; systemd 252 still prints
    LastTriggerUSec as "Fri 2026-12-04 16:00:22 UTC", the instance runs in UTC), or 0 when unset."""
    if value.startswith("@"):
        return int(value[1:])
    if value:
        return calendar.timegm(time.strptime(value, "%a %Y-%m-%d %H:%M:%S UTC"))
    return 0


def test_the_timer_fires_by_itself_and_backs_up(host, wk):
    """Nobody starts the service: the timer elapses, systemd runs the generated playbook with the image's
    ansible-playbook and the installed collection, and a new backup appears whose id that run logged."""
    job = "molecule-files"
    timer, service = "%s@%s.timer" % (UNIT, job), "%s@%s.service" % (UNIT, job)
    assert show(host, service, "TriggeredBy") == {"TriggeredBy": timer}
    dest = os.path.join(wk["backup_destinations"][0]["path"], job)
    before = set(find(host, dest, "*.manifest.json"))
    since = int(host.check_output("date +%s"))

    deadline = time.monotonic() + TIMER_WAIT_S
    while True:
        # A run that started after `since` and has ended (a run already going at `since` does not count).
        run = show(host, service, "ActiveState", "ExecMainStartTimestamp", "ExecMainExitTimestamp",
                   "ExecMainStatus", "Result", "InvocationID")
        started, exited = epoch(run["ExecMainStartTimestamp"]), epoch(run["ExecMainExitTimestamp"])
        if started > since and exited >= started and run["ActiveState"] != "activating":
            break
        assert time.monotonic() < deadline, "the timer did not run %s within %ss: %s" % (job, TIMER_WAIT_S, run)
        time.sleep(2)

    # Nothing but its timer starts the service (TriggeredBy above), and the timer has fired since `since` (a later
    # elapse during the run may have moved LastTriggerUSec past the run's start).
    trigger = epoch(show(host, timer, "LastTriggerUSec")["LastTriggerUSec"])
    assert trigger >= since, (since, trigger, started)
    assert run["ExecMainStatus"] == "0" and run["Result"] == "success", run
    new = sorted(set(find(host, dest, "*.manifest.json")) - before)
    assert new, "the timer's run wrote no manifest in %s" % dest
    manifest = json.loads(host.file(new[-1]).content_string)
    assert manifest["job"] == job and manifest["status"] == "complete"
    # That run (its journal, by invocation id) reported this very backup.
    journal = host.check_output("journalctl -o cat _SYSTEMD_INVOCATION_ID=%s", run["InvocationID"])
    assert manifest["backup_id"] in journal, journal[-2000:]
    # The scheduled run left its own schedule alone (its settings say backup_timer_enabled false, which on an
    # operator's run removes the timers).
    assert show(host, timer, "UnitFileState", "ActiveState") == {"UnitFileState": "enabled", "ActiveState": "active"}
