"""The fleet image under molecule's docker driver: systemd booted as PID 1, and the image carries what the other
scenarios expect to find instead of installing it (the instances have no route to any package registry)."""

import pytest


def test_systemd_is_pid_1_and_booted(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"
    state = host.run("systemctl is-system-running").stdout.strip()
    failed = host.run("systemctl --failed --no-legend --plain").stdout
    assert state in ("running", "degraded"), failed
    assert "watchkeeper" not in failed


@pytest.mark.parametrize("package", ["postgresql", "nginx", "redis-server", "zstd", "gnupg", "sqlite3", "curl", "jq"])
def test_packages_installed(host, package):
    assert host.package(package).is_installed


@pytest.mark.parametrize("service", ["postgresql", "nginx", "redis-server"])
def test_services_installed_but_left_to_the_scenarios(host, service):
    assert not host.service(service).is_running


def test_postgresql_cluster_exists(host):
    clusters = host.check_output("pg_lsclusters --no-header").split()
    assert clusters[1:4] == ["main", "5432", "down"], clusters


def test_python_libraries_of_the_modules(host):
    host.run_test("python3 -c 'import psycopg, gnupg, boto3, docker; from google.cloud import storage'")


def test_the_ansible_playbook_of_the_timers(host):
    out = host.check_output("/usr/local/bin/ansible-playbook --version")
    assert out.startswith("ansible-playbook [core ")
