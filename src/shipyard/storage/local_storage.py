"""Stages kept as local images `<project>:<DIGEST>-<TS>` in the backend's own store, for builds without
`--repo` (werf's `LocalStagesStorage`, `pkg/storage/local_stages_storage.go`, werf-internals §4.4).

Storing is tagging; fetching is a no-op; rejecting is a no-op; there are no managed images, metadata
records or custom tags.
"""

from __future__ import annotations

from collections.abc import Sequence

from shipyard.backends.base import ContainerBackend
from shipyard.storage.base import CustomTagsNeedRepoError, StageUnavailableError, Warn, ignore_warning
from shipyard.storage.description import StageDescription
from shipyard.storage.listing import TagListing
from shipyard.storage.lookup import StageFinder
from shipyard.storage.selection import StageSelector
from shipyard.storage.stage_id import StageID

# buildah (and podman) report short names under this implicit registry; werf trims it too
# (`trimLocalStageReference`) so that a reference reads the same whichever backend listed it.
_IMPLICIT_REGISTRY = "localhost/"


class LocalStagesStorage:
    """Thread-safe; the constructor does no I/O. The listing is `backend.list_image_names(project)`, once per
    run; the stage a lookup selects is confirmed with one `backend.inspect`."""

    def __init__(self, backend: ContainerBackend, project: str, *, warn: Warn = ignore_warning) -> None:
        self._backend = backend
        self._project = project
        self._listing = TagListing(self._list_stage_tags)
        self._finder = StageFinder(self._listing, self._describe, warn)

    @property
    def address(self) -> str:
        return self._project

    @property
    def listing(self) -> TagListing:
        return self._listing

    def list_tags(self, cached: bool = True) -> frozenset[str]:
        """Tags of the project's local images: listed once per run (`cached=False` lists again)."""
        return self._listing.get(cached=cached)

    def find_stage(self, digest: str, parent_timestamp_ms: int = 0, *, refresh: bool = False,
                   select: StageSelector | None = None) -> StageDescription | None:
        return self._finder.find(digest, parent_timestamp_ms, refresh=refresh, select=select)

    def stage_image_name(self, stage_id: StageID) -> str:
        return f"{self._project}:{stage_id.tag}"

    def push_target(self, stage_id: StageID) -> str | None:
        return None

    def describe_stored(self, stage_id: StageID) -> StageDescription:
        description = self._describe(stage_id)
        self._listing.remember(stage_id.tag)
        return description

    def reject_stage(self, stage_id: StageID) -> None:
        """No record to write: a local stage that cannot serve is simply gone (werf: no-op)."""

    def check_custom_tags(self, tags: Sequence[str]) -> None:
        if tags:
            raise CustomTagsNeedRepoError()

    def add_custom_tag(self, stage: StageDescription, tag: str) -> None:
        raise CustomTagsNeedRepoError()

    def publish_managed_image(self, image_name: str) -> bool:
        return False  # only a registry keeps managed-image records (werf-internals §3.1)

    def publish_image_metadata(self, image_name: str, commit: str, stage_id: StageID) -> bool:
        return False  # only a registry keeps metadata records (werf-internals §3.1)

    def _list_stage_tags(self) -> list[str]:
        tags = []
        for name in self._backend.list_image_names(self._project):
            repository, _, tag = name.removeprefix(_IMPLICIT_REGISTRY).rpartition(":")
            if repository == self._project and tag:
                tags.append(tag)
        return tags

    def _describe(self, stage_id: StageID) -> StageDescription:
        image_name = self.stage_image_name(stage_id)
        image = self._backend.inspect(image_name)
        if image is None:
            raise StageUnavailableError(image_name, "no such local image")
        return StageDescription(
            stage_id=stage_id,
            image_name=image_name,
            image_id=image.image_id,
            manifest_digest="",
            labels=dict(image.labels),
            size=image.size,
            created_unix_nanos=image.created_unix_nanos,
            repository=self._project,
        )
