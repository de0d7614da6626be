"""What the role watchkeeper.ops.backup left on the molecule host (this machine, local connection).

Paths come from the scenario's inventory (molecule.yml group_vars), the PostgreSQL major from the
throwaway cluster that prepare.yml started.
"""

import datetime
import json
import os

import pytest

JOBS = {"molecule-db": "*-*-* 02:30:00", "molecule-files": "hourly"}
UNIT = "watchkeeper-backup"


@pytest.fixture(scope="module")
def wk(host):
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def cluster(host, wk):
    return json.loads(host.file(os.path.join(wk["wk_test_root"], "pg", "cluster.json")).content_string)


def find(host, path, name):
    return sorted(host.run("find %s -type f -name %s", path, name).stdout.split())


def test_tools_installed(host, cluster):
    major = cluster["bindir"].split("/")[-2]
    for package in ("gnupg", "zstd", "postgresql-client-%s" % major):
        assert host.package(package).is_installed, package
    assert host.run("zstd --version").rc == 0
    pg_dump = host.run("/usr/lib/postgresql/%s/bin/pg_dump --version" % major)
    assert pg_dump.rc == 0 and (" %s." % major) in pg_dump.stdout


def test_only_public_keys_on_the_host(host, wk):
    keys_dir = wk["backup_keys_dir"]
    key = host.file(os.path.join(keys_dir, "molecule-recipient.asc"))
    assert key.is_file and key.mode == 0o644
    assert "BEGIN PGP PUBLIC KEY BLOCK" in key.content_string
    for path in find(host, keys_dir, "*"):
        assert "PRIVATE KEY" not in host.file(path).content_string, path
        listed = host.run("gpg --show-keys --with-colons %s" % path)
        assert listed.rc == 0
        kinds = {line.split(":")[0] for line in listed.stdout.splitlines()}
        assert "pub" in kinds and not kinds & {"sec", "ssb"}, path


def test_ops_state_mode(host, wk):
    state = host.file(wk["backup_ops_state"])
    assert state.is_directory and state.mode == 0o750


def test_service_unit(host, wk, cluster):
    service = host.file(os.path.join(wk["backup_systemd_dir"], "%s@.service" % UNIT))
    assert service.is_file and service.mode == 0o644
    text = service.content_string
    assert "Type=oneshot" in text
    assert "ExecStart=" in text and "-i localhost, -c local %s/%%i.yml" % wk["backup_timer_config_dir"] in text
    assert cluster["password"] not in text


@pytest.mark.parametrize("job", sorted(JOBS))
def test_timer_enabled(host, wk, cluster, job):
    systemd_dir = wk["backup_systemd_dir"]
    timer = host.file(os.path.join(systemd_dir, "%s@%s.timer" % (UNIT, job)))
    assert timer.is_file
    assert "OnCalendar=%s\n" % JOBS[job] in timer.content_string
    assert "Persistent=true" in timer.content_string and "RandomizedDelaySec=" in timer.content_string
    assert cluster["password"] not in timer.content_string
    link = host.file(os.path.join(systemd_dir, "timers.target.wants", "%s@%s.timer" % (UNIT, job)))
    assert link.is_symlink and link.linked_to == timer.path
    verify = host.run("SYSTEMD_UNIT_PATH=%s: systemd-analyze verify %s@%s.service %s", systemd_dir, UNIT, job, timer.path)
    assert verify.rc == 0, verify.stderr


@pytest.mark.parametrize("job", sorted(JOBS))
def test_scheduled_playbook(host, wk, cluster, job):
    playbook = host.file(os.path.join(wk["backup_timer_config_dir"], "%s.yml" % job))
    assert playbook.is_file and "watchkeeper.ops.backup" in playbook.content_string
    assert cluster["password"] not in playbook.content_string
    settings = host.file(os.path.join(wk["backup_timer_config_dir"], "%s.vars.yml" % job))
    assert settings.is_file and settings.mode == 0o600 and settings.user == "root"
    assert "name: %s" % job in settings.content_string
    # The job's secrets live here, and only here.
    assert (cluster["password"] in settings.content_string) == (job == "molecule-db")


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
