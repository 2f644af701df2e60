"""Registry credentials (the Docker-compatible auth file) and the bearer-token flow of the Docker token spec.

The auth file is `REGISTRY_AUTH_FILE`, else `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
Only inline entries are read (`auths.<host>.auth` = base64 `user:pass`, `identitytoken`); credential
helpers (`credsStore`, `credHelpers`) are not run.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shipyard.registry.reference import DOCKER_HUB, RegistryError

# `docker login` files Docker Hub under its v1 index URL; other hosts under their bare name.
_DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB_NAMES = {DOCKER_HUB, "docker.io", "registry-1.docker.io"}
# The token spec: a token without `expires_in` lives 60 s; renew a little early so it cannot lapse in flight.
_DEFAULT_TOKEN_LIFETIME = 60.0
_EXPIRY_MARGIN = 5.0
_CHALLENGE_PARAM = re.compile(r'([A-Za-z][\w-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


@dataclass(frozen=True)
class Credentials:
    """What to present to a registry; all empty means anonymous."""

    username: str = ""
    password: str = ""
    identity_token: str = ""  # an OAuth refresh token that `docker login` stores for token-auth registries

    @property
    def anonymous(self) -> bool:
        return not (self.username or self.identity_token)

    def __repr__(self) -> str:  # never print secrets in tracebacks or logs
        return f"Credentials(username={self.username!r}, secret={'***' if not self.anonymous else ''!r})"


# --- the auth file --------------------------------------------------------------------------------

def auth_file_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("REGISTRY_AUTH_FILE"):
        return Path(env["REGISTRY_AUTH_FILE"])
    if env.get("DOCKER_CONFIG"):
        return Path(env["DOCKER_CONFIG"]) / "config.json"
    return Path(env.get("HOME") or Path.home()) / ".docker" / "config.json"


def load_credentials(host: str, path: Path | None = None) -> Credentials:
    """Credentials stored for `host`, or anonymous ones when the file or the entry is missing."""
    file = path or auth_file_path()
    auths = _read_auth_file(file).get("auths")
    if not isinstance(auths, dict):
        return Credentials()
    for key, entry in auths.items():
        if isinstance(entry, dict) and _auth_key_host(key) in _host_aliases(host):
            return _entry_credentials(entry, file, key)
    return Credentials()


def login(host: str, username: str, password: str, path: Path | None = None) -> Path:
    """Store `username:password` for `host` (replacing any entry), atomically, readable by the owner only."""
    file = path or auth_file_path()
    config = _read_auth_file(file)
    auths = _drop_host(config.get("auths"), host)
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    auths[_DOCKER_HUB_KEY if host in _DOCKER_HUB_NAMES else host] = {"auth": token}
    config["auths"] = auths
    _write_atomically(file, config)
    return file


def logout(host: str, path: Path | None = None) -> bool:
    """Remove the entry of `host`; False when there was none."""
    file = path or auth_file_path()
    config = _read_auth_file(file)
    auths = config.get("auths")
    remaining = _drop_host(auths, host)
    if not isinstance(auths, dict) or len(remaining) == len(auths):
        return False
    config["auths"] = remaining
    _write_atomically(file, config)
    return True


def _read_auth_file(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise RegistryError(f"cannot read the registry auth file {file}: {error.strerror}") from None
    try:
        config = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        raise RegistryError(f"the registry auth file {file} is not valid JSON: {error}",
                            hint="fix or remove the file, then run `shipyard cr login` again") from None
    if not isinstance(config, dict):
        raise RegistryError(f"the registry auth file {file} must hold a JSON object")
    return config


def _entry_credentials(entry: dict[str, Any], file: Path, key: str) -> Credentials:
    identity_token = str(entry.get("identitytoken") or "")
    encoded = entry.get("auth")
    if not encoded:
        return Credentials(str(entry.get("username") or ""), str(entry.get("password") or ""), identity_token)
    try:
        decoded = base64.b64decode(str(encoded), validate=True).decode("utf-8")
        username, colon, password = decoded.partition(":")
    except (binascii.Error, UnicodeDecodeError):
        colon = ""
    if not colon:
        raise RegistryError(f"the registry auth file {file}: `auths.{key}.auth` is not base64 of `user:pass`",
                            hint=f"run `shipyard cr login {_auth_key_host(key)}` again")
    return Credentials(username, password, identity_token)


def _auth_key_host(key: str) -> str:
    """`https://host/v1/` → `host`, as docker compares auth file keys."""
    without_scheme = key.split("://", 1)[-1]
    return without_scheme.split("/", 1)[0]


def _host_aliases(host: str) -> set[str]:
    return set(_DOCKER_HUB_NAMES) if host in _DOCKER_HUB_NAMES else {host}


def _drop_host(auths: object, host: str) -> dict[str, Any]:
    if not isinstance(auths, dict):
        return {}
    aliases = _host_aliases(host)
    return {key: value for key, value in auths.items() if _auth_key_host(key) not in aliases}


def _write_atomically(file: Path, config: dict[str, Any]) -> None:
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{file.name}.", dir=file.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            os.fchmod(stream.fileno(), 0o600)  # before any secret is written
            json.dump(config, stream, indent="\t")
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, file)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise RegistryError(f"cannot write the registry auth file {file}: {error.strerror}") from None


# --- challenges and bearer tokens -----------------------------------------------------------------

@dataclass(frozen=True)
class Challenge:
    """One `WWW-Authenticate` challenge: scheme lowercased (`bearer`, `basic`) and its parameters."""

    scheme: str
    params: Mapping[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """`Bearer realm="…",service="…",scope="repository:a:pull,push"` → Challenge (quoted commas kept)."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {name.lower(): _unquote(value) for name, value in _CHALLENGE_PARAM.findall(rest)}
    return Challenge(scheme.lower(), params)


def pick_challenge(headers: Iterable[str]) -> Challenge | None:
    """Prefer a bearer challenge (it carries scopes) over basic; ignore schemes we do not speak."""
    challenges = [c for c in map(parse_challenge, headers) if c and c.scheme in ("bearer", "basic")]
    bearer = [c for c in challenges if c.scheme == "bearer" and c.params.get("realm")]
    return (bearer or challenges)[0] if challenges else None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def token_request(challenge: Challenge, scopes: Iterable[str], credentials: Credentials) -> httpx.Request:
    """The request to the token realm: OAuth2 refresh-token POST with an identity token, else a GET
    with basic credentials when there are any (anonymous otherwise)."""
    realm = challenge.params["realm"]
    service = challenge.params.get("service", "")
    scope_list = _merge_scopes(scopes, challenge.params.get("scope", ""))
    if credentials.identity_token:
        form = {"grant_type": "refresh_token", "refresh_token": credentials.identity_token,
                "client_id": "shipyard", "service": service, "scope": " ".join(scope_list)}
        return httpx.Request("POST", realm, data=form)
    params: list[tuple[str, str | int | float | bool | None]] = [("service", service)] if service else []
    params += [("scope", scope) for scope in scope_list]
    headers = {"Authorization": basic_authorization(credentials)} if not credentials.anonymous else {}
    return httpx.Request("GET", realm, params=params, headers=headers)


def _merge_scopes(scopes: Iterable[str], challenged: str) -> list[str]:
    # The challenge's scope is what the registry asked for; ours may add more (e.g. the source of a mount).
    merged = list(dict.fromkeys([*scopes, *challenged.split(" ")]))
    return [scope for scope in merged if scope]


def basic_authorization(credentials: Credentials) -> str:
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


@dataclass(frozen=True)
class BearerToken:
    value: str
    expires_at: float  # on the cache's clock (monotonic seconds)


def parse_token_response(body: bytes, now: float) -> BearerToken:
    """`{"token"|"access_token": …, "expires_in": …}` → BearerToken; raises ValueError when unusable."""
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError("the token response is not a JSON object")
    value = document.get("token") or document.get("access_token")
    if not isinstance(value, str) or not value:
        raise ValueError("the token response has no `token`")
    lifetime = document.get("expires_in")
    seconds = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 0.0
    seconds = seconds or _DEFAULT_TOKEN_LIFETIME
    return BearerToken(value, now + max(seconds - _EXPIRY_MARGIN, 1.0))


class Authorizer:
    """How one registry wants to be authorised, and the bearer tokens it issued, cached per scope set.

    Thread-safe: build code shares one registry client between parallel tasks.
    """

    def __init__(self, credentials: Callable[[], Credentials],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._load_credentials = credentials
        self._credentials: Credentials | None = None
        self._clock = clock
        self._lock = threading.Lock()
        self._challenge: Challenge | None = None
        self._tokens: dict[tuple[str, ...], BearerToken] = {}

    @property
    def credentials(self) -> Credentials:
        with self._lock:
            if self._credentials is None:
                self._credentials = self._load_credentials()  # the auth file is read once, when first needed
            return self._credentials

    @property
    def challenge(self) -> Challenge | None:
        return self._challenge

    def learn(self, challenge: Challenge) -> None:
        with self._lock:
            self._challenge = challenge

    def header(self, scopes: tuple[str, ...]) -> str | None:
        """The Authorization header to send up front; None when a token must be fetched first, or no auth."""
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return None if self.credentials.anonymous else basic_authorization(self.credentials)
        with self._lock:
            token = self._tokens.get(scopes)
            if token is None or token.expires_at <= self._clock():
                return None
            return f"Bearer {token.value}"

    def store(self, scopes: tuple[str, ...], body: bytes) -> None:
        token = parse_token_response(body, self._clock())
        with self._lock:
            self._tokens[scopes] = token

    def forget(self, scopes: tuple[str, ...]) -> None:
        with self._lock:
            self._tokens.pop(scopes, None)
