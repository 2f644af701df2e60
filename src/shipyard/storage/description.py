"""What the build knows about a stored stage, and how it is read from a manifest and a config. Pure."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from shipyard.storage.naming import CONTENT_DIGEST_LABEL
from shipyard.storage.stage_id import StageID


@dataclass(frozen=True)
class StageDescription:
    """One stored stage (werf's `image.StageDesc`)."""

    stage_id: StageID
    image_name: str  # REPO:TAG (or PROJECT:TAG in the local storage)
    image_id: str  # "sha256:<config digest>"
    manifest_digest: str  # "" in the local storage
    labels: Mapping[str, str] = field(default_factory=dict)
    size: int = 0  # registry: sum of the compressed layers; local: what the backend reports
    created_unix_nanos: int = 0
    repository: str = ""  # the storage address: REPO, or the project name for the local storage

    @property
    def content_digest(self) -> str:
        """The `werf-stage-content-digest` label dependants hash (werf-internals §1.2); "" when absent."""
        return self.labels.get(CONTENT_DIGEST_LABEL, "")


class BrokenStageImageError(ValueError):
    """The manifest or config of a stage image is not what an image should be."""


class LazyLabels(Mapping[str, str]):
    """A stage's labels, read from its config blob on first use: a cache hit needs only the manifest, so a
    fully reused build downloads no blob at all unless something (the report's Commit) asks for a label."""

    def __init__(self, load_config: Callable[[], bytes]) -> None:
        self._load_config = load_config
        self._labels: dict[str, str] | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> dict[str, str]:
        with self._lock:
            if self._labels is None:
                self._labels = _labels(_json_object(self._load_config(), "config"))
            return self._labels

    def __getitem__(self, key: str) -> str:
        return self._loaded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


def description_from_registry(
    stage_id: StageID, image_name: str, repository: str, manifest_digest: str,
    manifest: Mapping[str, Any], load_config: Callable[[], bytes],
) -> StageDescription:
    """The description of an image manifest; the config blob is read only when a label is (layers never).

    `created` is the time the stage was stored (its tag's timestamp), not the config's `created` that werf
    reports: reading it would cost a blob download per reused stage.
    """
    return StageDescription(
        stage_id=stage_id,
        image_name=image_name,
        image_id=config_digest(manifest),
        manifest_digest=manifest_digest,
        labels=LazyLabels(load_config),
        size=_layers_size(manifest),
        created_unix_nanos=stage_id.timestamp_ms * 1_000_000,
        repository=repository,
    )


def config_digest(manifest: Mapping[str, Any]) -> str:
    config = manifest.get("config")
    digest = config.get("digest") if isinstance(config, dict) else None
    if not isinstance(digest, str) or not digest:
        raise BrokenStageImageError("the manifest names no config blob")
    return digest


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        document = None
    if not isinstance(document, dict):
        raise BrokenStageImageError(f"the image {what} is not a JSON object")
    return document


def _labels(config_document: Mapping[str, Any]) -> dict[str, str]:
    container_config = config_document.get("config")
    labels = container_config.get("Labels") if isinstance(container_config, dict) else None
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise BrokenStageImageError("the image config has labels that are not a map")
    return {str(key): str(value) for key, value in labels.items()}


def _layers_size(manifest: Mapping[str, Any]) -> int:
    layers = manifest.get("layers") or []
    if not isinstance(layers, list):
        raise BrokenStageImageError("the manifest's layers are not a list")
    sizes = [layer.get("size", 0) if isinstance(layer, dict) else None for layer in layers]
    if not all(isinstance(size, int) and size >= 0 for size in sizes):
        raise BrokenStageImageError("the manifest has a layer without a valid size")
    return sum(size for size in sizes if isinstance(size, int))
