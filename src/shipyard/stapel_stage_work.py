"""What building one Stapel stage does to its working container (werf-internals §1.4c).

* user stages (beforeInstall, install, beforeSetup, setup): bring the git files up to the latest commits
  when the previous stage is older, then run the shell commands (with `-e`, WERF_COMMIT_*, mounts);
* gitArchive: the files of every git mapping at the latest commit, with owner and group;
* gitCache / gitLatestPatch: the changes from the previous stage's commits to the latest ones, deletions
  included;
* imports stages: files from other images (or stages of them), and the dependencies' targetEnv values;
* dockerInstructions / imageSpec: the image config.

`apply` returns how to commit: the labels the stage adds besides the service and git-commit labels, the
labels imageSpec removes, and whether history goes.
"""

from __future__ import annotations

import hashlib
import posixpath
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.backends.base import LogLine
from shipyard.backends.buildah_stapel import ImageConfig, StageContainer
from shipyard.backends.stapel_config import docker_image_config
from shipyard.build_secrets import SECRETS_DIR, prepared_secrets
from shipyard.config.model import GitMapping, StapelImage
from shipyard.opstats import Operation, OperationStatsCollector
from shipyard.stages.stapel import PlannedStapelStage, StapelPlan
from shipyard.stages.stapel_deps import import_id
from shipyard.stages.stapel_git import git_archive_type_label
from shipyard.stages.stapel_mounts import mount_labels, mount_points, mount_sources
from shipyard.stages.stapel_stages import (
    BEFORE_INSTALL,
    BEFORE_SETUP,
    DOCKER_INSTRUCTIONS,
    FROM,
    GIT_ARCHIVE,
    GIT_CACHE,
    GIT_LATEST_PATCH,
    IMAGE_SPEC,
    IMPORT_POINTS,
    INSTALL,
    SETUP,
    stage_dependencies_of,
    stage_imports_of,
)
from shipyard.stapel_imports import EMPTY_IMPORT_CHECKSUM, collect_import

if TYPE_CHECKING:
    from shipyard.stapel_build import StapelServices
    from shipyard.stapel_facts import RelatedImages

USER_STAGES = (BEFORE_INSTALL, INSTALL, BEFORE_SETUP, SETUP)
SSH_AUTH_SOCK = "/.werf/tmp/ssh-auth-sock"  # werf mounts the agent here in Stapel containers


@dataclass
class CommitPlan:
    """How the stage's container is committed."""

    labels: dict[str, str] = field(default_factory=dict)  # added to the service and git labels
    removed_labels: frozenset[str] = frozenset()  # imageSpec removeLabels: service labels included
    omit_history: bool = False  # imageSpec clearHistory

    def final_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        merged = {**labels, **self.labels}
        return {key: value for key, value in merged.items() if key not in self.removed_labels}


class StageWork:
    """The container side of the stages of one Stapel image."""

    def __init__(self, services: StapelServices, image: StapelImage, plan: StapelPlan,
                 related: RelatedImages, log: LogLine, *, project: str, workspace: Path | None,
                 inherited_labels: Mapping[str, str], stats: OperationStatsCollector) -> None:
        self._services = services
        self._containers = services.containers
        self._image = image
        self._plan = plan
        self._related = related
        self._log = log
        self._project = project
        self._workspace = workspace
        self._inherited = inherited_labels  # the previous stage's: mount points carry over (werf)
        self._stats = stats  # the report's Operations: git archive, git patch

    def apply(self, container: StageContainer, stage: PlannedStapelStage,
              service_labels: Mapping[str, str]) -> CommitPlan:
        name = stage.name
        labels = mount_labels(self._image.mount, self._inherited) if self._image.mount else {}
        result = CommitPlan(labels)
        if name == FROM and self._image.mount:
            # werf's from stage empties the mount points of the base: a mount's content never lands in a layer
            points = [point for group in mount_points(self._image.mount, self._inherited).values()
                      for point in group]
            self._containers.clear_directories(container, points)
        elif name in USER_STAGES:
            if stage.git_patch_from is not None:
                self._apply_git_changes(container, stage.git_patch_from)
            self._run_commands(container, name)
        elif name == GIT_ARCHIVE:
            labels.update(self._git_archive(container))
        elif name in (GIT_CACHE, GIT_LATEST_PATCH):
            if stage.git_patch_from is not None:
                self._apply_git_changes(container, stage.git_patch_from)
        elif name in IMPORT_POINTS:
            labels.update(self._imports(container, name))
        elif name == DOCKER_INSTRUCTIONS and self._image.docker is not None:
            self._containers.config(container, docker_image_config(self._image.docker))
        elif name == IMAGE_SPEC and self._image.image_spec is not None:
            changes = self._containers.apply_image_spec(
                container, self._image.image_spec, project=self._project, image_name=self._image.name,
                service_labels={**service_labels, **labels})
            result.removed_labels = frozenset(changes.remove_labels)
            result.omit_history = changes.clear_history
        return result

    # --- shell ------------------------------------------------------------------------------------------

    def _run_commands(self, container: StageContainer, name: str) -> None:
        shell = self._image.shell
        if shell is None:
            return
        commands = {BEFORE_INSTALL: shell.before_install, INSTALL: shell.install,
                    BEFORE_SETUP: shell.before_setup, SETUP: shell.setup}[name]
        if not commands:
            return
        with (self._scratch("shipyard-mounts-") as tmp_root,
              prepared_secrets(self._image.secrets, project_dir=self._services.project_dir,
                               image_name=self._image.name, parent=self._workspace) as secrets):
            mounts = mount_sources(self._image.mount, project=self._project, home=self._services.home,
                                   project_dir=self._services.project_dir, tmp_root=tmp_root,
                                   inherited_labels=self._inherited)
            secret_files = [(secret.path, f"{SECRETS_DIR}/{secret.id}") for secret in secrets.files]
            env = dict(self._services.commit_env)
            agent = self._services.ssh_socket
            if agent is not None:  # werf's place for it in Stapel containers
                mounts = [*mounts, (agent, SSH_AUTH_SOCK)]
                env["SSH_AUTH_SOCK"] = SSH_AUTH_SOCK
            self._containers.run_shell(container, commands, self._log, env=env, stage=name, mounts=mounts,
                                       secret_files=secret_files, masked=secrets.values)
            # the empty files buildah made to mount secrets and the agent on stay out of the image (and the
            # directories made for them, but never the image's own /run)
            if secret_files:
                parent, directory = posixpath.split(SECRETS_DIR)
                self._containers.delete_paths(container, parent, [f"{directory}/{secret.id}"
                                                                  for secret in secrets.files])
            if agent is not None:
                self._containers.delete_paths(container, "/", [SSH_AUTH_SOCK.lstrip("/")])

    # --- git --------------------------------------------------------------------------------------------

    def _target(self, mapping: GitMapping) -> str:
        """Where the exported directory goes: `to`, or its parent when `add` names a single file."""
        if self._services.git.add_kind(mapping) == "file":
            return posixpath.dirname(mapping.to.rstrip("/")) or "/"
        return mapping.to

    def _git_archive(self, container: StageContainer) -> dict[str, str]:
        git, labels = self._services.git, {}
        for mapping in self._plan.mappings:
            kind = git.add_kind(mapping)
            with self._scratch("shipyard-git-") as directory:
                with self._stats.observe(Operation.GIT_ARCHIVE):
                    git.export(mapping, directory)
                self._copy(container, directory, self._target(mapping), mapping.owner, mapping.group)
            labels[git_archive_type_label(mapping)] = kind
        return labels

    def _apply_git_changes(self, container: StageContainer, from_commits: Sequence[str]) -> None:
        git = self._services.git
        latest = self._plan.latest_commits
        for mapping, commit, head in zip(self._plan.mappings, from_commits, latest, strict=True):
            if commit == head:
                continue
            with self._scratch("shipyard-patch-") as directory:
                with self._stats.observe(Operation.GIT_PATCH):
                    removed = git.apply_changes(mapping, commit, directory)
                target = self._target(mapping)
                if removed:
                    self._containers.delete_paths(container, target, removed)
                if any(directory.iterdir()):
                    self._copy(container, directory, target, mapping.owner, mapping.group)

    # --- imports and dependencies ------------------------------------------------------------------------

    def _imports(self, container: StageContainer, name: str) -> dict[str, str]:
        labels: dict[str, str] = {}
        containers = self._containers
        for item in stage_imports_of(self._image, name):
            source = self._related.source(item)
            self._related.ensure_source(source)
            with self._scratch("shipyard-import-") as directory:
                with containers.working_container(source.reference) as source_container:
                    root = containers.mount(source_container)
                    try:
                        collected = collect_import(root, item, directory)
                    finally:
                        containers.unmount(source_container)
                if collected.checksum == EMPTY_IMPORT_CHECKSUM:
                    self._log(f"Warning: import {item.add} from {item.image} does nothing: no file matches")
                target = (posixpath.dirname(item.to.rstrip("/")) or "/") if collected.add_is_file else item.to
                self._copy(container, directory, target, item.owner, item.group)
            identifier = import_id(item)
            labels[f"werf-import-checksum-{identifier}"] = self._related.import_checksum(item)
            labels[f"werf-import-source-stage-id-{identifier}"] = source.stage_id
        env: dict[str, str] = {}
        for dependency in stage_dependencies_of(self._image, name):
            stage_id = self._related.dependency_stage(dependency.image).stage_id.tag
            labels[f"werf-dependency-stage-id-{hashlib.sha256(stage_id.encode()).hexdigest()}"] = stage_id
            env.update(self._related.dependency_env(dependency))
        if env:
            containers.config(container, ImageConfig(env=env))
        return labels

    # --- helpers -----------------------------------------------------------------------------------------

    def _copy(self, container: StageContainer, directory: Path, to: str, owner: str, group: str) -> None:
        self._containers.copy_tree(container, directory, to, owner=owner or None, group=group or None)

    def _scratch(self, prefix: str) -> _PathDirectory:
        parent = str(self._workspace) if self._workspace else None
        return _PathDirectory(prefix=prefix, dir=parent)


class _PathDirectory(tempfile.TemporaryDirectory[str]):
    """A temporary directory whose `with` value is a Path."""

    def __enter__(self) -> Path:  # type: ignore[override]
        return Path(self.name)
