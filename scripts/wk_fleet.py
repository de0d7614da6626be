"""A fleet of test hosts: one container per host with systemd as PID 1 and sshd, reached over SSH.

    python scripts/wk_fleet.py up --name demo --host db1:db --host db2:db --host app1:app,web
    python scripts/wk_fleet.py up --name demo --count 3            # h1..h3 in group "fleet"
    ansible all -i .wk/fleets/demo/inventory.yml -m ping
    ssh -F .wk/fleets/demo/ssh_config db1
    python scripts/wk_fleet.py cut|heal|crash --name demo db1   # unreachable / back / killed
    python scripts/wk_fleet.py exec --name demo db1 -- systemctl is-system-running
    python scripts/wk_fleet.py status --name demo
    python scripts/wk_fleet.py down --name demo

Each fleet has a network of its own (a ``/24`` the Engine allocates from the project's pool, so two
fleets never collide); hosts get fixed addresses on it (``.10``, ``.11``, ...) and reach each other
by name and the machine at the network's gateway address. A fleet's files (a generated key pair,
``inventory.yml`` with the groups, ``ssh_config``, ``fleet.json``) live in ``.wk/fleets/<name>/``.

Everything a fleet owns carries the label ``wk.fleet=<name>``, so ``down`` finds it whatever
happened to the process that ran ``up``. A fleet started with ``--owner-pid`` (the pytest fixture
passes its own) belongs to that process: the next ``up``, ``down`` or ``reap`` removes fleets whose
owner is gone (``kill -9`` included). Without an owner a fleet stays until ``down``.
"""

import argparse
import concurrent.futures
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import wk_engine  # noqa: E402  pylint: disable=wrong-import-position
import wk_images  # noqa: E402  pylint: disable=wrong-import-position

ROOT = wk_engine.ROOT
FLEETS = os.environ.get("WK_FLEETS_DIR") or os.path.join(ROOT, ".wk", "fleets")
LABEL = "wk.fleet"
# Fleet networks take /24s of this range (the project's own Engine allocates its pool there too).
POOL = os.environ.get("WK_FLEET_POOL", "172.30.0.0/16")
SYSTEMD_FLAGS = ["--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined",
                 "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro", "--tmpfs", "/run", "--tmpfs", "/run/lock"]


class FleetError(RuntimeError):
    pass


def docker(*args, check=True, docker_host=None, **kwargs):
    res = wk_engine.run_docker(args, docker_host or wk_engine.ensure(), capture_output=True, text=True, **kwargs)
    if check and res.returncode != 0:
        raise FleetError("docker %s failed: %s" % (" ".join(args[:3]), res.stderr.strip()))
    return res


def _start_time(pid):
    """A process's start time in clock ticks (with the pid it names one process, never a reused pid)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def owner_token(pid):
    return "%d:%s" % (pid, _start_time(pid))


def owner_alive(token):
    if not token:
        return True  # no owner: the fleet lives until `down`
    pid, started = token.split(":", 1)
    return _start_time(int(pid)) == started


def parse_hosts(specs, count=0):
    """``["db1:db", "app1:app,web"]`` or a count -> ``[{"name": ..., "groups": [...]}]``."""
    hosts = [{"name": "h%d" % i, "groups": ["fleet"]} for i in range(1, count + 1)]
    for spec in specs or []:
        name, groups = (spec.split(":", 1) + [""])[:2]
        hosts.append({"name": name, "groups": [g for g in groups.split(",") if g] or ["fleet"]})
    names = [h["name"] for h in hosts]
    if not hosts or len(set(names)) != len(names):
        raise FleetError("a fleet needs one or more hosts with distinct names, got %s" % names)
    return hosts


class Fleet:
    """A running fleet, as ``up`` wrote it into ``fleet.json``."""

    def __init__(self, data):
        self.data = data
        self.name = data["name"]
        self.dir = data["dir"]
        self.network = data["network"]
        self.gateway = data["gateway"]
        self.subnet = data["subnet"]
        self.hosts = data["hosts"]
        self.docker_host = data["docker_host"]
        self.inventory = os.path.join(self.dir, "inventory.yml")
        self.ssh_config = os.path.join(self.dir, "ssh_config")
        self.key = os.path.join(self.dir, "id_ed25519")

    def ip(self, host):
        return self.hosts[host]["ip"]

    def container(self, host):
        return self.hosts[host]["container"]

    def exec(self, host, command, check=True, timeout=120, user=None):
        """Run ``command`` (argv list, or a string for ``sh -c``) in the host; returns CompletedProcess."""
        argv = command if isinstance(command, list) else ["sh", "-c", command]
        extra = ["-u", user] if user else []
        res = docker("exec", *extra, self.container(host), *argv, check=False, docker_host=self.docker_host,
                     timeout=timeout)
        if check and res.returncode != 0:
            raise FleetError("%s on %s exited %d: %s" % (argv, host, res.returncode, (res.stderr or res.stdout).strip()))
        return res

    def ssh_argv(self, host):
        return ["ssh", "-F", self.ssh_config, host]

    def cut(self, host):
        """Disconnect the host from the fleet network: it is running but unreachable."""
        docker("network", "disconnect", "--force", self.network, self.container(host), docker_host=self.docker_host)

    def crash(self, host):
        """Kill the host (SIGKILL to its systemd, as a power loss)."""
        docker("kill", self.container(host), docker_host=self.docker_host)

    def heal(self, host=None, timeout=90):
        """Bring cut or crashed hosts back (all of them, or one) and wait until they answer on SSH."""
        for name in [host] if host else list(self.hosts):
            info = json.loads(docker("inspect", self.container(name), docker_host=self.docker_host).stdout)[0]
            if not info["State"]["Running"]:
                docker("start", self.container(name), docker_host=self.docker_host)
                info = json.loads(docker("inspect", self.container(name), docker_host=self.docker_host).stdout)[0]
            if self.network not in info["NetworkSettings"]["Networks"]:
                docker("network", "connect", "--ip", self.ip(name), "--alias", name, self.network,
                       self.container(name), docker_host=self.docker_host)
            _wait_ready(self, name, timeout)

    def state(self):
        """Per host: running, connected to the network, systemd state."""
        out = {}
        for name in self.hosts:
            res = docker("inspect", self.container(name), check=False, docker_host=self.docker_host)
            if res.returncode != 0:
                out[name] = {"running": False, "connected": False, "systemd": None}
                continue
            info = json.loads(res.stdout)[0]
            running = info["State"]["Running"]
            systemd = self.exec(name, ["systemctl", "is-system-running"], check=False).stdout.strip() if running else None
            out[name] = {"running": running, "connected": self.network in info["NetworkSettings"]["Networks"],
                         "systemd": systemd, "ip": self.ip(name)}
        return out

    def down(self):
        down(self.name, docker_host=self.docker_host)


def _container_name(fleet, host):
    return "wkf-%s-%s" % (fleet, host)


def _write_files(fleet_dir, data):
    lines = ["# Generated by scripts/wk_fleet.py for the fleet %s; removed by `down`." % data["name"]]
    for name, host in data["hosts"].items():
        lines += ["Host %s" % name, "  HostName %s" % host["ip"]]
    lines += ["Host *", "  User root", "  IdentityFile %s" % os.path.join(fleet_dir, "id_ed25519"),
              "  IdentitiesOnly yes", "  StrictHostKeyChecking no", "  UserKnownHostsFile /dev/null",
              "  LogLevel ERROR", "  ConnectTimeout 5",
              # A cut host must turn unreachable within seconds, also through a persistent connection.
              "  ServerAliveInterval 2", "  ServerAliveCountMax 3", ""]
    with open(os.path.join(fleet_dir, "ssh_config"), "w") as handle:
        handle.write("\n".join(lines))
    groups = {}
    for name, host in data["hosts"].items():
        for group in host["groups"]:
            groups.setdefault(group, {"hosts": {}})["hosts"][name] = None
    inventory = {"all": {
        "vars": {"ansible_user": "root", "ansible_python_interpreter": "/usr/bin/python3",
                 "ansible_ssh_private_key_file": os.path.join(fleet_dir, "id_ed25519"),
                 "ansible_ssh_common_args": "-F %s" % os.path.join(fleet_dir, "ssh_config"),
                 "wk_fleet_gateway": data["gateway"]},
        "hosts": {name: {"ansible_host": host["ip"]} for name, host in data["hosts"].items()},
        "children": groups}}
    # JSON is YAML: the inventory plugin reads it, and no YAML library is needed here.
    with open(os.path.join(fleet_dir, "inventory.yml"), "w") as handle:
        json.dump(inventory, handle, indent=2)
    with open(os.path.join(fleet_dir, "fleet.json"), "w") as handle:
        json.dump(data, handle, indent=2)


def _wait_ready(fleet, host, timeout):
    """systemd has finished booting (running or degraded) and sshd accepts connections."""
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        res = fleet.exec(host, ["systemctl", "is-system-running"], check=False, timeout=10)
        state = res.stdout.strip()
        if state in ("running", "degraded"):
            try:
                with socket.create_connection((fleet.ip(host), 22), timeout=1) as sock:
                    if sock.recv(4).startswith(b"SSH"):
                        return state
            except OSError:
                pass
        time.sleep(0.3)
    raise FleetError("host %s of fleet %s not ready within %ds (systemd: %s)" % (host, fleet.name, timeout, state))


def _routed(subnet):
    """Whether the machine already routes ``subnet`` (another Engine's network, a VPN, ...)."""
    res = subprocess.run(["ip", "-4", "route", "show"], capture_output=True, text=True, check=False)
    for line in res.stdout.splitlines():
        try:
            if ipaddress.ip_network(line.split()[0], strict=False).overlaps(subnet):
                return True
        except ValueError:
            continue  # "default via ..."
    return False


def _create_network(network, labels, docker_host):
    """Create the fleet's network on the first free /24 of the pool: not routed on this machine yet
    (another Engine's networks included), and the Engine refuses overlapping subnets, so concurrent
    ``up`` calls simply move on to the next one."""
    pool = ipaddress.ip_network(POOL)
    for subnet in pool.subnets(new_prefix=24):
        if subnet.network_address == pool.network_address or _routed(subnet):
            continue
        res = docker("network", "create", "--subnet", str(subnet), "--gateway", str(subnet.network_address + 1),
                     *labels, network, check=False, docker_host=docker_host)
        if res.returncode == 0:
            return subnet
        if "overlap" not in res.stderr:
            raise FleetError("docker network create %s failed: %s" % (network, res.stderr.strip()))
    raise FleetError("no free /24 left in %s" % POOL)


def up(hosts, name, owner_pid=None, image=None, timeout=120, docker_host=None):
    """Start a fleet; returns its ``Fleet``. A fleet of the same name is replaced."""
    docker_host = docker_host or wk_engine.ensure()
    reap(docker_host=docker_host)
    down(name, docker_host=docker_host)
    try:
        return _up(hosts, name, owner_pid, image, timeout, docker_host)
    except BaseException:
        down(name, docker_host=docker_host)
        raise


def _up(hosts, name, owner_pid, image, timeout, docker_host):
    image = image or os.environ.get("WK_FLEET_IMAGE") or wk_images.build(docker_host=docker_host)["fleet"]
    fleet_dir = os.path.join(FLEETS, name)
    os.makedirs(fleet_dir, mode=0o700)
    key = os.path.join(fleet_dir, "id_ed25519")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "wk-fleet-%s" % name, "-f", key], check=True)
    os.chmod(key + ".pub", 0o644)
    labels = ["--label", "%s=%s" % (LABEL, name), "--label", "%s.dir=%s" % (LABEL, fleet_dir)]
    if owner_pid:
        labels += ["--label", "%s.owner=%s" % (LABEL, owner_token(owner_pid))]
    network = "wkf-%s" % name
    subnet = _create_network(network, labels, docker_host)
    gateway = str(subnet.network_address + 1)
    data = {"name": name, "dir": fleet_dir, "network": network, "subnet": str(subnet), "gateway": gateway,
            "docker_host": docker_host, "image": image, "hosts": {}}
    for index, host in enumerate(hosts):
        ip = str(subnet.network_address + 10 + index)
        container = _container_name(name, host["name"])
        docker("run", "-d", "--name", container, "--hostname", host["name"], "--network", network, "--ip", ip,
               "--network-alias", host["name"], *labels, *SYSTEMD_FLAGS,
               "-v", "%s.pub:/root/.ssh/authorized_keys:ro" % key, image, "/lib/systemd/systemd",
               docker_host=docker_host)
        data["hosts"][host["name"]] = {"ip": ip, "container": container, "groups": host["groups"]}
    _write_files(fleet_dir, data)
    fleet = Fleet(data)
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda h: _wait_ready(fleet, h, timeout), list(fleet.hosts)))
    return fleet


def load(name):
    try:
        with open(os.path.join(FLEETS, name, "fleet.json")) as handle:
            return Fleet(json.load(handle))
    except FileNotFoundError:
        raise FleetError("no fleet %s (no %s)" % (name, os.path.join(FLEETS, name, "fleet.json"))) from None


def _owned(kind, docker_host, name=None):
    """{id: labels} of the containers or networks of one fleet, or of every fleet."""
    flt = "label=%s=%s" % (LABEL, name) if name else "label=%s" % LABEL
    listing = ["ps", "-a"] if kind == "container" else ["network", "ls"]
    ids = docker(*listing, "-q", "--filter", flt, docker_host=docker_host).stdout.split()
    if not ids:
        return {}
    infos = json.loads(docker(kind, "inspect", *ids, check=False, docker_host=docker_host).stdout or "[]")
    return {i["Id"]: (i.get("Config") or {}).get("Labels") or i.get("Labels") or {} for i in infos}


def down(name, docker_host=None):
    """Remove the fleet's containers, network and files; returns what was removed."""
    docker_host = docker_host or wk_engine.ensure()
    removed = {"containers": 0, "networks": 0}
    dirs = {os.path.join(FLEETS, name)}
    # Twice: a `docker run` that the killed `up` had sent may still complete after the first pass.
    for attempt in range(2):
        containers = _owned("container", docker_host, name)
        networks = _owned("network", docker_host, name)
        dirs.update(lab[LABEL + ".dir"] for lab in list(containers.values()) + list(networks.values()) if lab.get(LABEL + ".dir"))
        if containers:
            docker("rm", "-f", "-v", *containers, docker_host=docker_host)
            removed["containers"] += len(containers)
        for net in networks:
            if docker("network", "rm", net, check=False, docker_host=docker_host).returncode == 0:
                removed["networks"] += 1
        if attempt == 0 and (containers or networks):
            time.sleep(0.5)
    for path in dirs:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def reap(docker_host=None):
    """Remove the fleets whose owner process is gone; returns their names."""
    docker_host = docker_host or wk_engine.ensure()
    dead = set()
    for labels in list(_owned("container", docker_host).values()) + list(_owned("network", docker_host).values()):
        if not owner_alive(labels.get(LABEL + ".owner")):
            dead.add(labels[LABEL])
    for name in sorted(dead):
        down(name, docker_host=docker_host)
    return sorted(dead)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("action", choices=["up", "down", "status", "cut", "heal", "crash", "exec", "reap"])
    parser.add_argument("--name", default="wk", help="fleet name (containers wkf-NAME-HOST, network wkf-NAME)")
    parser.add_argument("--host", action="append", default=[], help="NAME[:GROUP,GROUP] (repeatable)")
    parser.add_argument("--count", type=int, default=0, help="COUNT hosts h1..hN in group fleet")
    parser.add_argument("--owner-pid", type=int, help="the fleet is removed once this process is gone")
    parser.add_argument("--image", help="image of the hosts (default: build or reuse watchkeeper/fleet)")
    parser.add_argument("target", nargs="*", help="host for cut/heal/crash/exec; for exec then -- COMMAND")
    args = parser.parse_intermixed_args(argv)
    if args.action == "up":
        fleet = up(parse_hosts(args.host, args.count or (0 if args.host else 1)), args.name, args.owner_pid, args.image)
        print(json.dumps({"inventory": fleet.inventory, "ssh_config": fleet.ssh_config, "gateway": fleet.gateway,
                          "hosts": {h: v["ip"] for h, v in fleet.hosts.items()}}))
    elif args.action == "down":
        print(json.dumps(down(args.name)))
    elif args.action == "reap":
        print(json.dumps(reap()))
    elif args.action == "status":
        print(json.dumps(load(args.name).state(), indent=2))
    elif args.action == "exec":
        if not args.target:
            parser.error("exec needs HOST -- COMMAND")
        res = load(args.name).exec(args.target[0], args.target[1:], check=False)
        sys.stdout.write(res.stdout)
        sys.stderr.write(res.stderr)
        return res.returncode
    else:
        fleet = load(args.name)
        if args.action == "heal":
            fleet.heal(args.target[0] if args.target else None)
        elif not args.target:
            parser.error("%s needs a HOST" % args.action)
        else:
            getattr(fleet, args.action)(args.target[0])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FleetError as exc:
        sys.exit("wk_fleet: %s" % exc)
