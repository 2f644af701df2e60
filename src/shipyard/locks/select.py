"""Choosing the locker from `--synchronization` (`-S`, `WERF_SYNCHRONIZATION`; werf-internals §5.1).

* `:local` → FileLocker (flock under the shipyard home): builders on one host.
* `http://HOST:PORT`, `https://…` → HttpLocker, a client of `shipyard synchronization` (or of
  `werf synchronization`), with the clientID kept in the stages repository as werf keeps it; a server started
  with `--token` is reached as `http://:TOKEN@HOST:PORT` or with $SHIPYARD_SYNCHRONIZATION_TOKEN.
* `redis://[:PASSWORD@]HOST:PORT[/DB]`, `rediss://…` → RedisLocker, keys under `shipyard:<project>:locks:`.
* `kubernetes://NAMESPACE[:CONTEXT][@CONFIG_PATH|@base64:DATA]` → KubernetesLocker: annotations of ConfigMap
  `werf-<project>` in NAMESPACE (default werf-synchronization), as werf keeps them. Not run against a real
  cluster yet (see locks/kubernetes.py).
* empty → `:local`. werf defaults to its public server https://synchronization.werf.io when the repo is
  remote; shipyard never talks to a public service unasked (and our machines have no network), so a remote
  repo gets `:local` too, with a warning that builders on other hosts are not synchronized.
A non-local synchronizer with local storage (no `--repo`) is an error, as in werf; anything else is an error.

This module wires adapters together (like app.py): it is the only lock module that knows the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.errors import ShipyardError, UsageError
from shipyard.locks.base import Locker
from shipyard.locks.file import FileLocker

if TYPE_CHECKING:
    from shipyard.registry.client import RegistryClient

LOCAL = ":local"
_SCHEMES = ("':local', 'http://HOST:PORT', 'https://HOST[:PORT]', 'redis://[:PASSWORD@]HOST:PORT[/DB]' or "
            "'kubernetes://NAMESPACE[:CONTEXT][@CONFIG_PATH|@base64:DATA]'")
NO_LOCK_SERVICE_WARNING = (
    "builds on other hosts are not synchronized with this one (--synchronization defaults to :local); "
    "for builders on several hosts sharing --repo, run `shipyard synchronization` and pass "
    "--synchronization=http://HOST:55581, or use redis://HOST:6379")


def make_locker(synchronization: str, *, repo: str, project: str,
                registry_client_factory: Callable[[], RegistryClient], locks_dir: Path,
                warn: Callable[[str], None] | None = None) -> Locker:
    """The locker for `--synchronization` with `--repo` (empty or ":local": local storage). Does no I/O:
    the registry client is made, and the clientID discovered, on the first lock."""
    address = synchronization.strip()
    local_repo = repo.strip() in ("", LOCAL)
    if address in ("", LOCAL):
        if not address and not local_repo and warn is not None:
            warn(NO_LOCK_SERVICE_WARNING)
        return FileLocker(locks_dir)
    scheme = address.partition("://")[0].lower() if "://" in address else ""
    if scheme not in ("http", "https", "redis", "rediss", "kubernetes"):
        raise UsageError(f"unsupported --synchronization {_shown(address)!r}", hint=f"use {_SCHEMES}")
    if local_repo:
        raise UsageError(f"--synchronization={_shown(address)} needs a --repo: local storage is synchronized "
                         "with :local file locks",
                         hint="pass --repo REGISTRY/REPOSITORY, or drop --synchronization")
    if scheme in ("redis", "rediss"):
        from shipyard.locks.redis import RedisLocker, project_prefix

        return RedisLocker(address, prefix=project_prefix(project))
    if scheme == "kubernetes":
        from shipyard.locks.kubernetes import KubernetesLocker

        return KubernetesLocker(address, project)
    from shipyard.locks.http import HttpLocker

    return HttpLocker(address, records=RegistryClientIdRecords(registry_client_factory, repo, project))


class RegistryClientIdRecords:
    """`client-id-…` records in the stages repository (ClientIdRecords of locks.http), on a RegistryClient."""

    def __init__(self, client_factory: Callable[[], RegistryClient], repo: str, project: str) -> None:
        self._factory = client_factory
        self._repo = repo
        self._project = project
        self._client: RegistryClient | None = None

    def list_tags(self) -> list[str]:
        client, path = self._connect()
        return client.list_tags(path)

    def publish(self, tag: str) -> None:
        from shipyard.registry.meta_image import push_meta_image

        client, path = self._connect()
        push_meta_image(client, path, tag, {"werf": self._project})

    def _connect(self) -> tuple[RegistryClient, str]:
        from shipyard.registry.reference import parse_repository

        repository = parse_repository(self._repo)
        if self._client is None:
            self._client = self._factory()
        if self._client.host != repository.registry:
            raise ShipyardError(f"the registry client of {self._client.host} cannot reach {self._repo}")
        return self._client, repository.path


def _shown(address: str) -> str:
    """The address without a password or kubeconfig data, for messages."""
    scheme, _, rest = address.partition("://")
    if scheme.lower() == "kubernetes":
        target, at, config = rest.partition("@")
        return f"{scheme}://{target}@base64:***" if at and config.startswith("base64:") else address
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}://***@{host}" if at and credentials else address
