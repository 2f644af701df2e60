"""`shipyard synchronization`: a lock server with the HTTP API of `werf synchronization` (internals §5.4).

Endpoints (JSON bodies; lock errors travel in the string field `err`, "" meaning none):
* `POST /health` `{"echo": s}` → `{"err": "", "echo": s, "status": "OK"}` (GET works too, for probes)
* `POST /new-client-id` `{}` → `{"err": "", "clientID": "<uuid4>"}`
* `GET /` → an HTML landing page
* `POST /<clientID>/locker/acquire` `{"lockName": n, "opts": {"shared": b}}`
      → `{"lockHandle": {"uuid": u, "lockName": n}, "err": "" | "should wait"}`
* `POST /<clientID>/locker/renew-lease` and `/release` `{"lockHandle": {"uuid": u, "lockName": n}}`
      → `{"err": "" | "lock already leased" | "no existing lock lease found"}`
Malformed requests get a 4xx status with `{"err": "..."}` (werf's server answers them in plain text; werf
clients treat any non-200 as an error either way).

Where leases live:
* in memory (the default): each clientID has its own store (a dict of leases applying the rules of
  `locks.lease`). Handlers run on one event loop and never await inside a store operation, so every operation
  is atomic. A sweeper drops expired records and empty stores, so memory follows the locks actually held.
* in Redis (`redis_url`, `--redis`): the leases of clientID C are the keys
  `shipyard:synchronization:C:<lock>`, changed by the atomic transactions of `locks.redis` (run on a thread
  pool) and judged on Redis's clock, so several server processes behind a load balancer share them: a client
  may reach any replica on any request. Redis expires the keys itself. `/health` answers 503 while Redis does
  not, and lock requests get 503 (which clients retry).
Leases whose holder stopped renewing expire after the TTL (10 s, as werf; `lease_ttl` changes it, but werf
clients renew every 3 s, so keep it well above that). Request bodies are limited to 64 KiB, lock names to 1024
characters.

Authentication: with a `token`, every request except `GET /` and `/health` needs `Authorization: Bearer TOKEN`
(401 with a JSON `err` otherwise; the token is never printed). TLS is not built in: bind to localhost (the
default) or a private address, and terminate TLS in a reverse proxy for anything else, since a bearer token
on plain HTTP is readable by anyone on the path.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from shipyard.errors import ShipyardError
from shipyard.locks import lease
from shipyard.locks.server_leases import LockStore, MemoryLeases, RedisServerLeases, ServerLeases

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 55581
MAX_BODY_BYTES = 64 * 1024
MAX_LOCK_NAME = 1024
SHUTDOWN_GRACE_SECONDS = 5.0
_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_CHALLENGE = 'Bearer realm="shipyard synchronization"'
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

LANDING_PAGE = """<!doctype html>
<html>
<head>
  <meta charset="utf-8">
  <title>shipyard synchronization server</title>
</head>
<body>
<h1>shipyard synchronization server</h1>

<p>A lock server speaking the API of <code>werf synchronization</code>. Point builders at it with
<code>--synchronization=http://HOST:PORT</code>.</p>

<p>Endpoints: <code>POST /health</code>, <code>POST /new-client-id</code>,
<code>POST /&lt;clientID&gt;/locker/acquire|renew-lease|release</code>.</p>
</body>
</html>
"""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LockService:
    """The HTTP application: routing, authentication, validation, and the leases (in memory by default)."""

    def __init__(self, ttl: float = lease.TTL_SECONDS, clock: Callable[[], float] = time.monotonic, *,
                 leases: ServerLeases | None = None, token: str | None = None) -> None:
        self.ttl = ttl
        self.memory: MemoryLeases | None = None
        if leases is None:
            self.memory = leases = MemoryLeases(ttl, clock)
        self.leases: ServerLeases = leases
        self._token = token.encode() if token else None

    @property
    def authenticated(self) -> bool:
        return self._token is not None

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_json_errors, self._authenticate])
        app.router.add_get("/", self._landing)
        app.router.add_route("*", "/health", self._health)
        app.router.add_post("/new-client-id", self._new_client_id)
        app.router.add_post("/{client_id}/locker/acquire", self._acquire)
        app.router.add_post("/{client_id}/locker/renew-lease", self._renew)
        app.router.add_post("/{client_id}/locker/release", self._release)
        if self.memory is not None:
            app.cleanup_ctx.append(self._sweeper)
        return app

    @property
    def client_ids(self) -> list[str]:
        return self.memory.client_ids if self.memory is not None else []

    def store(self, client_id: str) -> LockStore:
        assert self.memory is not None, "only the in-memory leases have stores"
        return self.memory.store(client_id)

    def sweep(self) -> None:
        if self.memory is not None:
            self.memory.sweep()

    async def _sweeper(self, _app: web.Application) -> AsyncIterator[None]:
        async def run() -> None:
            while True:
                await asyncio.sleep(max(self.ttl, 1.0))
                self.sweep()

        task = asyncio.create_task(run())
        yield
        task.cancel()

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """With a token: `Authorization: Bearer TOKEN` on everything but the landing page and /health."""
        public = request.path == "/health" or (request.path == "/" and request.method in ("GET", "HEAD"))
        if self._token is None or public:
            return await handler(request)
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), self._token):
            return web.json_response({"err": "401 Unauthorized: a valid bearer token is required"},
                                     status=401, headers={"WWW-Authenticate": _CHALLENGE})
        return await handler(request)

    async def _landing(self, _request: web.Request) -> web.Response:
        return web.Response(text=LANDING_PAGE, content_type="text/html")

    async def _health(self, request: web.Request) -> web.Response:
        echo = ""
        if request.method == "POST":
            echo = _string(await _body(request), "echo", required=False)
        try:
            await self.leases.check()
        except ShipyardError as error:
            return web.json_response({"err": error.message, "echo": echo, "status": "ERROR"}, status=503)
        return web.json_response({"err": "", "echo": echo, "status": "OK"})

    async def _new_client_id(self, request: web.Request) -> web.Response:
        await _body(request)
        return web.json_response({"err": "", "clientID": str(uuid.uuid4())})

    async def _acquire(self, request: web.Request) -> web.Response:
        client_id = _client_id(request)
        body = await _body(request)
        name = _lock_name(body.get("lockName"))
        opts = body.get("opts") or {}
        shared = opts.get("shared", False) if isinstance(opts, dict) else None
        if not isinstance(shared, bool):
            raise _bad_request("opts.shared must be a boolean")
        try:
            lease_id = await _stored(self.leases.acquire(client_id, name, shared))
        except lease.LeaseRefusedError as refused:
            return web.json_response({"lockHandle": {"uuid": "", "lockName": ""}, "err": refused.reason})
        return web.json_response({"lockHandle": {"uuid": lease_id, "lockName": name}, "err": ""})

    async def _renew(self, request: web.Request) -> web.Response:
        return await self._change(request, self.leases.renew)

    async def _release(self, request: web.Request) -> web.Response:
        return await self._change(request, self.leases.release)

    async def _change(self, request: web.Request,
                      change: Callable[[str, str, str], Awaitable[None]]) -> web.Response:
        client_id = _client_id(request)
        handle = (await _body(request)).get("lockHandle")
        if not isinstance(handle, dict):
            raise _bad_request("lockHandle must be an object")
        name, lease_id = _lock_name(handle.get("lockName")), _string(handle, "uuid")
        try:
            await _stored(change(client_id, name, lease_id))
        except lease.LeaseRefusedError as refused:
            return web.json_response({"err": refused.reason})
        return web.json_response({"err": ""})


async def _stored(operation: Awaitable[Any]) -> Any:
    """Await a lease operation; a store that cannot be reached is a 503 (clients retry those)."""
    try:
        return await operation
    except ShipyardError as error:
        raise web.HTTPServiceUnavailable(text=json.dumps({"err": f"lock store unavailable: {error.message}"}),
                                         content_type="application/json") from None


def _client_id(request: web.Request) -> str:
    client_id = request.match_info["client_id"]
    if not _CLIENT_ID.fullmatch(client_id):
        raise _bad_request(f"invalid clientID {client_id[:140]!r}")
    return client_id


@web.middleware
async def _json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every HTTP error as `{"err": "..."}` with its status, like the rest of the API."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400 or error.content_type == "application/json":
            raise
        allow = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return web.json_response({"err": f"{error.status} {error.reason}"}, status=error.status,
                                 headers=allow)


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"err": message}), content_type="application/json")


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except json.JSONDecodeError as error:
        raise _bad_request(f"unable to unmarshal request json: {error}") from None
    except UnicodeDecodeError:
        raise _bad_request("unable to unmarshal request json: not UTF-8") from None
    if not isinstance(body, dict):
        raise _bad_request("the request body must be a JSON object")
    return body


def _string(body: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = body.get(key, None if required else "")
    if not isinstance(value, str):
        raise _bad_request(f"{key} must be a string")
    return value


def _lock_name(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise _bad_request("lockName must be a non-empty string")
    if len(value) > MAX_LOCK_NAME or _CONTROL.search(value):
        raise _bad_request(f"invalid lockName (at most {MAX_LOCK_NAME} characters, no control characters)")
    return value


# --- running it --------------------------------------------------------------------------------------


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, lease_ttl: float = lease.TTL_SECONDS,
          redis_url: str | None = None, token: str | None = None,
          announce: Callable[[str], None] = print) -> None:
    """Run the server until SIGTERM or SIGINT, then finish in-flight requests (up to 5 s) and return.
    `port=0` picks a free port; `announce` receives one line with every bound address once it listens.
    `redis_url` keeps the leases in Redis (checked before listening); `token` requires a bearer token."""
    if lease_ttl <= 0:
        raise ShipyardError(f"invalid lease TTL {lease_ttl:g}s", hint="use a positive number of seconds")
    redis = RedisServerLeases(redis_url, lease_ttl) if redis_url else None
    try:
        if redis is not None:
            asyncio.run(redis.check())
        asyncio.run(_serve(host, port, LockService(lease_ttl, leases=redis, token=token), announce))
    finally:
        if redis is not None:
            redis.close()


async def _serve(host: str, port: int, service: LockService, announce: Callable[[str], None]) -> None:
    runner = web.AppRunner(service.application(), access_log=None, shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            raise ShipyardError(
                f"cannot listen on {host}:{port}: {error.strerror or error}",
                hint="pick another --port (WERF_PORT) or stop the process using it",
            ) from error
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        addresses = ", ".join(_url(address) for address in runner.addresses)
        auth = ", bearer token required" if service.authenticated else ""
        announce(f"shipyard synchronization server listening on {addresses} (lease TTL {service.ttl:g}s, "
                 f"leases {service.leases.describe}{auth})")
        await stop.wait()
        announce("shipyard synchronization server stopping")
    finally:
        await runner.cleanup()


def _url(address: Any) -> str:
    host, port = address[0], address[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
