"""LocalStagesStorage (builds without --repo, werf-internals §4.4) on a real buildah store through
BuildahBackend: stages are local images `<project>:DIGEST-TS`, listed once per run, the oldest selected,
and custom tags refused."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from shipyard.backends.base import LocalImage
from shipyard.backends.buildah import BuildahBackend
from shipyard.storage.base import CustomTagsNeedRepoError
from shipyard.storage.local_storage import LocalStagesStorage
from shipyard.storage.stage_id import StageID, new_timestamp_ms

BuildahStore = Any  # conftest fixture objects (conftest is not importable by name)
BaseImage = Any


class CountingBackend(BuildahBackend):
    """The real backend, counting the calls the storage makes."""

    def __init__(self, store: BuildahStore) -> None:
        super().__init__(store.root, store.runroot, store.driver)
        self.list_calls = 0
        self.inspect_calls = 0

    def list_images(self, repository: str) -> list[LocalImage]:
        self.list_calls += 1
        return super().list_images(repository)

    def list_image_names(self, repository: str) -> list[str]:
        self.list_calls += 1
        return super().list_image_names(repository)

    def inspect(self, reference: str) -> LocalImage | None:
        self.inspect_calls += 1
        return super().inspect(reference)


@pytest.fixture
def project() -> str:
    return f"proj-{secrets.token_hex(4)}"  # the session store is shared: one project per test


@pytest.fixture
def backend(buildah_store: BuildahStore) -> CountingBackend:
    return CountingBackend(buildah_store)


def build_stage_image(store: BuildahStore, base: BaseImage, project: str) -> str:
    """A committed image labelled like a werf stage; returns its "sha256:…" ID."""
    container = store.run("from", "--pull-never", base.local).stdout.strip()
    try:
        labels = ["--label", f"werf={project}", "--label", f"nonce={secrets.token_hex(8)}"]
        store.run("config", *labels, container)
        image_id = store.run("commit", "-q", container).stdout.strip()
    finally:
        store.run("rm", container, check=False)
    return image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"


def new_digest() -> str:
    return secrets.token_hex(28)


def test_the_oldest_local_stage_is_selected_with_one_listing(
        buildah_store: BuildahStore, busybox_image: BaseImage, backend: CountingBackend,
        project: str) -> None:
    image_id = build_stage_image(buildah_store, busybox_image, project)
    digest = new_digest()
    for timestamp in (2000, 1000):
        backend.tag(image_id, f"{project}:{digest}-{timestamp}")
    backend.tag(image_id, f"{project}-other:{digest}-500")  # another project's image: not a candidate
    storage = LocalStagesStorage(backend, project)

    found = storage.find_stage(digest)

    assert found is not None and found.stage_id == StageID(digest, 1000)
    assert found.image_name == f"{project}:{digest}-1000"
    assert (found.image_id, found.repository) == (image_id, project)
    assert found.labels["werf"] == project and found.manifest_digest == "" and found.size > 0
    assert found.created_unix_nanos > 0
    later = storage.find_stage(digest, parent_timestamp_ms=1500)
    assert later is not None and later.stage_id.timestamp_ms == 2000
    for _ in range(5):
        assert storage.find_stage(digest) is not None
    assert backend.list_calls == 1 and storage.listing.listings == 1


def test_store_tags_the_built_image_and_the_run_sees_it_without_listing(
        buildah_store: BuildahStore, busybox_image: BaseImage, backend: CountingBackend,
        project: str) -> None:
    image_id = build_stage_image(buildah_store, busybox_image, project)
    digest = new_digest()
    storage = LocalStagesStorage(backend, project)
    assert storage.find_stage(digest) is None  # cached listing, then a fresh one
    assert backend.list_calls == 2

    # as the conveyor stores a stage: tag the built image with the stage name, then read it back
    stage_id = StageID(digest, new_timestamp_ms())
    backend.tag(image_id, storage.stage_image_name(stage_id))
    stored = storage.describe_stored(stage_id)

    assert stored.image_name == f"{project}:{stored.stage_id.tag}" and stored.image_id == image_id
    assert stored.stage_id.digest == digest and stored.stage_id.timestamp_ms > 1_600_000_000_000
    assert storage.push_target(stored.stage_id) is None
    assert storage.find_stage(digest) == stored and backend.list_calls == 2  # remembered, not re-listed
    next_run = LocalStagesStorage(backend, project)
    assert next_run.find_stage(digest) == stored


def test_a_stage_removed_after_the_listing_is_skipped(
        buildah_store: BuildahStore, busybox_image: BaseImage, backend: CountingBackend,
        project: str) -> None:
    image_id = build_stage_image(buildah_store, busybox_image, project)
    digest = new_digest()
    for timestamp in (1000, 2000):
        backend.tag(image_id, f"{project}:{digest}-{timestamp}")
    warnings: list[str] = []
    storage = LocalStagesStorage(backend, project, warn=warnings.append)
    assert f"{digest}-1000" in storage.list_tags()
    backend.remove(f"{project}:{digest}-1000")  # untags only: the image keeps its other name

    found = storage.find_stage(digest)

    assert found is not None and found.stage_id.timestamp_ms == 2000
    assert warnings == [f"Ignoring stage {project}:{digest}-1000 is unavailable: no such local image"]


def test_custom_tags_and_records_need_a_registry(backend: CountingBackend, project: str) -> None:
    storage = LocalStagesStorage(backend, project)
    storage.check_custom_tags([])
    with pytest.raises(CustomTagsNeedRepoError, match="custom tags need --repo") as caught:
        storage.check_custom_tags(["v1"])
    assert caught.value.exit_code == 1 and caught.value.hint is not None
    stage_id = StageID(new_digest(), 1000)
    assert storage.publish_managed_image("app") is False
    assert storage.publish_image_metadata("app", "0" * 40, stage_id) is False
    storage.reject_stage(stage_id)  # a no-op, as in werf
    assert backend.list_calls == 0 and backend.inspect_calls == 0
