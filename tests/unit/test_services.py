"""The shared peer services start on loopback and answer their real protocols.

Later suites (notifications, restores, maintenance) build on these fixtures; this proves each of them
works on this machine before anything depends on it.
"""

import mailbox
import smtplib
import subprocess
from email.message import EmailMessage


def test_postgres_cluster_accepts_password_logins_only(pg, pg_db):
    assert pg.psql("SELECT current_setting('listen_addresses')") == "127.0.0.1"
    assert pg.psql("SELECT 1", dbname=pg_db) == "1"
    wrong = subprocess.run([pg.bindir + "/psql", "-X", "-d", pg.conninfo(pg_db, password="wrong"), "-c", "SELECT 1"],
                           capture_output=True, text=True, check=False)
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr


def test_s3_and_gcs_emulators_store_objects(s3_bucket, gcs_bucket):
    name, client = s3_bucket
    client.put_object(Bucket=name, Key="probe", Body=b"s3 bytes")
    assert client.get_object(Bucket=name, Key="probe")["Body"].read() == b"s3 bytes"
    gname, gclient = gcs_bucket
    gclient.bucket(gname).blob("probe").upload_from_string(b"gcs bytes")
    assert gclient.bucket(gname).blob("probe").download_as_bytes() == b"gcs bytes"


def test_smtp_server_delivers_into_a_maildir(smtp):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "ops@example.invalid", "oncall@example.invalid", "probe"
    message.set_content("maintenance window announced")
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as client:
        refused = client.send_message(message)
    assert refused == {}
    box = mailbox.Maildir(smtp.info["maildir"], create=False)
    subjects = [msg["Subject"] for msg in box]
    assert "probe" in subjects


def test_throwaway_gpg_keys(gpg_keys):
    out = subprocess.run(["gpg", "--homedir", gpg_keys["private_home"], "--list-secret-keys", "--with-colons"],
                         capture_output=True, text=True, check=True).stdout
    assert gpg_keys["fingerprint"] in out
