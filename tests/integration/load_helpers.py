# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The toy upstream of the load_management tests and of bench/load.py, and HTTP helpers.

The upstream is an asyncio HTTP/1.1 server in its own process with a fixed capacity: ``capacity`` requests are
served at once, each taking ``service_ms``; the others wait in its accept queue, as behind a pool of app workers.
It counts the requests it holds (served or waiting) and the highest count seen: what nginx let through at once.
``GET /__stats`` answers the counters (``in_flight``, ``max_in_flight``, ``served``); ``POST /__reset`` restarts
``max_in_flight`` from what is held now and ``served`` from 0; neither is counted.

Run it alone: ``python load_helpers.py --capacity 4 --service-ms 50`` prints ``PORT <n>`` once it listens.
"""

import argparse
import asyncio
import http.client
import json
import os
import subprocess
import sys
import time

HERE = os.path.abspath(__file__)


class Counters(object):
    def __init__(self):
        self.in_flight = 0
        self.max_in_flight = 0
        self.served = 0

    def as_dict(self):
        return {"in_flight": self.in_flight, "max_in_flight": self.max_in_flight, "served": self.served}


async def _read_request(reader):
    line = await reader.readline()
    if not line:
        return None
    method, path, _version = line.decode("latin-1").split(" ", 2)
    headers = {}
    while True:
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _sep, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    size = int(headers.get("content-length") or 0)
    if size:
        await reader.readexactly(size)
    return method, path, headers


def _response(status, body, keep_alive):
    data = json.dumps(body).encode()
    head = "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n" % (
        status, "OK", len(data), "keep-alive" if keep_alive else "close")
    return head.encode() + data


def serve(capacity, service_ms, port=0, host="127.0.0.1"):
    counters = Counters()
    delay = service_ms / 1000.0

    async def handle(reader, writer):
        workers = handle.workers
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                method, path, headers = request
                keep = headers.get("connection", "").lower() != "close" and not headers.get("x-http10")
                if path.startswith("/__stats"):
                    writer.write(_response(200, counters.as_dict(), keep))
                elif path.startswith("/__reset"):
                    counters.max_in_flight = counters.in_flight  # what it holds now stays counted
                    counters.served = 0
                    writer.write(_response(200, {"reset": True}, keep))
                else:
                    counters.in_flight += 1
                    counters.max_in_flight = max(counters.max_in_flight, counters.in_flight)
                    try:
                        async with workers:
                            await asyncio.sleep(delay)
                        counters.served += 1
                    finally:
                        counters.in_flight -= 1
                    writer.write(_response(200, {"app": "toy", "method": method, "path": path,
                                                 "class": headers.get("x-request-class", "")}, keep))
                await writer.drain()
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def main():
        handle.workers = asyncio.Semaphore(capacity)
        server = await asyncio.start_server(handle, host, port, backlog=1024)
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class ToyUpstream(object):
    """The toy upstream in a child process (``port``, ``stats()``, ``reset()``, ``stop()``)."""

    def __init__(self, capacity, service_ms):
        self.capacity = capacity
        self.proc = subprocess.Popen([sys.executable, HERE, "--capacity", str(capacity), "--service-ms", str(service_ms)],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError("the toy upstream did not start: %r" % line)
        self.port = int(line.split()[1])

    def _call(self, method, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path)
            return json.loads(conn.getresponse().read().decode())
        finally:
            conn.close()

    def stats(self):
        return self._call("GET", "/__stats")

    def reset(self):
        return self._call("POST", "/__reset")

    def wait_idle(self, timeout=60.0):
        """Wait until it holds no request (those a client gave up on are still being served), then reset."""
        deadline = time.monotonic() + timeout
        while self.stats()["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.reset()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def request(port, path="/", method="GET", source="127.0.0.1", timeout=30):
    """(status, headers with lower-case names, body text, seconds) of one request from ``source``."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, source_address=(source, 0), timeout=timeout)
    try:
        conn.request(method, path, body=b"x=1" if method in ("POST", "PUT") else None)
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), body, time.monotonic() - started
    finally:
        conn.close()


if __name__ == "__main__":
    PARSER = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    PARSER.add_argument("--capacity", type=int, default=4)
    PARSER.add_argument("--service-ms", type=float, default=50.0)
    PARSER.add_argument("--port", type=int, default=0)
    ARGS = PARSER.parse_args()
    serve(ARGS.capacity, ARGS.service_ms, ARGS.port)
