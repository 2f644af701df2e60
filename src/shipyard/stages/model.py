"""What a plan is made of: images expanded per platform, each a list of stages with their digests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shipyard.config.model import Secret, StapelImage
from shipyard.pathmatch import PathMatcher
from shipyard.storage.description import StageDescription


@dataclass(frozen=True, slots=True)
class PlannedStage:
    name: str  # werf's stage name, e.g. "dockerfile"
    digest: str  # 56 hex chars (SHA3-224)
    digest_inputs: tuple[str, ...]  # every argument of the digest, for --debug-digest
    dependency_inputs: tuple[str, ...] = ()  # the stage's own dependency list (e.g. Dockerfile D)


@dataclass(frozen=True)
class DockerfileRecipe:
    """How to build a non-staged Dockerfile image: exactly the inputs its digest was computed from."""

    context_dir: str  # repo-relative posix path
    dockerfile_path: str  # repo-relative, for messages
    dockerfile: bytes  # content from the commit (or the work tree where giterminism allows)
    dockerignore: PathMatcher
    context_add_files: tuple[str, ...]
    target: str
    build_args: Mapping[str, str] = field(default_factory=dict)
    add_hosts: tuple[str, ...] = ()
    network: str = ""
    base_images: tuple[str, ...] = ()  # FROM references outside the Dockerfile, expanded
    secrets: tuple[Secret, ...] = ()  # for RUN --mount=type=secret; not part of any digest (as in werf)
    ssh: str = ""  # werf.yaml `ssh:` (buildah --ssh value); the build's agent is used when empty


@dataclass(frozen=True)
class StapelRecipe:
    """How to build a Stapel image: its config and what its stages hash besides git and the storage.

    The stages themselves are planned one at a time during the build (stages/stapel.py): their digests
    depend on the stages selected in the storage."""

    image: StapelImage
    meta_cache_version: str = ""
    base_reference: str = ""  # `from`: an external reference, "scratch", or the werf base's stage image
    base_image_content_digest: str | None = None  # `from` names a werf image: its content digest
    base_is_stage: bool = False  # base_reference is a stage image in the stages storage
    skip_image_spec_stage: bool = False
    # the published stages of the images it uses (fromImage, imports, dependencies), by image name
    related_stages: Mapping[str, StageDescription] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlannedImage:
    name: str
    platform: str
    config_type: str  # dockerfile | staged | stapel (werf's report ConfigType)
    final: bool
    stages: tuple[PlannedStage, ...]
    not_supported: str = ""  # why no digests could be computed yet (empty when stages are complete)
    recipe: DockerfileRecipe | None = None
    stapel: StapelRecipe | None = None
    content_digest: str = ""  # werf-stage-content-digest of the last stage (§1.2)

    @property
    def last_stage(self) -> PlannedStage | None:
        return self.stages[-1] if self.stages else None
