"""Stages kept as local images `<project>:<DIGEST>-<TS>` in the backend's own store, for builds without
`--repo` (werf's `LocalStagesStorage`, `pkg/storage/local_stages_storage.go`, werf-internals §4.4).

Storing is tagging; fetching is a no-op; rejecting is a no-op; there are no managed images, metadata
records or custom tags. Import-metadata records are local images `werf-import-metadata/<project>:<id>`, as
werf keeps them (an empty `FROM scratch` image carrying the record's labels), so werf and shipyard share
them in one store; each is read (one inspect) at most once per run.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from shipyard.backends.base import ContainerBackend, DockerfileBuild
from shipyard.storage.base import CustomTagsNeedRepoError, StageUnavailableError, Warn, ignore_warning
from shipyard.storage.description import StageDescription
from shipyard.storage.import_metadata import (
    ImportMetadata,
    import_metadata_from_labels,
    import_metadata_labels,
    local_import_metadata_name,
)
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
        self._imports: dict[str, ImportMetadata | None] = {}
        self._imports_lock = threading.Lock()

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

    def get_import_metadata(self, import_source_id: str) -> ImportMetadata | None:
        """The labels of the local image `werf-import-metadata/<project>:<id>` (`GetImportMetadata`)."""
        with self._imports_lock:
            if import_source_id in self._imports:
                return self._imports[import_source_id]
        image = self._backend.inspect(local_import_metadata_name(self._project, import_source_id))
        metadata = None if image is None else import_metadata_from_labels(import_source_id, image.labels)
        with self._imports_lock:
            self._imports[import_source_id] = metadata
        return metadata

    def put_import_metadata(self, metadata: ImportMetadata) -> None:
        """Build the record image (`FROM scratch` + its labels) and name it; skipped when the stored record
        has the same checksum."""
        stored = self.get_import_metadata(metadata.import_source_id)
        if stored is not None and stored.checksum == metadata.checksum:
            return
        labels = import_metadata_labels(metadata, self._project)
        lines = ["FROM scratch", *(f"LABEL {json.dumps(key)}={json.dumps(value)}"
                                   for key, value in labels.items())]
        with tempfile.TemporaryDirectory(prefix="shipyard-import-metadata-") as scratch:
            dockerfile = Path(scratch) / "Dockerfile"
            dockerfile.write_text("\n".join(lines) + "\n")
            image_id = self._backend.build_dockerfile(DockerfileBuild(Path(scratch), dockerfile), _no_log)
        self._backend.tag(image_id, local_import_metadata_name(self._project, metadata.import_source_id))
        with self._imports_lock:
            self._imports[metadata.import_source_id] = metadata

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


def _no_log(line: str) -> None:
    """The record build's output is of no interest."""
