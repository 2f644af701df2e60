"""The conveyor's publish protocol with in-memory fakes (the integration tests run it against the real
registry, buildah and lock services; these pin the corner cases that are hard to time there)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from shipyard.backends.base import DockerfileBuild, LocalImage, LogLine, PushedImage, RegistryAccess
from shipyard.build import BuildEvents, BuildSettings, Conveyor
from shipyard.errors import ShipyardError
from shipyard.locks.base import LockHandle
from shipyard.locks.lease import LeaseLostError
from shipyard.pathmatch import TruePathMatcher
from shipyard.stages.model import DockerfileRecipe, PlannedImage, PlannedStage
from shipyard.storage.description import StageDescription
from shipyard.storage.import_metadata import ImportMetadata
from shipyard.storage.selection import StageSelector
from shipyard.storage.stage_id import StageID

DIGEST = "d" * 56


class FakeBackend:
    name = "fake"

    def __init__(self) -> None:
        self.pushed: list[str] = []
        self.builds = 0

    def build_dockerfile(self, build: DockerfileBuild, log: LogLine) -> str:
        self.builds += 1
        return "sha256:" + "1" * 64

    def tag(self, image: str, reference: str) -> None:
        pass

    def push(self, reference: str, access: RegistryAccess) -> PushedImage:
        self.pushed.append(reference)
        return PushedImage(reference, "sha256:" + "2" * 64)

    def pull(self, reference: str, access: RegistryAccess) -> str:
        return ""

    def remove(self, reference: str) -> None:
        pass

    def inspect(self, reference: str) -> LocalImage | None:
        return LocalImage("sha256:" + "3" * 64, (reference,), {}, 0, 0)

    def list_images(self, repository: str) -> list[LocalImage]:
        return []

    def list_image_names(self, repository: str) -> list[str]:
        return []


class FakeStorage:
    """A registry seen through the conveyor's eyes; `published_meanwhile` is what another builder pushed
    between our lookup and our lock."""

    address = "registry.test/app"

    def __init__(self, published_meanwhile: StageDescription | None = None) -> None:
        self.published_meanwhile = published_meanwhile
        self.lookups: list[bool] = []

    def find_stage(self, digest: str, parent_timestamp_ms: int = 0, *, refresh: bool = False,
                   select: StageSelector | None = None) -> StageDescription | None:
        self.lookups.append(refresh)
        return self.published_meanwhile if refresh else None

    def stage_image_name(self, stage_id: StageID) -> str:
        return f"{self.address}:{stage_id.tag}"

    def push_target(self, stage_id: StageID) -> str | None:
        return self.stage_image_name(stage_id)

    def describe_stored(self, stage_id: StageID) -> StageDescription:
        return description(stage_id)

    def reject_stage(self, stage_id: StageID) -> None:
        pass

    def check_custom_tags(self, tags: Sequence[str]) -> None:
        pass

    def add_custom_tag(self, stage: StageDescription, tag: str) -> None:
        pass

    def publish_managed_image(self, image_name: str) -> bool:
        return False

    def publish_image_metadata(self, image_name: str, commit: str, stage_id: StageID) -> bool:
        return False

    def get_import_metadata(self, import_source_id: str) -> ImportMetadata | None:
        return None

    def put_import_metadata(self, metadata: ImportMetadata) -> None:
        pass


class FakeLocker:
    def __init__(self, lost: bool = False) -> None:
        self.lost = lost
        self.released: list[str] = []

    def acquire(self, name: str, *, shared: bool = False, timeout: float | None = None,
                on_wait: object = None) -> LockHandle:
        return LockHandle(name, "h1", shared, 0.0)

    def release(self, handle: LockHandle) -> None:
        self.released.append(handle.name)

    def ensure_held(self, handle: LockHandle) -> None:
        if self.lost:
            raise LeaseLostError(handle.name, "http://locks.test", "renewing failed 3 times")


def description(stage_id: StageID) -> StageDescription:
    return StageDescription(stage_id, f"registry.test/app:{stage_id.tag}", "sha256:" + "4" * 64,
                            "sha256:" + "5" * 64, repository="registry.test/app")


def planned(name: str, platform: str, stages: Mapping[str, StageDescription]) -> PlannedImage:
    recipe = DockerfileRecipe(context_dir="", dockerfile_path="Dockerfile", dockerfile=b"FROM x\n",
                              dockerignore=TruePathMatcher(), context_add_files=(), target="")
    return PlannedImage(name, platform, "dockerfile", True, (PlannedStage("dockerfile", DIGEST, ()),),
                        recipe=recipe, content_digest="c" * 56)


def conveyor(storage: FakeStorage, backend: FakeBackend, locker: FakeLocker) -> Conveyor:
    def write_context(recipe: DockerfileRecipe, destination: Path) -> tuple[Path, Path]:
        return destination, destination / "Dockerfile"

    settings = BuildSettings(project="app", commit="c0ffee", registry_access=RegistryAccess())
    return Conveyor(settings, storage=storage, backend=backend, locker=locker, write_context=write_context,
                    events=BuildEvents(), local=False)


def test_a_builder_that_lost_its_lease_does_not_publish() -> None:
    backend, locker = FakeBackend(), FakeLocker(lost=True)
    with pytest.raises(ShipyardError, match=rf"lost the lock 'app\.{DIGEST}'"):
        conveyor(FakeStorage(), backend, locker).build([("app", "linux/amd64")], {}, planned, limit=1)
    assert backend.pushed == [], "nothing may be published without the lock"
    assert locker.released == [f"app.{DIGEST}"], "the lock is released however the publish ends"


def test_a_stage_published_meanwhile_is_adopted_and_ours_discarded() -> None:
    theirs = description(StageID(DIGEST, 1_700_000_000_000))
    backend, storage = FakeBackend(), FakeStorage(published_meanwhile=theirs)
    [outcome] = conveyor(storage, backend, FakeLocker()).build([("app", "linux/amd64")], {}, planned, limit=1)
    assert outcome.stage == theirs and outcome.rebuilt is False
    assert backend.builds == 1 and backend.pushed == []
    assert storage.lookups == [False, True], "lookup with the run's listing, then a fresh one under the lock"


def test_an_unpublished_stage_is_pushed_under_the_lock_as_digest_timestamp() -> None:
    backend = FakeBackend()
    [outcome] = conveyor(FakeStorage(), backend, FakeLocker()).build([("app", "linux/amd64")], {}, planned,
                                                                     limit=1)
    assert outcome.rebuilt is True
    [pushed] = backend.pushed
    digest, timestamp = pushed.rsplit(":", 1)[1].split("-")
    assert digest == DIGEST and len(timestamp) == 13
