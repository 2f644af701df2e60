"""RegistryStagesStorage against the real distribution registry: selection of the oldest stage, the parent
rule, broken candidates, one tag listing per run, zero layer traffic, and werf's records (custom tags,
managed images, metadata, rejections) readable by skopeo."""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from shipyard.registry.auth import Credentials
from shipyard.registry.client import DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, RegistryClient
from shipyard.registry.reference import parse_reference, parse_repository
from shipyard.storage.naming import custom_tag_meta_tag, image_metadata_tag, managed_image_tag
from shipyard.storage.registry_storage import RegistryStagesStorage
from shipyard.storage.stage_id import StageID
from support import require_tools
from support.recording import RecordingTransport

Registry = Any  # the conftest fixture object
PROJECT = "demo-project"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Repo:
    address: str  # what the user passes as --repo
    path: str
    client: RegistryClient
    recorder: RecordingTransport

    def storage(self, **options: Any) -> RegistryStagesStorage:
        return RegistryStagesStorage(self.client, self.address, PROJECT, **options)

    def listings(self) -> int:
        return len(self.recorder.paths("GET", f"/v2/{self.path}/tags/list"))


@dataclass(frozen=True)
class PushedStage:
    stage_id: StageID
    manifest_digest: str
    config_digest: str
    config_size: int
    layer_digest: str
    layer_size: int


@pytest.fixture
def repo(registry: Registry, registry_repo: str) -> Iterator[Repo]:
    recorder = RecordingTransport()
    with RegistryClient(registry.address, insecure=True, credentials=Credentials(),
                        transport=recorder) as client:
        yield Repo(registry_repo, parse_repository(registry_repo).path, client, recorder)


def new_digest() -> str:
    return secrets.token_hex(28)  # 56 hex characters, like a SHA3-224 stage digest


def push_stage(repo: Repo, stage_id: StageID) -> PushedStage:
    """A small stage image: a config with werf's labels and one random layer (as a builder pushes it)."""
    layer = secrets.token_bytes(3000)
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20.5Z",
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + secrets.token_hex(32)]},
        "config": {"Labels": {"werf": PROJECT, "werf-stage-content-digest": stage_id.digest,
                              "shipyard-test-stage": stage_id.tag}},
    }).encode()
    client = repo.client
    config_digest = client.upload_blob(repo.path, config)
    layer_digest = client.upload_blob(repo.path, layer)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, "size": len(config), "digest": config_digest},
        "layers": [{"mediaType": DOCKER_LAYER_GZIP, "size": len(layer), "digest": layer_digest}],
    }).encode()
    manifest_digest = client.put_manifest(repo.path, stage_id.tag, manifest, DOCKER_MANIFEST)
    return PushedStage(stage_id, manifest_digest, config_digest, len(config), layer_digest, len(layer))


def skopeo_labels(reference: str) -> dict[str, str]:
    require_tools("skopeo")
    done = subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{reference}"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    labels: dict[str, str] = json.loads(done.stdout)["Labels"]
    return labels


def test_the_oldest_stage_is_selected_without_reading_a_layer(repo: Repo) -> None:
    digest = new_digest()
    newer = push_stage(repo, StageID(digest, 1700000002000))
    older = push_stage(repo, StageID(digest, 1700000001000))
    push_stage(repo, StageID(new_digest(), 1700000000000))  # another digest: never read
    repo.recorder.requests.clear()
    downloaded_before = repo.client.stats.blob_bytes_downloaded

    found = repo.storage().find_stage(digest)

    assert found is not None and found.stage_id == older.stage_id
    assert found.image_name == f"{repo.address}:{digest}-1700000001000"
    assert (found.image_id, found.manifest_digest) == (older.config_digest, older.manifest_digest)
    assert found.size == older.layer_size and found.repository == repo.address
    assert found.created_unix_nanos == 1_700_000_001_000_000_000  # stored at its tag's timestamp
    # One listing and one manifest: no blob at all, and the newer candidate is not even described.
    assert repo.recorder.blob_requests() == []
    assert repo.client.stats.blob_bytes_downloaded == downloaded_before
    assert len(repo.recorder.requests) == 2
    # The labels come from the config, read once when first asked for (the report's Commit needs it).
    assert found.labels["werf"] == PROJECT and found.content_digest == digest
    assert repo.recorder.blob_requests() == [older.config_digest]
    assert newer.layer_digest not in str(repo.recorder.requests)
    assert repo.client.stats.blob_bytes_downloaded - downloaded_before == older.config_size


def test_a_stage_older_than_its_parent_is_ignored(repo: Repo) -> None:
    digest = new_digest()
    push_stage(repo, StageID(digest, 1000))
    push_stage(repo, StageID(digest, 2000))
    storage = repo.storage()
    found = storage.find_stage(digest, parent_timestamp_ms=1500)
    assert found is not None and found.stage_id.timestamp_ms == 2000
    assert storage.find_stage(digest, parent_timestamp_ms=2001) is None


def test_a_candidate_deleted_after_the_listing_is_skipped_with_a_warning(repo: Repo) -> None:
    digest = new_digest()
    doomed = push_stage(repo, StageID(digest, 1000))
    push_stage(repo, StageID(digest, 2000))
    warnings: list[str] = []
    storage = repo.storage(warn=warnings.append)
    assert f"{digest}-1000" in storage.list_tags()
    repo.client.delete_manifest(repo.path, doomed.manifest_digest)

    found = storage.find_stage(digest)

    assert found is not None and found.stage_id.timestamp_ms == 2000
    assert warnings == [
        f"Ignoring stage {repo.address}:{digest}-1000 is unavailable: not found in the registry"]
    assert repo.listings() == 1  # a candidate was available: no second listing


def test_many_concurrent_lookups_list_the_tags_once(repo: Repo) -> None:
    digests = [new_digest() for _ in range(3)]
    stages = [push_stage(repo, StageID(digest, 1000)) for digest in digests]
    repo.recorder.requests.clear()
    gets_before = repo.client.stats.requests["GET"]
    storage = repo.storage()
    found: list[StageID | None] = []

    def look_up() -> None:
        for digest in digests * 3:
            description = storage.find_stage(digest)
            found.append(description.stage_id if description else None)

    threads = [threading.Thread(target=look_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(found, key=str) == sorted([stage.stage_id for stage in stages] * 24, key=str)
    assert repo.listings() == 1 and storage.listing.listings == 1
    # Descriptions are read once per stage for the run, however many lookups ask (threads may race on
    # the first read of a stage, hence "at most" twice the minimum of one manifest + one config each).
    assert 1 + 2 * 3 <= repo.client.stats.requests["GET"] - gets_before <= 1 + 2 * 3 * 8
    assert {stage.layer_digest for stage in stages}.isdisjoint(repo.recorder.blob_requests())


def test_a_miss_lists_again_and_finds_what_another_builder_pushed(repo: Repo) -> None:
    storage = repo.storage()
    assert storage.list_tags() == frozenset()
    digest = new_digest()
    push_stage(repo, StageID(digest, 1000))  # published by someone else after our listing

    found = storage.find_stage(digest)

    assert found is not None and found.stage_id.timestamp_ms == 1000
    assert repo.listings() == 2  # the cached listing had nothing: one fresh listing
    assert storage.find_stage(new_digest()) is None
    assert repo.listings() == 3  # a miss costs one fresh listing
    assert storage.find_stage(digest, refresh=True) is not None
    assert repo.listings() == 4  # the re-check under the stage lock always lists afresh


def test_a_stage_pushed_by_a_backend_is_read_back_without_its_layers(repo: Repo, busybox_image: Any) -> None:
    base = parse_reference(busybox_image.remote)
    stage_id = StageID(new_digest(), 1700000000000)
    storage = repo.storage()
    storage.list_tags()
    repo.client.copy_image(base.path, base.identifier, repo.path, stage_id.tag)  # as a push would leave it
    layers = repo.client.get_manifest(repo.path, stage_id.tag).document["layers"]
    repo.recorder.requests.clear()

    stored = storage.describe_stored(stage_id)

    assert stored.size == sum(layer["size"] for layer in layers) > 0
    assert stored.manifest_digest == busybox_image.digest
    assert {layer["digest"] for layer in layers}.isdisjoint(repo.recorder.blob_requests())
    found = storage.find_stage(stage_id.digest)  # remembered: no listing, no second read
    assert found == stored and repo.listings() == 0


def test_a_custom_tag_is_a_registry_side_retag_with_werfs_meta_record(repo: Repo) -> None:
    stage = push_stage(repo, StageID(new_digest(), 1700000000000))
    storage = repo.storage()
    found = storage.find_stage(stage.stage_id.digest)
    assert found is not None
    repo.recorder.requests.clear()

    storage.add_custom_tag(found, "v1.0")

    tagged = repo.client.head_manifest(repo.path, "v1.0")
    assert tagged is not None and tagged.digest == found.manifest_digest
    assert stage.layer_digest not in repo.recorder.blob_requests()  # no layer moved in any direction
    meta_tag = custom_tag_meta_tag("v1.0")
    assert meta_tag.startswith("custom-tag-meta-v1-0-")
    assert {"v1.0", meta_tag} <= set(repo.client.list_tags(repo.path))
    assert skopeo_labels(f"{repo.address}:{meta_tag}") == {
        "stage-id": stage.stage_id.tag, "tag": "v1.0", "werf": PROJECT}


def test_managed_image_and_metadata_records_are_werf_meta_images(repo: Repo) -> None:
    storage = repo.storage()
    stage_id = StageID(new_digest(), 1700000000000)
    assert storage.publish_managed_image("backend/api") is True
    assert storage.publish_managed_image("backend/api") is False  # the run's listing has it now
    assert storage.publish_image_metadata("backend/api", COMMIT, stage_id) is True

    managed = managed_image_tag("backend/api")
    metadata = image_metadata_tag("backend/api", COMMIT, stage_id)
    assert managed == "managed-image-backend__slash__api"
    assert {managed, metadata} <= set(repo.client.list_tags(repo.path))
    assert skopeo_labels(f"{repo.address}:{managed}") == {"werf": PROJECT}
    assert skopeo_labels(f"{repo.address}:{metadata}") == {"werf": PROJECT}
    assert repo.storage().publish_managed_image("backend/api") is False  # a new run sees it listed


def test_a_rejected_stage_is_never_selected_again(repo: Repo) -> None:
    digest = new_digest()
    rejected = push_stage(repo, StageID(digest, 1000))
    push_stage(repo, StageID(digest, 2000))
    storage = repo.storage()
    assert storage.find_stage(digest) == storage.describe(rejected.stage_id.tag)

    storage.reject_stage(rejected.stage_id)

    for lookup in (storage, repo.storage()):  # this run remembers it; the next one lists it
        found = lookup.find_stage(digest)
        assert found is not None and found.stage_id.timestamp_ms == 2000
    assert skopeo_labels(f"{repo.address}:{digest}-1000-rejected") == {"werf": PROJECT}


def test_a_repository_in_another_registry_is_refused(repo: Repo) -> None:
    with pytest.raises(ValueError, match="is not in registry"):
        RegistryStagesStorage(repo.client, "other.example.com/app", PROJECT)
