"""Host rules against a fake host (files under a temporary root, canned command output): each rule's pass and
fail path, with the evidence it reports."""

import datetime
import os

from security_fake import FakeHost

from ansible_collections.watchkeeper.ops.plugins.module_utils.security import accounts, files, network, packages, postgres, services, ssh

SSHD_DEBIAN = """port 22
permitrootlogin without-password
passwordauthentication yes
permitemptypasswords no
ciphers chacha20-poly1305@openssh.com,aes128-ctr,aes256-gcm@openssh.com
macs umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha1
kexalgorithms sntrup761x25519-sha512,curve25519-sha256,diffie-hellman-group14-sha256
"""
SSHD_HARD = SSHD_DEBIAN.replace("passwordauthentication yes", "passwordauthentication no").replace(
    "umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha1", "hmac-sha2-256-etm@openssh.com")


def host(tmp_path, **kwargs):
    return FakeHost(tmp_path, **kwargs)


def test_ssh_rules_read_sshd_t(tmp_path):
    debian = host(tmp_path, commands={("/usr/sbin/sshd", "-T"): (0, SSHD_DEBIAN, "")})
    assert ssh.check_root_login(debian) == {"status": "pass", "evidence": "permitrootlogin without-password", "subject": None}
    assert ssh.check_password_auth(debian)["status"] == "fail"
    macs = ssh.check_macs(debian)
    assert macs["status"] == "fail" and "weak: umac-64-etm@openssh.com,hmac-sha1" in macs["evidence"]
    assert ssh.check_ciphers(debian)["status"] == "pass" and ssh.check_kex(debian)["status"] == "pass"
    hard = host(tmp_path, commands={("/usr/sbin/sshd", "-T"): (0, SSHD_HARD, "")})
    assert [f(hard)["status"] for f in (ssh.check_password_auth, ssh.check_macs)] == ["pass", "pass"]
    weak_text = SSHD_DEBIAN.replace("aes128-ctr", "aes128-cbc,3des-cbc").replace("group14-sha256", "group14-sha1")
    weak = host(tmp_path, commands={("/usr/sbin/sshd", "-T"): (0, weak_text, "")})
    assert "aes128-cbc,3des-cbc" in ssh.check_ciphers(weak)["evidence"] and ssh.check_kex(weak)["status"] == "fail"


def test_ssh_broken_config_is_an_error_and_no_sshd_not_applicable(tmp_path):
    broken = host(tmp_path, commands={("/usr/sbin/sshd", "-T"): (255, "", "/etc/ssh/sshd_config line 3: Bad configuration option")})
    broken.write("/usr/sbin/sshd", "", 0o755)
    assert ssh.check_root_login(broken)["status"] == "error" and "line 3" in ssh.check_root_login(broken)["evidence"]
    assert ssh.check_root_login(host(tmp_path))["status"] == "not_applicable"


def test_accounts(tmp_path):
    ctx = host(tmp_path)
    ctx.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n")
    ctx.write("/etc/shadow", "root:$y$abc:1::::::\nbob::19000:0:99999:7:::\nlocked:!:19000::::::\n", 0o640)
    ctx.write("/etc/sudoers", "Defaults env_reset\n# deploy ALL=(ALL) NOPASSWD: ALL\nroot ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n")
    ctx.write("/etc/sudoers.d/ops", "%ops ALL=(ALL) \\\n  NOPASSWD: /usr/bin/systemctl\n")
    ctx.write("/etc/sudoers.d/old.bak", "eve ALL=(ALL) NOPASSWD: ALL\n")  # sudo skips names with a dot
    assert accounts.check_uid0(ctx)["evidence"] == "toor:x:0:0::/root:/bin/sh"
    assert accounts.check_empty_passwords(ctx)["evidence"] == "/etc/shadow: empty password field for bob"
    nopasswd = accounts.check_nopasswd(ctx)
    assert nopasswd["status"] == "fail" and "%ops ALL=(ALL)" in nopasswd["evidence"] and "eve" not in nopasswd["evidence"]
    ctx.params["sudo_nopasswd_allowed"] = ["%ops"]
    assert accounts.check_nopasswd(ctx)["status"] == "pass"


def test_world_writable_walk_and_its_bound(tmp_path):
    ctx = host(tmp_path, params={"system_paths": ["/etc", "/usr"]})
    ctx.write("/etc/ok.conf", "x")
    os.makedirs(ctx.path("/usr/share/tmpdir"))
    os.chmod(ctx.path("/usr/share/tmpdir"), 0o1777)  # sticky: fine
    assert files.check_world_writable(ctx)["status"] == "pass"
    ctx.write("/etc/deep/er/bad.conf", "x", 0o666)
    os.symlink("/etc/ok.conf", ctx.path("/etc/link"))  # symlinks are 0777 and never count
    result = files.check_world_writable(ctx)
    assert result["status"] == "fail" and result["evidence"] == "1 world-writable: /etc/deep/er/bad.conf 0666"
    ctx.params["max_walk_entries"] = 2
    os.chmod(ctx.path("/etc/deep/er/bad.conf"), 0o644)
    assert files.check_world_writable(ctx)["status"] == "error"


def test_secret_modes(tmp_path):
    ctx = host(tmp_path, params={"secret_paths": ["/etc/wk/pgpass", "/etc/wk/backup", "/etc/wk/missing"]})
    assert files.check_secret_modes(ctx)["status"] == "not_applicable"
    ctx.write("/etc/wk/pgpass", "h:5432:*:u:pw", 0o600)
    ctx.write("/etc/wk/backup/job.vars.yml", "x", 0o644)
    found = dict((r["subject"], r) for r in files.check_secret_modes(ctx))
    uid = os.getuid()
    assert found["/etc/wk/pgpass"]["status"] == ("pass" if uid == 0 else "fail")
    assert "readable or writable by others" in found["/etc/wk/backup/job.vars.yml"]["evidence"]
    assert files.secret_mode_problem(0o660, 0) == "group-writable"
    assert files.secret_mode_problem(0o640, 0) is None and files.secret_mode_problem(0o600, 999) == "owner uid 999"


SS = """LISTEN 0 4096 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))
LISTEN 0 511 127.0.0.1:6379 0.0.0.0:* users:(("redis-server",pid=9,fd=6))
LISTEN 0 5 0.0.0.0:8765 0.0.0.0:* users:(("python3",pid=7,fd=3))
LISTEN 0 4096 [::]:22 [::]:*
LISTEN 0 244 [::1]:5432 [::]:*
LISTEN 0 244 127.0.0.1%lo:53 0.0.0.0:*
"""
PROC_TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 0100007F:D2A4 0100007F:18EB 01 00000000:00000000 00:00000000 00000000     0        0 3 1
"""


def test_listening_sockets_against_the_allow_list(tmp_path):
    ctx = host(tmp_path, params={"listen_allowed": ["22"]}, commands={("ss",): (0, SS, "")})
    result = network.check_listening(ctx)
    assert result["status"] == "fail" and result["evidence"] == "ss -tlnpH: not in the allow-list: 0.0.0.0:8765 (python3)"
    ctx.params["listen_allowed"] = ["22", "0.0.0.0:8765"]
    assert network.check_listening(ctx)["status"] == "pass"
    ctx.params["listen_include_loopback"] = True
    assert "127.0.0.1:6379 (redis-server)" in network.check_listening(ctx)["evidence"]
    assert network.parse_proc(PROC_TCP) == [("0.0.0.0", 22, None), ("127.0.0.1", 6379, None)]
    assert network.allowed("::", 443, ["[::]:443"]) and not network.allowed("10.0.0.1", 443, ["10.0.0.2:443"])


APT_S = """NOTE: This is only a simulation!
Inst libssl3 [3.0.11-1~deb12u2] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])
Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable [all])
Conf libssl3 (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])
"""


def test_pending_security_updates_and_unattended_upgrades(tmp_path):
    ctx = host(tmp_path, commands={("apt-get",): (0, APT_S, ""), ("dpkg-query",): (0, "install ok installed 2.9.1+nmu3", ""),
                                   ("apt-config",): (0, 'APT::Periodic::Unattended-Upgrade "1";\n', "")})
    assert packages.check_security_updates(ctx)["status"] == "error"  # no lists: cannot judge
    ctx.write("/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", "")
    result = packages.check_security_updates(ctx)
    assert result["status"] == "fail" and "libssl3 3.0.11-1~deb12u2 -> 3.0.15-1~deb12u1" in result["evidence"]
    assert "tzdata" not in result["evidence"]
    assert packages.check_unattended_upgrades(ctx)["status"] == "pass"
    ctx.commands[("apt-config",)] = (0, 'APT::Periodic::Unattended-Upgrade "0";\n', "")
    assert packages.check_unattended_upgrades(ctx)["status"] == "fail"
    ctx.commands[("dpkg-query",)] = (1, "", "no packages found")
    assert packages.check_unattended_upgrades(ctx)["evidence"] == "unattended-upgrades: not installed"


def test_time_sync(tmp_path):
    ctx = host(tmp_path, commands={("systemctl", "is-active", "chrony"): (0, "active\n", ""),
                                   ("systemctl",): (3, "inactive\n", "")})
    assert packages.check_time_sync(ctx)["evidence"] == "chrony is active"
    ctx = host(tmp_path, commands={("systemctl",): (3, "inactive\n", "")})
    assert packages.check_time_sync(ctx)["status"] == "fail"
    ctx.cache["container"] = True
    assert packages.check_time_sync(ctx)["status"] == "not_applicable"


NGINX = """# configuration file /etc/nginx/sites-enabled/a:
server {
    listen 443 ssl;
    ssl_certificate /etc/nginx/a.crt;
    ssl_certificate_key /etc/nginx/a.key;
    ssl_protocols TLSv1.1 TLSv1.2; # old clients
    ssl_ciphers 'ECDHE-RSA-AES128-GCM-SHA256:!RC4:DES-CBC3-SHA';
}
"""


def test_nginx_tls_rules(tmp_path):
    ctx = host(tmp_path, commands={("/usr/sbin/nginx", "-T"): (0, NGINX, "")},
               now=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    assert services.check_nginx_protocols(ctx)["evidence"] == "ssl_protocols TLSv1.1 TLSv1.2 (weak: TLSv1.1)"
    assert services.check_nginx_ciphers(ctx)["evidence"].endswith("(weak: DES-CBC3-SHA)")
    ctx.write("/etc/nginx/a.key", "k", 0o600)
    assert services.check_nginx_keys(ctx)[0]["status"] == ("pass" if os.getuid() == 0 else "fail")
    ctx.commands[("openssl",)] = (0, "notAfter=Jan 10 12:00:00 2026 GMT\n", "")
    cert = services.check_nginx_certificates(ctx)[0]
    assert cert["status"] == "fail" and "9.5 days left" in cert["evidence"]
    plain = host(tmp_path, commands={("/usr/sbin/nginx", "-T"): (0, "server { listen 80; }", "")})
    assert services.check_nginx_protocols(plain)["status"] == "not_applicable"


def test_redis_rules(tmp_path):
    ctx = host(tmp_path)
    assert services.check_redis_auth(ctx)["status"] == "not_applicable"
    ctx.write("/etc/redis/redis.conf", "protected-mode no\n# requirepass foobared\n")
    assert services.check_redis_protected(ctx)["status"] == "fail"
    assert services.check_redis_bind(ctx)["evidence"].endswith("no bind directive (Redis listens on every interface)")
    assert services.check_redis_auth(ctx)["status"] == "fail"
    ctx.write("/etc/redis/redis.conf", "bind 127.0.0.1 -::1\nuser default on >s3cret-value ~* +@all\n")
    auth = services.check_redis_auth(ctx)
    assert auth["status"] == "pass" and "s3cret-value" not in auth["evidence"]
    assert services.check_redis_bind(ctx)["status"] == "pass"


def test_pg_hba_lines():
    text = "local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all 0.0.0.0/0 md5\n" \
           "hostssl db app 10.0.0.0 255.0.0.0 trust # legacy\n# host all all all trust\n"
    assert postgres.weak_hba(postgres.hba_lines(text)) == [
        "host all all 0.0.0.0/0 md5 (md5, open to every address)", "hostssl db app 10.0.0.0 255.0.0.0 trust (trust)"]


def test_postgres_unset_is_not_applicable_and_unreachable_an_error(tmp_path):
    assert postgres.check_ssl(host(tmp_path))["status"] == "not_applicable"
    ctx = host(tmp_path, params={"postgres": {"login_host": "127.0.0.1", "login_port": 1, "timeout": 2}})
    result = postgres.check_ssl(ctx)
    assert result["status"] == "error" and "cannot connect" in result["evidence"]
