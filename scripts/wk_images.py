"""Build the images of the test fleet without a container registry.

* base  ``watchkeeper/base:<suite>``: ``mmdebstrap --variant=minbase`` of the machine's Debian suite
  (or ``--suite``) from the machine's own apt source, with systemd, sshd and Python, imported with
  ``docker import``;
* fleet ``watchkeeper/fleet:<suite>`` (``watchkeeper/fleet:latest`` too for the machine's own suite): ``FROM`` base,
  ``scripts/fleet-image/Dockerfile``, the Debian and Python packages the roles use installed at
  build time through the host network (containers have no route to the registries later).

Each image carries a label ``wk.inputs`` (SHA-256 of what it is built from: suite, mirror, package
lists, the Dockerfile directory); an image whose label matches is reused, so only a change of inputs
rebuilds. ``build`` prints what it did and how long it took:

    python scripts/wk_images.py build [--suite bookworm] [--force]
    python scripts/wk_images.py show
"""

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import wk_engine  # noqa: E402  pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
CONTEXT = os.path.join(HERE, "fleet-image")
BASE_PACKAGES = ["python3", "openssh-server", "iproute2", "procps", "systemd", "systemd-sysv", "dbus",
                 "ca-certificates", "iputils-ping", "less"]
# What the roles install on hosts, present at build time so role runs need no registry.
FLEET_APT = ["postgresql", "postgresql-contrib", "nginx", "redis-server", "zstd", "gnupg", "sqlite3", "rsyslog",
             "logrotate", "cron", "python3-pip", "python3-apt", "curl", "jq", "sudo", "tar",
             # the monitoring role: Prometheus, Alertmanager and the exporters (Debian packages)
             "prometheus", "prometheus-alertmanager", "prometheus-node-exporter", "prometheus-postgres-exporter",
             "prometheus-redis-exporter", "prometheus-nginx-exporter", "prometheus-blackbox-exporter",
             # the logging role: RELP input/output for rsyslog
             "rsyslog-relp"]
FLEET_PIP = ["ansible-core>=2.17", "psycopg[binary]>=3.1", "python-gnupg>=0.5.2", "boto3>=1.34",
             "google-cloud-storage>=2.14", "docker>=7.0"]
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"


def host_suite():
    with open("/etc/os-release") as handle:
        match = re.search(r"^VERSION_CODENAME=(\S+)", handle.read(), re.M)
    return match.group(1) if match else "bookworm"


def host_mirror():
    """The machine's own Debian mirror (the first main-archive URI of its apt sources)."""
    texts = []
    for path in ["/etc/apt/sources.list"] + sorted(
            os.path.join("/etc/apt/sources.list.d", n) for n in os.listdir("/etc/apt/sources.list.d")
            if n.endswith((".sources", ".list"))):
        try:
            with open(path) as handle:
                texts.append(handle.read())
        except OSError:
            continue
    for text in texts:
        for uri in re.findall(r"^(?:URIs:\s*|deb\s+(?:\[[^]]*\]\s+)?)(\S+)", text, re.M):
            if "security" not in uri and "debian" in uri:
                return uri
    return "http://deb.debian.org/debian"


def _docker(*args, **kwargs):
    return wk_engine.run_docker(args, kwargs.pop("docker_host"), **kwargs)


def _label(docker_host, image):
    res = _docker("image", "inspect", "--format", '{{ index .Config.Labels "wk.inputs" }}', image,
                  docker_host=docker_host, capture_output=True, text=True)
    return res.stdout.strip() if res.returncode == 0 else None


def _digest(*parts):
    sha = hashlib.sha256()
    for part in parts:
        sha.update(json.dumps(part, sort_keys=True).encode())
    return sha.hexdigest()[:16]


def _context_digest():
    files = {}
    for name in sorted(os.listdir(CONTEXT)):
        with open(os.path.join(CONTEXT, name), "rb") as handle:
            files[name] = hashlib.sha256(handle.read()).hexdigest()
    return files


def names(suite=None):
    suite = suite or host_suite()
    return {"suite": suite, "base": "watchkeeper/base:%s" % suite, "fleet": "watchkeeper/fleet:%s" % suite,
            # :latest names the fleet image of the machine's own suite only.
            "latest": "watchkeeper/fleet:latest" if suite == host_suite() else None}


def build(suite=None, force=False, docker_host=None, log=print):
    """Build (or reuse) the base and fleet images; returns their names, digests and seconds spent.

    Callers in several processes (pytest-xdist workers) build one after the other: the second finds
    the first's images."""
    docker_host = docker_host or wk_engine.ensure()
    os.makedirs(wk_engine.STATE, exist_ok=True)
    with open(os.path.join(wk_engine.STATE, "images.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(suite, force, docker_host, log)


def _build(suite, force, docker_host, log):
    n = names(suite)
    mirror = host_mirror()
    base_inputs = _digest(n["suite"], mirror, BASE_PACKAGES)
    fleet_inputs = _digest(base_inputs, FLEET_APT, FLEET_PIP, _context_digest())
    report = dict(n, base_built=False, fleet_built=False, base_s=0.0, fleet_s=0.0)

    if force or _label(docker_host, n["base"]) != base_inputs:
        if not shutil.which("mmdebstrap"):
            raise RuntimeError("mmdebstrap is not installed: install the Debian package mmdebstrap (scripts/setup.sh does)")
        t0 = time.monotonic()
        log("building %s with mmdebstrap from %s" % (n["base"], mirror))
        strap = subprocess.Popen(["mmdebstrap", "--quiet", "--variant=minbase", "--include=" + ",".join(BASE_PACKAGES),
                                  n["suite"], "-", mirror], stdout=subprocess.PIPE)
        imp = _docker("import", "--change", "LABEL wk.inputs=%s" % base_inputs, "--change", 'CMD ["/lib/systemd/systemd"]',
                      "-", n["base"], docker_host=docker_host, stdin=strap.stdout, capture_output=True, text=True)
        strap.stdout.close()
        if strap.wait() != 0 or imp.returncode != 0:
            raise RuntimeError("building %s failed: mmdebstrap exit %s, docker import: %s" % (
                n["base"], strap.returncode, imp.stderr.strip()))
        report.update(base_built=True, base_s=round(time.monotonic() - t0, 1))

    if force or report["base_built"] or _label(docker_host, n["fleet"]) != fleet_inputs:
        t0 = time.monotonic()
        log("building %s" % n["fleet"])
        with tempfile.TemporaryDirectory(prefix="wk-image-") as ctx:
            for name in os.listdir(CONTEXT):
                shutil.copy(os.path.join(CONTEXT, name), ctx)
            # pip inside the build reaches PyPI through the host network with the machine's CA bundle
            # (a copy in the build context only; the Dockerfile deletes it).
            shutil.copy(HOST_CA if os.path.exists(HOST_CA) else os.devnull, os.path.join(ctx, "host-ca.crt"))
            with open(os.path.join(ctx, "packages.apt"), "w") as handle:
                handle.write("\n".join(FLEET_APT) + "\n")
            with open(os.path.join(ctx, "requirements.txt"), "w") as handle:
                handle.write("\n".join(FLEET_PIP) + "\n")
            res = _docker("build", "--network", "host", "--label", "wk.inputs=%s" % fleet_inputs,
                          "--build-arg", "BASE=%s" % n["base"], "-t", n["fleet"], ctx,
                          docker_host=docker_host, capture_output=True, text=True,
                          env_extra={"DOCKER_BUILDKIT": "0"})
            if res.returncode != 0:
                raise RuntimeError("building %s failed:\n%s" % (n["fleet"], (res.stdout + res.stderr)[-4000:]))
        report.update(fleet_built=True, fleet_s=round(time.monotonic() - t0, 1))
    if n["latest"]:
        _docker("tag", n["fleet"], n["latest"], docker_host=docker_host, capture_output=True)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("action", choices=["build", "show"])
    parser.add_argument("--suite", help="Debian suite of the images (default: this machine's)")
    parser.add_argument("--force", action="store_true", help="rebuild even when the inputs did not change")
    args = parser.parse_args(argv)
    if args.action == "show":
        print(json.dumps(names(args.suite)))
        return 0
    t0 = time.monotonic()
    report = build(args.suite, args.force, log=lambda msg: print("==> " + msg, flush=True))
    report["total_s"] = round(time.monotonic() - t0, 1)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
