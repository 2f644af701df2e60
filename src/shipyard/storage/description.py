"""What the build knows about a stored stage, and how it is read from a manifest and a config. Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shipyard.storage.naming import CONTENT_DIGEST_LABEL
from shipyard.storage.stage_id import StageID

# RFC 3339 as Go writes time.Time in image configs: up to nanoseconds, `Z` or a numeric offset.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


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


def description_from_registry(stage_id: StageID, image_name: str, repository: str, manifest_digest: str,
                              manifest: Mapping[str, Any], config: bytes) -> StageDescription:
    """The description of an image manifest and its config blob (the layers are never needed)."""
    config_document = _json_object(config, "config")
    labels = _labels(config_document)
    return StageDescription(
        stage_id=stage_id,
        image_name=image_name,
        image_id=config_digest(manifest),
        manifest_digest=manifest_digest,
        labels=labels,
        size=_layers_size(manifest),
        created_unix_nanos=rfc3339_unix_nanos(config_document.get("created")),
        repository=repository,
    )


def config_digest(manifest: Mapping[str, Any]) -> str:
    config = manifest.get("config")
    digest = config.get("digest") if isinstance(config, dict) else None
    if not isinstance(digest, str) or not digest:
        raise BrokenStageImageError("the manifest names no config blob")
    return digest


def rfc3339_unix_nanos(value: object) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time; 0 when absent or unreadable (nothing sorts by it)."""
    match = _RFC3339.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return 0
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, zone = match.group(7) or "", match.group(8)
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return 0
    offset_seconds = 0 if zone in ("Z", "z") else _offset_seconds(zone)
    nanos_of_second = int(fraction[:9].ljust(9, "0")) if fraction else 0
    return (int(moment.timestamp()) - offset_seconds) * 1_000_000_000 + nanos_of_second


def _offset_seconds(zone: str) -> int:
    sign = -1 if zone.startswith("-") else 1
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    return sign * (hours * 3600 + minutes * 60)


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
