"""Stage digests (werf-internals §1.1, §1.2): pure functions that also return what they hashed.

werf: `pkg/build/build_phase.go` (`calculateDigest`, content digest in `calculateStage`),
`pkg/build/stage/base.go` (`GetLegacyCompatibleStageName`), `pkg/image/const.go` (`BuildCacheVersion`).
"""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.hashsum import sha3_224_hash, sha256_hash
from shipyard.stages.dockerfile import DockerfileAnalysis, DockerfileInputs, FilesChecksum, analyze_dockerfile
from shipyard.stages.platform import normalize_platform

__all__ = [
    "BUILD_CACHE_VERSION",
    "DOCKERFILE_STAGE_NAME",
    "StageDigest",
    "content_digest",
    "dockerfile_image_stage",
    "legacy_stage_name",
    "normalize_platform",
    "platform_digest_args",
    "stage_digest",
]

BUILD_CACHE_VERSION = "1.2"
DOCKERFILE_STAGE_NAME = "dockerfile"
# linux/amd64 never enters a digest: digests from before multi-platform support stay valid.
_OMITTED_PLATFORM = "linux/amd64"

_LEGACY_STAGE_NAMES = {
    "dependenciesBeforeInstall": "importsBeforeInstall",
    "dependenciesAfterInstall": "importsAfterInstall",
    "dependenciesBeforeSetup": "importsBeforeSetup",
    "dependenciesAfterSetup": "importsAfterSetup",
}


@dataclass(frozen=True)
class StageDigest:
    """A digest together with every argument hashed into it (for `--debug-digest`)."""

    stage_name: str
    digest: str
    args: tuple[str, ...]
    # what `stage_deps` itself was hashed from (e.g. the Dockerfile list D), with where each entry came from
    dependencies: tuple[str, ...] = ()
    dependency_origins: tuple[str, ...] = ()

    def debug_lines(self) -> list[str]:
        lines = [f"{self.stage_name} digest {self.digest}"]
        lines += [f"  arg[{index}] {arg!r}" for index, arg in enumerate(self.args)]
        origins = self.dependency_origins or ("",) * len(self.dependencies)
        lines += [
            f"  dep[{index}] {value!r}" + (f"  <- {origin}" if origin else "")
            for index, (value, origin) in enumerate(zip(self.dependencies, origins, strict=True))
        ]
        return lines


def legacy_stage_name(name: str) -> str:
    """The name werf hashes: `dependencies*` stages keep their historical `imports*` names."""
    return _LEGACY_STAGE_NAMES.get(name, name)


def platform_digest_args(target_platform: str) -> list[str]:
    """The leading platform argument, absent for "" and linux/amd64."""
    return [target_platform] if target_platform and target_platform != _OMITTED_PLATFORM else []


def stage_digest(
    stage_name: str,
    stage_deps: str,
    target_platform: str,
    prev_digest: str | None = None,
    prev_next_stage_deps: str = "",
    base_image_arg: str = "",
) -> StageDigest:
    """§1.1: H3([platform], "1.2", legacy name, deps, [prev digest, prev next-stage deps], [base image arg]).

    `prev_digest` is the previous non-empty stage of the same image (None for the first stage);
    `base_image_arg` is only used by the first stage of a staged Dockerfile image.
    """
    args = platform_digest_args(target_platform)
    args += [BUILD_CACHE_VERSION, legacy_stage_name(stage_name), stage_deps]
    if prev_digest is not None:
        args += [prev_digest, prev_next_stage_deps]
    if base_image_arg:
        args.append(base_image_arg)
    return StageDigest(stage_name, sha3_224_hash(*args), tuple(args))


def content_digest(stage_name: str, digest: str, next_stage_deps: str, target_platform: str) -> StageDigest:
    """§1.2: the `werf-stage-content-digest` of a (re)built stage; uses the non-legacy stage name."""
    args = platform_digest_args(target_platform)
    args += [BUILD_CACHE_VERSION, f"{stage_name}-content", "", digest, next_stage_deps]
    return StageDigest(f"{stage_name}-content", sha3_224_hash(*args), tuple(args))


def dockerfile_image_stage(inputs: DockerfileInputs, files_checksum: FilesChecksum) -> StageDigest:
    """§1.4a: the single `dockerfile` stage of a non-staged Dockerfile image (no previous stage)."""
    return dockerfile_stage_of(analyze_dockerfile(inputs, files_checksum), inputs.target_platform)


def dockerfile_stage_of(analysis: DockerfileAnalysis, target_platform: str) -> StageDigest:
    """The `dockerfile` stage digest of an already analysed Dockerfile."""
    deps = sha256_hash(*analysis.dependencies)
    result = stage_digest(DOCKERFILE_STAGE_NAME, deps, target_platform)
    return StageDigest(
        result.stage_name,
        result.digest,
        result.args,
        dependencies=tuple(entry.value for entry in analysis.entries),
        dependency_origins=tuple(entry.origin for entry in analysis.entries),
    )
