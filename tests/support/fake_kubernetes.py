"""A fake Kubernetes API server: just the namespace and ConfigMap calls of the ConfigMap locker.

No cluster can run on our machines, so KubernetesLocker is tested against this. It implements, as the
Kubernetes API documents them:
* `GET /api/v1/namespaces/NS`, `POST /api/v1/namespaces` (201; 409 AlreadyExists);
* `GET|PUT /api/v1/namespaces/NS/configmaps/NAME`, `POST /api/v1/namespaces/NS/configmaps` (404 NotFound when
  the namespace is missing, 409 AlreadyExists);
* optimistic concurrency: every write bumps one global resourceVersion; a PUT whose metadata.resourceVersion
  is not the stored one gets 409 Conflict "the object has been modified; …" (an empty one updates
  unconditionally);
* annotation validation (qualified names, name part at most 63 characters, 256 KiB in all) → 422 Invalid;
* errors as `Status` objects; `Authorization: Bearer TOKEN` when a token is set (401 otherwise); TLS with
  client-certificate verification when an ssl context is given.
Fault injection for tests: `fail_next(n, status)` answers the next n requests with `status` unprocessed;
`lose_next_replies(n)` processes the next n writes, then answers 503 as if the reply were lost.

It runs on its own event loop in a daemon thread of the test process; state is guarded by a lock so tests can
look at it (`annotations`, `conflicts`).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import ssl
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from aiohttp import web

MAX_ANNOTATIONS_BYTES = 256 * 1024
_QUALIFIED_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_NS = "/api/v1/namespaces"


def status(code: int, reason: str, message: str) -> web.Response:
    return web.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": message, "reason": reason, "code": code}, status=code)


class FakeKubernetes:
    def __init__(self, *, token: str | None = None, ssl_context: ssl.SSLContext | None = None) -> None:
        self.token = token
        self._ssl = ssl_context
        self._guard = threading.Lock()
        self._version = 100
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.configmaps: dict[tuple[str, str], dict[str, Any]] = {}
        self.conflicts = 0
        self.requests: list[tuple[str, str]] = []
        self._failures: list[int] = []
        self._lose_replies = 0
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    # --- for tests ---------------------------------------------------------------------------------------

    def annotations(self, namespace: str, name: str) -> dict[str, str]:
        with self._guard:
            found = self.configmaps.get((namespace, name))
            return dict(found["metadata"].get("annotations") or {}) if found else {}

    def fail_next(self, count: int, code: int = 503) -> None:
        with self._guard:
            self._failures.extend([code] * count)

    def lose_next_replies(self, count: int) -> None:
        with self._guard:
            self._lose_replies += count

    # --- running -----------------------------------------------------------------------------------------

    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="fake kubernetes", daemon=True)
        self._thread.start()
        if not ready.wait(10) or not self.url:
            raise RuntimeError("the fake Kubernetes API did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def _run(self, ready: threading.Event) -> None:
        asyncio.run(self._serve(ready))

    async def _serve(self, ready: threading.Event) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        app = web.Application(middlewares=[self._gate])
        app.router.add_get(_NS + "/{ns}", self._get_namespace)
        app.router.add_post(_NS, self._create_namespace)
        app.router.add_get(_NS + "/{ns}/configmaps/{name}", self._get_configmap)
        app.router.add_put(_NS + "/{ns}/configmaps/{name}", self._replace_configmap)
        app.router.add_post(_NS + "/{ns}/configmaps", self._create_configmap)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self._ssl)
        await site.start()
        port = runner.addresses[0][1]
        self.url = f"{'https' if self._ssl else 'http'}://127.0.0.1:{port}"
        ready.set()
        await self._stop.wait()
        await runner.cleanup()

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        with self._guard:
            self.requests.append((request.method, request.path))
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return status(failure, "InternalError", "injected failure")
        if self.token is not None and request.headers.get("Authorization") != f"Bearer {self.token}":
            return status(401, "Unauthorized", "Unauthorized")
        response: web.StreamResponse = await handler(request)
        with self._guard:
            lose = request.method in ("PUT", "POST") and self._lose_replies > 0
            self._lose_replies -= 1 if lose else 0
        return status(503, "ServiceUnavailable", "injected lost reply") if lose else response

    # --- namespaces --------------------------------------------------------------------------------------

    async def _get_namespace(self, request: web.Request) -> web.Response:
        with self._guard:
            found = self.namespaces.get(request.match_info["ns"])
        if found is None:
            return status(404, "NotFound", f'namespaces "{request.match_info["ns"]}" not found')
        return web.json_response(found)

    async def _create_namespace(self, request: web.Request) -> web.Response:
        body = await _object(request, "Namespace")
        if isinstance(body, web.Response):
            return body
        name = body["metadata"]["name"]
        with self._guard:
            if name in self.namespaces:
                return status(409, "AlreadyExists", f'namespaces "{name}" already exists')
            self.namespaces[name] = self._stamp(body, None)
            return web.json_response(self.namespaces[name], status=201)

    # --- configmaps --------------------------------------------------------------------------------------

    async def _get_configmap(self, request: web.Request) -> web.Response:
        ns, name = request.match_info["ns"], request.match_info["name"]
        with self._guard:
            found = self.configmaps.get((ns, name))
            if found is None:
                return status(404, "NotFound", f'configmaps "{name}" not found')
            return web.json_response(found)

    async def _create_configmap(self, request: web.Request) -> web.Response:
        ns = request.match_info["ns"]
        body = await _object(request, "ConfigMap")
        if isinstance(body, web.Response):
            return body
        name = body["metadata"]["name"]
        with self._guard:
            if ns not in self.namespaces:
                return status(404, "NotFound", f'namespaces "{ns}" not found')
            if (ns, name) in self.configmaps:
                return status(409, "AlreadyExists", f'configmaps "{name}" already exists')
            invalid = _invalid_annotations(body, name)
            if invalid is not None:
                return invalid
            self.configmaps[(ns, name)] = self._stamp(body, ns)
            return web.json_response(self.configmaps[(ns, name)], status=201)

    async def _replace_configmap(self, request: web.Request) -> web.Response:
        ns, name = request.match_info["ns"], request.match_info["name"]
        body = await _object(request, "ConfigMap")
        if isinstance(body, web.Response):
            return body
        if body["metadata"]["name"] != name:
            return status(400, "BadRequest", "the name of the object does not match the name on the URL")
        with self._guard:
            stored = self.configmaps.get((ns, name))
            if stored is None:
                return status(404, "NotFound", f'configmaps "{name}" not found')
            wanted = body["metadata"].get("resourceVersion") or ""
            if wanted and wanted != stored["metadata"]["resourceVersion"]:
                self.conflicts += 1
                message = (f'Operation cannot be fulfilled on configmaps "{name}": the object has been '
                           "modified; please apply your changes to the latest version and try again")
                return status(409, "Conflict", message)
            invalid = _invalid_annotations(body, name)
            if invalid is not None:
                return invalid
            for kept in ("uid", "creationTimestamp"):
                body["metadata"][kept] = stored["metadata"][kept]
            self.configmaps[(ns, name)] = self._stamp(body, ns)
            return web.json_response(self.configmaps[(ns, name)])

    def _stamp(self, body: dict[str, Any], namespace: str | None) -> dict[str, Any]:
        """The stored object: server-set metadata and a new resourceVersion (call with the guard held)."""
        self._version += 1
        stored = copy.deepcopy(body)
        metadata = stored["metadata"]
        metadata["resourceVersion"] = str(self._version)
        metadata.setdefault("uid", str(uuid.uuid4()))
        metadata.setdefault("creationTimestamp", "2026-11-23T00:00:00Z")
        if namespace is not None:
            metadata["namespace"] = namespace
        return stored


async def _object(request: web.Request, kind: str) -> dict[str, Any] | web.Response:
    try:
        body = json.loads(await request.read())
    except ValueError as error:
        return status(400, "BadRequest", f"invalid JSON: {error}")
    if not isinstance(body, dict) or body.get("kind") != kind or body.get("apiVersion") != "v1":
        return status(400, "BadRequest", f"expected a v1 {kind}")
    metadata = body.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        return status(422, "Invalid", f"{kind} metadata.name: Required value")
    return body


def _invalid_annotations(body: dict[str, Any], name: str) -> web.Response | None:
    annotations = body["metadata"].get("annotations") or {}
    if not isinstance(annotations, dict):
        return status(400, "BadRequest", "metadata.annotations must be a map of strings")
    size = 0
    for key, value in annotations.items():
        prefix, slash, short = key.rpartition("/")
        valid_prefix = not slash or (len(prefix) <= 253 and _DNS_SUBDOMAIN.fullmatch(prefix) is not None)
        if not (valid_prefix and len(short) <= 63 and _QUALIFIED_NAME.fullmatch(short)):
            return status(422, "Invalid", f'ConfigMap "{name}" is invalid: metadata.annotations: Invalid '
                                          f'value: "{key}": name part must be a qualified name of at most 63 '
                                          "characters")
        if not isinstance(value, str):
            return status(400, "BadRequest", f"annotation {key} must be a string")
        size += len(key) + len(value)
    if size > MAX_ANNOTATIONS_BYTES:
        return status(422, "Invalid", f'ConfigMap "{name}" is invalid: metadata.annotations: Too long: must '
                                      f"have at most {MAX_ANNOTATIONS_BYTES} bytes")
    return None


@contextlib.contextmanager
def running_fake_kubernetes(*, token: str | None = None,
                            ssl_context: ssl.SSLContext | None = None) -> Iterator[FakeKubernetes]:
    server = FakeKubernetes(token=token, ssl_context=ssl_context)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def kubeconfig_yaml(server: str, *, token: str | None = None, context: str = "fake",
                    extra_user: dict[str, Any] | None = None,
                    extra_cluster: dict[str, Any] | None = None) -> str:
    """A kubeconfig with one context `context` for `server` (JSON is YAML)."""
    user: dict[str, Any] = {"token": token} if token else {}
    user |= extra_user or {}
    cluster: dict[str, Any] = {"server": server} | (extra_cluster or {})
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": f"{context}-cluster", "cluster": cluster}],
        "users": [{"name": f"{context}-user", "user": user}],
        "contexts": [{"name": context,
                      "context": {"cluster": f"{context}-cluster", "user": f"{context}-user"}}],
    }, indent=1)
