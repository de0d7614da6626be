# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake Docker Engine on a Unix socket, for the one path of the maintenance_mode docker backend that the real
Engine cannot take here: pulling an image (no registry is reachable). The rest runs against a real Engine.

It answers the Engine API endpoints the backend and the Docker SDK call, shaped after the Engine API
reference (docs.docker.com/engine/api, v1.41+): ``GET /_ping``, ``GET /version``, ``GET /containers/json``,
``GET /containers/{id}/json``, ``POST /containers/create?name=``, ``POST /containers/{id}/start`` (204, 304
when running), ``POST /containers/{id}/stop`` (204, 304 when stopped), ``DELETE /containers/{id}``,
``GET /images/{name}/json`` and ``POST /images/create?fromImage=&tag=``. Paths may carry a ``/v1.xx``
prefix. Errors are ``{"message": ...}`` with 404/409. Containers and images live in memory, and every
request is recorded in ``calls`` so a test can check what happened.
"""

import json
import os
import re
import socketserver
import threading
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlparse

API_VERSION = "1.45"


class Engine(object):
    def __init__(self):
        self.containers = {}   # id -> inspect document
        self.images = {}       # "repo:tag" -> inspect document
        self.calls = []
        self.lock = threading.Lock()

    def add_image(self, ref):
        ref = ref if ":" in ref.split("/")[-1] else ref + ":latest"
        self.images[ref] = {"Id": "sha256:" + uuid.uuid4().hex * 2, "RepoTags": [ref]}

    def add_container(self, name, image="app:latest", running=True):
        self.add_image(image)
        cid = uuid.uuid4().hex * 2
        self.containers[cid] = {"Id": cid, "Name": "/" + name, "Image": self.images[image]["Id"],
                                "State": _state(running), "Config": {"Image": image, "Env": [], "Labels": {}},
                                "HostConfig": {}}
        return cid

    def find(self, ref):
        for cid, doc in self.containers.items():
            if ref in (cid, doc["Name"].lstrip("/")) or (len(ref) >= 12 and cid.startswith(ref)):
                return doc
        return None

    def by_name(self):
        return dict((doc["Name"].lstrip("/"), doc) for doc in self.containers.values())


def _state(running):
    return {"Status": "running" if running else "exited", "Running": running, "Paused": False, "ExitCode": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, code, doc=None):
        body = b"" if doc is None else json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Api-Version", API_VERSION)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        size = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(size) if size else b""
        return json.loads(data) if data else {}

    def _route(self, method):
        url = urlparse(self.path)
        path = re.sub(r"^/v[0-9.]+", "", url.path)
        query = dict((k, v[0]) for k, v in parse_qs(url.query).items())
        engine = self.server.engine
        body = self._body() if method == "POST" else {}
        with engine.lock:
            engine.calls.append((method, path, query))
            code, doc = dispatch(engine, method, path, query, body)
        if path == "/_ping":
            payload = b"OK"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(payload)
            return
        self._send(code, doc)

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_DELETE(self):
        self._route("DELETE")

    def do_HEAD(self):
        self._route("HEAD")


def dispatch(engine, method, path, query, body):
    if path == "/_ping":
        return 200, None
    if path == "/version":
        return 200, {"Version": "27.0.0-fake", "ApiVersion": API_VERSION, "MinAPIVersion": "1.24", "Os": "linux"}
    if method == "GET" and path == "/containers/json":
        everything = query.get("all") in ("1", "true", "True")
        return 200, [{"Id": c["Id"], "Names": [c["Name"]], "Image": c["Config"]["Image"], "State": c["State"]["Status"],
                      "Labels": c["Config"]["Labels"]} for c in engine.containers.values()
                     if everything or c["State"]["Running"]]
    if method == "POST" and path == "/containers/create":
        name = query.get("name") or uuid.uuid4().hex[:12]
        image = body.get("Image", "")
        ref = image if ":" in image.split("/")[-1] else image + ":latest"
        if ref not in engine.images:
            return 404, {"message": "No such image: %s" % image}
        if name in engine.by_name():
            return 409, {"message": "Conflict. The container name \"/%s\" is already in use" % name}
        cid = uuid.uuid4().hex * 2
        engine.containers[cid] = {"Id": cid, "Name": "/" + name, "Image": engine.images[ref]["Id"],
                                  "State": dict(_state(False), Status="created"),
                                  "Config": {"Image": image, "Env": body.get("Env") or [],
                                             "Labels": body.get("Labels") or {},
                                             "ExposedPorts": body.get("ExposedPorts") or {}},
                                  "HostConfig": body.get("HostConfig") or {}}
        return 201, {"Id": cid, "Warnings": []}
    match = re.match(r"^/containers/([^/]+)(/json|/start|/stop)?$", path)
    if match:
        doc = engine.find(unquote(match.group(1)))
        if doc is None:
            return 404, {"message": "No such container: %s" % match.group(1)}
        action = match.group(2)
        if method == "GET" and action == "/json":
            return 200, doc
        if method == "POST" and action in ("/start", "/stop"):
            running = action == "/start"
            if doc["State"]["Running"] == running:
                return 304, None
            doc["State"] = _state(running)
            return 204, None
        if method == "DELETE" and action is None:
            if doc["State"]["Running"] and query.get("force") not in ("1", "true", "True"):
                return 409, {"message": "cannot remove a running container: stop it or use force"}
            del engine.containers[doc["Id"]]
            return 204, None
    match = re.match(r"^/images/(.+)/json$", path)
    if method == "GET" and match:
        name = unquote(match.group(1))
        ref = name if ":" in name.split("/")[-1] else name + ":latest"
        if ref in engine.images:
            return 200, engine.images[ref]
        return 404, {"message": "No such image: %s" % name}
    if method == "POST" and path == "/images/create":
        engine.add_image("%s:%s" % (query.get("fromImage"), query.get("tag") or "latest"))
        return 200, {"status": "Downloaded newer image"}
    return 404, {"message": "page not found: %s %s" % (method, path)}


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        request, _addr = super().get_request()
        return request, ("local", 0)  # BaseHTTPRequestHandler wants a (host, port) client address


class FakeDocker(object):
    """``with FakeDocker(path) as fake: fake.url`` -> ``unix://path``; ``fake.engine`` holds the state."""

    def __init__(self, path):
        self.path = path
        self.engine = Engine()
        self.server = None
        self.thread = None

    @property
    def url(self):
        return "unix://" + self.path

    def start(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.server = _Server(self.path, Handler)
        self.server.engine = self.engine
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if os.path.exists(self.path):
            os.unlink(self.path)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
