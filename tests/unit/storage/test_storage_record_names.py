"""Names of werf's service records in --repo (werf-internals §2.4, §3.1): managed-image ids, metadata
tags, custom-tag-meta records."""

from __future__ import annotations

import pytest

from shipyard.hashsum import murmur_hash
from shipyard.slug import slug
from shipyard.storage.naming import (
    custom_tag_meta_tag,
    image_metadata_id,
    image_metadata_tag,
    managed_image_id,
    managed_image_name,
    managed_image_tag,
)
from shipyard.storage.stage_id import StageID

STAGE = StageID("d" * 56, 1700000000000)
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(("image_name", "expected"), [
    ("backend", "backend"),
    ("a/b c+d", "a__slash__b__space__c__plus__d"),
    ("", "__nameless__"),
    ("Front.End_1", "Front.End_1"),  # already a valid docker tag: kept, case included
])
def test_managed_image_ids(image_name: str, expected: str) -> None:
    assert managed_image_id(image_name) == expected
    assert managed_image_tag(image_name) == "managed-image-" + expected
    assert managed_image_name(expected) == image_name  # werf's unslug reads it back


def test_an_id_that_is_still_not_a_docker_tag_becomes_a_limited_slug() -> None:
    assert managed_image_id("app:v1") == "app-v1-" + murmur_hash("app:v1")
    long_name = "x" * 200
    managed_id = managed_image_id(long_name)
    assert managed_id == slug(long_name, 128 - len("managed-image-"))
    assert len("managed-image-" + managed_id) == 128 and managed_id.endswith("-" + murmur_hash(long_name))


def test_metadata_ids_hash_the_name_read_back_from_the_managed_image_id() -> None:
    assert image_metadata_id("backend") == murmur_hash("backend")
    assert image_metadata_id("a/b c+d") == murmur_hash("a/b c+d")  # escaping round-trips
    assert image_metadata_id("") == murmur_hash("") == "0"  # nameless: MUR of "", unpadded
    # A slugged id has no way back: the hash is of the slug.
    assert image_metadata_id("app:v1") == murmur_hash("app-v1-" + murmur_hash("app:v1"))


def test_metadata_tag_format() -> None:
    tag = image_metadata_tag("backend", COMMIT, STAGE)
    assert tag == f"meta-{murmur_hash('backend')}_{COMMIT}_{'d' * 56}-1700000000000"
    assert len(tag) <= 128  # fits a docker tag even with an 8-digit hash


@pytest.mark.parametrize(("tag", "expected"), [
    ("my-tag", "custom-tag-meta-my-tag"),  # a valid slug is kept
    ("A", "custom-tag-meta-a-54dcf7ce"),  # werf's slug vectors (werf-internals §2.3)
    ("da/ta", "custom-tag-meta-da-ta-afa96f8"),
    ("v1.0", "custom-tag-meta-v1-0-" + murmur_hash("v1.0")),
])
def test_custom_tag_meta_names(tag: str, expected: str) -> None:
    assert custom_tag_meta_tag(tag) == expected


def test_a_long_custom_tag_is_slugged_to_48() -> None:
    tag = "release-" + "x" * 60
    meta = custom_tag_meta_tag(tag)
    assert meta == "custom-tag-meta-" + slug(tag, 48)
    assert len(meta) - len("custom-tag-meta-") <= 48
