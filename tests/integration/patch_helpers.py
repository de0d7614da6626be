# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the security_patch.yml test: tiny Debian packages, flat apt repositories, a request sampler.

Packages are built with ``dpkg-deb --build`` (dpkg is essential on Debian, so the machine always has it); the
``Packages`` index and the ``Release`` file of a flat repository (``deb [trusted=yes] file:/dir ./``) are written
here in Python with the fields apt reads (dpkg-scanpackages / apt-ftparchive are in dpkg-dev / apt-utils, which
neither the machine's setup nor the fleet image installs). The ``Release`` file carries the repository's
``Label`` and ``Suite``: that is what security_patch.yml's ``security_patch_all`` selects security updates by.
"""

import collections
import hashlib
import http.client
import os
import subprocess
import threading
import time

import wk_fleet


def build_deb(work, name, version, postinst="", files=None, description="watchkeeper test package"):
    """Build ``<name>_<version>_all.deb`` in ``work``; ``files`` maps absolute paths to contents. Returns its path."""
    root = os.path.join(work, "build", "%s-%s" % (name, version))
    os.makedirs(os.path.join(root, "DEBIAN"))
    with open(os.path.join(root, "DEBIAN", "control"), "w") as handle:
        handle.write("Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: watchkeeper tests <wk@example.invalid>\n"
                     "Section: misc\nPriority: optional\nDescription: %s\n" % (name, version, description))
    if postinst:
        path = os.path.join(root, "DEBIAN", "postinst")
        with open(path, "w") as handle:
            handle.write("#!/bin/sh\nset -e\n" + postinst + "\nexit 0\n")
        os.chmod(path, 0o755)
    for dest, content in (files or {}).items():
        path = os.path.join(root, dest.lstrip("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(content)
    out = os.path.join(work, "%s_%s_all.deb" % (name, version))
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", root, out], check=True, capture_output=True)
    return out


def _control(deb):
    return subprocess.run(["dpkg-deb", "--field", deb], check=True, capture_output=True, text=True).stdout.strip()


def write_flat_repo(directory, debs, label, suite):
    """A flat repository in ``directory``: the .debs, ``Packages`` and a ``Release`` naming label and suite."""
    os.makedirs(directory, exist_ok=True)
    entries = []
    for deb in debs:
        with open(deb, "rb") as handle:
            data = handle.read()
        name = os.path.basename(deb)
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(data)
        entries.append("%s\nFilename: ./%s\nSize: %d\nMD5sum: %s\nSHA256: %s\n" % (
            _control(deb), name, len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()))
    packages = "\n".join(entries).encode()
    with open(os.path.join(directory, "Packages"), "wb") as handle:
        handle.write(packages)
    release = ("Origin: watchkeeper-tests\nLabel: %s\nSuite: %s\nCodename: %s\nArchitectures: all amd64 arm64\n"
               "Date: %s\nSHA256:\n %s %d Packages\n" % (label, suite, suite,
                                                         time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime()),
                                                         hashlib.sha256(packages).hexdigest(), len(packages)))
    with open(os.path.join(directory, "Release"), "w") as handle:
        handle.write(release)
    return directory


def copy_into(fleet, host, source, dest):
    """Replace ``dest`` in the host by the local directory ``source`` (docker cp)."""
    fleet.exec(host, ["rm", "-rf", dest])
    fleet.exec(host, ["mkdir", "-p", os.path.dirname(dest)])
    wk_fleet.docker("cp", source, "%s:%s" % (fleet.container(host), dest), docker_host=fleet.docker_host)


def dpkg_version(fleet, host, package):
    """The installed version of ``package`` on the host, or None."""
    res = fleet.exec(host, ["dpkg-query", "-W", "-f=${Status} ${Version}", package], check=False)
    parts = res.stdout.split()
    return parts[-1] if res.returncode == 0 and parts[:3] == ["install", "ok", "installed"] else None


def probe(ip, timeout=2):
    """(status, Retry-After, first bytes of the body) of GET / on port 80, or ("error", None, why)."""
    conn = http.client.HTTPConnection(ip, 80, timeout=timeout)
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        return resp.status, resp.getheader("Retry-After"), resp.read(200).decode("utf-8", "replace")
    except OSError as exc:
        return "error", None, str(exc)
    finally:
        conn.close()


class Sampler(threading.Thread):
    """Every ``interval`` s, GET / on every host (one round); at most ``max_rounds`` rounds and ``max_seconds``."""

    def __init__(self, ips, interval=0.05, max_rounds=6000, max_seconds=300):
        super().__init__(daemon=True)
        self.ips = ips
        self.interval = interval
        self.max_rounds = max_rounds
        self.max_seconds = max_seconds
        self.rounds = []  # [(seconds since start, {host: answer})]
        self.halt = threading.Event()
        self.exhausted = False

    def run(self):
        begin = time.monotonic()
        while not self.halt.is_set():
            if len(self.rounds) >= self.max_rounds or time.monotonic() - begin > self.max_seconds:
                self.exhausted = True
                return
            started = time.monotonic()
            answers = dict((host, probe(ip)) for host, ip in self.ips.items())
            self.rounds.append((round(started - begin, 3), answers))
            self.halt.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def stop(self):
        self.halt.set()
        self.join(timeout=30)

    def counts(self):
        out = dict((host, collections.Counter()) for host in self.ips)
        for _t, answers in self.rounds:
            for host, answer in answers.items():
                out[host][str(answer[0])] += 1
        return dict((host, dict(sorted(counter.items()))) for host, counter in out.items())

    def turn(self, host):
        """(first, last) round index where the host answered 503, or None."""
        hits = [i for i, (_t, answers) in enumerate(self.rounds) if answers[host][0] == 503]
        return (hits[0], hits[-1]) if hits else None
