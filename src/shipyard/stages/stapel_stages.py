"""Which stages a Stapel image has (werf-internals §1.4c): werf's stage names, their order, and the rules
that create a stage from the config. Whether a created git patch stage is empty is decided at build time
(stapel.py).

werf: `pkg/build/stage/base.go` (AllStages), `pkg/build/image/stapel.go` (initStages),
`pkg/build/stage/{before_install,install,before_setup,setup}.go` (Generate*Stage: a builder checksum),
`pkg/build/stage/dependencies_*.go` + `dependencies.go` (getImports, getDependencies).
"""

from __future__ import annotations

from shipyard.config.model import Dependency, Import, StapelImage
from shipyard.stages.stapel_deps import builder_checksum

__all__ = [
    "BEFORE_INSTALL",
    "BEFORE_SETUP",
    "DEPENDENCIES_AFTER_INSTALL",
    "DEPENDENCIES_AFTER_SETUP",
    "DEPENDENCIES_BEFORE_INSTALL",
    "DEPENDENCIES_BEFORE_SETUP",
    "DOCKER_INSTRUCTIONS",
    "FROM",
    "GIT_ARCHIVE",
    "GIT_CACHE",
    "GIT_COMMIT_STAGES",
    "GIT_LATEST_PATCH",
    "IMAGE_SPEC",
    "IMPORT_POINTS",
    "INSTALL",
    "SETUP",
    "STAPEL_STAGE_ORDER",
    "USER_STAGES_WITH_GIT_PATCH",
    "stage_dependencies_of",
    "stage_imports_of",
    "stapel_stage_names",
]

FROM, BEFORE_INSTALL, DEPENDENCIES_BEFORE_INSTALL = "from", "beforeInstall", "dependenciesBeforeInstall"
GIT_ARCHIVE, INSTALL, DEPENDENCIES_AFTER_INSTALL = "gitArchive", "install", "dependenciesAfterInstall"
BEFORE_SETUP, DEPENDENCIES_BEFORE_SETUP, SETUP = "beforeSetup", "dependenciesBeforeSetup", "setup"
DEPENDENCIES_AFTER_SETUP, GIT_CACHE, GIT_LATEST_PATCH = "dependenciesAfterSetup", "gitCache", "gitLatestPatch"
DOCKER_INSTRUCTIONS, IMAGE_SPEC = "dockerInstructions", "imageSpec"

# pkg/build/stage/base.go AllStages (+ imageSpec, pkg/build/image/stapel.go initStages)
STAPEL_STAGE_ORDER = (
    FROM,
    BEFORE_INSTALL,
    DEPENDENCIES_BEFORE_INSTALL,
    GIT_ARCHIVE,
    INSTALL,
    DEPENDENCIES_AFTER_INSTALL,
    BEFORE_SETUP,
    DEPENDENCIES_BEFORE_SETUP,
    SETUP,
    DEPENDENCIES_AFTER_SETUP,
    GIT_CACHE,
    GIT_LATEST_PATCH,
    DOCKER_INSTRUCTIONS,
    IMAGE_SPEC,
)
USER_STAGES_WITH_GIT_PATCH = (INSTALL, BEFORE_SETUP, SETUP)
# Stages whose next-stage dependencies are their commits (§1.5) and that are selected by git ancestry.
GIT_COMMIT_STAGES = frozenset({GIT_ARCHIVE, *USER_STAGES_WITH_GIT_PATCH, GIT_CACHE, GIT_LATEST_PATCH})
# dependencies.go getImports/getDependencies: (`before` or `after`, user stage) per imports stage
IMPORT_POINTS = {
    DEPENDENCIES_BEFORE_INSTALL: ("before", "install"),
    DEPENDENCIES_AFTER_INSTALL: ("after", "install"),
    DEPENDENCIES_BEFORE_SETUP: ("before", "setup"),
    DEPENDENCIES_AFTER_SETUP: ("after", "setup"),
}


def stapel_stage_names(image: StapelImage, skip_image_spec_stage: bool = False) -> tuple[str, ...]:
    """The stages werf creates for this config (initStages); some may still turn out empty at build time."""
    has_git = bool(image.git)
    git_after_patch = not (image.disable_git_after_patch or image.is_artifact)  # artifacts never patch
    present = {
        FROM: True,
        GIT_ARCHIVE: has_git,
        GIT_CACHE: has_git and git_after_patch,
        GIT_LATEST_PATCH: has_git and git_after_patch,
        DOCKER_INSTRUCTIONS: image.docker is not None and git_after_patch,  # dropped by disableGitAfterPatch
        IMAGE_SPEC: image.image_spec is not None and not skip_image_spec_stage,
    }
    for name in (BEFORE_INSTALL, *USER_STAGES_WITH_GIT_PATCH):
        present[name] = builder_checksum(image.shell, name) != ""
    for name in IMPORT_POINTS:
        present[name] = bool(stage_imports_of(image, name) or stage_dependencies_of(image, name))
    return tuple(name for name in STAPEL_STAGE_ORDER if present[name])


def _at_import_point(before: str, after: str, stage_name: str) -> bool:
    side, user_stage = IMPORT_POINTS[stage_name]
    return (before if side == "before" else after) == user_stage


def stage_imports_of(image: StapelImage, stage_name: str) -> list[Import]:
    return [item for item in image.imports if _at_import_point(item.before, item.after, stage_name)]


def stage_dependencies_of(image: StapelImage, stage_name: str) -> list[Dependency]:
    return [dep for dep in image.dependencies if _at_import_point(dep.before, dep.after, stage_name)]
