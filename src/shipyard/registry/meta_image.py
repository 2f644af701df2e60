"""werf's meta image (werf-internals §3.1): a label carrier with one empty layer, as werf's
`manifest_only_image.go` writes it, so werf and shipyard read each other's records."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from shipyard.registry.client import (
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    RegistryClient,
    sha256_digest,
)

EMPTY_TAR = bytes(1024)  # a valid empty tar archive: two zero blocks of 512 bytes
EMPTY_LAYER_DIFF_ID = "sha256:" + hashlib.sha256(EMPTY_TAR).hexdigest()
# mtime 0 and a fixed level make the compressed layer, hence its digest, the same on every run.
EMPTY_LAYER = gzip.compress(EMPTY_TAR, compresslevel=9, mtime=0)


@dataclass(frozen=True)
class MetaImage:
    config: bytes
    manifest: bytes


def build_meta_image(labels: Mapping[str, str], created: datetime | None = None) -> MetaImage:
    """The config and the Docker schema2 manifest of a meta image carrying `labels`."""
    timestamp = _rfc3339(created or datetime.now(UTC))
    config = _canonical_json({
        "architecture": "",  # werf leaves platform fields empty: nothing ever runs a meta image
        "created": timestamp,
        "history": [{"created": timestamp}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [EMPTY_LAYER_DIFF_ID]},
        "config": {"Labels": dict(labels)},
    })
    manifest = _canonical_json({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, "size": len(config), "digest": sha256_digest(config)},
        "layers": [{"mediaType": DOCKER_LAYER_GZIP, "size": len(EMPTY_LAYER),
                    "digest": sha256_digest(EMPTY_LAYER)}],
    })
    return MetaImage(config, manifest)


def push_meta_image(client: RegistryClient, repository: str, tag: str, labels: Mapping[str, str],
                    created: datetime | None = None) -> str:
    """Push a meta image as `repository:tag`; returns the manifest digest. The layer is uploaded once."""
    image = build_meta_image(labels, created)
    client.upload_blob(repository, EMPTY_LAYER)
    client.upload_blob(repository, image.config)
    return client.put_manifest(repository, tag, image.manifest, DOCKER_MANIFEST)


def _canonical_json(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def _rfc3339(moment: datetime) -> str:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
