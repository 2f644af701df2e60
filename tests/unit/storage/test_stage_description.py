"""Reading a stage description from a manifest and its config blob (no layers)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shipyard.storage.description import (
    BrokenStageImageError,
    description_from_registry,
    rfc3339_unix_nanos,
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
    described = description_from_registry(STAGE, "r/app:" + STAGE.tag, "r/app", "sha256:" + "9" * 64,
                                          MANIFEST, config(config={"Labels": labels}))
    assert described.image_id == "sha256:" + "1" * 64
    assert described.manifest_digest == "sha256:" + "9" * 64
    assert described.labels == labels and described.content_digest == "e" * 56
    assert described.size == 1024  # compressed layer sizes from the manifest
    assert described.created_unix_nanos == 1_700_000_000_123_456_789
    assert (described.repository, described.image_name) == ("r/app", "r/app:" + STAGE.tag)


def test_an_image_without_labels_has_none() -> None:
    described = description_from_registry(STAGE, "n", "r", "d", MANIFEST, config(config={"Labels": None}))
    assert described.labels == {} and described.content_digest == ""


@pytest.mark.parametrize(("manifest", "config_blob"), [
    ({"layers": []}, b"{}"),  # no config descriptor
    (MANIFEST, b"not json"),
    (MANIFEST, b"[]"),
    (MANIFEST, json.dumps({"config": {"Labels": ["x"]}}).encode()),
    ({**MANIFEST, "layers": [{"size": -1}]}, b"{}"),
])
def test_broken_images(manifest: dict[str, Any], config_blob: bytes) -> None:
    with pytest.raises(BrokenStageImageError):
        description_from_registry(STAGE, "n", "r", "d", manifest, config_blob)


@pytest.mark.parametrize(("text", "nanos"), [
    ("1970-01-01T00:00:00Z", 0),
    ("2023-11-14T22:13:20Z", 1_700_000_000 * 10**9),
    ("2023-11-14T22:13:20.5Z", 1_700_000_000 * 10**9 + 500_000_000),
    ("2023-11-15T00:13:20.000000001+02:00", 1_700_000_000 * 10**9 + 1),
    ("2023-11-14T22:13:20.1234567891Z", 1_700_000_000 * 10**9 + 123_456_789),  # beyond ns: truncated
    ("yesterday", 0),
    (None, 0),
    ("2023-13-40T00:00:00Z", 0),
])
def test_rfc3339_as_go_writes_it(text: object, nanos: int) -> None:
    assert rfc3339_unix_nanos(text) == nanos
