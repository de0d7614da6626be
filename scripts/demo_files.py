"""Demo sources for scripts/demo.sh: an SQLite database and an uploads tree under DEMO_DIR.

Idempotent: both are created once; on every later run one new upload appears, so the next
incremental backup has something new to store.
"""

import os
import random
import sqlite3
import sys
import time

WORDS = "invoice report photo scan contract receipt avatar export draft notes".split()


def make_sqlite(path):
    if os.path.exists(path):
        return False
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript("""
            CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, plan TEXT NOT NULL);
            CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE audit_log (id INTEGER PRIMARY KEY, account_id INTEGER, action TEXT, at TEXT);
        """)
        conn.executemany("INSERT INTO accounts (name, plan) VALUES (?, ?)",
                         [("account-%03d" % i, ("free", "team", "enterprise")[i % 3]) for i in range(200)])
        conn.executemany("INSERT INTO settings VALUES (?, ?)", [("retention_days", "35"), ("region", "eu-west-1")])
        conn.executemany("INSERT INTO audit_log (account_id, action, at) VALUES (?, ?, ?)",
                         [(i % 200, ("login", "export", "invite")[i % 3], "2026-04-%02d" % (1 + i % 28))
                          for i in range(5000)])
    conn.close()
    return True


def make_uploads(root):
    if os.path.isdir(root):
        inbox = os.path.join(root, "inbox")
        os.makedirs(inbox, exist_ok=True)
        name = os.path.join(inbox, "upload-%d.txt" % time.time_ns())
        with open(name, "w") as handle:
            handle.write("uploaded at %s\n" % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        return "added %s" % os.path.relpath(name, root)
    rng = random.Random(42)
    for i in range(300):
        folder = os.path.join(root, "user-%02d" % (i % 12), WORDS[i % len(WORDS)])
        os.makedirs(folder, exist_ok=True)
        if i % 5 == 0:  # some binary files that do not compress
            data = rng.randbytes(2048 + rng.randrange(8192))
            name = "%s-%03d.bin" % (WORDS[(i * 3) % len(WORDS)], i)
        else:
            data = ("%s %d\n" % (" ".join(rng.choice(WORDS) for _word in range(12)), i) * rng.randrange(5, 60)).encode()
            name = "%s-%03d.txt" % (WORDS[(i * 3) % len(WORDS)], i)
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(data)
    with open(os.path.join(root, "upload.tmp"), "w") as handle:  # excluded by the job
        handle.write("partial upload\n")
    return "created 300 files"


def main(demo_dir):
    created = make_sqlite(os.path.join(demo_dir, "app.sqlite3"))
    print("==> sqlite %s: %s" % (os.path.join(demo_dir, "app.sqlite3"), "created" if created else "ready"))
    print("==> uploads %s: %s" % (os.path.join(demo_dir, "uploads"), make_uploads(os.path.join(demo_dir, "uploads"))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
