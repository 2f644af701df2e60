"""What each Stapel stage hashes into its `stage_deps` (werf-internals §1.4c, §1.4.4): pure formulas.

Every function returns `Dependencies`: the exact argument list werf passes to `util.Sha256Hash`, with where
each argument came from (for `--debug-digest`). werf: `pkg/build/stage/from.go`, `before_install.go`,
`install.go`, `before_setup.go`, `setup.go`, `user.go`, `git_archive.go`, `git_cache.go`,
`git_latest_patch.go`, `dependencies.go`, `pkg/build/builder/shell.go`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shipyard.config.model import Dependency, GitMapping, Import, Shell, StapelImage
from shipyard.hashsum import sha256_hash
from shipyard.pathmatch.globs import go_clean
from shipyard.stages.stapel_git import params_hash

__all__ = [
    "Dependencies",
    "DependencyArgs",
    "builder_checksum",
    "dependencies_stage_dependencies",
    "dependency_import_id",
    "from_dependencies",
    "git_archive_dependencies",
    "git_cache_dependencies",
    "git_latest_patch_dependencies",
    "import_id",
    "import_source_id",
    "shell_checksum_args",
    "user_stage_dependencies",
]


@dataclass(frozen=True)
class Dependencies:
    """The arguments of a stage's `GetDependencies` hash, and where each one came from."""

    args: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()

    @property
    def value(self) -> str:
        return sha256_hash(*self.args)


class DependencyArgs:
    """Collects arguments in werf's order, each with its origin."""

    def __init__(self) -> None:
        self._args: list[str] = []
        self._origins: list[str] = []

    def add(self, value: str, origin: str) -> None:
        self._args.append(value)
        self._origins.append(origin)

    def done(self) -> Dependencies:
        return Dependencies(tuple(self._args), tuple(self._origins))


# --- from ------------------------------------------------------------------------------------------------


def from_dependencies(
    image: StapelImage, image_cache_version: str, base_content_digest: str | None, base_repo_id: str
) -> Dependencies:
    """from.go: [cacheVersion] [fromCacheVersion] [repo id if fromLatest] mounts…, then the base.

    The base is "scratch", the content digest of a werf base image (`base_content_digest` not None), or the
    base reference as written for an external image (werf hashes the base image's name).
    """
    args = DependencyArgs()
    if image_cache_version:
        args.add(image_cache_version, "cacheVersion")
    if image.from_cache_version:
        args.add(image.from_cache_version, "fromCacheVersion")
    if image.from_latest and base_repo_id:
        args.add(base_repo_id, "fromLatest: base image repo id")
    for index, mount in enumerate(image.mount):
        args.add(go_clean(mount.from_path), f"mount[{index}] fromPath")
        args.add(go_clean(mount.to), f"mount[{index}] to")
        args.add(mount.type, f"mount[{index}] type")
    if image.from_ == "scratch":
        args.add("scratch", "from: scratch")
    elif base_content_digest is not None:
        args.add(base_content_digest, f"content digest of werf image {image.from_!r}")
    else:
        args.add(image.from_, "from")
    return args.done()


# --- shell user stages -----------------------------------------------------------------------------------


def _shell_section(shell: Shell, stage_name: str) -> tuple[tuple[str, ...], str]:
    """The commands and `<stage>CacheVersion` of one user stage."""
    match stage_name:
        case "beforeInstall":
            return shell.before_install, shell.before_install_cache_version
        case "install":
            return shell.install, shell.install_cache_version
        case "beforeSetup":
            return shell.before_setup, shell.before_setup_cache_version
        case "setup":
            return shell.setup, shell.setup_cache_version
    raise ValueError(f"not a user stage: {stage_name}")


def shell_checksum_args(shell: Shell | None, stage_name: str) -> Dependencies:
    """shell.go stageChecksum: the commands, then H256([<stage>CacheVersion], [cacheVersion]) if either is
    set."""
    args = DependencyArgs()
    if shell is None:
        return args.done()
    commands, stage_version = _shell_section(shell, stage_name)
    for index, command in enumerate(commands):
        args.add(command, f"shell.{stage_name}[{index}]")
    versions = [version for version in (stage_version, shell.cache_version) if version]
    if versions:
        args.add(sha256_hash(*versions), f"H256({stage_name}CacheVersion, cacheVersion) of {versions!r}")
    return args.done()


def builder_checksum(shell: Shell | None, stage_name: str) -> str:
    """The shell builder checksum of a user stage; "" (no command, no version): the stage does not exist."""
    checksum_args = shell_checksum_args(shell, stage_name)
    return checksum_args.value if checksum_args.args else ""


def user_stage_dependencies(
    stage_name: str, checksum: str, mapping_checksums: Sequence[tuple[GitMapping, str]]
) -> Dependencies:
    """install/beforeSetup/setup: H256(builder checksum, H256(stageDependencies checksum per mapping…)).

    beforeInstall hashes the builder's arguments directly (before_install.go), see `shell_checksum_args`.
    """
    args = DependencyArgs()
    args.add(checksum, f"shell {stage_name} checksum")
    per_mapping = sha256_hash(*(value for _, value in mapping_checksums))
    each = ", ".join(f"{mapping.add}→{mapping.to}: {value!r}" for mapping, value in mapping_checksums)
    args.add(per_mapping, f"H256 of the stageDependencies.{stage_name} checksum per git mapping [{each}]")
    return args.done()


# --- git stages ------------------------------------------------------------------------------------------


def git_archive_dependencies(mappings: Sequence[GitMapping]) -> Dependencies:
    """git_archive.go: the sorted params hashes; no file content, no commit (those reach the next stage)."""
    hashes = sorted(
        (params_hash(mapping), f"params hash of git {mapping.add}→{mapping.to}") for mapping in mappings
    )
    return Dependencies(tuple(value for value, _ in hashes), tuple(origin for _, origin in hashes))


def git_cache_dependencies(patch_size: int, step: int) -> Dependencies:
    """git_cache.go: H256(str(patch size // 1 MiB)), the size summed over the mappings."""
    return Dependencies((str(patch_size // step),), (f"patch size {patch_size} // {step}",))


def git_latest_patch_dependencies(patches: Sequence[tuple[GitMapping, str]]) -> Dependencies:
    """git_latest_patch.go: H256(patch text of each mapping…), "" for a mapping at its latest commit."""
    args = DependencyArgs()
    for mapping, patch in patches:
        args.add(patch, f"patch of git {mapping.add}→{mapping.to}")
    return args.done()


# --- imports and dependencies ----------------------------------------------------------------------------


def dependencies_stage_dependencies(
    imports: Sequence[tuple[Import, str]], dependencies: Sequence[tuple[Dependency, str]]
) -> Dependencies:
    """dependencies.go: per import (checksum, to, group, owner); per dependency ("Dependency", REPO:TAG,
    then ("DependencyImport", H256("Type", type, "TargetEnv", env)) per import), all in config order."""
    args = DependencyArgs()
    for index, (item, checksum) in enumerate(imports):
        args.add(checksum, f"import[{index}] source checksum ({item.image}:{item.add})")
        args.add(item.to, f"import[{index}] to")
        args.add(item.group, f"import[{index}] group")
        args.add(item.owner, f"import[{index}] owner")
    for dependency, stage_image_name in dependencies:
        args.add("Dependency", f"dependency {dependency.image!r}")
        args.add(stage_image_name, f"dependency {dependency.image!r}: last stage image name")
        for entry in dependency.imports:
            args.add("DependencyImport", f"dependency {dependency.image!r} import")
            import_id_value = dependency_import_id(entry.type, entry.target_env)
            args.add(import_id_value, f"H256(Type {entry.type}, TargetEnv {entry.target_env})")
    return args.done()


def dependency_import_id(import_type: str, target_env: str) -> str:
    return sha256_hash("Type", import_type, "TargetEnv", target_env)


def import_source_id(source_content_digest: str, item: Import) -> str:
    """getImportSourceID: the key of the import-metadata record holding the import's source checksum.

    `source_content_digest` is the content digest of the source image (or of its `stage:`), or
    `external-image:<ref>` for an external image.
    """
    return sha256_hash(
        "SourceImageContentDigest",
        source_content_digest,
        "Add",
        item.add,
        "IncludePaths",
        "///".join(item.include_paths),
        "ExcludePaths",
        "///".join(item.exclude_paths),
    )


def import_id(item: Import) -> str:
    """getImportID: names the `werf-import-checksum-<id>` and `werf-import-source-stage-id-<id>` labels."""
    image, artifact = ("", item.image) if item.is_artifact else (item.image, "")
    return sha256_hash(
        "ImageName",
        image,
        "ArtifactName",
        artifact,
        "Stage",
        item.stage,
        "After",
        item.after,
        "Before",
        item.before,
        "Add",
        item.add,
        "To",
        item.to,
        "Group",
        item.group,
        "Owner",
        item.owner,
        "IncludePaths",
        "///".join(item.include_paths),
        "ExcludePaths",
        "///".join(item.exclude_paths),
    )
