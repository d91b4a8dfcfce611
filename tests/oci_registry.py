"""A registry for the tests: the parts of the OCI distribution specification (v1.1, "Pull" and "Push")
that `helm push` and `helm pull` use, in memory, over plain HTTP on 127.0.0.1.

    with Registry() as registry:
        helm_python.push(archive, f"oci://{registry.host}/charts", plain_http=True)

Endpoints (https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#endpoints):
GET /v2/, HEAD/GET blobs, POST/PATCH/PUT blob uploads (monolithic and chunked), PUT/HEAD/GET
manifests by tag or digest, GET tags/list. No authentication; anything else is 404.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

_ROUTE = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>blobs/uploads|blobs|manifests|tags)/?(?P<rest>[^/]*)$")


def _digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


class _Store:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.uploads: dict[str, bytearray] = {}
        self.manifests: dict[tuple[str, str], tuple[bytes, str]] = {}  # (name, tag or digest) -> body, type
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    store: _Store

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
               head: bool = False) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _route(self) -> tuple[str, str, str, dict[str, list[str]]] | None:
        parts = urlsplit(self.path)
        match = _ROUTE.match(parts.path)
        if match is None:
            return None
        return match.group("name"), match.group("kind"), match.group("rest"), parse_qs(parts.query)

    def _get(self, head: bool) -> None:
        if urlsplit(self.path).path in ("/v2", "/v2/"):
            self._reply(200, b"{}", {"Content-Type": "application/json"}, head)
            return
        route = self._route()
        if route is None:
            self._reply(404, head=head)
            return
        name, kind, rest, _ = route
        store = self.store
        if kind == "blobs" and rest in store.blobs:
            data = store.blobs[rest]
            self._reply(200, data, {"Content-Type": "application/octet-stream", "Docker-Content-Digest": rest}, head)
        elif kind == "manifests" and (name, rest) in store.manifests:
            body, media_type = store.manifests[(name, rest)]
            self._reply(200, body, {"Content-Type": media_type, "Docker-Content-Digest": _digest(body)}, head)
        elif kind == "tags":
            tags = sorted(tag for (repo, tag) in store.manifests if repo == name and not tag.startswith("sha256:"))
            self._reply(200, json.dumps({"name": name, "tags": tags}).encode(), {"Content-Type": "application/json"})
        else:
            self._reply(404, head=head)

    def do_GET(self) -> None:
        self._get(head=False)

    def do_HEAD(self) -> None:
        self._get(head=True)

    def _finish_upload(self, name: str, data: bytes, digest: str) -> None:
        if _digest(data) != digest:
            self._reply(400, b'{"errors":[{"code":"DIGEST_INVALID"}]}')
            return
        self.store.blobs[digest] = data
        self._reply(201, headers={"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})

    def do_POST(self) -> None:
        route = self._route()
        if route is None or route[1] != "blobs/uploads":
            self._reply(404)
            return
        name, _, _, query = route
        body = self._body()
        if "digest" in query:  # a monolithic upload in one POST
            self._finish_upload(name, body, query["digest"][0])
            return
        upload = uuid.uuid4().hex
        with self.store.lock:
            self.store.uploads[upload] = bytearray(body)
        self._reply(202, headers={"Location": f"/v2/{name}/blobs/uploads/{upload}", "Range": "0-0",
                                  "Docker-Upload-UUID": upload})

    def do_PATCH(self) -> None:
        route = self._route()
        if route is None or route[1] != "blobs/uploads" or route[2] not in self.store.uploads:
            self._reply(404)
            return
        name, _, upload, _ = route
        buffer = self.store.uploads[upload]
        buffer.extend(self._body())
        self._reply(202, headers={"Location": f"/v2/{name}/blobs/uploads/{upload}",
                                  "Range": f"0-{max(len(buffer) - 1, 0)}", "Docker-Upload-UUID": upload})

    def do_PUT(self) -> None:
        route = self._route()
        if route is None:
            self._reply(404)
            return
        name, kind, rest, query = route
        body = self._body()
        if kind == "blobs/uploads" and rest in self.store.uploads and "digest" in query:
            buffer = self.store.uploads.pop(rest)
            buffer.extend(body)
            self._finish_upload(name, bytes(buffer), query["digest"][0])
        elif kind == "manifests":
            media_type = self.headers.get("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            digest = _digest(body)
            with self.store.lock:
                self.store.manifests[(name, rest)] = (body, media_type)
                self.store.manifests[(name, digest)] = (body, media_type)
            self._reply(201, headers={"Location": f"/v2/{name}/manifests/{digest}", "Docker-Content-Digest": digest})
        else:
            self._reply(404)


class Registry:
    """An OCI registry on 127.0.0.1 (a free port) for the life of the ``with`` block."""

    def __init__(self) -> None:
        store = _Store()
        handler = type("Handler", (_Handler,), {"store": store})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.store = store
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Registry:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
