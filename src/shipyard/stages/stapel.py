"""The Stapel stage plan (werf-internals §1.4c, §1.4.4, §1.5): which stages an image has, what each one
hashes, and how their digests chain. Pure: everything read from git or a registry comes in through
`GitFacts`, `ImageFacts` and `StapelInputs`.

Why step by step
----------------
A Stapel digest is not a function of the config and the work tree alone. The stage after a git stage
(gitArchive, install, beforeSetup, setup, gitCache, gitLatestPatch) hashes the commits that git stage was
*built at* (§1.5), read from the labels of the stage image actually selected, and reuse picks the oldest
stage whose commit is an ancestor of HEAD, maybe an older commit. gitCache and gitLatestPatch also decide
whether they exist, and what they hash, from the patch between that selected stage's commit and HEAD. So
stage N+1 can only be planned once stage N has been found in storage or built:

    plan = StapelPlan(image, inputs, git=git_facts, images=image_facts)
    stage = plan.first_stage()                      # always `from`
    while stage is not None:
        labels = find_in_storage(stage)  # by stage.digest and stage.selection (oldest | ancestry)
        selected = plan.found(stage, labels) if labels is not None else plan.built(stage)  # built it
        stage = plan.next_stage(selected)  # the next NON-empty stage, or None after the last one

An empty stage is never returned: `next_stage` skips it and chains the following stage to `selected`, the
previous non-empty one, exactly like werf's stages iterator. `stages_for_fresh_build()` runs the loop as if
nothing were in storage (every stage built now at the latest commits): the plan a clean build produces.

What the caller provides
------------------------
* `StapelInputs`: meta `build.cacheVersion`, the normalised target platform, the content digest of the base
  image when `from` names a werf image (that image is planned first), the base image's repo id for
  `fromLatest`, and `--skip-image-spec-stage`.
* `GitFacts` (stapel_git.py) when the image has git mappings: latest commits, commit existence, per-glob
  ls-tree checksums for stageDependencies, patch sizes and patch texts from a commit to the latest one.
* `ImageFacts` when the image has imports or dependencies: each import's source checksum (§1.4.4, from the
  import-metadata record or computed) and each dependency's last stage image name `REPO:DIGEST-TS`.
* For each selected stage, the labels of its image (`found`), or nothing if it was just built (`built`).
  When building, set `PlannedStapelStage.labels` (git commits) and `content_digest`; gitArchive also needs
  `werf-git-<hash>-type` (file|directory), which depends on the tree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Protocol

from shipyard.config.model import FrozenMap, GitMapping, Import, StapelImage
from shipyard.errors import ConfigError, GitError
from shipyard.stages.digest import StageDigest, content_digest, stage_digest
from shipyard.stages.model import PlannedStage
from shipyard.stages.stapel_deps import (
    Dependencies,
    builder_checksum,
    dependencies_stage_dependencies,
    from_dependencies,
    git_archive_dependencies,
    git_cache_dependencies,
    git_latest_patch_dependencies,
    shell_checksum_args,
    user_stage_dependencies,
)
from shipyard.stages.stapel_git import (
    PATCH_SIZE_STEP,
    GitFacts,
    commit_label,
    commits_dependency,
    ordered_mappings,
    stage_dependencies_checksum,
    stage_dependency_globs,
    virtual_merge_label,
)
from shipyard.stages.stapel_spec import docker_instructions_dependencies, image_spec_dependencies
from shipyard.stages.stapel_stages import (
    BEFORE_INSTALL,
    DOCKER_INSTRUCTIONS,
    FROM,
    GIT_ARCHIVE,
    GIT_CACHE,
    GIT_COMMIT_STAGES,
    GIT_LATEST_PATCH,
    IMAGE_SPEC,
    IMPORT_POINTS,
    USER_STAGES_WITH_GIT_PATCH,
    stage_dependencies_of,
    stage_imports_of,
    stapel_stage_names,
)

__all__ = ["ImageFacts", "PlannedStapelStage", "SelectedStage", "StapelInputs", "StapelPlan"]

_FOREIGN_STAGE_HINT = "the stage image was not built by werf or shipyard; remove it from the storage"


@dataclass(frozen=True)
class StapelInputs:
    """The plain values a Stapel plan needs besides the image config."""

    meta_cache_version: str = ""  # meta build.cacheVersion; the image's own cacheVersion wins (§1.3)
    target_platform: str = ""  # normalised; "" and linux/amd64 stay out of digests
    base_image_content_digest: str | None = None  # `from` names a werf image: its content digest (§1.2)
    base_image_repo_id: str = ""  # fromLatest: the base image's id in its registry
    skip_image_spec_stage: bool = False  # --skip-image-spec-stage


class ImageFacts(Protocol):
    """What the imports/dependencies stages need from other images' builds and the storage."""

    def import_checksum(self, item: Import) -> str:
        """The import's source checksum (§1.4.4): the import-metadata record's, else computed and stored."""
        ...

    def dependency_stage_image_name(self, image_name: str) -> str:
        """`REPO:DIGEST-TS` of the last stage of the dependency image, for this plan's platform."""
        ...


@dataclass(frozen=True)
class PlannedStapelStage:
    """One non-empty stage: its digest (with every input) and what building it requires."""

    name: str  # werf's stage name (`dependenciesAfterInstall`); the digest hashes the legacy name
    position: int  # index in `StapelPlan.stage_names`
    deps: str  # the stage's GetDependencies value (what `digest.dependencies` hash to)
    digest: StageDigest
    content_digest: StageDigest  # the werf-stage-content-digest label if this stage is built now
    selection: str  # "ancestry" (oldest candidate whose commits are ancestors of HEAD) or "oldest"
    git_patch_from: tuple[str, ...] | None  # building applies the patch from these commits to the latest
    labels: FrozenMap[str] = field(default_factory=FrozenMap)  # git labels to set when building it
    base: SelectedStage | None = field(default=None, compare=False, repr=False)  # the previous stage

    @property
    def base_commits(self) -> tuple[str, ...] | None:
        """Per git mapping: the commits of the previous selected stage (None: unknown)."""
        return None if self.base is None else self.base.commits

    def as_planned_stage(self) -> PlannedStage:
        origins = zip(self.digest.dependencies, self.digest.dependency_origins, strict=True)
        return PlannedStage(
            self.name,
            self.digest.digest,
            self.digest.args,
            tuple(f"{value!r}  <- {origin}" for value, origin in origins),
        )


class SelectedStage:
    """A planned stage once found in storage or built: the commits its image is at, per git mapping.

    `commits` is None when the image carries no git labels (stages before gitArchive). A stage that is not
    a git stage reads them only when a later stage asks: a reused `from` or imports stage then costs no
    config read from the registry."""

    def __init__(self, stage: PlannedStapelStage,
                 commits: tuple[str, ...] | Callable[[], tuple[str, ...] | None] | None) -> None:
        self.stage = stage
        self._commits = commits

    @cached_property
    def commits(self) -> tuple[str, ...] | None:
        return self._commits() if callable(self._commits) else self._commits


class StapelPlan:
    """The stages of one Stapel image for one platform, planned one at a time (see the module docstring)."""

    def __init__(
        self,
        image: StapelImage,
        inputs: StapelInputs,
        git: GitFacts | None = None,
        images: ImageFacts | None = None,
    ) -> None:
        if image.ansible is not None:
            raise ConfigError(
                f"image {image.name!r}: the ansible builder is not supported",
                hint="werf runs ansible with its Docker backend only; describe the stages with `shell:`",
            )
        self.image = image
        self.inputs = inputs
        self.mappings = ordered_mappings(image)
        self.stage_names = stapel_stage_names(image, inputs.skip_image_spec_stage)
        self._git = git
        self._images = images

    # --- the step-wise API ------------------------------------------------------------------------------

    def first_stage(self) -> PlannedStapelStage:
        """The `from` stage (never empty)."""
        stage = self._plan(0, None)
        assert stage is not None
        return stage

    def next_stage(self, prev: SelectedStage) -> PlannedStapelStage | None:
        """The next non-empty stage after `prev` (the last non-empty one, found or built); None at the end."""
        for position in range(prev.stage.position + 1, len(self.stage_names)):
            if (stage := self._plan(position, prev)) is not None:
                return stage
        return None

    def found(self, stage: PlannedStapelStage, labels: Mapping[str, str]) -> SelectedStage:
        """`stage` was selected in storage; `labels` are its image's (the git commits it was built at)."""
        if not self.mappings:
            return SelectedStage(stage, ())

        def labelled_commits() -> tuple[str, ...] | None:
            commits = tuple(labels.get(commit_label(mapping), "") for mapping in self.mappings)
            if all(commits):
                return commits
            if stage.name in GIT_COMMIT_STAGES:
                missing = commit_label(self.mappings[commits.index("")])
                raise GitError(
                    f"invalid stage image {stage.digest.digest} ({stage.name}): no label {missing!r}",
                    hint=_FOREIGN_STAGE_HINT,
                )
            return None

        if stage.name in GIT_COMMIT_STAGES:
            return SelectedStage(stage, labelled_commits())  # the next digest needs them: check them now
        return SelectedStage(stage, labelled_commits)

    def built(self, stage: PlannedStapelStage) -> SelectedStage:
        """`stage` was just built (or would be): git stages are then at the latest commits, others inherit."""
        if stage.name in GIT_COMMIT_STAGES:
            return SelectedStage(stage, self.latest_commits)
        if not self.mappings:
            return SelectedStage(stage, ())
        return SelectedStage(stage, lambda: stage.base_commits)  # inherited labels, read only if needed

    def stages_for_fresh_build(self) -> list[PlannedStapelStage]:
        """Every non-empty stage when nothing is in storage (each built now, at the latest commits)."""
        stages = [self.first_stage()]
        while (stage := self.next_stage(self.built(stages[-1]))) is not None:
            stages.append(stage)
        return stages

    @cached_property
    def latest_commits(self) -> tuple[str, ...]:
        """Per mapping (local first, then remote): the commit werf builds from now."""
        if not self.mappings:
            return ()
        return tuple(self._git_facts().latest_commit(mapping) for mapping in self.mappings)

    # --- one stage ---------------------------------------------------------------------------------------

    def _plan(self, position: int, prev: SelectedStage | None) -> PlannedStapelStage | None:
        """§1.1 chained to the previous non-empty stage; None when the stage is empty (werf IsEmpty)."""
        name = self.stage_names[position]
        # the previous stage's commits: where a patch starts (user and patch stages), what gitCache and
        # gitLatestPatch hash; gitArchive needs none, so a reused stage before it costs no label read
        needs_base = name in GIT_COMMIT_STAGES and name != GIT_ARCHIVE and self.mappings
        base = prev.commits if prev is not None and needs_base else None
        deps = self._dependencies(name, base)
        if deps is None:
            return None
        platform = self.inputs.target_platform
        digest = stage_digest(
            name,
            deps.value,
            platform,
            prev_digest=None if prev is None else prev.stage.digest.digest,
            prev_next_stage_deps="" if prev is None else self._next_stage_dependencies(prev),
        )
        return PlannedStapelStage(
            name=name,
            position=position,
            deps=deps.value,
            digest=replace(digest, dependencies=deps.args, dependency_origins=deps.origins),
            content_digest=content_digest(
                name, digest.digest, self._next_stage_dependencies_once_built(name), platform
            ),
            selection="ancestry" if name in GIT_COMMIT_STAGES and self.mappings else "oldest",
            git_patch_from=self._git_patch_from(name, base),
            labels=self._labels_once_built(name),
            base=prev,
        )

    def _dependencies(self, name: str, base: tuple[str, ...] | None) -> Dependencies | None:
        image = self.image
        if name in USER_STAGES_WITH_GIT_PATCH:
            return self._user_stage(name)
        if name in IMPORT_POINTS:
            return self._imports(name)
        if name == GIT_CACHE:
            return self._git_cache(self._required(base, name))
        if name == GIT_LATEST_PATCH:
            return self._git_latest_patch(self._required(base, name))
        if name == FROM:
            return from_dependencies(
                image,
                image.cache_version or self.inputs.meta_cache_version,
                self.inputs.base_image_content_digest,
                self.inputs.base_image_repo_id,
            )
        if name == BEFORE_INSTALL:
            return shell_checksum_args(image.shell, name)  # before_install.go: the builder checksum itself
        if name == GIT_ARCHIVE:
            return git_archive_dependencies(self.mappings)
        if name == DOCKER_INSTRUCTIONS and image.docker is not None:
            return docker_instructions_dependencies(image.docker)
        assert name == IMAGE_SPEC and image.image_spec is not None, name
        return image_spec_dependencies(image.image_spec)

    def _next_stage_dependencies(self, prev: SelectedStage) -> str:
        """base.go getNextStageGitDependencies for git stages (the commits of the selected image), else ""."""
        if prev.stage.name not in GIT_COMMIT_STAGES:
            return ""
        return commits_dependency(self._required(prev.commits, prev.stage.name) if self.mappings else ())

    def _next_stage_dependencies_once_built(self, name: str) -> str:
        return commits_dependency(self.latest_commits) if name in GIT_COMMIT_STAGES else ""

    def _git_patch_from(self, name: str, base: tuple[str, ...] | None) -> tuple[str, ...] | None:
        """The commits a patch starts from when building: user stages and the patch stages (GitPatchStage)."""
        if name not in GIT_COMMIT_STAGES or name == GIT_ARCHIVE or not self.mappings:
            return None
        commits = self._required(base, name)
        return None if commits == self.latest_commits else commits

    def _labels_once_built(self, name: str) -> FrozenMap[str]:
        """AddGitCommitToImageLabels: a built git stage is at the latest commit of every mapping."""
        if name not in GIT_COMMIT_STAGES:
            return FrozenMap()
        labels: dict[str, str] = {}
        for mapping, commit in zip(self.mappings, self.latest_commits, strict=True):
            labels[commit_label(mapping)] = commit
            labels[virtual_merge_label(mapping)] = "false"
        return FrozenMap(labels)

    # --- the stages that read git or other images --------------------------------------------------------

    def _user_stage(self, name: str) -> Dependencies:
        checksums = [(mapping, self._stage_dependencies_checksum(mapping, name)) for mapping in self.mappings]
        return user_stage_dependencies(name, builder_checksum(self.image.shell, name), checksums)

    def _stage_dependencies_checksum(self, mapping: GitMapping, name: str) -> str:
        globs = stage_dependency_globs(mapping, name)
        per_glob = (self._git_facts().stage_dependency_checksum(mapping, glob) for glob in globs)
        return stage_dependencies_checksum(globs, per_glob)

    def _imports(self, name: str) -> Dependencies:
        facts = self._image_facts()
        imports = [(item, facts.import_checksum(item)) for item in stage_imports_of(self.image, name)]
        dependencies = [
            (dependency, facts.dependency_stage_image_name(dependency.image))
            for dependency in stage_dependencies_of(self.image, name)
        ]
        return dependencies_stage_dependencies(imports, dependencies)

    def _git_cache(self, base: tuple[str, ...]) -> Dependencies | None:
        """Empty when the previous stage is at the latest commits or the patch is under 1 MiB."""
        if base == self.latest_commits:
            return None
        size = self._patch_size(base)
        return None if size < PATCH_SIZE_STEP else git_cache_dependencies(size, PATCH_SIZE_STEP)

    def _patch_size(self, base: tuple[str, ...]) -> int:
        git, total = self._git_facts(), 0
        for mapping, commit, latest in zip(self.mappings, base, self.latest_commits, strict=True):
            if not git.has_commit(mapping, commit):
                return 0  # git_cache.go: a base commit that left the repository makes the whole size 0
            if commit != latest:
                total += git.patch_size(mapping, commit)
        return total

    def _git_latest_patch(self, base: tuple[str, ...]) -> Dependencies | None:
        """Empty when the previous stage is at the latest commits or no mapping's patch changes anything."""
        if base == self.latest_commits:
            return None
        patches = [
            (mapping, self._patch_text(mapping, commit, latest))
            for mapping, commit, latest in zip(self.mappings, base, self.latest_commits, strict=True)
        ]
        return git_latest_patch_dependencies(patches) if any(text for _, text in patches) else None

    def _patch_text(self, mapping: GitMapping, commit: str, latest: str) -> str:
        if not self._git_facts().has_commit(mapping, commit):
            raise GitError(
                f"commit {commit!r} is not in the repository of git mapping {mapping.add} → {mapping.to}",
                hint="the previous stage was built from a commit that was rewritten or not fetched",
            )
        return "" if commit == latest else self._git_facts().patch_text(mapping, commit)

    def _required(self, commits: tuple[str, ...] | None, name: str) -> tuple[str, ...]:
        if commits is None:
            raise GitError(
                f"stage {name} of image {self.image.name!r} needs the git commits of the previous stage, "
                "whose image has no werf-git-*-commit labels",
                hint=_FOREIGN_STAGE_HINT,
            )
        return commits

    def _git_facts(self) -> GitFacts:
        if self._git is None:
            raise ValueError(f"image {self.image.name!r} has git mappings: StapelPlan needs GitFacts")
        return self._git

    def _image_facts(self) -> ImageFacts:
        if self._images is None:
            raise ValueError(f"image {self.image.name!r} imports from images: StapelPlan needs ImageFacts")
        return self._images
