"""Reading a stage description from a manifest and its config blob (no layers)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shipyard.storage.description import (
    BrokenStageImageError,
    description_from_registry,
)
from shipyard.storage.stage_id import StageID

STAGE = StageID("c" * 56, 1700000000000)
MANIFEST: dict[str, Any] = {
    "schemaVersion": 2,
    "config": {"digest": "sha256:" + "1" * 64, "size": 10},
    "layers": [{"digest": "sha256:" + "2" * 64, "size": 1000}, {"digest": "sha256:" + "3" * 64, "size": 24}],
}


def config(**fields: Any) -> bytes:
    return json.dumps({"created": "2023-11-14T22:13:20.123456789Z", **fields}).encode()


def test_a_description_from_manifest_and_config() -> None:
    labels = {"werf": "demo", "werf-stage-content-digest": "e" * 56}
    loads: list[int] = []

    def load() -> bytes:
        loads.append(1)
        return config(config={"Labels": labels})

    described = description_from_registry(STAGE, "r/app:" + STAGE.tag, "r/app", "sha256:" + "9" * 64,
                                          MANIFEST, load)
    assert loads == [], "reusing a stage must not download its config"
    assert described.image_id == "sha256:" + "1" * 64
    assert described.manifest_digest == "sha256:" + "9" * 64
    assert described.size == 1024  # compressed layer sizes from the manifest
    assert described.created_unix_nanos == STAGE.timestamp_ms * 1_000_000  # stored at the tag's time
    assert described.labels == labels and described.content_digest == "e" * 56
    assert loads == [1], "the config is read once, when a label is first asked for"
    assert (described.repository, described.image_name) == ("r/app", "r/app:" + STAGE.tag)


def test_an_image_without_labels_has_none() -> None:
    no_labels = config(config={"Labels": None})
    described = description_from_registry(STAGE, "n", "r", "d", MANIFEST, lambda: no_labels)
    assert described.labels == {} and described.content_digest == ""


@pytest.mark.parametrize(("manifest", "config_blob"), [
    ({"layers": []}, b"{}"),  # no config descriptor
    (MANIFEST, b"not json"),
    (MANIFEST, b"[]"),
    (MANIFEST, json.dumps({"config": {"Labels": ["x"]}}).encode()),
    ({**MANIFEST, "layers": [{"size": -1}]}, b"{}"),
])
def test_broken_images(manifest: dict[str, Any], config_blob: bytes) -> None:
    with pytest.raises(BrokenStageImageError):  # a broken manifest at once, a broken config when read
        dict(description_from_registry(STAGE, "n", "r", "d", manifest, lambda: config_blob).labels)
