"""The conveyor: per planned image, find its stage in the storage or build it, then publish under a lock.

werf-internals §4.2: reuse the oldest suitable stage without touching its layers; otherwise build outside the
lock, take `<project>.<digest>`, re-list without cache, adopt a stage another builder published meanwhile or
publish ours as `DIGEST-TIMESTAMP_MS`, release. The adapters come in from app.py.
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard import __version__
from shipyard.backends.base import ContainerBackend, DockerfileBuild, RegistryAccess
from shipyard.build_secrets import prepared_secrets
from shipyard.errors import ShipyardError, UsageError
from shipyard.locks.base import Locker, stage_lock_name
from shipyard.opstats import Operation, OperationStatsCollector, StageCacheEvent
from shipyard.report import ImageRecord, StageRecord
from shipyard.schedule import GraphRun, TaskFailed
from shipyard.slug import docker_tag
from shipyard.stages.model import DockerfileRecipe, PlannedImage
from shipyard.storage.base import StagesStorage
from shipyard.storage.description import StageDescription
from shipyard.storage.selection import StageSelector
from shipyard.storage.stage_id import StageID, new_timestamp_ms
from shipyard.tagging import render_custom_tag
from shipyard.trace import Tracer

if TYPE_CHECKING:
    from shipyard.stapel_build import StapelServices

# Writes the build context of a recipe into a directory; returns (context dir, Dockerfile path).
ContextWriter = Callable[[DockerfileRecipe, Path], tuple[Path, Path]]
# Plans one image for one platform once the stages of the images it depends on are known.
PlanImage = Callable[[str, str, Mapping[str, StageDescription]], PlannedImage]
TaskKey = tuple[str, str]  # (image name, platform)


class BuildEvents:
    """What the conveyor reports while it works; output.py provides the terminal implementation."""

    def reused(self, image: PlannedImage, stage: StageDescription, seconds: float) -> None: ...

    def building(self, image: PlannedImage, digest: str) -> None: ...

    def built(self, image: PlannedImage, stage: StageDescription, seconds: float) -> None: ...

    def discarded(self, image: PlannedImage, stage: StageDescription) -> None: ...

    def waiting_for_lock(self, image: PlannedImage, lock_name: str) -> None: ...

    def failed(self, image: PlannedImage, error: Exception) -> None: ...

    def log(self, image: PlannedImage, line: str) -> None: ...

    def warning(self, image: PlannedImage, message: str) -> None: ...

    def command_output(self, image: PlannedImage, line: str) -> None:
        """A line printed by the user's own commands (Stapel shell stages): users expect to see it."""


@dataclass(frozen=True)
class BuildSettings:
    project: str
    commit: str
    registry_access: RegistryAccess
    custom_tags: tuple[str, ...] = ()
    require_built_images: bool = False
    workspace: Path | None = None  # where build contexts are written (a temp dir when None)
    log_dir: Path | None = None  # each image's whole backend output is kept here, named on failure
    project_dir: Path = Path()  # where werf.yaml is: relative secret `src` paths start there
    ssh_socket: Path | None = None  # the builds' SSH agent (ssh_agent.py), None without one
    # how the backend pulls the FROM images of one build (plain HTTP for loopback registries, …)
    pull_access: Callable[[Sequence[str]], RegistryAccess] = lambda _: RegistryAccess()


@dataclass(frozen=True)
class StageOutcome:
    """One stage of an image as the report lists it (werf's StageRecord)."""

    name: str
    stage: StageDescription
    rebuilt: bool
    build_seconds: float
    source_type: str = ""
    base_image_pulled: bool = False


@dataclass(frozen=True)
class ImageOutcome:
    image: PlannedImage
    stage: StageDescription
    rebuilt: bool
    build_seconds: float  # whole image: lookup + build + publish
    source_type: str  # werf's SourceType: "registry" when the base was pulled for this build, else ""
    base_image_pulled: bool = False
    stage_outcomes: tuple[StageOutcome, ...] = ()  # Stapel: every stage, in order (else the last only)

    @property
    def stages_by_name(self) -> dict[str, StageDescription]:
        """Every stage of the image by werf stage name, in build order (imports with `stage:` read them)."""
        if not self.stage_outcomes:
            return {self.image.stages[-1].name: self.stage}
        return {item.name: item.stage for item in self.stage_outcomes}


class Conveyor:
    def __init__(self, settings: BuildSettings, *, storage: StagesStorage, backend: ContainerBackend,
                 locker: Locker, write_context: ContextWriter, events: BuildEvents, local: bool,
                 on_interrupt: Callable[[], None] = lambda: None, tracer: Tracer | None = None) -> None:
        self._settings = settings
        self._storage = storage
        self._backend = backend
        self._locker = locker
        self._write_context = write_context
        self._events = events
        self._local = local
        self._on_interrupt = on_interrupt  # stops the backend's running commands (Ctrl-C)
        self._trace = tracer or Tracer(enabled=False)
        self.stats = OperationStatsCollector()  # the report's Operations and StageCache
        self._keyed_locks: dict[str, threading.Lock] = {}
        self._keyed_locks_guard = threading.Lock()
        self._bases_present: set[str] = set()
        self._stages_of: dict[TaskKey, Mapping[str, StageDescription]] = {}  # every stage of each built image
        self.stapel: StapelServices | None = None  # set by app_build when the backend can build Stapel stages

    def build(self, tasks: Sequence[TaskKey], dependencies: Mapping[str, set[str]], plan_image: PlanImage,
              *, limit: int) -> list[ImageOutcome]:
        """Build every (image, platform) task, each as soon as the images it depends on are published."""
        graph = task_graph(tasks, dependencies)
        outcomes: dict[TaskKey, ImageOutcome] = {}

        def work(key: TaskKey) -> ImageOutcome:
            stages = {name: outcomes[(name, platform)].stage for name, platform in graph[key]}
            with self._trace.span(f"plan {key[0]}", "plan", platform=key[1]):
                image = plan_image(key[0], key[1], stages)
            refuse_unsupported(image)
            try:
                outcome = self._build_stapel(image) if image.stapel is not None else self._build_image(image)
                self._publish_records(outcome)
            except Exception as error:
                self._events.failed(image, error)  # several images may fail; each is reported as it happens
                raise
            outcomes[key] = outcome  # read only by tasks that start after this one is done
            self._stages_of[key] = outcome.stages_by_name
            return outcome

        try:
            done = GraphRun(tasks, graph, work, limit=limit, on_interrupt=self._on_interrupt).run()
        except TaskFailed as failed:
            error = failed.error
            if failed.others and isinstance(error, ShipyardError):
                error.message += f" (and {failed.others} more image(s) failed, see above)"
            raise error from None
        return [done[key] for key in tasks]

    # --- what the Stapel builder shares with Dockerfile builds ---------------------------------------------

    @property
    def settings(self) -> BuildSettings:
        return self._settings

    @property
    def storage(self) -> StagesStorage:
        return self._storage

    @property
    def events(self) -> BuildEvents:
        return self._events

    @property
    def trace(self) -> Tracer:
        return self._trace

    def stages_of(self, name: str, platform: str) -> Mapping[str, StageDescription]:
        """The stages (by werf stage name, in build order) of an image this run already built or found."""
        return self._stages_of.get((name, platform), {})

    def _build_stapel(self, image: PlannedImage) -> ImageOutcome:
        from shipyard.stapel_build import build_stapel_image

        if self.stapel is None:
            raise UsageError(f"image {image.name!r}: Stapel images need the buildah backend")
        return build_stapel_image(self, self.stapel, image)

    def ensure_local(self, reference: str, access: RegistryAccess, expected_id: str = "") -> bool:
        """Pull `reference` unless the backend has it (with `expected_id`, that very image: fromLatest);
        each reference once per run, whatever the threads. True when this call pulled it."""
        with self.keyed_lock(f"base:{reference}"):
            if reference in self._bases_present or reference == "scratch":
                return False
            pulled = False
            local = self._backend.inspect(reference)
            if local is None or (expected_id and local.image_id != expected_id):
                with self.stats.observe(Operation.IMAGE_PULL), self._trace.span(f"pull {reference}", "pull"):
                    self._backend.pull(reference, access)
                pulled = True
            self._bases_present.add(reference)
            return pulled

    def _build_image(self, image: PlannedImage) -> ImageOutcome:
        # Two tasks of one run with the same digest (e.g. two images on one Dockerfile stage) build it once.
        stage = image.last_stage
        assert stage is not None
        with self.keyed_lock(f"digest:{stage.digest}"):
            return self._find_or_build(image)

    def keyed_lock(self, key: str) -> threading.Lock:
        """One lock per key for this run (a digest, a base image reference)."""
        with self._keyed_locks_guard:
            return self._keyed_locks.setdefault(key, threading.Lock())

    def _ensure_base_images(self, recipe: DockerfileRecipe) -> bool:
        """Pull each FROM image once per run: parallel builds on one missing base would all pull it at once
        and contend for the store. True when this build had to pull."""
        pulled = False
        for reference in recipe.base_images:
            pulled = self.ensure_local(reference, self._settings.pull_access([reference])) or pulled
        return pulled

    def _find_or_build(self, image: PlannedImage) -> ImageOutcome:
        started = time.monotonic()
        stage = image.last_stage
        assert stage is not None and image.recipe is not None  # checked by refuse_unsupported
        with self._trace.span(f"lookup {image.name}", "lookup", digest=stage.digest):
            found = self._storage.find_stage(stage.digest)
        if found is not None:
            self.stats.count_event(self.found_event())
            self._events.reused(image, found, time.monotonic() - started)
            return ImageOutcome(image, found, rebuilt=False, build_seconds=time.monotonic() - started,
                                source_type="")
        if self._settings.require_built_images:
            raise ShipyardError(
                f"image {image.name!r}: stage {stage.digest} is not in {self._storage.address}",
                hint="--require-built-images forbids building; run the build without it first")
        self._events.building(image, stage.digest)
        image_id, pulled = self._run_backend(image, image.recipe)
        published, adopted = self.publish_stage(image, stage.digest, image_id)
        seconds = time.monotonic() - started
        if adopted:
            self.stats.count_event(self.found_event())
            self._events.discarded(image, published)
            return ImageOutcome(image, published, rebuilt=False, build_seconds=seconds, source_type="")
        self.stats.count_event(StageCacheEvent.BUILT)
        self._events.built(image, published, seconds)
        return ImageOutcome(image, published, rebuilt=True, build_seconds=seconds,
                            source_type="registry" if pulled else "", base_image_pulled=pulled)

    def found_event(self) -> StageCacheEvent:
        return StageCacheEvent.FOUND_LOCALLY if self._local else StageCacheEvent.FOUND_IN_REPO

    def _run_backend(self, image: PlannedImage, recipe: DockerfileRecipe) -> tuple[str, bool]:
        """Build; returns the new image's ID and whether a base image had to be pulled for it."""
        parent = str(self._settings.workspace) if self._settings.workspace else None
        with (tempfile.TemporaryDirectory(prefix="shipyard-context-", dir=parent) as workdir,
              prepared_secrets(recipe.secrets, project_dir=self._settings.project_dir, image_name=image.name,
                               parent=self._settings.workspace) as secrets):
            context_dir, dockerfile = self._write_context(recipe, Path(workdir))
            build = DockerfileBuild(
                context_dir=context_dir,
                dockerfile=dockerfile,
                target=recipe.target,
                build_args=dict(recipe.build_args),
                labels=self.service_labels(image),
                add_hosts=recipe.add_hosts,
                network=recipe.network,
                platform=image.platform,
                pull_access=self._settings.pull_access(recipe.base_images),
                secrets=tuple((secret.id, secret.path) for secret in secrets.files),
                masked=secrets.values,
                ssh=dockerfile_ssh(recipe.ssh, self._settings.ssh_socket),
            )
            with self.build_log(image) as (log, log_path):
                try:
                    pulled = self._ensure_base_images(recipe)
                    building = self._trace.span(f"build {image.name}", "build")
                    with self.stats.observe(Operation.IMAGE_BUILD), building:
                        return self._backend.build_dockerfile(build, log), pulled
                except ShipyardError as error:
                    error.message = f"image {image.name!r}: {error.message}"  # the backend knows no names
                    if log_path is not None:
                        error.hint = f"{error.hint or 'see the output above'}\n  full build log: {log_path}"
                    raise

    @contextlib.contextmanager
    def build_log(self, image: PlannedImage) -> Iterator[tuple[Callable[[str], None], Path | None]]:
        """Every backend line goes to the terminal events and, when a log dir is set, to the image's file."""
        if self._settings.log_dir is None:
            yield (lambda line: self._events.log(image, line)), None
            return
        self._settings.log_dir.mkdir(parents=True, exist_ok=True)
        platform = image.platform.replace("/", "-")
        path = self._settings.log_dir / f"{docker_tag(image.name or 'nameless')}-{platform}.log"
        with path.open("w", encoding="utf-8") as file:
            def log(line: str) -> None:
                file.write(line + "\n")
                self._events.log(image, line)

            yield log, path

    def service_labels(self, image: PlannedImage) -> dict[str, str]:
        """werf-internals §3.3: what werf's own cleanup and later builds read from a stage image."""
        return {
            "werf": self._settings.project,
            "werf-version": f"shipyard-{__version__}",
            "werf-stage-content-digest": image.content_digest,
            "werf-project-repo-commit": self._settings.commit,
        }

    def publish_stage(self, image: PlannedImage, digest: str, image_id: str, parent_timestamp_ms: int = 0,
                      select: StageSelector | None = None) -> tuple[StageDescription, bool]:
        """Under the stage lock: adopt what another builder published meanwhile, else publish ours.
        True with the stage when it was adopted."""
        lock_name = stage_lock_name(self._settings.project, digest)
        waiting = functools.partial(self._events.waiting_for_lock, image)
        with self._trace.span(f"lock {image.name}", "lock wait", lock=lock_name):
            handle = self._locker.acquire(lock_name, on_wait=waiting)
        try:
            self.stats.record(Operation.STAGE_LOCK_WAIT_STORAGE, handle.waited_seconds)
            winner = self._storage.find_stage(digest, parent_timestamp_ms, refresh=True, select=select)
            if winner is not None:
                return winner, True
            stage_id = StageID(digest, new_timestamp_ms())
            name = self._storage.stage_image_name(stage_id)
            self._backend.tag(image_id, name)
            target = self._storage.push_target(stage_id)
            if target is not None:
                self._locker.ensure_held(handle)
                # The registry PUTs the manifest only after every blob: a killed push never leaves a tag.
                with self.stats.observe(Operation.IMAGE_PUSH), self._trace.span(f"push {image.name}", "push"):
                    self._backend.push(target, self._settings.registry_access)
            return self._storage.describe_stored(stage_id), False
        finally:
            self._locker.release(handle)

    def _publish_records(self, outcome: ImageOutcome) -> None:
        """Managed-image and by-commit records (registry only; no-ops locally), then custom tags."""
        image = outcome.image
        if outcome.rebuilt:
            self._storage.publish_managed_image(image.name)
        self._storage.publish_image_metadata(image.name, self._settings.commit, outcome.stage.stage_id)
        if not image.final:
            return
        for template in self._settings.custom_tags:
            tag = render_custom_tag(template, image.name, outcome.stage.stage_id.tag)
            self._storage.add_custom_tag(outcome.stage, tag)


def dockerfile_ssh(configured: str, socket: Path | None) -> str:
    """buildah's --ssh for a Dockerfile build: werf.yaml's `ssh:` as given (`default` meaning the build's
    agent), else the build's agent when there is one."""
    if configured and configured != "default":
        return configured
    if socket is None:
        return ""
    return f"default={socket}"


def task_graph(tasks: Sequence[TaskKey], dependencies: Mapping[str, set[str]]) -> dict[TaskKey, set[TaskKey]]:
    """An image on a platform depends on the images it depends on, on the same platform."""
    return {key: {(name, key[1]) for name in dependencies.get(key[0], set())} for key in tasks}


def refuse_unsupported(image: PlannedImage) -> None:
    if image.stapel is not None and not image.not_supported:
        return
    if image.not_supported or image.recipe is None or image.last_stage is None:
        raise UsageError(f"image {image.name!r} cannot be built yet: {image.not_supported}",
                         hint="build the other images by naming them: shipyard build IMAGE…")


def image_record(outcome: ImageOutcome) -> ImageRecord:
    """werf's report record of an image: its last stage's description, then its stages (§7)."""
    stage = outcome.stage
    commit = stage.labels.get("werf-project-repo-commit", "")
    stages = outcome.stage_outcomes or (StageOutcome(outcome.image.stages[-1].name, stage, outcome.rebuilt,
                                                     outcome.build_seconds, outcome.source_type,
                                                     outcome.base_image_pulled),)
    return ImageRecord(
        werf_image_name=outcome.image.name,
        config_type=outcome.image.config_type,
        docker_repo=stage.repository,
        docker_tag=stage.stage_id.tag,
        docker_image_id=stage.image_id,
        docker_image_digest=stage.manifest_digest,
        docker_image_name=stage.image_name,
        target_platform=outcome.image.platform,
        rebuilt=outcome.rebuilt,
        final=outcome.image.final,
        size=stage.size,
        build_time=outcome.build_seconds,
        commit=commit,
        stages=tuple(_stage_record(item) for item in stages),
    )


def _stage_record(item: StageOutcome) -> StageRecord:
    stage = item.stage  # its own commit: an earlier stage may come from an earlier commit (labels are lazy)
    return StageRecord(
        name=item.name,
        docker_image_name=stage.image_name,
        docker_tag=stage.stage_id.tag,
        docker_image_id=stage.image_id,
        docker_image_digest=stage.manifest_digest,
        created_at=stage.created_unix_nanos,
        size=stage.size,
        source_type=item.source_type,
        base_image_pulled=item.base_image_pulled,
        rebuilt=item.rebuilt,
        build_time=item.build_seconds,
        commit=stage.labels.get("werf-project-repo-commit", ""),
    )
