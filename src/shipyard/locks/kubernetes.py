"""Locks kept in a Kubernetes ConfigMap (`--synchronization=kubernetes://NAMESPACE[:CONTEXT][@CONFIG]`).

werf's protocol (werf-internals §5.5, lockgate's OptimisticLockingStorageBasedBackend): every project has a
ConfigMap `werf-<project>` in NAMESPACE (namespace and ConfigMap are created when missing); each lock is the
annotation `lockgate.io/<sha3-224(lock name)>` holding the lease record of `locks.lease`. A change reads the
ConfigMap, applies the lease rule and writes the whole object back with the resourceVersion it read; a 409
Conflict (someone wrote in between) means read and try again after `conflict_retry` (1 s, as werf). Stage
locks are named as werf's kubernetes lock manager names them, `<project>/stage/<digest>`, so werf and shipyard
builders sharing a ConfigMap exclude each other. Lease expiry is judged on the builders' wall clocks, as werf
does: their clocks must agree to well within the TTL (10 s). Records expired for over an hour (left by killed
builders) are pruned when the ConfigMap is written, so the annotations stay far below Kubernetes' 256 KiB.

The API is spoken with httpx (GET/POST/PUT of namespaces and configmaps, nothing else), with the kubeconfig
read by `locks.kubeconfig`. Needed RBAC in NAMESPACE: get, create, update on configmaps; create on namespaces
only if the namespace does not exist yet.

NOT RUN AGAINST A REAL CLUSTER: no Kubernetes cluster can run on the project's machines. This locker is tested
against a fake API server (tests/support/fake_kubernetes.py) that implements the namespace and ConfigMap
GET/POST/PUT semantics, resourceVersion conflicts, annotation validation, bearer tokens and client
certificates as the Kubernetes documentation describes them.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from shipyard.errors import ShipyardError
from shipyard.hashsum import sha3_224_hash
from shipyard.locks import lease
from shipyard.locks.kubeconfig import ClusterAccess, KubernetesAddress, load_access, parse_address
from shipyard.registry.reference import is_loopback

CONFLICT_RETRY_SECONDS = 1.0  # lockgate's DistributedOptimisticLockingRetryPeriodSeconds
ANNOTATION_PREFIX = "lockgate.io/"
PRUNE_AFTER_SECONDS = 3600.0
_RBAC_HINT = ("the kubeconfig user needs get, create and update on configmaps in the namespace (and create "
              "on namespaces if it does not exist yet)")

Rule = lease.Rule


def configmap_name(project: str) -> str:
    return f"werf-{project}"


def werf_lock_name(project: str, name: str) -> str:
    """werf's kubernetes lock manager's name of a lock: `<project>.<digest>` → `<project>/stage/<digest>`."""
    prefix = f"{project}."
    return f"{project}/stage/{name[len(prefix):]}" if name.startswith(prefix) else name


def annotation_key(lock_name: str) -> str:
    return ANNOTATION_PREFIX + sha3_224_hash(lock_name)


class KubernetesLocker(lease.LeasedLocker):
    """A Locker (see locks.base) on a ConfigMap. Thread-safe; the constructor does no I/O (the kubeconfig is
    read and the ConfigMap made on the first lock). `environ` replaces os.environ for KUBECONFIG and HOME."""

    def __init__(self, address: str, project: str, *, timing: lease.LeaseTiming | None = None,
                 conflict_retry: float = CONFLICT_RETRY_SECONDS, request_timeout: float = 10.0,
                 retries: int = 4, retry_delay: float = 0.5, environ: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        parsed = parse_address(address)
        self.api = KubernetesApi(lambda: load_access(parsed, environ), request_timeout=request_timeout,
                                 retries=retries, retry_delay=retry_delay, sleep=sleep)
        timing = timing or lease.LeaseTiming()
        self.leases = ConfigMapLeases(self.api, parsed, project, ttl=timing.ttl,
                                      conflict_retry=conflict_retry, clock=clock, sleep=sleep)
        super().__init__(self.leases, timing, sleep=sleep)

    def close(self) -> None:
        self.api.close()


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    retried: bool  # an earlier attempt failed in a way that may have reached the server


class KubernetesApi:
    """The few REST calls the locker needs, with bounded retries of transport errors, 429 and 5xx."""

    def __init__(self, access: Callable[[], ClusterAccess], *, request_timeout: float = 10.0,
                 retries: int = 4, retry_delay: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._load_access = access
        self._timeout, self._retries, self._retry_delay = request_timeout, retries, retry_delay
        self._sleep = sleep
        self._client: httpx.Client | None = None
        self._server = ""
        self._guard = threading.Lock()

    def close(self) -> None:
        with self._guard:
            if self._client is not None:
                self._client.close()
                self._client = None

    def request(self, method: str, path: str, doing: str, body: dict[str, Any] | None = None) -> Reply:
        """The decoded reply for 2xx, 404 and 409; ShipyardError for anything else once retries are spent."""
        client, failure = self._http(), ""
        for attempt in range(self._retries + 1):
            if attempt:
                self._sleep(lease.retry_pause(attempt, self._retry_delay))
            try:
                response = client.request(method, path, json=body)
            except httpx.TransportError as error:
                failure = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                continue
            if response.status_code == 429 or response.status_code >= 500:
                failure = f"HTTP {response.status_code} {_message(response)}"
                continue
            if response.status_code < 300 or response.status_code in (404, 409):
                return Reply(response.status_code, _json(response), retried=attempt > 0)
            raise self._refused(response, doing)
        raise ShipyardError(f"the Kubernetes API {self._server} is unreachable: {doing} failed "
                            f"{self._retries + 1} times, last: {failure}",
                            hint="check the cluster address and network, or use another --synchronization")

    def _refused(self, response: httpx.Response, doing: str) -> ShipyardError:
        status, message = response.status_code, _message(response)
        api = f"the Kubernetes API {self._server}"
        if status == 401:
            return ShipyardError(f"{api} refused the credentials: {doing}: {message}",
                                 hint="check the kubeconfig context's user (token or client certificate)")
        if status == 403:
            return ShipyardError(f"{api} forbids {doing}: {message}", hint=_RBAC_HINT)
        return ShipyardError(f"{api}: {doing} failed with HTTP {status}: {message}")

    def _http(self) -> httpx.Client:
        with self._guard:
            if self._client is None:
                access = self._load_access()
                headers = {"Accept": "application/json", "User-Agent": "shipyard"}
                if access.token:
                    headers["Authorization"] = f"Bearer {access.token}"
                host = httpx.URL(access.server).host
                self._client = httpx.Client(base_url=access.server, headers=headers, timeout=self._timeout,
                                            verify=access.ssl_context(),
                                            auth=None if access.token else access.basic_auth,
                                            trust_env=not is_loopback(host))
                self._server = access.server
            return self._client


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        decoded = response.json()
    except ValueError:
        decoded = None
    return decoded if isinstance(decoded, dict) else {}


def _message(response: httpx.Response) -> str:
    """A Status object's message, else the start of the body."""
    message = _json(response).get("message")
    return str(message) if message else response.text[:200]


class ConfigMapLeases(lease.RuleLeases):
    """The LeaseBackend on the annotations of ConfigMap `werf-<project>` (see the module docstring)."""

    def __init__(self, api: KubernetesApi, address: KubernetesAddress, project: str, *, ttl: float,
                 conflict_retry: float = CONFLICT_RETRY_SECONDS, prune_after: float = PRUNE_AFTER_SECONDS,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        self._api, self._project, self._ttl = api, project, ttl
        self.namespace, self.configmap = address.namespace, configmap_name(project)
        self._where = f"{address.describe()}, ConfigMap {self.configmap}"
        self._conflict_retry, self._prune_after = conflict_retry, prune_after
        self._clock, self._sleep = clock, sleep
        self._ready = threading.Lock()
        self._exists = False
        self.conflicts = 0  # 409s met so far (for tests and benchmarks)

    @property
    def where(self) -> str:
        return self._where

    def record(self, name: str) -> lease.Lease | None:
        """The stored lease of `name` (for inspection)."""
        return self._decode(_annotations(self._read(f"reading lock {name!r}")).get(self._key(name)), name)

    def _stored_name(self, name: str) -> str:
        return werf_lock_name(self._project, name)

    def _key(self, name: str) -> str:
        return annotation_key(werf_lock_name(self._project, name))

    def _change(self, name: str, rule: Rule, doing: str, *, released: bool = False) -> lease.Lease | None:
        """Read, apply `rule`, write with the read resourceVersion; on 409 wait and start over."""
        key, path, ambiguous = self._key(name), self._path(), False
        while True:
            document = self._read(doing)
            now = self._clock()
            annotations = _annotations(document)
            try:
                changed = rule(self._decode(annotations.get(key), name), now)
            except lease.LeaseRefusedError as refused:
                if released and ambiguous and refused.reason == lease.NO_LEASE:
                    return None  # a write of ours whose reply was lost released it already
                raise
            if changed is None:
                annotations.pop(key, None)
            else:
                annotations[key] = changed.to_json()
            self._prune(annotations, now, keep=key)
            document.setdefault("metadata", {})["annotations"] = annotations
            reply = self._api.request("PUT", path, doing, document)
            ambiguous = ambiguous or reply.retried  # a retried write may have landed unseen
            if reply.status == 409:
                self.conflicts += 1
                self._sleep(self._conflict_retry)
                continue
            if reply.status == 404:
                self._exists = False  # deleted meanwhile: make it again
                continue
            return changed

    def _decode(self, raw: str | None, name: str) -> lease.Lease | None:
        try:
            return lease.Lease.from_json(raw) if raw else None
        except ValueError as error:
            raise ShipyardError(f"{self.where}: the annotation of lock {name!r}: {error}",
                                hint="another program writes lockgate.io/ annotations on this ConfigMap",
                                ) from None

    def _prune(self, annotations: dict[str, str], now: float, *, keep: str) -> None:
        for key in [key for key in annotations if key.startswith(ANNOTATION_PREFIX) and key != keep]:
            try:
                record = lease.Lease.from_json(annotations[key])
            except ValueError:
                continue  # not ours to judge
            if now > record.expire_at + self._prune_after:
                del annotations[key]

    def _read(self, doing: str) -> dict[str, Any]:
        for _ in range(3):
            self._ensure_configmap()
            reply = self._api.request("GET", self._path(), doing)
            if reply.status == 200:
                return reply.body
            self._exists = False
        raise ShipyardError(f"{self.where}: the ConfigMap keeps disappearing ({doing})",
                            hint="something deletes it; the lock records need it to stay")

    def _ensure_configmap(self) -> None:
        """GET it; if missing POST it, and if the namespace is missing POST that first (409s are fine)."""
        with self._ready:
            if self._exists:
                return
            doing = f"creating ConfigMap {self.configmap} in namespace {self.namespace}"
            if self._api.request("GET", self._path(), doing).status == 404:
                configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": self.configmap}}
                created = self._api.request("POST", self._path(collection=True), doing, configmap)
                if created.status == 404:  # the namespace does not exist
                    namespace = {"apiVersion": "v1", "kind": "Namespace",
                                 "metadata": {"name": self.namespace}}
                    self._api.request("POST", "/api/v1/namespaces", f"creating namespace {self.namespace}",
                                      namespace)
                    created = self._api.request("POST", self._path(collection=True), doing, configmap)
                if created.status == 404:
                    raise ShipyardError(f"{self.where}: {doing}: the namespace is missing right after "
                                        "creating it")
            self._exists = True

    def _path(self, *, collection: bool = False) -> str:
        base = f"/api/v1/namespaces/{urllib.parse.quote(self.namespace)}/configmaps"
        return base if collection else f"{base}/{urllib.parse.quote(self.configmap)}"


def _annotations(document: dict[str, Any]) -> dict[str, str]:
    metadata = document.get("metadata")
    found = metadata.get("annotations") if isinstance(metadata, dict) else None
    if found is not None and not isinstance(found, dict):
        raise ShipyardError(f"unexpected ConfigMap metadata.annotations: {json.dumps(found)[:200]}")
    return dict(found or {})
