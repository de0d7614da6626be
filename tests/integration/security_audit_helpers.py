# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seeding fleet hosts for the security audit tests: one weakness per rule on the weak host, the hardened setup
on the other (what "hardened" means is spelled out in ``harden``)."""

PG_AUDITOR = "auditor"
# A self-signed certificate valid ``days`` days, its key written with ``mode``.
CERT = ("mkdir -p /etc/nginx/tls && openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=%(name)s -days %(days)d "
        "-keyout /etc/nginx/tls/%(name)s.key -out /etc/nginx/tls/%(name)s.crt 2>/dev/null && chmod %(mode)s /etc/nginx/tls/%(name)s.key")
SITE = """server {
    listen 8443 ssl;
    server_name %(name)s;
    ssl_certificate /etc/nginx/tls/%(name)s.crt;
    ssl_certificate_key /etc/nginx/tls/%(name)s.key;
    ssl_protocols %(protocols)s;
    ssl_ciphers %(ciphers)s;
    root /var/www/html;
}
"""
# A local apt archive labelled like Debian's security archive, offering a newer ``less`` (apt-get -s only
# simulates, so the .deb itself never has to exist).
SECURITY_REPO = r"""set -e
mkdir -p /srv/wk-security/dists/bookworm-security/main/binary-amd64
cat > /srv/wk-security/dists/bookworm-security/main/binary-amd64/Packages <<'PKG'
Package: less
Version: 999:1.0
Architecture: amd64
Maintainer: Watchkeeper tests <tests@example.invalid>
Installed-Size: 1
Filename: pool/main/l/less/less_1.0_amd64.deb
Size: 1
SHA256: 0000000000000000000000000000000000000000000000000000000000000000
Description: pager (security fix of the tests)

PKG
cd /srv/wk-security/dists/bookworm-security
{ printf 'Origin: Debian\nLabel: Debian-Security\nSuite: bookworm-security\nCodename: bookworm-security\n'
  printf 'Date: %s\nArchitectures: amd64\nComponents: main\nSHA256:\n' "$(date -uR)"
  printf ' %s %s main/binary-amd64/Packages\n' "$(sha256sum main/binary-amd64/Packages | cut -d' ' -f1)" \
      "$(stat -c %s main/binary-amd64/Packages)"; } > Release
echo 'deb [trusted=yes] file:/srv/wk-security bookworm-security main' > /etc/apt/sources.list.d/wk-security.list
apt-get -q update -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/wk-security.list -o Dir::Etc::sourceparts=- \
    -o APT::Get::List-Cleanup=0 >/dev/null
"""


def sshd(fleet, host, lines):
    fleet.exec(host, "printf '%s\\n' " + " ".join("'%s'" % line for line in lines)
               + " > /etc/ssh/sshd_config.d/00-wk-audit.conf && mkdir -p /run/sshd && sshd -t && systemctl reload ssh")


def nginx_site(fleet, host, name, days, key_mode, protocols, ciphers):
    fleet.exec(host, CERT % {"name": name, "days": days, "mode": key_mode})
    site = SITE % {"name": name, "protocols": protocols, "ciphers": ciphers}
    fleet.exec(host, "cat > /etc/nginx/sites-enabled/%s <<'EOF'\n%sEOF\nnginx -t -q" % (name, site))


def postgres_auditor(fleet, host, psql, password):
    """The audit's login: not a superuser, pg_read_all_settings for SHOW hba_file."""
    psql(fleet, host, "CREATE ROLE %s LOGIN PASSWORD '%s';\nGRANT pg_read_all_settings TO %s;\n" % (PG_AUDITOR, password, PG_AUDITOR))


def weaken(fleet, host, psql):
    """One weakness for every host rule (WK-TIME-001 is not applicable in a container)."""
    sshd(fleet, host, ["PermitRootLogin yes", "PasswordAuthentication yes", "PermitEmptyPasswords yes",
                       "Ciphers aes128-ctr,aes256-gcm@openssh.com,aes128-cbc", "MACs hmac-sha2-256,hmac-sha1",
                       "KexAlgorithms curve25519-sha256,diffie-hellman-group14-sha1"])
    fleet.exec(host, "useradd -o -u 0 -M -s /bin/sh toor && useradd -M -s /bin/sh nopw && passwd -d nopw >/dev/null")
    fleet.exec(host, "echo 'deploy ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/wk-deploy && chmod 0440 /etc/sudoers.d/wk-deploy")
    fleet.exec(host, "echo 'shared = 1' > /etc/wk-shared.conf && chmod 0666 /etc/wk-shared.conf")
    fleet.exec(host, "mkdir -p /etc/watchkeeper && echo '127.0.0.1:5432:*:backup:pw' > /etc/watchkeeper/pgpass "
                     "&& chmod 0644 /etc/watchkeeper/pgpass && echo 'not-a-real-passphrase' > /etc/watchkeeper/backup.pass "
                     "&& chmod 0640 /etc/watchkeeper/backup.pass && chgrp 100 /etc/watchkeeper/backup.pass && chmod g+w /etc/watchkeeper/backup.pass")
    fleet.exec(host, "systemd-run --unit wk-listener python3 -m http.server --bind 0.0.0.0 8765 && "
                     "for i in $(seq 50); do ss -tlnH | grep -q ':8765 ' && exit 0; sleep 0.2; done; exit 1")
    fleet.exec(host, SECURITY_REPO, timeout=180)
    nginx_site(fleet, host, "weak", 5, "0644", "TLSv1 TLSv1.1 TLSv1.2", "RC4-SHA:HIGH:!aNULL")
    fleet.exec(host, "sed -i -e 's/^protected-mode yes/protected-mode no/' -e 's/^bind .*/bind 0.0.0.0/' /etc/redis/redis.conf")
    psql(fleet, host, "ALTER SYSTEM SET ssl = off;\nALTER SYSTEM SET password_encryption = 'md5';\nSELECT pg_reload_conf();\n"
                      "CREATE ROLE evil SUPERUSER;\n")
    psql(fleet, host, "GRANT CREATE ON SCHEMA public TO PUBLIC;\n", dbname="app")
    fleet.exec(host, "echo 'host all all 0.0.0.0/0 md5' >> /etc/postgresql/15/main/pg_hba.conf")
    fleet.exec(host, "mkdir -p /var/backups/wk-audit")


def harden(fleet, host, psql):
    """Hardened: key-only SSH with strong algorithms; no extra UID 0, password-less or NOPASSWD account (the image has
    none); secrets 0600 root; nothing but sshd on non-loopback addresses; no pending security update in the lists the
    host has; nginx TLS 1.2/1.3 with strong ciphers and a certificate valid for a year, key 0600; Redis on loopback
    with protected mode and a password; nginx.conf's http-level ssl_protocols narrowed too; PostgreSQL with ssl,
    scram-sha-256, its stock pg_hba.conf, one superuser and no CREATE for PUBLIC (the Debian defaults of PostgreSQL 15).
    unattended-upgrades is not in the fleet image (no registry on fleet hosts): WK-PKG-002 is an accepted exception
    there, passed as ``skip``."""
    sshd(fleet, host, ["PermitRootLogin prohibit-password", "PasswordAuthentication no", "PermitEmptyPasswords no",
                       "Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr",
                       "MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com",
                       "KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group16-sha512"])
    fleet.exec(host, "mkdir -p /etc/watchkeeper && umask 077 && echo '127.0.0.1:5432:*:backup:pw' > /etc/watchkeeper/pgpass")
    # Debian's stock nginx.conf enables TLSv1 and TLSv1.1 in the http block (WK-NGX-001 fails a stock host)
    fleet.exec(host, "sed -i 's/^\\(\\s*ssl_protocols\\).*;/\\1 TLSv1.2 TLSv1.3;/' /etc/nginx/nginx.conf")
    nginx_site(fleet, host, "hard", 365, "0600", "TLSv1.2 TLSv1.3",
               "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384")
    fleet.exec(host, "echo 'requirepass wk-redis-secret-1234' >> /etc/redis/redis.conf")
    psql(fleet, host, "SELECT 1;")
