"""health collectors: /proc parsing on fake files, mount filtering, RESP parsing, certificate decoding, snapshots."""

import datetime
import io
import os
import subprocess

import pytest

from ansible_collections.watchkeeper.ops.plugins.module_utils.health import disks, host, redis, snapshots, tls

MOUNTS = """/dev/vda / ext4 rw,relatime 0 0
proc /proc proc rw 0 0
overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0
tmpfs /run tmpfs rw 0 0
/dev/vdb /mnt/with\\040space xfs ro 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw 0 0
"""


def test_real_mounts_skip_pseudo_and_unescape():
    assert disks.real_mounts(MOUNTS) == [("/dev/vda", "/", "ext4", False), ("/dev/vdb", "/mnt/with space", "xfs", True),
                                         ("tmpfs", "/run", "tmpfs", False)]
    assert disks.real_mounts("overlay / overlay rw 0 0\n") == [("overlay", "/", "overlay", False)]


def test_collect_unknown_mount_is_an_error(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/x %s ext4 rw 0 0\n" % tmp_path)
    found, errors = disks.collect(["/nowhere", str(tmp_path)], str(mounts))
    assert [m["mount"] for m in found] == [str(tmp_path)]
    assert errors == [{"name": "disk /nowhere", "kind": "disk", "error": "not a mounted filesystem"}]
    assert 0 <= found[0]["free_percent"] <= 100


def fake_proc(tmp_path):
    (tmp_path / "sys" / "fs").mkdir(parents=True)
    (tmp_path / "pressure").mkdir()
    (tmp_path / "stat").write_text("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n")
    (tmp_path / "loadavg").write_text("4.00 2.00 1.00 1/100 42\n")
    (tmp_path / "meminfo").write_text("MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 250 kB\nSwapTotal: 200 kB\nSwapFree: 50 kB\n")
    (tmp_path / "sys" / "fs" / "file-nr").write_text("700\t0\t1000\n")
    (tmp_path / "uptime").write_text("1234.5 100.0\n")
    (tmp_path / "pressure" / "io").write_text("some avg10=1.00 avg60=2.50 avg300=3.00 total=1\nfull avg10=0.5 avg60=1.0 avg300=0 total=1\n")
    return str(tmp_path)


def test_host_from_fake_proc(tmp_path):
    proc = fake_proc(tmp_path)
    facts, errors = host.collect_static(proc)
    assert errors == []
    assert facts["load"]["load1"] == 4.0 and facts["load_per_core"] == round(4.0 / (os.cpu_count() or 1), 3)
    assert facts["memory"]["percent"] == 75.0 and facts["memory"]["swap_percent"] == 75.0
    assert facts["memory"]["total_bytes"] == 1024000
    assert facts["files"] == {"allocated": 700, "max": 1000, "percent": 70.0}
    assert facts["uptime_s"] == 1234.5
    assert facts["pressure"] == {"io": {"some_avg10": 1.0, "some_avg60": 2.5, "some_avg300": 3.0,
                                        "full_avg10": 0.5, "full_avg60": 1.0, "full_avg300": 0.0}}
    assert host.cpu_times(proc) == (200, 1000)
    assert host.cpu_percent((200, 1000), (260, 1100)) == 60.0


def test_host_missing_file_is_an_error_not_a_crash(tmp_path):
    proc = fake_proc(tmp_path)
    os.unlink(os.path.join(proc, "meminfo"))
    facts, errors = host.collect_static(proc)
    assert "memory" not in facts and facts["uptime_s"] == 1234.5
    assert errors[0]["name"] == "memory" and "cannot read" in errors[0]["error"]


def test_resp_replies():
    stream = io.BytesIO(b"+OK\r\n:42\r\n$5\r\nab\r\nc\r\n$-1\r\n-WRONGPASS invalid\r\n")
    assert redis.read_reply(stream) == "OK"
    assert redis.read_reply(stream) == 42
    assert redis.read_reply(stream) == "ab\r\nc"
    assert redis.read_reply(stream) is None
    with pytest.raises(redis.RespError, match="WRONGPASS"):
        redis.read_reply(stream)
    with pytest.raises(redis.RespError, match="closed"):
        redis.read_reply(stream)
    assert redis.command("AUTH", "pw") == b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n"


def test_redis_summary():
    info = redis.parse_info("# Memory\r\nused_memory:50\r\nmaxmemory:100\r\nevicted_keys:0\r\nconnected_clients:5\r\n"
                            "maxclients:10\r\nrdb_last_bgsave_status:err\r\naof_enabled:0\r\naof_last_write_status:err\r\n")
    summary = redis.summarize(info)
    assert summary["memory_percent"] == 50.0 and summary["clients_percent"] == 50.0
    assert summary["rdb_last_bgsave_status"] == "err" and summary["aof_last_write_status"] is None
    assert redis.summarize(redis.parse_info("used_memory:5\r\nmaxmemory:0\r\n"))["memory_percent"] is None


def test_certificate_expiry_with_and_without_cryptography(tmp_path, monkeypatch):
    key, crt = str(tmp_path / "k.pem"), str(tmp_path / "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                    "-subj", "/CN=wk-test"], check=True, capture_output=True)
    import ssl
    with open(crt) as handle:
        der = ssl.PEM_cert_to_DER_cert(handle.read())
    expiry, subject = tls.not_after(der)
    monkeypatch.setattr(tls, "HAS_CRYPTOGRAPHY", False)
    expiry2, subject2 = tls.not_after(der)
    assert expiry == expiry2 and "wk-test" in subject and "wk-test" in subject2
    days = (expiry - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400
    assert 1.9 < days <= 2.0


def test_snapshots_write_read_prune(tmp_path):
    directory = str(tmp_path / "snaps")
    for n in range(5):
        snapshots.write(directory, 1000.0 + n * 60, {"host": {"mounts": [{"mount": "/", "avail_bytes": 100 - n}]}}, keep=3)
    assert len(snapshots.list_snapshots(directory)) == 3
    assert not [n for n in os.listdir(directory) if n.startswith(".tmp")]
    samples = snapshots.mount_samples(directory, 1000.0 + 4 * 60)
    assert samples == {"/": [(1120.0, 98), (1180.0, 97)]}  # the newest equals "now" and is not an earlier sample
    assert snapshots.mount_samples(directory, 1000.0 + 4 * 60 + 7 * 3600) == {}
    assert snapshots.mount_samples(str(tmp_path / "none"), 0) == {}
