"""The stack's toy app (stdlib + psycopg): one image, four roles chosen by the first argument.

serve         HTTP on :8080. ``/`` counts a visit in PostgreSQL and answers 200 ``app <host> visits=<n>``;
              ``/health`` answers 200 only when PostgreSQL and Redis answer (503 otherwise, or always when
              ``WK_APP_FAIL_HEALTH`` is set: the knob the tests use for a replica that never becomes healthy);
              ``POST /jobs`` queues a job in Redis for the worker.
worker        takes jobs from Redis and records them in PostgreSQL; touches a heartbeat file every loop.
page          the maintenance page the docker backend of watchkeeper.ops.maintenance_mode starts: 503,
              ``Retry-After`` and the message from its ``WK_MAINTENANCE_*`` environment, on every path.
check, check-worker   the healthchecks of serve and worker (exit 0 when healthy).
Passwords come from files (``/run/secrets/...``), never from the environment.
"""

import html
import http.client
import http.server
import os
import signal
import socket
import sys
import time

PORT = 8080
HEARTBEAT = "/tmp/worker.alive"


def secret(name):
    with open(os.environ.get("WK_%s_FILE" % name.upper(), "/run/secrets/%s" % name)) as handle:
        return handle.read().strip()


def pg():
    import psycopg  # the fleet image's psycopg 3
    return psycopg.connect(host=os.environ.get("WK_DB_HOST", "postgres"), dbname=os.environ.get("WK_DB_NAME", "app"),
                           user=os.environ.get("WK_DB_USER", "app"), password=secret("db_app_password"),
                           connect_timeout=3, autocommit=True)


def redis(*command):
    """One Redis command (RESP over a socket, AUTH first); returns the reply as text, or raises."""
    def encode(args):
        out = b"*%d\r\n" % len(args)
        for arg in args:
            arg = arg.encode() if isinstance(arg, str) else arg
            out += b"$%d\r\n%s\r\n" % (len(arg), arg)
        return out
    with socket.create_connection((os.environ.get("WK_REDIS_HOST", "redis"), 6379), timeout=8) as sock:
        sock.sendall(encode(["AUTH", secret("redis_password")]) + encode(list(command)))
        stream = sock.makefile("rb")
        replies = [read_reply(stream), read_reply(stream)]
    if replies[0] != "OK":
        raise RuntimeError("redis AUTH failed")
    return replies[1]


def read_reply(stream):
    """One RESP reply: simple string, integer or bulk string (None for a null bulk); an error raises."""
    line = stream.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:].decode()
    if kind == b"-":
        raise RuntimeError("redis: %s" % rest)
    if kind == b"$":
        if int(rest) < 0:
            return None
        return stream.read(int(rest) + 2)[:-2].decode()
    return rest


def healthy():
    if os.environ.get("WK_APP_FAIL_HEALTH"):
        return "WK_APP_FAIL_HEALTH is set"
    try:
        with pg() as conn:
            conn.execute("SELECT 1")
        if redis("PING") != "PONG":
            return "redis did not answer PONG"
    except Exception as exc:  # pylint: disable=broad-except
        return "%s: %s" % (type(exc).__name__, exc)
    return None


def setup_schema():
    for _attempt in range(30):
        try:
            with pg() as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS visits (id bigserial PRIMARY KEY, host text NOT NULL, "
                             "at timestamptz NOT NULL DEFAULT now())")
                conn.execute("CREATE TABLE IF NOT EXISTS jobs_done (id bigserial PRIMARY KEY, payload text NOT NULL, "
                             "host text NOT NULL, at timestamptz NOT NULL DEFAULT now())")
            return
        except Exception:  # pylint: disable=broad-except
            time.sleep(1)


class App(http.server.BaseHTTPRequestHandler):
    def reply(self, status, body, headers=None):
        data = body.encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        if self.path == "/health":
            problem = healthy()
            self.reply(503 if problem else 200, (problem or "ok") + "\n")
            return
        try:
            with pg() as conn:
                conn.execute("INSERT INTO visits (host) VALUES (%s)", (socket.gethostname(),))
                count = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
        except Exception as exc:  # pylint: disable=broad-except
            self.reply(500, "database: %s\n" % exc)
            return
        self.reply(200, "app %s visits=%d\n" % (socket.gethostname(), count))

    def do_POST(self):  # noqa: N802
        payload = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode() or "job"
        redis("LPUSH", "jobs", payload)
        self.reply(202, "queued\n")

    def log_message(self, *args):
        pass


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        message = html.escape(os.environ.get("WK_MAINTENANCE_MESSAGE", "Down for maintenance"))
        until = os.environ.get("WK_MAINTENANCE_ENDS_AT") or ""
        until = "Expected back by %s." % until if until else "We will be back shortly."
        body = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Down for maintenance</title>"
                "</head><body><main><h1>Down for maintenance</h1><p class=\"message\">%s</p><p class=\"until\">%s</p>"
                "</main></body></html>\n" % (message, html.escape(until))).encode()
        self.send_response(503)
        self.send_header("Retry-After", os.environ.get("WK_MAINTENANCE_RETRY_AFTER", "300"))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


def worker():
    setup_schema()
    while True:
        with open(HEARTBEAT, "w") as handle:
            handle.write(str(time.time()))
        try:
            job = redis("RPOP", "jobs")
            if job is None:
                time.sleep(1)
                continue
            with pg() as conn:
                conn.execute("INSERT INTO jobs_done (payload, host) VALUES (%s, %s)", (job, socket.gethostname()))
        except Exception as exc:  # pylint: disable=broad-except
            print("worker: %s" % exc, file=sys.stderr, flush=True)
            time.sleep(2)


def check():
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=4)
    try:
        conn.request("GET", "/health")
        resp = conn.getresponse()
        print(resp.read().decode().strip())
        return 0 if resp.status == 200 else 1
    except OSError as exc:
        print(exc)
        return 1


def check_worker():
    try:
        return 0 if time.time() - os.stat(HEARTBEAT).st_mtime < 30 else 1
    except OSError:
        return 1


def main(argv):
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    mode = argv[1] if len(argv) > 1 else "serve"
    if mode == "check":
        return check()
    if mode == "check-worker":
        return check_worker()
    if mode == "worker":
        return worker()
    if mode == "page":
        http.server.ThreadingHTTPServer(("", PORT), Page).serve_forever()
    if mode == "serve":
        setup_schema()
        http.server.ThreadingHTTPServer(("", PORT), App).serve_forever()
    print("unknown mode %s (serve, worker, page, check, check-worker)" % mode, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
