"""The stages storage seam: what the conveyor needs from `--repo` or from the local image store. Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from shipyard.errors import ShipyardError, UsageError
from shipyard.storage.description import StageDescription
from shipyard.storage.import_metadata import ImportMetadata
from shipyard.storage.selection import StageSelector
from shipyard.storage.stage_id import StageID

Warn = Callable[[str], None]


def ignore_warning(message: str) -> None:
    """The default warning sink; app.py wires the terminal's instead."""


class StageUnavailableError(ShipyardError):
    """A stage tag that cannot serve: gone since the listing, broken, or not a single-platform image."""

    def __init__(self, image_name: str, reason: str) -> None:
        super().__init__(f"stage {image_name} is unavailable: {reason}")
        self.image_name = image_name
        self.reason = reason


class CustomTagsNeedRepoError(UsageError):
    def __init__(self) -> None:
        super().__init__("custom tags need --repo: the local storage keeps stages only as local images",
                         hint="pass --repo (or WERF_REPO), or drop --add-custom-tag / --use-custom-tag")


class StagesStorage(Protocol):
    """Primary stages storage. Implementations: RegistryStagesStorage, LocalStagesStorage."""

    @property
    def address(self) -> str:
        """`REPO` for a registry, the project name for the local storage (the part before `:TAG`)."""
        ...

    def find_stage(self, digest: str, parent_timestamp_ms: int = 0, *, refresh: bool = False,
                   select: StageSelector | None = None) -> StageDescription | None:
        """The stage to reuse for `digest`, or None. `refresh=False`: the run's cached listing, then a fresh
        one when that yields nothing (§4.2.3); `refresh=True`: a fresh listing only (the re-check under the
        stage lock, §4.2.6). `select` defaults to the oldest."""
        ...

    def stage_image_name(self, stage_id: StageID) -> str: ...

    def push_target(self, stage_id: StageID) -> str | None:
        """Where to push a newly built stage (tag the image with `stage_image_name` first); None when
        tagging is all storing takes (local)."""
        ...

    def describe_stored(self, stage_id: StageID) -> StageDescription:
        """Read back a stage this process just stored, and remember it in the cached listing."""
        ...

    def reject_stage(self, stage_id: StageID) -> None:
        """Mark a selected stage that turned out unusable so nobody selects it again (§4.2.7)."""
        ...

    def check_custom_tags(self, tags: Sequence[str]) -> None:
        """Refuse custom tags up-front when this storage cannot keep them."""
        ...

    def add_custom_tag(self, stage: StageDescription, tag: str) -> None: ...

    def publish_managed_image(self, image_name: str) -> bool:
        """Record `image_name` as managed (cleanup keeps its stages); False when nothing was written."""
        ...

    def publish_image_metadata(self, image_name: str, commit: str, stage_id: StageID) -> bool:
        """Record that `commit` built `image_name` as `stage_id`; False when nothing was written."""
        ...

    def get_import_metadata(self, import_source_id: str) -> ImportMetadata | None:
        """The import checksum record for `import_source_id` (§1.4.4); None when absent or without a
        checksum (the caller computes the checksum and puts the record)."""
        ...

    def put_import_metadata(self, metadata: ImportMetadata) -> None:
        """Store the record; nothing is written when the same checksum is already stored."""
        ...
