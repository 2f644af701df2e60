"""werf's meta image (werf-internals §3.1): format, determinism, and the push through the client."""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from datetime import UTC, datetime
from io import BytesIO

from fake_registry import HOST, FakeRegistry, digest_of

from shipyard.registry.auth import Credentials
from shipyard.registry.client import DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, RegistryClient
from shipyard.registry.meta_image import EMPTY_LAYER, EMPTY_LAYER_DIFF_ID, build_meta_image, push_meta_image

CREATED = datetime(2026, 11, 22, 12, 0, 0, 123456, tzinfo=UTC)
LABELS = {"werf": "demo", "stage-id": "a" * 56 + "-1700000000000"}


def test_the_layer_is_a_valid_empty_tar_gzipped_deterministically() -> None:
    tar = gzip.decompress(EMPTY_LAYER)
    assert tar == bytes(1024)
    with tarfile.open(fileobj=BytesIO(tar)) as archive:
        assert archive.getmembers() == []
    assert EMPTY_LAYER[4:8] == b"\0\0\0\0"  # gzip mtime 0
    # The diffID every empty-tar layer has (docker's well-known empty layer).
    assert EMPTY_LAYER_DIFF_ID == "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
    assert "sha256:" + hashlib.sha256(tar).hexdigest() == EMPTY_LAYER_DIFF_ID


def test_config_and_manifest_follow_the_werf_format() -> None:
    image = build_meta_image(LABELS, created=CREATED)
    config = json.loads(image.config)
    assert config["created"] == "2026-11-22T12:00:00.123456Z"
    assert config["config"] == {"Labels": LABELS}
    assert config["rootfs"] == {"type": "layers", "diff_ids": [EMPTY_LAYER_DIFF_ID]}
    assert len(config["history"]) == 1
    manifest = json.loads(image.manifest)
    assert manifest["schemaVersion"] == 2 and manifest["mediaType"] == DOCKER_MANIFEST
    assert manifest["config"] == {"mediaType": DOCKER_CONFIG, "size": len(image.config),
                                  "digest": digest_of(image.config)}
    assert manifest["layers"] == [{"mediaType": DOCKER_LAYER_GZIP, "size": len(EMPTY_LAYER),
                                   "digest": digest_of(EMPTY_LAYER)}]


def test_same_labels_and_time_give_the_same_bytes() -> None:
    assert build_meta_image(LABELS, CREATED) == build_meta_image(dict(reversed(LABELS.items())), CREATED)
    assert build_meta_image(LABELS, CREATED) != build_meta_image({**LABELS, "werf": "other"}, CREATED)


def test_push_uploads_the_empty_layer_only_once() -> None:
    fake = FakeRegistry()
    with RegistryClient(HOST, transport=fake.transport(), credentials=Credentials()) as client:
        first = push_meta_image(client, "app", "managed-image-x", LABELS, created=CREATED)
        push_meta_image(client, "app", "managed-image-y", {"werf": "demo"})
        manifest = client.get_manifest("app", "managed-image-x")
    assert manifest.digest == first and fake.tags["app"]["managed-image-x"] == first
    assert len(fake.seen("PUT", "/blobs/uploads/")) == 3  # the layer once, two configs
    assert fake.blobs["app"][digest_of(EMPTY_LAYER)] == EMPTY_LAYER
