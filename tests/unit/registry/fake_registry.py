"""An in-memory OCI distribution registry behind httpx.MockTransport, for fast unit tests of the client.

It speaks just enough of the API (tags, manifests, blobs, uploads, mounts) and of the two auth schemes
(basic, and bearer with a token service) to exercise the client's flows; `script` injects failures.
The integration tests run the same operations against the real distribution registry.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

HOST = "registry.test"
REALM = "https://auth.test/token"
_ROUTE = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>tags/list|manifests|blobs/uploads|blobs)"
                    r"(?:/(?P<rest>[^/]*))?$")

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response | None]


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def distribution_error(status: int, code: str, message: str,
                       headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"code": code, "message": message}]}, headers=headers)


@dataclass
class FakeRegistry:
    auth: str | None = None  # None, "basic" or "bearer"
    users: dict[str, str] = field(default_factory=lambda: {"alice": "secret"})
    page_size: int | None = None  # paginate tags/list with Link headers (distribution 2.8 never does)
    token_lifetime: int | None = 300
    blobs: dict[str, dict[str, bytes]] = field(default_factory=dict)
    manifests: dict[str, dict[str, tuple[bytes, str]]] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    uploads: dict[str, str] = field(default_factory=dict)
    script: list[Step] = field(default_factory=list)  # consumed first, one per request
    requests: list[httpx.Request] = field(default_factory=list)
    valid_tokens: dict[str, set[str]] = field(default_factory=dict)  # token → granted scopes
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        # A snapshot: the client may add headers to the same Request object when it resends it.
        self.requests.append(httpx.Request(request.method, request.url, headers=request.headers.copy(),
                                           content=request.read()))
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
            scripted = step(request) if callable(step) else step
            if scripted is not None:
                return scripted
        if request.url.host == "auth.test":
            return self._issue_token(request)
        return self._route(request)

    def seen(self, method: str, path_part: str = "") -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and path_part in r.url.path]

    # --- auth ----------------------------------------------------------------------------------------------

    def _refusal(self, request: httpx.Request, scope: str) -> httpx.Response | None:
        header = request.headers.get("authorization", "")
        if self.auth == "basic" and header != self._basic_header():
            return distribution_error(401, "UNAUTHORIZED", "authentication required",
                                      {"WWW-Authenticate": 'Basic realm="fake"'})
        if self.auth == "bearer":
            token = header.removeprefix("Bearer ")
            if token in self.valid_tokens and (not scope or self._covers(token, scope)):
                return None
            challenge = f'Bearer realm="{REALM}",service="{HOST}"' + (f',scope="{scope}"' if scope else "")
            return distribution_error(401, "UNAUTHORIZED", "authentication required",
                                      {"WWW-Authenticate": challenge})
        return None

    def _covers(self, token: str, scope: str) -> bool:
        granted = self.valid_tokens.get(token, set())
        kind, name, actions = scope.split(":")
        allowed = {a for g in granted if g.startswith(f"{kind}:{name}:") for a in g.split(":")[2].split(",")}
        return set(actions.split(",")) <= allowed

    def _basic_header(self) -> str:
        user, password = next(iter(self.users.items()))
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def _issue_token(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            form = {key: values[0] for key, values in urllib.parse.parse_qs(request.content.decode()).items()}
            if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != "refresh-me":
                return httpx.Response(401, json={"error": "invalid_grant"})
            scopes = form.get("scope", "").split()
        else:
            header = request.headers.get("authorization")
            if header is not None and header != self._basic_header():
                return httpx.Response(401, json={"details": "incorrect username or password"})
            scopes = request.url.params.get_list("scope")
        token = f"token-{next(self._ids)}"
        self.valid_tokens[token] = set(scopes)
        body: dict[str, object] = {"token": token}
        if self.token_lifetime is not None:
            body["expires_in"] = self.token_lifetime
        return httpx.Response(200, json=body)

    # --- the API -------------------------------------------------------------------------------------------

    def _route(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return self._refusal(request, "") or httpx.Response(200, json={})
        match = _ROUTE.match(request.url.path)
        if not match:
            return httpx.Response(404)
        name, kind, rest = match["name"], match["kind"], match["rest"] or ""
        action = "pull" if request.method in ("GET", "HEAD") else "pull,push"
        if request.method == "DELETE" and kind == "manifests":
            action = "delete"
        refusal = self._refusal(request, f"repository:{name}:{action}")
        if refusal is not None:
            return refusal
        handler = {"tags/list": self._tags, "manifests": self._manifest, "blobs": self._blob,
                   "blobs/uploads": self._upload}[kind]
        return handler(request, name, rest)

    def _tags(self, request: httpx.Request, name: str, _: str) -> httpx.Response:
        if name not in self.tags:
            return distribution_error(404, "NAME_UNKNOWN", "repository name not known to registry")
        tags = sorted(self.tags[name])
        last = request.url.params.get("last")
        if last:
            tags = [t for t in tags if t > last]
        headers = {}
        if self.page_size and len(tags) > self.page_size:
            tags = tags[: self.page_size]
            headers["Link"] = f'</v2/{name}/tags/list?n={self.page_size}&last={tags[-1]}>; rel="next"'
        return httpx.Response(200, json={"name": name, "tags": tags}, headers=headers)

    def _manifest(self, request: httpx.Request, name: str, reference: str) -> httpx.Response:
        if request.method == "PUT":
            digest = digest_of(request.content)
            self.manifests.setdefault(name, {})[digest] = (request.content, request.headers["content-type"])
            if not reference.startswith("sha256:"):
                self.tags.setdefault(name, {})[reference] = digest
            return httpx.Response(201, headers={"Docker-Content-Digest": digest})
        digest = self.tags.get(name, {}).get(reference, reference)
        stored = self.manifests.get(name, {}).get(digest)
        if request.method == "DELETE":
            if not reference.startswith("sha256:"):
                return distribution_error(400, "DIGEST_INVALID", "provided digest did not match")
            if stored is None:
                return distribution_error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            del self.manifests[name][digest]
            self.tags[name] = {t: d for t, d in self.tags.get(name, {}).items() if d != digest}
            return httpx.Response(202)
        if stored is None:
            return distribution_error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        raw, media_type = stored
        headers = {"Docker-Content-Digest": digest, "Content-Type": media_type,
                   "Content-Length": str(len(raw))}
        return httpx.Response(200, headers=headers, content=b"" if request.method == "HEAD" else raw)

    def _blob(self, request: httpx.Request, name: str, digest: str) -> httpx.Response:
        data = self.blobs.get(name, {}).get(digest)
        if data is None:
            return distribution_error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        headers = {"Docker-Content-Digest": digest, "Content-Length": str(len(data))}
        return httpx.Response(200, headers=headers, content=b"" if request.method == "HEAD" else data)

    def _upload(self, request: httpx.Request, name: str, session: str) -> httpx.Response:
        if request.method == "POST":
            return self._start_upload(request, name)
        if session not in self.uploads:
            return distribution_error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
        if request.method == "DELETE":
            del self.uploads[session]
            return httpx.Response(204)
        digest = request.url.params["digest"]
        if digest_of(request.content) != digest:
            return distribution_error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
        del self.uploads[session]
        self.blobs.setdefault(name, {})[digest] = request.content
        return httpx.Response(201, headers={"Docker-Content-Digest": digest})

    def _start_upload(self, request: httpx.Request, name: str) -> httpx.Response:
        mount, source = request.url.params.get("mount"), request.url.params.get("from")
        if mount and source and mount in self.blobs.get(source, {}):
            self.blobs.setdefault(name, {})[mount] = self.blobs[source][mount]
            return httpx.Response(201, headers={"Docker-Content-Digest": mount})
        session = f"upload-{next(self._ids)}"
        self.uploads[session] = name
        # A relative Location with its own query, as distribution sends a `_state` parameter.
        return httpx.Response(202, headers={"Location": f"/v2/{name}/blobs/uploads/{session}?_state=abc"})
