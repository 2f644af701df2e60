"""Plan before acting: every selected image, per target platform, with its stage digests.

No registry and no builds here: only git reads and pure digest code."""

from __future__ import annotations

import platform as host_platform_module
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shipyard import context
from shipyard.config.model import DockerfileImage, Image, StapelImage, WerfConfig
from shipyard.config.project_files import ProjectFiles, join
from shipyard.context import ProjectSnapshot
from shipyard.errors import DockerfileError, Location
from shipyard.stages.digest import content_digest as stage_content_digest
from shipyard.stages.digest import dockerfile_stage_of, normalize_platform
from shipyard.stages.dockerfile import DockerfileInputs, analyze_dockerfile
from shipyard.stages.model import DockerfileRecipe, PlannedImage, PlannedStage, StapelRecipe
from shipyard.storage.description import StageDescription

_MACHINE_TO_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def host_platform() -> str:
    machine = host_platform_module.machine().lower()
    return normalize_platform(f"linux/{_MACHINE_TO_ARCH.get(machine, machine)}")


@dataclass(frozen=True)
class PlanRequest:
    image_names: tuple[str, ...]  # already selected and ordered
    cli_platforms: tuple[str, ...]  # --platform, empty when not given


def target_platforms(image: Image, config: WerfConfig, cli_platforms: Sequence[str]) -> tuple[str, ...]:
    """werf-internals §8: --platform, else the image's platform, else meta build.platform, else the host's."""
    chosen = tuple(cli_platforms) or image.platform or config.meta.build.platform or (host_platform(),)
    normalised: list[str] = []
    for item in chosen:
        for part in item.split(","):
            value = normalize_platform(part.strip())
            if value not in normalised:
                normalised.append(value)
    return tuple(normalised)


def stapel_unsupported(image: StapelImage) -> str:
    if image.ansible is not None:
        return "the ansible builder is not supported (werf runs it with its Docker backend only)"
    return ""


def import_value(kind: str, stage: StageDescription) -> str:
    """werf-internals §9.4: what a dependency import passes for each type."""
    values = {
        "ImageName": stage.image_name,
        "ImageTag": stage.stage_id.tag,
        "ImageRepo": stage.repository,
        "ImageID": stage.image_id,
        "ImageDigest": stage.manifest_digest,
    }
    return values[kind]


def dependency_args(image: DockerfileImage, stages: Mapping[str, StageDescription]) -> dict[str, str]:
    """targetBuildArg → value, for every import of every dependency of a Dockerfile image."""
    return {item.target_build_arg: import_value(item.type, stages[dependency.image])
            for dependency in image.dependencies for item in dependency.imports}


class Planner:
    """Computes digests for the images of one loaded config."""

    def __init__(
        self, config: WerfConfig, files: ProjectFiles, snapshot: ProjectSnapshot, prefix: str
    ) -> None:
        self._config = config
        self._files = files
        self._snapshot = snapshot
        self._prefix = prefix
        self._build_platform = host_platform()
        self.warnings: list[str] = []

    @property
    def project_prefix(self) -> str:
        """The directory of werf.yaml, relative to the repository root ("" at the root)."""
        return self._prefix

    def plan(self, request: PlanRequest) -> list[PlannedImage]:
        """Every image and platform, without dependency values (images with dependencies wait for builds)."""
        return [self.plan_image(name, target, None)
                for name in request.image_names
                for target in target_platforms(self._config.image(name), self._config, request.cli_platforms)]

    def unsupported(self, name: str) -> str:
        """Why an image cannot be built yet ("" when it can), decided from its config alone."""
        image = self._config.image(name)
        if isinstance(image, StapelImage):
            return stapel_unsupported(image)
        return "staged Dockerfile images are not built yet" if self._config.staged(image) else ""

    def plan_image(self, name: str, target: str,
                   dependencies: Mapping[str, StageDescription] | None) -> PlannedImage:
        """One image for one platform; `dependencies` maps each image it depends on to its published stage."""
        image = self._config.image(name)
        if reason := self.unsupported(name):
            kind = "stapel" if isinstance(image, StapelImage) else "staged"
            return PlannedImage(image.name, target, kind, image.final, (), not_supported=reason)
        if isinstance(image, StapelImage):
            return self._stapel_image(image, target, dependencies)
        if image.dependencies and dependencies is None:
            # Import values (REPO:TAG, digests) exist only once the dependency is built or found in storage.
            return PlannedImage(image.name, target, "dockerfile", image.final, (),
                                not_supported="images with `dependencies` are planned during the build")
        return self._dockerfile_image(image, target, dependency_args(image, dependencies or {}))

    def _stapel_image(self, image: StapelImage, target: str,
                      dependencies: Mapping[str, StageDescription] | None) -> PlannedImage:
        """The recipe only: Stapel stages are planned one by one against the storage (stapel_build.py)."""
        if target != self._build_platform:
            # the working containers run the base image's own binaries: another platform needs emulation
            # and a base pulled for that platform, which Stapel builds do not do yet
            return PlannedImage(image.name, target, "stapel", image.final, (),
                                not_supported=f"Stapel images are built for the host platform "
                                              f"({self._build_platform}) only, not {target}, yet")
        related = self._config.has_image(image.from_) or image.imports or image.dependencies
        if related and dependencies is None:
            return PlannedImage(image.name, target, "stapel", image.final, (),
                                not_supported="images built from or importing werf images are planned "
                                              "during the build")
        stages = dependencies or {}
        base_reference, base_content, base_is_stage = image.from_, None, False
        if self._config.has_image(image.from_):
            base = stages[image.from_]
            base_reference, base_content, base_is_stage = base.image_name, base.content_digest, True
        recipe = StapelRecipe(
            image=image,
            meta_cache_version=self._config.meta.build.cache_version,
            base_reference=base_reference,
            base_image_content_digest=base_content,
            base_is_stage=base_is_stage,
            related_stages=dict(stages),
        )
        return PlannedImage(image.name, target, "stapel", image.final, (), stapel=recipe)

    def _dockerfile_image(self, image: DockerfileImage, target: str,
                          dependency_values: Mapping[str, str]) -> PlannedImage:
        context_dir = join(self._prefix, image.context) if image.context else self._prefix
        dockerfile_path = join(context_dir, image.dockerfile)
        content = self._read_dockerfile(image, dockerfile_path)
        ignore, warning = context.dockerignore_matcher(
            self._snapshot, context_dir, image.dockerfile,
            allow_uncommitted=self._files.giterminism.config.dockerfile.allows_uncommitted_dockerignore,
        )
        if warning:
            self.warnings.append(f"image {image.name!r}: {warning}")
        checksum = context.FilesChecksum(self._snapshot, context_dir=context_dir, dockerignore=ignore,
                                         context_add_files=image.context_add_files,
                                         work_tree_root=self._snapshot.root)
        inputs = DockerfileInputs(
            dockerfile=content,
            dockerfile_path=dockerfile_path,
            target=image.target,
            args=dict(image.args),
            dependency_args=dependency_values,
            add_hosts=image.add_host,
            cache_version=self._config.cache_version(image),
            target_platform=target,
            build_platform=self._build_platform,
        )
        analysis = analyze_dockerfile(inputs, checksum)
        result = dockerfile_stage_of(analysis, target)
        origins = zip(result.dependencies, result.dependency_origins, strict=True)
        dependencies = tuple(f"{value!r}  <- {origin}" for value, origin in origins)
        stage = PlannedStage(result.stage_name, result.digest, result.args, dependencies)
        recipe = DockerfileRecipe(
            context_dir=context_dir, dockerfile_path=dockerfile_path, dockerfile=content, dockerignore=ignore,
            context_add_files=image.context_add_files, target=image.target,
            build_args={**image.args, **dependency_values},
            add_hosts=image.add_host, network=image.network, base_images=analysis.external_base_images,
            secrets=image.secrets, ssh=image.ssh,
        )
        content_digest = stage_content_digest(result.stage_name, result.digest, "", target).digest
        return PlannedImage(image.name, target, "dockerfile", image.final, (stage,), recipe=recipe,
                            content_digest=content_digest)

    def _read_dockerfile(self, image: DockerfileImage, dockerfile_path: str) -> bytes:
        content = self._files.read(
            dockerfile_path,
            allowed=self._files.giterminism.config.dockerfile.allows_uncommitted,
            allow_key="config.dockerfile.allowUncommitted",
        )
        if content is None:
            raise DockerfileError(
                f"image {image.name!r}: Dockerfile {dockerfile_path} not found in commit HEAD",
                hint="check `dockerfile:` (relative to `context:`) and commit the file",
                location=Location("werf.yaml", image.line),
            )
        return content
