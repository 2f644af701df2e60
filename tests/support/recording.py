"""An httpx transport that records every request a registry client sends."""

from __future__ import annotations

import threading

import httpx


class RecordingTransport(httpx.BaseTransport):
    """Every request the client sends, as (method, path): proves what was (not) downloaded."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append((request.method, request.url.path))
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()

    def paths(self, method: str, containing: str) -> list[str]:
        with self._lock:
            return [path for verb, path in self.requests if verb == method and containing in path]

    def blob_requests(self) -> list[str]:
        with self._lock:
            return [path.rsplit("/", 1)[1] for _, path in self.requests if "/blobs/sha256:" in path]

    def kinds(self) -> list[str]:
        """Each request as METHOD + the API part it addresses (tags, manifests, blobs)."""
        with self._lock:
            return [f"{method} {path.split('/')[-2]}" for method, path in self.requests]
