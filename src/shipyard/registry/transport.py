"""HTTP to one registry host: scheme choice, authorisation, bounded retries, error translation, counters.

Scheme: `insecure=True` → plain HTTP; `insecure=False` → HTTPS only; `insecure=None` → HTTPS, except that a
loopback host whose TLS handshake fails because the server does not speak TLS is used over plain HTTP (as
docker does for its default insecure 127.0.0.0/8). A certificate that fails verification never downgrades.
"""

from __future__ import annotations

import email.utils
import functools
import json
import random
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shipyard.registry.auth import Authorizer, Credentials, load_credentials, pick_challenge, token_request
from shipyard.registry.reference import RegistryError, is_loopback, validate_registry_host

_RETRIED_STATUSES = {429, 500, 502, 503, 504}
_BACKOFF_BASE = 0.2  # seconds; doubles per attempt, with full jitter
_BACKOFF_CAP = 10.0
_RETRY_AFTER_CAP = 60.0


@dataclass(frozen=True)
class Operation:
    """What the client is doing, for error messages, and the token scopes it needs."""

    description: str  # e.g. "listing tags of repository app"
    scopes: tuple[str, ...] = ()


@dataclass
class RegistryStats:
    """Counters for benchmarks: HTTP requests by method (retries and token requests included), blob bytes."""

    requests: Counter[str] = field(default_factory=Counter)
    blob_bytes_downloaded: int = 0
    blob_bytes_uploaded: int = 0
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def count_request(self, method: str) -> None:
        with self._lock:
            self.requests[method] += 1

    def count_retry(self) -> None:
        with self._lock:
            self.retries += 1

    def count_blob_bytes(self, *, downloaded: int = 0, uploaded: int = 0) -> None:
        with self._lock:
            self.blob_bytes_downloaded += downloaded
            self.blob_bytes_uploaded += uploaded


class RegistryTransport:
    """One keep-alive httpx client for one registry host. The constructor does no I/O."""

    def __init__(self, host: str, *, insecure: bool | None, ca_file: str | None, skip_tls_verify: bool,
                 credentials: Credentials | None, timeout: float, retries: int,
                 auth_file: Path | None = None, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.host = validate_registry_host(host)
        self.stats = RegistryStats()
        self._scheme = "http" if insecure else "https"
        self._may_downgrade = insecure is None and is_loopback(host)
        self._timeout = timeout
        self._retries = max(retries, 0)
        self._sleep = sleep
        self._authorizer = Authorizer(lambda: credentials or load_credentials(host, auth_file))
        self._ca_file = ca_file
        self._skip_tls_verify = skip_tls_verify
        self._transport = transport
        self._client: httpx.Client | None = None  # made on first use: building it reads the trust store
        self._client_lock = threading.Lock()

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _http(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                verify: ssl.SSLContext | bool = False if self._skip_tls_verify else self._tls_context()
                self._client = httpx.Client(verify=verify, timeout=self._timeout, follow_redirects=True,
                                            transport=self._transport)
            return self._client

    def _tls_context(self) -> ssl.SSLContext:
        try:
            return _tls_context(self._ca_file)
        except OSError as error:  # ssl.SSLError included: not PEM, or no certificate inside
            raise RegistryError(f"registry {self.host}: cannot load the CA certificate {self._ca_file}: "
                                f"{error.strerror or error}",
                                hint="pass a PEM file holding the registry's CA certificate") from None

    def url(self, path: str) -> str:
        return f"{self._scheme}://{self.host}{path}"

    def request(self, operation: Operation, method: str, url: str, *, expected: set[int],
                headers: dict[str, str] | None = None, content: bytes | None = None) -> httpx.Response:
        """Send with authorisation and retries; the response if its status is `expected`, else raise."""
        request = httpx.Request(method, url, headers=headers, content=content)
        response = self._send_authorized(operation, request)
        if response.status_code not in expected:
            raise self.response_error(operation, response)
        return response

    # --- authorisation ----------------------------------------------------------------------------

    def _send_authorized(self, operation: Operation, request: httpx.Request) -> httpx.Response:
        self._authorize(operation, request)
        response = self._send_with_retries(operation, request)
        if response.status_code != 401:
            return response
        challenge = pick_challenge(response.headers.get_list("www-authenticate"))
        if challenge is None or (challenge.scheme == "basic" and self._authorizer.credentials.anonymous):
            return response  # nothing more to try; the caller reports "unauthorized"
        refused = request.headers.get("authorization")
        self._authorizer.learn(challenge)
        self._authorizer.forget(operation.scopes)  # a cached token the registry refused is useless
        self._authorize(operation, request)
        if request.headers.get("authorization") == refused:
            return response  # the same basic credentials would be refused again
        return self._send_with_retries(operation, request)

    def _authorize(self, operation: Operation, request: httpx.Request) -> None:
        header = self._authorizer.header(operation.scopes)
        challenge = self._authorizer.challenge
        if header is None and challenge is not None and challenge.scheme == "bearer":
            self._fetch_token(operation)
            header = self._authorizer.header(operation.scopes)
        if header is not None:
            request.headers["Authorization"] = header

    def _fetch_token(self, operation: Operation) -> None:
        challenge = self._authorizer.challenge
        assert challenge is not None
        credentials = self._authorizer.credentials
        response = self._send_with_retries(operation, token_request(challenge, operation.scopes, credentials))
        if response.status_code != 200:
            raise self.response_error(operation, response, f"the token service {challenge.params['realm']}")
        try:
            self._authorizer.store(operation.scopes, response.content)
        except ValueError as error:
            raise RegistryError(f"registry {self.host}: {operation.description}: unusable token from "
                                f"{challenge.params['realm']}: {error}") from None

    # --- retries ----------------------------------------------------------------------------------

    def _send_with_retries(self, operation: Operation, request: httpx.Request) -> httpx.Response:
        for attempt, delays_left in _attempts(self._retries):
            try:
                response = self._send_once(request)
            except httpx.RequestError as error:  # transport failures, and too many redirects / bad encoding
                if not delays_left or not _is_transient(error):
                    raise self.transport_error(operation, error) from None
                delay = _backoff(attempt)
            else:
                if not delays_left or response.status_code not in _RETRIED_STATUSES:
                    return response
                delay = _retry_after(response) or _backoff(attempt)
            self.stats.count_retry()
            self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _send_once(self, request: httpx.Request) -> httpx.Response:
        if self._is_registry_url(request.url) and request.url.scheme != self._scheme:
            request = _with_scheme(request, self._scheme)  # prepared before a downgrade settled the scheme
        self.stats.count_request(request.method)
        try:
            response = self._http().send(request)
        except httpx.ConnectError as error:
            to_registry = self._is_registry_url(request.url) and request.url.scheme == "https"
            if not (self._may_downgrade and to_registry and _server_speaks_no_tls(error)):
                raise
            self._scheme, self._may_downgrade = "http", False
            return self._send_once(request)
        if self._is_registry_url(request.url):
            self._may_downgrade = False  # the scheme is settled once the registry has answered
        return response

    def _is_registry_url(self, url: httpx.URL) -> bool:
        return url.netloc.decode("ascii") == self.host

    # --- errors -----------------------------------------------------------------------------------

    def response_error(self, operation: Operation, response: httpx.Response, who: str = "") -> RegistryError:
        status = response.status_code
        codes, details = _error_details(response)
        reason = _STATUS_REASONS.get(status, f"HTTP {status}")
        hint = _STATUS_HINTS.get(status, "").format(host=self.host) or None
        if status == 400 and b"HTTP request to an HTTPS server" in response.content:
            reason, details = "the registry speaks HTTPS, not plain HTTP", ""
            hint = "drop --insecure-registry"
        where = f" ({who})" if who else ""
        said = f": {details}" if details else ""
        return RegistryError(f"registry {self.host}: {operation.description}: {reason}{where}{said}",
                             hint=hint, status_code=status, error_codes=codes)

    def transport_error(self, operation: Operation, error: httpx.RequestError) -> RegistryError:
        prefix = f"registry {self.host}: {operation.description}"
        tls_error = _ssl_error(error)
        if isinstance(tls_error, ssl.SSLCertVerificationError):
            return RegistryError(f"{prefix}: TLS certificate verification failed: {_tls_reason(tls_error)}",
                                 hint="pass the registry's CA certificate, or use --skip-tls-verify-registry")
        if tls_error is not None:
            return RegistryError(f"{prefix}: TLS handshake failed: {_tls_reason(tls_error)}",
                                 hint="if the registry speaks plain HTTP, use --insecure-registry")
        if isinstance(error, httpx.TimeoutException):
            return RegistryError(f"{prefix}: timed out after {self._timeout:g}s",
                                 hint="is the registry overloaded or unreachable? raise the timeout if so")
        return RegistryError(f"{prefix}: {_describe_os_error(error)}",
                             hint=f"is the registry running and reachable at {self.host}? "
                                  "for a plain-HTTP registry use --insecure-registry")


_STATUS_REASONS = {
    400: "bad request", 401: "unauthorized", 403: "denied", 404: "not found", 405: "operation not supported",
    409: "conflict", 413: "payload too large", 416: "range not satisfiable", 429: "too many requests",
    500: "registry server error", 502: "bad gateway", 503: "registry unavailable", 504: "gateway timeout",
}
_LOGIN_HINT = "check the credentials with `shipyard cr login {host}` (or REGISTRY_AUTH_FILE / DOCKER_CONFIG)"
_BUSY_HINT = "the registry is overloaded or failing; retry later"
_STATUS_HINTS = {
    401: _LOGIN_HINT, 403: _LOGIN_HINT + "; the account may lack push/pull rights",
    405: "the registry does not allow this operation (deletes need `storage.delete.enabled: true`)",
    429: _BUSY_HINT, 500: _BUSY_HINT, 502: _BUSY_HINT, 503: _BUSY_HINT, 504: _BUSY_HINT,
}


@functools.lru_cache(maxsize=8)
def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The system trust store plus the registry's own CA; shared by clients (building one takes ~35 ms)."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _attempts(retries: int) -> Iterator[tuple[int, int]]:
    for attempt in range(retries + 1):
        yield attempt, retries - attempt


def _backoff(attempt: int) -> float:
    ceiling = min(_BACKOFF_CAP, _BACKOFF_BASE * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)  # jitter keeps parallel builders from retrying in lockstep


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), _RETRY_AFTER_CAP)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(moment.timestamp() - time.time(), 0.0), _RETRY_AFTER_CAP)


def _is_transient(error: httpx.RequestError) -> bool:
    if not isinstance(error, httpx.TransportError) or _ssl_error(error) is not None:
        return False  # a TLS failure does not fix itself by asking again
    return not isinstance(error, httpx.UnsupportedProtocol | httpx.ProxyError | httpx.LocalProtocolError)


def _ssl_error(error: BaseException) -> ssl.SSLError | None:
    """httpx wraps the ssl error two levels deep (httpx → httpcore → ssl); find it."""
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        pending += [current.__cause__, current.__context__, *current.args]
    return None


def _tls_reason(error: ssl.SSLError) -> str:
    reason = getattr(error, "verify_message", None) or getattr(error, "reason", None)
    return str(reason or error).lower().replace("_", " ")


def _server_speaks_no_tls(error: httpx.ConnectError) -> bool:
    tls_error = _ssl_error(error)
    return tls_error is not None and not isinstance(tls_error, ssl.SSLCertVerificationError)


def _with_scheme(request: httpx.Request, scheme: str) -> httpx.Request:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
    return httpx.Request(request.method, request.url.copy_with(scheme=scheme), headers=headers,
                         content=request.content)


def _describe_os_error(error: httpx.RequestError) -> str:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
        cause = cause.__cause__ or (cause.args[0] if cause.args and isinstance(cause.args[0], BaseException)
                                    else None)
    return str(error) or type(error).__name__


def _error_details(response: httpx.Response) -> tuple[tuple[str, ...], str]:
    """The distribution error body `{"errors": [{"code", "message"}]}` → codes and a short text."""
    try:
        document = json.loads(response.content) if response.content else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return (), ""
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return (), ""
    entries = [entry for entry in errors if isinstance(entry, dict)]
    codes = tuple(str(entry.get("code", "")) for entry in entries if entry.get("code"))
    text = "; ".join(f"{entry.get('code', '')}: {entry.get('message', '')}".strip(": ") for entry in entries)
    return codes, text
