"""What a Stapel image needs from the other images of the run: its werf base, its import sources and its
dependencies (werf-internals §1.4.4). Implements the plan's `ImageFacts`.

An import's checksum is read from the storage's import-metadata record first, so a fully cached build
neither pulls nor mounts the source image; only a missing record makes us open the source and hash the
files, then store the record for the next builder.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.backends.base import RegistryAccess
from shipyard.config.model import Dependency, Import
from shipyard.errors import ConfigError
from shipyard.opstats import Operation
from shipyard.planning import import_value
from shipyard.stages.model import PlannedImage, StapelRecipe
from shipyard.stages.stapel_deps import import_source_id
from shipyard.stages.stapel_stages import STAPEL_STAGE_ORDER
from shipyard.stapel_imports import import_checksum
from shipyard.storage.base import StagesStorage
from shipyard.storage.description import StageDescription
from shipyard.storage.import_metadata import ImportMetadata

if TYPE_CHECKING:
    from shipyard.build import Conveyor
    from shipyard.stapel_build import StapelServices

__all__ = ["ChecksumNotRecorded", "ImportSource", "RelatedImages", "StoredImageFacts", "import_source_stage"]


@dataclass(frozen=True)
class ImportSource:
    """Where an import's files come from."""

    reference: str  # what to pull / create the container from
    content_digest: str  # the source's content digest, or `external-image:<ref>` (import source id)
    stage_id: str  # the werf-import-source-stage-id label: DIGEST-TS, or the external reference
    access: RegistryAccess
    stage: StageDescription | None  # None for an external image


def external_source_digest(reference: str) -> str:
    """What the import source id hashes for an image outside werf.yaml."""
    return f"external-image:{reference}"


def import_source_stage(item: Import, related_stages: Mapping[str, StageDescription],
                        named_stages: Mapping[str, StageDescription]) -> StageDescription | None:
    """The stage an import reads: the werf image's last stage, or with `stage:` that stage of it (or the
    last non-empty one before it when the image has no such stage); None for an external image."""
    if item.image not in related_stages:
        return None
    if not item.stage:
        return related_stages[item.image]
    if not named_stages:
        raise ConfigError(f"import from image {item.image!r} with `stage: {item.stage}`: that image has "
                          "no Stapel stages", hint="`stage:` needs a Stapel source image")
    wanted = STAPEL_STAGE_ORDER.index(item.stage) if item.stage in STAPEL_STAGE_ORDER else len(
        STAPEL_STAGE_ORDER)
    chosen = None
    for name, description in named_stages.items():
        if name in STAPEL_STAGE_ORDER and STAPEL_STAGE_ORDER.index(name) <= wanted:
            chosen = description
    if chosen is None:
        raise ConfigError(f"import from image {item.image!r}: it has no stage up to {item.stage!r}")
    return chosen


class ChecksumNotRecorded(Exception):
    """`plan` only reads the storage: an import whose checksum was never recorded needs the build."""


class StoredImageFacts:
    """ImageFacts for `plan`: related images as stored, import checksums from their records only."""

    def __init__(self, storage: StagesStorage, recipe: StapelRecipe,
                 named_stages: Callable[[str], Mapping[str, StageDescription]]) -> None:
        self._storage = storage
        self._recipe = recipe
        self._named_stages = named_stages

    def import_checksum(self, item: Import) -> str:
        stage = import_source_stage(item, self._recipe.related_stages, self._named_stages(item.image))
        digest = external_source_digest(item.image) if stage is None else stage.content_digest
        stored = self._storage.get_import_metadata(import_source_id(digest, item))
        if stored is None:
            raise ChecksumNotRecorded(item.image)
        return stored.checksum

    def dependency_stage_image_name(self, image_name: str) -> str:
        return self._recipe.related_stages[image_name].image_name


class RelatedImages:
    """The base, import sources and dependencies of one Stapel image, as published in this run."""

    def __init__(self, conveyor: Conveyor, services: StapelServices, image: PlannedImage) -> None:
        assert image.stapel is not None
        self._conveyor = conveyor
        self._services = services
        self._image = image
        self._recipe: StapelRecipe = image.stapel
        self._checksums: dict[Import, str] = {}
        self._lock = threading.Lock()

    def base_stage(self) -> StageDescription:
        return self._recipe.related_stages[self._recipe.image.from_]

    # --- ImageFacts --------------------------------------------------------------------------------------

    def import_checksum(self, item: Import) -> str:
        with self._lock:
            if item not in self._checksums:
                self._checksums[item] = self._stored_or_computed_checksum(item)
            return self._checksums[item]

    def dependency_stage_image_name(self, image_name: str) -> str:
        return self.dependency_stage(image_name).image_name

    # --- for the stage work ------------------------------------------------------------------------------

    def dependency_stage(self, image_name: str) -> StageDescription:
        return self._recipe.related_stages[image_name]

    def dependency_env(self, dependency: Dependency) -> dict[str, str]:
        """targetEnv → value for each import of a dependency (werf-internals §9.4)."""
        stage = self.dependency_stage(dependency.image)
        return {entry.target_env: import_value(entry.type, stage) for entry in dependency.imports}

    def source(self, item: Import) -> ImportSource:
        """The stage of a werf image (its last one, or the `stage:` named), else an external image."""
        conveyor = self._conveyor
        named = conveyor.stages_of(item.image, self._image.platform)
        stage = import_source_stage(item, self._recipe.related_stages, named)
        if stage is None:
            reference = item.image
            return ImportSource(reference, external_source_digest(reference), reference,
                                conveyor.settings.pull_access([reference]), None)
        return ImportSource(stage.image_name, stage.content_digest, stage.stage_id.tag,
                            conveyor.settings.registry_access, stage)

    def ensure_source(self, source: ImportSource) -> None:
        self._conveyor.ensure_local(source.reference, source.access)

    def _stored_or_computed_checksum(self, item: Import) -> str:
        source = self.source(item)
        source_id = import_source_id(source.content_digest, item)
        storage = self._conveyor.storage
        stored = storage.get_import_metadata(source_id)
        if stored is not None:
            return stored.checksum
        checksum = self._compute(source, item)
        storage.put_import_metadata(ImportMetadata(source_id, source.stage_id, checksum))
        return checksum

    def _compute(self, source: ImportSource, item: Import) -> str:
        containers = self._services.containers
        self.ensure_source(source)
        with (self._conveyor.stats.observe(Operation.IMPORT_CHECKSUM),
              containers.working_container(source.reference) as container):
            root = containers.mount(container)
            try:
                return import_checksum(root, item)
            finally:
                containers.unmount(container)
