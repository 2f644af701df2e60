"""A client of the lock server (`shipyard synchronization` or `werf synchronization`, werf-internals §5.4).

Locks are leases (see `locks.lease`): on "should wait" the locker polls every 2 s, a held lease is renewed
every 3 s by a background thread, and a lease the server stops hearing about expires after its TTL (10 s), so
a builder killed while holding a lock blocks others for at most that long. Requests go to
`<server>/<clientID>/locker/...`; every builder of one project must use the same clientID, which werf keeps in
the stages repository as a `client-id-<id>-<ts>` tag (`discover_client_id`).

A server started with `--token` wants `Authorization: Bearer TOKEN`: the token is taken from the address's
userinfo (`http://:TOKEN@HOST:PORT`) or else from $SHIPYARD_SYNCHRONIZATION_TOKEN, removed from the address
before it is used or shown anywhere, and sent only in that header (use https:// beyond a trusted network).

werf wraps the locker in a retry wrapper (10 attempts, 0–9 s apart). Here a request that fails to connect,
times out or gets a 5xx is retried `retries` times with jittered exponential backoff from `retry_delay`
(capped at 4 s: about 7.5 s in all by default), then fails with an error naming the server.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from shipyard.errors import ShipyardError
from shipyard.locks import lease
from shipyard.registry.reference import is_loopback

CLIENT_ID_TAG_PREFIX = "client-id-"
CLIENT_ID_SETTLE_SECONDS = 2.0  # werf sleeps this long before re-listing, so racing builders converge
TOKEN_ENV = "SHIPYARD_SYNCHRONIZATION_TOKEN"
_NOT_A_LOCK_SERVER_HINT = "is this a shipyard or werf synchronization server?"
_TOKEN_HINT = (f"the server wants its bearer token: pass it as --synchronization=http://:TOKEN@HOST:PORT or "
               f"in {TOKEN_ENV}")
_UNREACHABLE_HINT = ("start one with `shipyard synchronization --host HOST --port PORT`, check the address, "
                     "or use --synchronization=:local when every build runs on this host")


class ClientIdRecords(Protocol):
    """The stages repository as client-id discovery needs it (select.py adapts a RegistryClient)."""

    def list_tags(self) -> list[str]: ...

    def publish(self, tag: str) -> None:
        """Push a meta image tagged `tag`, labelled `werf=<project>`."""
        ...


class HttpLocker(lease.LeasedLocker):
    """A Locker (see locks.base) backed by a lock server. Thread-safe; the constructor does no I/O.

    `client_id=None` discovers it from `records` on first use; `token`: see LockServerClient. `timing`
    defaults to werf's (TTL 10 s, renew every 3 s, poll every 2 s); `timing.ttl` must match the server's for
    lost-lease detection to be timely.
    """

    def __init__(self, server_url: str, client_id: str | None = None, *,
                 records: ClientIdRecords | None = None, token: str | None = None,
                 timing: lease.LeaseTiming | None = None, request_timeout: float = 10.0,
                 retries: int = 4, retry_delay: float = 0.5, settle_seconds: float = CLIENT_ID_SETTLE_SECONDS,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if client_id is None and records is None:
            raise ValueError("HttpLocker needs a client_id or the records to discover it from")
        self.server = LockServerClient(server_url, token=token, request_timeout=request_timeout,
                                       retries=retries, retry_delay=retry_delay, sleep=sleep)
        self._leases = _HttpLeases(self.server, client_id, records, settle_seconds, sleep)
        super().__init__(self._leases, timing or lease.LeaseTiming(), sleep=sleep)

    @property
    def client_id(self) -> str:
        """The clientID used for locks (discovered on first use when not given)."""
        return self._leases.client_id()

    def close(self) -> None:
        self.server.close()


@dataclass(frozen=True)
class Answer:
    body: dict[str, Any]
    err: str  # "", "should wait", "lock already leased" or "no existing lock lease found"
    retried: bool  # an earlier attempt failed, so it may have reached the server


class LockServerClient:
    """JSON-over-POST to one lock server with bounded retries; errors become ShipyardError.

    `token` (else the URL's userinfo, else $SHIPYARD_SYNCHRONIZATION_TOKEN) is sent as a bearer token;
    `url` is the address without it."""

    def __init__(self, server_url: str, *, token: str | None = None, request_timeout: float = 10.0,
                 retries: int = 4, retry_delay: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        try:
            url = httpx.URL(server_url)
        except httpx.InvalidURL:
            url = httpx.URL("invalid:")
        if url.scheme not in ("http", "https") or not url.host:
            raise ShipyardError(f"invalid lock server address {_without_userinfo(server_url)!r}",
                                hint="use http://HOST:PORT or https://HOST[:PORT]")
        token = token or url.password or url.username or os.environ.get(TOKEN_ENV) or None
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = str(url.copy_with(username=None, password=None)).rstrip("/")
        self._timeout, self._retries, self._retry_delay = request_timeout, retries, retry_delay
        self._sleep = sleep
        self._trust_env = not is_loopback(url.host)  # a proxy from the environment must not catch loopback
        self._client: httpx.Client | None = None
        self._client_guard = threading.Lock()

    def close(self) -> None:
        with self._client_guard:
            if self._client is not None:
                self._client.close()
                self._client = None

    def health(self, echo: str = "") -> dict[str, Any]:
        return self.post("health", {"echo": echo}, "checking its health").body

    def new_client_id(self) -> str:
        client_id = self.post("new-client-id", {}, "asking for a new clientID").body.get("clientID")
        if not isinstance(client_id, str) or not client_id:
            raise ShipyardError(f"lock server {self.url} returned no clientID")
        return client_id

    def post(self, path: str, body: dict[str, Any], doing: str) -> Answer:
        """The decoded answer; raises ShipyardError for an `err` other than the lock errors and "should wait",
        for a 4xx, and once retries are exhausted."""
        url, failure = f"{self.url}/{path}", ""
        for attempt in range(self._retries + 1):
            if attempt:
                self._sleep(lease.retry_pause(attempt, self._retry_delay))
            try:
                response = self._http().post(url, json=body)
            except httpx.TransportError as error:
                failure = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                continue
            if response.status_code >= 500:
                failure = f"HTTP {response.status_code}"
                continue
            body = self._decode(response, doing)
            return Answer(body, body["err"], retried=attempt > 0)
        raise ShipyardError(
            f"lock server {self.url} is unreachable: {doing} failed {self._retries + 1} times, "
            f"last: {failure}", hint=_UNREACHABLE_HINT)

    def _decode(self, response: httpx.Response, doing: str) -> dict[str, Any]:
        if response.status_code == 401:
            sent = "a wrong token" if self._headers else "no token"
            raise ShipyardError(f"lock server {self.url} refused the request ({sent}): {doing} answered "
                                "HTTP 401", hint=_TOKEN_HINT)
        if response.status_code != 200:
            raise ShipyardError(f"lock server {self.url}: {doing} answered HTTP {response.status_code}: "
                                f"{response.text[:300]}", hint=_NOT_A_LOCK_SERVER_HINT)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ShipyardError(f"lock server {self.url}: {doing}: the answer is not a JSON object",
                                hint=_NOT_A_LOCK_SERVER_HINT)
        err = answer.get("err") or ""
        if err not in ("", lease.SHOULD_WAIT, lease.ALREADY_LEASED, lease.NO_LEASE):
            raise ShipyardError(f"lock server {self.url}: {doing} failed: {err}")
        answer["err"] = err
        return answer

    def _http(self) -> httpx.Client:
        with self._client_guard:
            if self._client is None:
                self._client = httpx.Client(timeout=self._timeout, trust_env=self._trust_env,
                                            headers=self._headers)
            return self._client


class _HttpLeases:
    """The LeaseBackend of a lock server: `/<clientID>/locker/acquire|renew-lease|release`."""

    def __init__(self, server: LockServerClient, client_id: str | None, records: ClientIdRecords | None,
                 settle_seconds: float, sleep: Callable[[float], None]) -> None:
        self._server = server
        self._client_id = client_id
        self._records = records
        self._settle, self._sleep = settle_seconds, sleep
        self._discovery = threading.Lock()

    @property
    def where(self) -> str:
        return f"lock server {self._server.url}"

    def client_id(self) -> str:
        with self._discovery:
            if self._client_id is None:
                assert self._records is not None
                self._client_id = discover_client_id(self._server, self._records, settle_seconds=self._settle,
                                                     sleep=self._sleep)
            return self._client_id

    def try_acquire(self, name: str, shared: bool) -> str | None:
        answer = self._call("acquire", {"lockName": name, "opts": {"shared": shared}}, f"locking {name!r}")
        if answer.err == lease.SHOULD_WAIT:
            return None
        if answer.err:
            raise ShipyardError(f"lock server {self._server.url}: locking {name!r} failed: {answer.err}")
        handle = answer.body.get("lockHandle")
        lease_id = handle.get("uuid") if isinstance(handle, dict) else None
        if not isinstance(lease_id, str) or not lease_id:
            raise ShipyardError(f"{self.where}: locking {name!r}: no lock handle in the answer")
        return lease_id

    def renew(self, name: str, lease_id: str) -> None:
        answer = self._call("renew-lease", _handle(name, lease_id), f"renewing the lease of {name!r}")
        if answer.err:
            raise lease.LeaseLostError(name, self.where, answer.err)

    def release(self, name: str, lease_id: str) -> None:
        answer = self._call("release", _handle(name, lease_id), f"unlocking {name!r}")
        # An earlier attempt that timed out may have released it already: that is not a lost lease.
        if answer.err and not (answer.retried and answer.err == lease.NO_LEASE):
            raise lease.LeaseLostError(name, self.where, answer.err)

    def _call(self, operation: str, body: dict[str, Any], doing: str) -> Answer:
        client_id = urllib.parse.quote(self.client_id(), safe="")
        return self._server.post(f"{client_id}/locker/{operation}", body, doing)


def _without_userinfo(address: str) -> str:
    scheme, separator, rest = address.partition("://")
    host = rest.rpartition("@")[2]
    return f"{scheme}{separator}***@{host}" if "@" in rest else address


def _handle(name: str, lease_id: str) -> dict[str, Any]:
    return {"lockHandle": {"uuid": lease_id, "lockName": name}}


# --- client ids kept in the stages repository (werf-internals §3.1, §3.2, §5.4) ------------------------


def werf_timestamp(now_ns: int) -> int:
    """werf's client-id timestamp `unix_seconds*1000 + unix_nanos/1e6`: about twice epoch-ms. Replicated on
    purpose: the smallest wins, so correct epoch-ms would hijack the clientID of repos werf already uses."""
    return (now_ns // 1_000_000_000) * 1000 + now_ns // 1_000_000


def client_id_tag(client_id: str, timestamp: int) -> str:
    return f"{CLIENT_ID_TAG_PREFIX}{client_id}-{timestamp}"


def parse_client_id_tag(tag: str) -> tuple[str, int] | None:
    """`client-id-<id>-<ts>` → (id, ts), None for other tags; ids contain dashes, so split at the last one."""
    if not tag.startswith(CLIENT_ID_TAG_PREFIX):
        return None
    client_id, dash, timestamp = tag[len(CLIENT_ID_TAG_PREFIX):].rpartition("-")
    if not dash or not timestamp.isdigit():
        return None
    return client_id, int(timestamp)


def oldest_client_id(tags: Iterable[str]) -> str | None:
    """The id of the record with the smallest timestamp (the first listed on a tie, as werf)."""
    records = [record for record in map(parse_client_id_tag, tags) if record is not None]
    return min(records, key=lambda record: record[1])[0] if records else None


def discover_client_id(server: LockServerClient, records: ClientIdRecords, *,
                       settle_seconds: float = CLIENT_ID_SETTLE_SECONDS,
                       now_ns: Callable[[], int] = time.time_ns,
                       sleep: Callable[[float], None] = time.sleep) -> str:
    """werf's GetHttpClientID: the oldest recorded id; else a new one from the server, recorded, then (after
    `settle_seconds`, so concurrent first builders see each other's records) the oldest again."""
    found = oldest_client_id(records.list_tags())
    if found is not None:
        return found
    records.publish(client_id_tag(server.new_client_id(), werf_timestamp(now_ns())))
    sleep(settle_seconds)
    found = oldest_client_id(records.list_tags())
    if found is None:
        raise ShipyardError("the clientID record just pushed to the stages repository is not listed",
                            hint="check that the registry lists tags right after a push")
    return found
