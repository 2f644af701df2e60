"""A client for the OCI distribution API of one registry host (tags, manifests, blobs, registry-side copy)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from shipyard.registry.auth import Credentials
from shipyard.registry.reference import (
    RegistryError,
    is_digest,
    validate_digest,
    validate_repository_path,
    validate_tag,
)
from shipyard.registry.transport import Operation, RegistryStats, RegistryTransport

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
INDEX_MEDIA_TYPES = frozenset({DOCKER_MANIFEST_LIST, OCI_INDEX})
_ACCEPT = ", ".join([DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX])


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ManifestInfo:
    digest: str
    media_type: str
    size: int


@dataclass(frozen=True)
class Manifest:
    raw: bytes  # exactly as stored: its sha256 is the digest
    media_type: str
    digest: str
    document: dict[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_MEDIA_TYPES

    def child_digests(self) -> list[str]:
        """Digests of the manifests an index lists (empty for an image manifest)."""
        return [str(entry["digest"]) for entry in self.document.get("manifests") or [] if entry.get("digest")]

    def blob_digests(self) -> list[str]:
        """Config and layer digests of an image manifest, skipping foreign layers the registry never holds."""
        descriptors = [self.document.get("config") or {}, *(self.document.get("layers") or [])]
        return [str(d["digest"]) for d in descriptors
                if d.get("digest") and "foreign" not in str(d.get("mediaType", ""))]


class RegistryClient:
    """One per registry host; the constructor does no I/O. Thread-safe; use as a context manager or `close()`.

    `insecure=None` uses HTTPS, falling back to plain HTTP only for a loopback host whose server does not
    speak TLS. `credentials=None` reads the Docker-compatible auth file when the registry first asks for them.
    `retries` is how many extra attempts follow a connection error, a 429 (honouring Retry-After) or a 5xx,
    with exponential backoff and jitter. `auth_file` overrides where the auth file is; `transport` and
    `sleep` are seams for tests.
    """

    def __init__(self, host: str, *, insecure: bool | None = None, ca_file: str | None = None,
                 skip_tls_verify: bool = False, credentials: Credentials | None = None, timeout: float = 30.0,
                 retries: int = 4, auth_file: Path | None = None,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.host = host
        self._http = RegistryTransport(host, insecure=insecure, ca_file=ca_file,
                                       skip_tls_verify=skip_tls_verify, credentials=credentials,
                                       timeout=timeout, retries=retries, auth_file=auth_file,
                                       transport=transport, sleep=sleep)
        self._uploaded: set[tuple[str, str]] = set()  # blobs known to be in a repository (this run)
        self._uploaded_lock = threading.Lock()

    @property
    def stats(self) -> RegistryStats:
        return self._http.stats

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def ping(self) -> None:
        """`GET /v2/` with authorisation: proves the registry is reachable and accepts the credentials."""
        operation = Operation("checking the API version")
        self._http.request(operation, "GET", self._http.url("/v2/"), expected={200})

    # --- tags and manifests -----------------------------------------------------------------------

    def list_tags(self, repository: str) -> list[str]:
        """All tags; follows `Link: <…>; rel="next"` when offered. A repository not yet created has none."""
        operation = _pull(repository, f"listing tags of repository {repository}")
        url: httpx.URL | None = httpx.URL(self._http.url(f"/v2/{repository}/tags/list"))
        tags: list[str] = []
        while url is not None:
            response = self._http.request(operation, "GET", str(url), expected={200, 404})
            if response.status_code == 404:
                return tags
            tags += _json_object(response, self.host, operation).get("tags") or []
            next_link = response.links.get("next", {}).get("url")
            url = response.url.join(next_link) if next_link else None
        return tags

    def head_manifest(self, repository: str, reference: str) -> ManifestInfo | None:
        """Digest, media type and size of a manifest, or None when the tag/digest does not exist."""
        operation = _pull(repository, f"checking manifest {_shown(repository, reference)}")
        url = self._http.url(f"/v2/{repository}/manifests/{_reference(reference)}")
        response = self._http.request(operation, "HEAD", url, expected={200, 404},
                                      headers={"Accept": _ACCEPT})
        if response.status_code == 404:
            return None
        digest = response.headers.get("docker-content-digest")
        if not digest:  # some registries only send the digest with the body
            manifest = self.get_manifest(repository, reference)
            return ManifestInfo(manifest.digest, manifest.media_type, len(manifest.raw))
        size = int(response.headers.get("content-length") or 0)
        return ManifestInfo(digest, _media_type(response), size)

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        operation = _pull(repository, f"reading manifest {_shown(repository, reference)}")
        url = self._http.url(f"/v2/{repository}/manifests/{_reference(reference)}")
        response = self._http.request(operation, "GET", url, expected={200}, headers={"Accept": _ACCEPT})
        raw = response.content
        digest = sha256_digest(raw)
        if is_digest(reference) and reference.startswith("sha256:") and reference != digest:
            raise RegistryError(f"registry {self.host}: {operation.description}: the content has digest "
                                f"{digest}", hint="the registry returned corrupt data")
        document = _json_object(response, self.host, operation)
        media_type = str(document.get("mediaType") or _media_type(response))
        return Manifest(raw, media_type, digest, document)

    def put_manifest(self, repository: str, reference: str, raw: bytes, media_type: str) -> str:
        """Store `raw` under a tag or its own digest; returns its digest."""
        operation = _push(repository, f"writing manifest {_shown(repository, reference)}")
        url = self._http.url(f"/v2/{repository}/manifests/{_reference(reference)}")
        self._http.request(operation, "PUT", url, expected={200, 201, 202},
                           headers={"Content-Type": media_type}, content=raw)
        return sha256_digest(raw)

    def delete_manifest(self, repository: str, digest: str) -> None:
        """Delete by digest, removing every tag that points to it (distribution refuses deletes by tag).
        A manifest that is already gone is fine."""
        validate_digest(digest)
        operation = Operation(f"deleting manifest {repository}@{digest}",
                              (f"repository:{_repository(repository)}:delete",))
        url = self._http.url(f"/v2/{repository}/manifests/{digest}")
        self._http.request(operation, "DELETE", url, expected={200, 202, 204, 404})

    # --- blobs ------------------------------------------------------------------------------------

    def blob_exists(self, repository: str, digest: str) -> bool:
        operation = _pull(repository, f"checking blob {repository}@{validate_digest(digest)}")
        url = self._http.url(f"/v2/{repository}/blobs/{digest}")
        return self._http.request(operation, "HEAD", url, expected={200, 404}).status_code == 200

    def mount_blob(self, repository: str, digest: str, from_repository: str) -> bool:
        """Cross-repository mount without transferring data; True when mounted (201)."""
        validate_digest(digest)
        operation = Operation(f"mounting blob {digest} from {from_repository} into repository {repository}",
                              (_push_scope(repository), _pull_scope(from_repository)))
        url = self._http.url(f"/v2/{repository}/blobs/uploads/?mount={digest}&from={from_repository}")
        response = self._http.request(operation, "POST", url, expected={201, 202})
        if response.status_code == 201:
            return True
        self._cancel_upload(operation, response)  # 202: the registry opened an upload session instead
        return False

    def upload_blob(self, repository: str, data: bytes) -> str:
        """Monolithic upload (POST, then PUT with the data); skipped when the blob is already there (asked
        once per repository and blob: every meta image of a run shares the same empty layer)."""
        digest = sha256_digest(data)
        with self._uploaded_lock:
            if (repository, digest) in self._uploaded:
                return digest
        if self.blob_exists(repository, digest):
            self._remember_upload(repository, digest)
            return digest
        operation = _push(repository, f"uploading blob {digest} to repository {repository}")
        start = self._http.request(operation, "POST", self._http.url(f"/v2/{repository}/blobs/uploads/"),
                                   expected={202})
        target = _upload_location(start, self.host, operation).copy_merge_params({"digest": digest})
        response = self._http.request(operation, "PUT", str(target), expected={201, 204, 404},
                                      headers={"Content-Type": "application/octet-stream"}, content=data)
        # 404 after a retried PUT: the first attempt completed the session; fine if the blob is now there.
        if response.status_code == 404 and not self.blob_exists(repository, digest):
            raise self._http.response_error(operation, response)
        self.stats.count_blob_bytes(uploaded=len(data))
        self._remember_upload(repository, digest)
        return digest

    def _remember_upload(self, repository: str, digest: str) -> None:
        with self._uploaded_lock:
            self._uploaded.add((repository, digest))

    def get_blob(self, repository: str, digest: str) -> bytes:
        """The whole blob in memory: meant for configs and other small blobs."""
        operation = _pull(repository, f"reading blob {repository}@{validate_digest(digest)}")
        response = self._http.request(operation, "GET", self._http.url(f"/v2/{repository}/blobs/{digest}"),
                                      expected={200})
        self.stats.count_blob_bytes(downloaded=len(response.content))
        if digest.startswith("sha256:") and sha256_digest(response.content) != digest:
            raise RegistryError(f"registry {self.host}: {operation.description}: the content does not match",
                                hint="the registry returned corrupt data")
        return response.content

    # --- registry-side copy ----------------------------------------------------------------------

    def copy_image(self, src_repo: str, src_ref: str, dst_repo: str, dst_ref: str) -> str:
        """Copy an image or an index (recursively) between repositories of this registry without downloading
        layers: blobs are mounted, manifests re-PUT byte for byte, so the digest is unchanged."""
        manifest = self.get_manifest(src_repo, src_ref)
        if src_repo != dst_repo:
            self._copy_dependencies(manifest, src_repo, dst_repo)
        return self.put_manifest(dst_repo, dst_ref, manifest.raw, manifest.media_type)

    def _copy_dependencies(self, manifest: Manifest, src_repo: str, dst_repo: str) -> None:
        for child in manifest.child_digests():
            self.copy_image(src_repo, child, dst_repo, child)
        for digest in manifest.blob_digests():
            if not self.mount_blob(dst_repo, digest, src_repo) and not self.blob_exists(dst_repo, digest):
                self.upload_blob(dst_repo, self.get_blob(src_repo, digest))  # mount refused: move the bytes

    def _cancel_upload(self, operation: Operation, response: httpx.Response) -> None:
        location = response.headers.get("location")
        if location:
            with contextlib.suppress(RegistryError):  # an abandoned session expires on its own anyway
                self._http.request(operation, "DELETE", str(response.url.join(location)),
                                   expected={200, 202, 204, 404})


def _repository(repository: str) -> str:
    return validate_repository_path(repository)


def _reference(reference: str) -> str:
    """A tag or a digest, validated (distribution would answer an opaque 400 or 404 otherwise)."""
    if ":" in reference:
        return validate_digest(reference)
    return validate_tag(reference)


def _shown(repository: str, reference: str) -> str:
    return f"{repository}@{reference}" if ":" in reference else f"{repository}:{reference}"


def _pull_scope(repository: str) -> str:
    return f"repository:{_repository(repository)}:pull"


def _push_scope(repository: str) -> str:
    return f"repository:{_repository(repository)}:pull,push"


def _pull(repository: str, description: str) -> Operation:
    return Operation(description, (_pull_scope(repository),))


def _push(repository: str, description: str) -> Operation:
    return Operation(description, (_push_scope(repository),))


def _media_type(response: httpx.Response) -> str:
    content_type: str = response.headers.get("content-type", "")
    return content_type.split(";", 1)[0].strip()


def _json_object(response: httpx.Response, host: str, operation: Operation) -> dict[str, Any]:
    try:
        document = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        document = None
    if not isinstance(document, dict):
        raise RegistryError(f"registry {host}: {operation.description}: the answer is not a JSON object")
    return document


def _upload_location(response: httpx.Response, host: str, operation: Operation) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise RegistryError(f"registry {host}: {operation.description}: no upload Location in the answer")
    return response.url.join(location)
