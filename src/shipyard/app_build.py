"""Wiring for `shipyard build`: picks backend, storage and locker, runs the conveyor, writes the report."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard import context, output
from shipyard.backends.base import RegistryAccess
from shipyard.backends.buildah import BuildahBackend
from shipyard.backends.process import stop_all
from shipyard.build import BuildSettings, Conveyor, ImageOutcome, TaskKey, image_record, task_graph
from shipyard.config.model import DockerfileImage, WerfConfig
from shipyard.config.validate import relations
from shipyard.errors import ShipyardError, UsageError
from shipyard.gitrepo import Snapshot
from shipyard.locks.base import Locker
from shipyard.locks.file import default_locks_dir
from shipyard.locks.select import make_locker
from shipyard.planning import Planner, target_platforms
from shipyard.registry.client import RegistryClient
from shipyard.registry.reference import is_loopback, parse_reference, parse_repository
from shipyard.report import BuildReport, runtime_in_container, write_report
from shipyard.schedule import execution_sets
from shipyard.stages.model import DockerfileRecipe, PlannedImage
from shipyard.storage.base import CustomTagsNeedRepoError, StagesStorage
from shipyard.storage.description import StageDescription
from shipyard.storage.local_storage import LocalStagesStorage
from shipyard.storage.registry_storage import RegistryStagesStorage
from shipyard.tagging import validate_custom_tags
from shipyard.trace import Tracer

if TYPE_CHECKING:
    from shipyard.gitmappings import MappingGit
    from shipyard.stapel_build import StapelServices, StoragePlan


def shipyard_home() -> Path:
    return Path(os.environ.get("SHIPYARD_HOME") or Path.home() / ".shipyard")


def buildah_backend(pull_access: RegistryAccess) -> BuildahBackend:
    home = shipyard_home()
    return BuildahBackend(home / "buildah" / "root", home / "buildah" / "runroot",
                          storage_driver=os.environ.get("SHIPYARD_STORAGE_DRIVER", "overlay"),
                          pull_access=pull_access)


def registry_access(options: dict[str, Any], hosts: list[str]) -> RegistryAccess:
    """Plain HTTP / no verification when asked, or when every registry involved is on loopback (as docker
    treats 127.0.0.0/8)."""
    insecure = bool(options.get("insecure_registry") or options.get("skip_tls_verify_registry"))
    return RegistryAccess(tls_verify=not (insecure or (hosts and all(is_loopback(h) for h in hosts))))


def reference_hosts(references: Sequence[str]) -> list[str]:
    hosts = []
    for reference in references:
        try:
            hosts.append(parse_reference(reference).registry)
        except ShipyardError:
            continue  # the backend reports an unusable FROM reference with its own words
    return hosts


def registry_client(options: dict[str, Any]) -> RegistryClient | None:
    """The client of the `--repo` registry (no I/O yet); None for the local storage."""
    repo = str(options.get("repo") or "")
    if not repo:
        return None
    insecure = True if options.get("insecure_registry") else None
    return RegistryClient(parse_repository(repo).registry, insecure=insecure,
                          skip_tls_verify=bool(options.get("skip_tls_verify_registry")))


def stages_storage(options: dict[str, Any], project: str, backend: BuildahBackend,
                   client: RegistryClient | None) -> tuple[StagesStorage, RegistryAccess]:
    """`--repo` → the registry (and how the backend pushes there); none → the backend's local store."""
    if client is None:
        return LocalStagesStorage(backend, project, warn=output.warn), RegistryAccess()
    repository = parse_repository(str(options["repo"]))
    storage = RegistryStagesStorage(client, str(repository), project, warn=output.warn)
    return storage, registry_access(options, [repository.registry])


def stage_locker(options: dict[str, Any], project: str, client: RegistryClient | None) -> Locker:
    def client_for_records() -> RegistryClient:
        if client is None:  # make_locker refuses a lock service without --repo before asking
            raise UsageError("a lock service needs --repo")
        return client

    return make_locker(str(options.get("synchronization") or ""), repo=str(options.get("repo") or ""),
                       project=project, registry_client_factory=client_for_records,
                       locks_dir=default_locks_dir(os.environ), warn=output.warn)


@dataclass(frozen=True)
class StoredPlan:
    """`plan` against the storage: each image as a build would see it, what of it is stored already."""

    images: list[PlannedImage]
    final_names: list[str | None]  # the stored last stage (None: something must be built)
    stored_stages: list[frozenset[str]]  # per image, the names of its stages found in the storage


def find_stored(options: dict[str, Any], planner: Planner, config: WerfConfig, images: list[PlannedImage],
                snapshot: Snapshot) -> StoredPlan:
    """For `plan`: each image as a build would see it and the stored name of its last stage (None where
    something must be built). Images are looked up dependencies first, so an image built from, importing or
    depending on stored images is planned with their stored stages, like the build plans it."""
    backend = buildah_backend(RegistryAccess())
    storage, _ = stages_storage(options, config.meta.project, backend, registry_client(options))
    keys = [(image.name, image.platform) for image in images]
    related = {name: set(names) for name, names in relations(config).items()}
    order = [key for image_set in execution_sets(keys, task_graph(keys, related)) for key in image_set]
    by_key = dict(zip(keys, images, strict=True))
    stored: dict[TaskKey, StageDescription] = {}
    named: dict[TaskKey, Mapping[str, StageDescription]] = {}
    found_names: dict[TaskKey, frozenset[str]] = {}
    git = stapel_git(snapshot) if any(image.stapel is not None for image in images) else None  # one fetch
    try:
        for key in order:
            image = by_key[key]
            needed = related.get(key[0], set())
            if image.not_supported and needed and all((name, key[1]) in stored for name in needed):
                image = planner.plan_image(key[0], key[1], {name: stored[(name, key[1])] for name in needed})
            found: StageDescription | None = None
            if image.stapel is not None and not image.not_supported and git is not None:
                result = plan_stapel(options, image, storage, git, functools.partial(
                    _named_stages, named, key[1]))
                image, found, named[key] = result.image, result.stored, result.stages
                found_names[key] = result.found
            elif (stage := image.last_stage) is not None and not image.not_supported:
                found = storage.find_stage(stage.digest)
                found_names[key] = frozenset({stage.name}) if found is not None else frozenset()
            by_key[key] = image
            if found is not None:
                stored[key] = found
    except ShipyardError as error:
        # The digests are still worth printing: say why the storage could not be asked.
        output.warn(f"stages storage not checked: {error.render()}")
        return StoredPlan(images, [None] * len(images), [frozenset()] * len(images))
    return StoredPlan([by_key[key] for key in keys],
                      [stored[key].image_name if key in stored else None for key in keys],
                      [found_names.get(key, frozenset()) for key in keys])


def _named_stages(named: Mapping[TaskKey, Mapping[str, StageDescription]], platform: str,
                  name: str) -> Mapping[str, StageDescription]:
    return named.get((name, platform), {})


def plan_stapel(options: dict[str, Any], image: PlannedImage, storage: StagesStorage, git: MappingGit,
                named_stages: Callable[[str], Mapping[str, StageDescription]]) -> StoragePlan:
    from shipyard.registry.image_id import remote_image_id
    from shipyard.stapel_build import plan_with_storage
    from shipyard.stapel_facts import StoredImageFacts

    recipe = image.stapel
    assert recipe is not None
    repo_id = ""
    if recipe.image.from_latest:
        access = registry_access(options, reference_hosts([recipe.base_reference]))
        repo_id = remote_image_id(recipe.base_reference, image.platform, tls_verify=access.tls_verify)
    return plan_with_storage(image, storage, git,
                             facts=StoredImageFacts(storage, recipe, named_stages),
                             skip_image_spec_stage=bool(options.get("skip_image_spec_stage")),
                             base_image_repo_id=repo_id)


def build_tasks(config: WerfConfig, names: Sequence[str], planner: Planner,
                options: dict[str, Any]) -> list[TaskKey]:
    """(image, platform) for every selected image; refuses up-front what cannot be built yet."""
    for name in names:
        if reason := planner.unsupported(name):
            raise UsageError(f"image {name!r} cannot be built yet: {reason}",
                             hint="build the other images by naming them: shipyard build IMAGE…")
    cli_platforms = tuple(options.get("platforms") or ())
    return [(name, platform) for name in names
            for platform in target_platforms(config.image(name), config, cli_platforms)]


def build_dependencies(config: WerfConfig, names: Sequence[str]) -> dict[str, set[str]]:
    """werf.yaml's relations, plus: images built from one Dockerfile wait for the first of them, so buildah's
    layer cache builds their shared stages once (werf gets this from staged stage images; the seed's
    frontend / frontend-assets example)."""
    selected = set(names)
    dependencies = {name: related & selected for name, related in relations(config).items()}
    first_of_dockerfile: dict[tuple[str, str], str] = {}
    for name in names:
        image = config.image(name)
        if isinstance(image, DockerfileImage):
            key = (image.context, image.dockerfile)
            first = first_of_dockerfile.setdefault(key, name)
            if first != name:
                dependencies[name].add(first)
    return dependencies


def stapel_git(snapshot: Snapshot) -> MappingGit:
    """Git mappings read the project repository at the commit being built (in --dev mode a commit object of
    the work tree) and clone remote repositories under $SHIPYARD_HOME/git."""
    from shipyard.gitmappings import MappingGit, work_tree_commit

    repo = snapshot.repo
    commit = snapshot.commit if snapshot.mode == "strict" else work_tree_commit(repo, snapshot.tree)
    no_ancestry = os.environ.get("WERF_DISABLE_GIT_COMMIT_ANCESTRY_CHECK") == "true"
    return MappingGit(repo, commit, shipyard_home() / "git", disable_ancestry_check=no_ancestry)


def stapel_services(options: dict[str, Any], backend: BuildahBackend, snapshot: Snapshot,
                    settings: BuildSettings) -> StapelServices:
    """Containers, git and mount locations for Stapel images (imported only when a Stapel image builds)."""
    from shipyard.backends.buildah_stapel import BuildahStapel
    from shipyard.registry.image_id import remote_image_id
    from shipyard.stapel_build import StapelServices, commit_env

    home = shipyard_home()
    containers = BuildahStapel(backend)
    if orphans := containers.remove_orphans():
        output.warn(f"removed {len(orphans)} working container(s) left behind by killed builds")
    return StapelServices(
        containers=containers,
        git=stapel_git(snapshot),
        home=home,
        project_dir=settings.project_dir,
        ssh_socket=settings.ssh_socket,
        commit_env=commit_env(snapshot.commit, snapshot.repo.head_commit_time),
        skip_image_spec_stage=bool(options.get("skip_image_spec_stage")),
        remote_image_id=lambda reference, platform, access: remote_image_id(
            reference, platform, tls_verify=access.tls_verify),
    )


def tasks_limit(options: dict[str, Any]) -> int:
    """--parallel=false builds one image at a time; --parallel-tasks-limit <= 0 means no limit."""
    if not options.get("parallel", True) or options.get("no_parallel"):
        return 1
    return int(options.get("parallel_tasks_limit") or 0)


def run_build(options: dict[str, Any], config: WerfConfig, names: Sequence[str], planner: Planner,
              snapshot: Snapshot) -> list[ImageOutcome]:
    from shipyard.ssh_agent import ssh_agent

    with ssh_agent(tuple(options.get("ssh_keys") or ())) as agent_socket:  # stopped after the build
        return _run_build(options, config, names, planner, snapshot, agent_socket)


def _run_build(options: dict[str, Any], config: WerfConfig, names: Sequence[str], planner: Planner,
               snapshot: Snapshot, agent_socket: Path | None) -> list[ImageOutcome]:
    project = config.meta.project
    custom_tags = tuple(options.get("custom_tags") or ())
    repo = str(options.get("repo") or "")
    if custom_tags and not repo:
        raise CustomTagsNeedRepoError()
    validate_custom_tags(custom_tags, [name for name in names if config.image(name).final])
    tasks = build_tasks(config, names, planner, options)
    dependencies = build_dependencies(config, names)
    limit = tasks_limit(options)
    finals = {name: config.image(name).final for name in names}
    output.print_concurrent_plan(execution_sets(tasks, task_graph(tasks, dependencies)), finals, limit)
    backend = buildah_backend(RegistryAccess())
    client = registry_client(options)
    storage, push_access = stages_storage(options, project, backend, client)
    locker = stage_locker(options, project, client)
    run_name = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"  # two builds of one second: two dirs
    settings = BuildSettings(project=project, commit=snapshot.commit, registry_access=push_access,
                             custom_tags=custom_tags,
                             require_built_images=bool(options.get("require_built_images")),
                             pull_access=lambda bases: registry_access(options, reference_hosts(bases)),
                             log_dir=shipyard_home() / "logs" / run_name,
                             project_dir=snapshot.root / planner.project_prefix,
                             ssh_socket=agent_socket)

    def write_context(recipe: DockerfileRecipe, destination: Path) -> tuple[Path, Path]:
        return context.materialize_context(
            snapshot, context_dir=recipe.context_dir, dockerignore=recipe.dockerignore,
            context_add_files=recipe.context_add_files, work_tree_root=snapshot.root,
            dockerfile_content=recipe.dockerfile, destination=destination)

    trace_file = options.get("trace_file")
    tracer = Tracer(enabled=bool(trace_file))
    with output.build_events() as events:
        conveyor = Conveyor(settings, storage=storage, backend=backend, locker=locker,
                            write_context=write_context, events=events, local=not repo,
                            on_interrupt=stop_all, tracer=tracer)
        if any(config.image(name).is_stapel for name in names):
            conveyor.stapel = stapel_services(options, backend, snapshot, settings)
        try:
            outcomes = conveyor.build(tasks, dependencies, planner.plan_image, limit=limit)
        finally:
            if trace_file:  # a failed run's trace is the one users need most
                tracer.write(Path(trace_file))
    output.print_build_summary(outcomes)
    if options.get("save_build_report"):
        report = BuildReport(
            runtime_backend=backend.name,
            in_container=runtime_in_container(os.environ),
            images={outcome.image.name: image_record(outcome) for outcome in outcomes},
            operations=conveyor.stats.operations(),
            stage_cache=conveyor.stats.stage_cache(),
        )
        write_report(report, options.get("build_report_path") or ".werf-build-report.json")
    return outcomes
