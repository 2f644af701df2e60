"""Building one Stapel image: its stages one at a time, each found in the stages storage or built in a
buildah working container on top of the previous one and published under its own stage lock.

The digests come from the pure step-wise plan (stages/stapel.py): stage N+1 is planned only once stage N is
selected, because a stage after a git stage hashes the commits the *selected* image was built at (§1.5).
What a stage does to its container is in stapel_stage_work.py.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.backends.base import LogLine, RegistryAccess
from shipyard.backends.buildah_stapel import SCRATCH, BuildahStapel
from shipyard.backends.process import BackendError
from shipyard.errors import ShipyardError
from shipyard.gitmappings import MappingGit
from shipyard.opstats import Operation, StageCacheEvent
from shipyard.stages.model import PlannedImage, PlannedStage, StapelRecipe
from shipyard.stages.stapel import ImageFacts, PlannedStapelStage, SelectedStage, StapelInputs, StapelPlan
from shipyard.stages.stapel_git import commit_label, params_hash, virtual_merge_label
from shipyard.stapel_facts import RelatedImages
from shipyard.stapel_stage_work import StageWork
from shipyard.storage.base import StagesStorage, StageUnavailableError
from shipyard.storage.description import StageDescription
from shipyard.storage.selection import StageSelector

if TYPE_CHECKING:
    from shipyard.build import Conveyor, ImageOutcome, StageOutcome


# what a pull of a stage whose image is gone says (distribution error codes, HTTP 404)
_MISSING_IN_REGISTRY = ("manifest unknown", "blob unknown", "not found", "404")


@dataclass(frozen=True)
class StapelServices:
    """What Stapel builds need besides the conveyor: containers, git, and where mounts live."""

    containers: BuildahStapel
    git: MappingGit
    home: Path  # $SHIPYARD_HOME: build_dir mounts
    project_dir: Path  # relative `fromPath` mounts and secret files
    ssh_socket: Path | None = None  # the builds' SSH agent, mounted for shell commands
    commit_env: Mapping[str, str] = field(default_factory=dict)  # WERF_COMMIT_* for shell commands
    skip_image_spec_stage: bool = False
    # fromLatest: (reference, platform, access) → the image's ID in its registry
    remote_image_id: Callable[[str, str, RegistryAccess], str] | None = None


def commit_env(commit: str, commit_time_unix: int) -> dict[str, str]:
    """WERF_COMMIT_HASH / _TIME_HUMAN (Go's time.String in UTC) / _TIME_UNIX for shell commands."""
    when = datetime.datetime.fromtimestamp(commit_time_unix, tz=datetime.UTC)
    return {
        "WERF_COMMIT_HASH": commit,
        "WERF_COMMIT_TIME_HUMAN": when.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"),
        "WERF_COMMIT_TIME_UNIX": str(commit_time_unix),
    }


UNEXPECTED_STORAGE_ATTEMPTS = 4  # werf's conveyor retry when a selected stage turns out unavailable


def build_stapel_image(conveyor: Conveyor, services: StapelServices, image: PlannedImage) -> ImageOutcome:
    """Build one Stapel image; when a selected stage turns out unavailable it is rejected and the image is
    built again (werf RetryOnUnexpectedStagesStorageState: 4 attempts, 2 s doubling up to 10 s)."""
    for attempt in range(1, UNEXPECTED_STORAGE_ATTEMPTS + 1):
        try:
            return StapelImageBuild(conveyor, services, image).run()
        except StageUnavailableError as error:
            if attempt == UNEXPECTED_STORAGE_ATTEMPTS:
                raise
            delay = min(2.0 * 2 ** (attempt - 1), 10.0)
            retry = f"attempt {attempt + 1}/{UNEXPECTED_STORAGE_ATTEMPTS}"
            conveyor.events.warning(image, f"{error.message}; it is rejected, building the image again in "
                                           f"{delay:.0f}s ({retry})")
            time.sleep(delay)
    raise AssertionError("unreachable")


class StapelImageBuild:
    """One Stapel image on one platform; `run` returns its outcome (the last stage and every stage)."""

    def __init__(self, conveyor: Conveyor, services: StapelServices, image: PlannedImage) -> None:
        assert image.stapel is not None
        self._conveyor = conveyor
        self._services = services
        self._image = image
        self._recipe: StapelRecipe = image.stapel
        self._related = RelatedImages(conveyor, services, image)
        self._base_repo_id = self._remote_base_id() if self._recipe.image.from_latest else ""
        self._plan = stapel_plan(image, services.git, self._related, services.skip_image_spec_stage,
                                 self._base_repo_id)
        self._planned: list[PlannedStage] = []
        self._outcomes: list[StageOutcome] = []

    def _base_access(self) -> RegistryAccess:
        settings = self._conveyor.settings
        if self._recipe.base_is_stage:
            return settings.registry_access
        return settings.pull_access([self._recipe.base_reference])

    def _remote_base_id(self) -> str:
        """fromLatest: the base's current ID in its registry is part of the `from` digest (werf)."""
        if self._services.remote_image_id is None:
            raise ShipyardError("fromLatest needs a registry client", hint="report this as a bug")
        return self._services.remote_image_id(self._recipe.base_reference, self._image.platform,
                                              self._base_access())

    def run(self) -> ImageOutcome:
        from shipyard.build import ImageOutcome, StageOutcome

        started = time.monotonic()
        rebuilt, pulled = False, False
        previous: StageDescription | None = None
        with self._conveyor.build_log(self._image) as (log, log_path):
            try:
                stage: PlannedStapelStage | None = self._plan.first_stage()
                while stage is not None:
                    self._planned.append(stage.as_planned_stage())
                    stage_started = time.monotonic()
                    description, selected, built, base_pulled = self._find_or_build(stage, previous, log)
                    rebuilt, pulled = rebuilt or built, pulled or base_pulled
                    source = _source_type(built, base_pulled, previous)
                    self._outcomes.append(StageOutcome(stage.name, description, built,
                                                       time.monotonic() - stage_started, source, base_pulled))
                    previous = description
                    stage = self._plan.next_stage(selected)
            except ShipyardError as error:
                where = f", stage {self._planned[-1].name}" if self._planned else ""
                error.message = f"image {self._image.name!r}{where}: {error.message}"
                if log_path is not None:
                    error.hint = f"{error.hint or 'see the output above'}\n  full build log: {log_path}"
                raise
        assert previous is not None
        image = replace(self._image, stages=tuple(self._planned), content_digest=previous.content_digest)
        return ImageOutcome(image, previous, rebuilt=rebuilt, build_seconds=time.monotonic() - started,
                            source_type="registry" if pulled else "", base_image_pulled=pulled,
                            stage_outcomes=tuple(self._outcomes))

    # --- one stage --------------------------------------------------------------------------------------

    def _view(self) -> PlannedImage:
        """The image as the events show it: its stages so far, the current one last."""
        return replace(self._image, stages=tuple(self._planned))

    def _find_or_build(self, stage: PlannedStapelStage, previous: StageDescription | None,
                       log: LogLine) -> tuple[StageDescription, SelectedStage, bool, bool]:
        """(selected description, what the plan learns from it, built now, a base image was pulled)."""
        conveyor = self._conveyor
        digest = stage.digest.digest
        parent_ts = previous.stage_id.timestamp_ms if previous is not None else 0
        select = ancestry_selector(self._plan, self._services.git) if stage.selection == "ancestry" else None
        started = time.monotonic()
        with conveyor.keyed_lock(f"digest:{digest}"):
            with conveyor.trace.span(f"lookup {self._image.name}/{stage.name}", "lookup", digest=digest):
                found = conveyor.storage.find_stage(digest, parent_ts, select=select)
            if found is not None:
                conveyor.stats.count_event(conveyor.found_event())
                conveyor.events.reused(self._view(), found, time.monotonic() - started)
                return found, self._plan.found(stage, found.labels), False, False
            if conveyor.settings.require_built_images:
                raise ShipyardError(
                    f"stage {stage.name} ({digest}) is not in {conveyor.storage.address}",
                    hint="--require-built-images forbids building; run the build without it first")
            conveyor.events.building(self._view(), digest)
            image_id, pulled = self._build(stage, previous, log)
            published, adopted = conveyor.publish_stage(self._view(), digest, image_id, parent_ts, select)
            seconds = time.monotonic() - started
            if adopted:
                conveyor.stats.count_event(conveyor.found_event())
                conveyor.events.discarded(self._view(), published)
                return published, self._plan.found(stage, published.labels), False, pulled
            conveyor.stats.count_event(StageCacheEvent.BUILT)
            conveyor.events.built(self._view(), published, seconds)
            return published, self._plan.built(stage), True, pulled

    def _fetch_previous(self, previous: StageDescription) -> bool:
        """Pull the stage to build on. One whose image is gone from the registry (blobs deleted behind our
        back) is rejected, and the image is built again (§4.2.7): the conveyor retries it."""
        conveyor = self._conveyor
        try:
            return conveyor.ensure_local(previous.image_name, conveyor.settings.registry_access)
        except BackendError as error:
            text = "\n".join((error.message, *error.output_tail)).lower()
            if not any(sign in text for sign in _MISSING_IN_REGISTRY):
                raise
            conveyor.storage.reject_stage(previous.stage_id)
            raise StageUnavailableError(previous.image_name, "its image cannot be pulled from the registry "
                                                             "(manifest or layers missing)") from None

    def _build(self, stage: PlannedStapelStage, previous: StageDescription | None,
               log: LogLine) -> tuple[str, bool]:
        """Build `stage` on the previous stage (or the base image); returns the image ID, whether pulled."""
        conveyor, containers = self._conveyor, self._services.containers
        if previous is not None:
            base = previous.image_name
            pulled = self._fetch_previous(previous)
        elif self._recipe.base_reference in ("", SCRATCH):
            base, pulled = SCRATCH, False
        else:
            base = self._recipe.base_reference
            pulled = conveyor.ensure_local(base, self._base_access(), self._base_repo_id)
        labels = {
            **conveyor.service_labels(replace(self._image, content_digest=stage.content_digest.digest)),
            **stage.labels,
        }
        if previous is not None:
            labels["werf.io/parent-stage-id"] = previous.stage_id.tag
            labels["werf.io/base-image-id"] = previous.image_id
        elif self._recipe.base_is_stage:
            base_stage = self._related.base_stage()
            labels["werf.io/parent-stage-id"] = base_stage.stage_id.tag
            labels["werf.io/base-image-id"] = base_stage.image_id
        view = self._view()

        def stage_log(line: str) -> None:  # the build log file, and the user's terminal
            log(line)
            conveyor.events.command_output(view, line)

        work = StageWork(self._services, self._recipe.image, self._plan, self._related, stage_log,
                         project=conveyor.settings.project, workspace=conveyor.settings.workspace,
                         inherited_labels=previous.labels if previous is not None else {},
                         stats=conveyor.stats)
        building = conveyor.trace.span(f"build {self._image.name}/{stage.name}", "build")
        with (conveyor.stats.observe(Operation.IMAGE_BUILD), building,
              containers.working_container(base) as container):
            commit = work.apply(container, stage, labels)
            image_id = containers.commit(container, commit.final_labels(labels),
                                         omit_history=commit.omit_history)
            return image_id, pulled


def _source_type(built: bool, pulled: bool, previous: StageDescription | None) -> str:
    """werf's SourceType of a stage: "" when reused or nothing was fetched; for a built stage, "registry"
    when its base image was pulled, "repo" when the previous stage was fetched from the stages storage."""
    if not built or not pulled:
        return ""
    return "repo" if previous is not None else "registry"


def stapel_plan(image: PlannedImage, git: MappingGit, related: ImageFacts | None,
                skip_image_spec_stage: bool, base_image_repo_id: str = "") -> StapelPlan:
    recipe = image.stapel
    assert recipe is not None
    inputs = StapelInputs(
        meta_cache_version=recipe.meta_cache_version,
        target_platform=image.platform if image.platform != "linux/amd64" else "",
        base_image_content_digest=recipe.base_image_content_digest,
        base_image_repo_id=base_image_repo_id,
        skip_image_spec_stage=skip_image_spec_stage or recipe.skip_image_spec_stage,
    )
    return StapelPlan(recipe.image, inputs, git=git if recipe.image.git else None, images=related)


def ancestry_selector(plan: StapelPlan, git: MappingGit) -> StageSelector:
    """§1.5 selectAncestorStageDescByGitMappings: the oldest candidate whose commit of every mapping is in
    the repository and an ancestor of (or equal to) the commit building now."""
    mappings = plan.mappings

    def select(candidates: Sequence[StageDescription]) -> StageDescription | None:
        for candidate in sorted(candidates, key=lambda item: item.stage_id.timestamp_ms):
            labels = candidate.labels
            commits = []
            for mapping in mappings:
                commit = labels.get(commit_label(mapping), "")
                if labels.get(virtual_merge_label(mapping)) == "true":
                    commit = labels.get(f"werf-git-{params_hash(mapping)}-virtual-merge-from-commit", "")
                commits.append(commit)
            if all(commit and git.is_ancestor(mapping, commit)
                   for mapping, commit in zip(mappings, commits, strict=True)):
                return candidate
        return None

    return select


def plan_with_storage(image: PlannedImage, storage: StagesStorage, git: MappingGit, *,
                      facts: ImageFacts | None = None, skip_image_spec_stage: bool = False,
                      base_image_repo_id: str = "") -> StoragePlan:
    """For `plan`: the stages a build would use, found in `storage` while they are there and planned as
    fresh builds after the first missing one. `facts` answers for imports and dependencies from what is
    stored; an import whose checksum was never recorded ends the plan there (the build computes it)."""
    from shipyard.stapel_facts import ChecksumNotRecorded

    plan = stapel_plan(image, git, facts, skip_image_spec_stage, base_image_repo_id)
    stages: list[PlannedStage] = []
    found_stages: dict[str, StageDescription] = {}
    previous: StageDescription | None = None
    stored = True
    try:
        stage: PlannedStapelStage | None = plan.first_stage()
        while stage is not None:
            stages.append(stage.as_planned_stage())
            found = None
            if stored:
                select = ancestry_selector(plan, git) if stage.selection == "ancestry" else None
                parent_ts = previous.stage_id.timestamp_ms if previous is not None else 0
                found = storage.find_stage(stage.digest.digest, parent_ts, select=select)
            if found is None:
                stored = False
                selected = plan.built(stage)
            else:
                previous, selected = found, plan.found(stage, found.labels)
                found_stages[stage.name] = found
            stage = plan.next_stage(selected)
    except ChecksumNotRecorded as missing:
        reason = f"the checksum of an import from {missing.args[0]} is computed by the build"
        return StoragePlan(replace(image, stages=tuple(stages), not_supported=reason), None, {},
                           frozenset(found_stages))
    last = previous if stored else None
    return StoragePlan(replace(image, stages=tuple(stages)), last, found_stages if stored else {},
                       frozenset(found_stages))


@dataclass(frozen=True)
class StoragePlan:
    image: PlannedImage  # with the stages a build would use
    stored: StageDescription | None  # the last stage when every stage is stored
    stages: Mapping[str, StageDescription]  # every stage by name when all are stored (for `stage:` imports)
    found: frozenset[str] = frozenset()  # the stages found in the storage (those before the first missing)
