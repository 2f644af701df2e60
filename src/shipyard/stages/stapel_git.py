"""Git mappings as werf's Stapel stages see them: names, params hash, labels, the facts read from git.

werf: `pkg/build/stage/git_mapping.go` (GetFullName, GetParamshash, StageDependenciesChecksum, labels),
`pkg/build/image/stapel.go` (generateGitMappings: local mappings first, then remote),
`pkg/build/image/image_tree.go` (`own` for the project repository), `pkg/config/raw_git.go` (getRepositoryID),
`pkg/config/export_base.go` (GitMappingAdd), `pkg/build/stage/base.go` (getNextStageGitDependencies).
Pure: reading git is the job of whoever implements `GitFacts`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from shipyard.config.model import GitMapping, StapelImage
from shipyard.hashsum import sha256_hash

__all__ = [
    "LOCAL_REPOSITORY_NAME",
    "PATCH_SIZE_STEP",
    "GitFacts",
    "commit_label",
    "commits_dependency",
    "full_name",
    "git_archive_type_label",
    "mapping_add",
    "ordered_mappings",
    "params_hash",
    "repository_id",
    "stage_dependencies_checksum",
    "stage_dependency_globs",
    "virtual_merge_label",
]

LOCAL_REPOSITORY_NAME = "own"  # werf names both the project repository and its mappings `own`
PATCH_SIZE_STEP = 1024 * 1024  # git_cache.go: gitCache exists from 1 MiB of patch on

# getRepositoryID: `(?U).*?[:/](.*/[^/ ]+)(\.git)?/?$`; Go's (?U) swaps greediness, spelled out here.
_REPOSITORY_ID = re.compile(r".*[:/](.*?/[^/ ]+?)(\.git)??/??$")


class GitFacts(Protocol):
    """What the Stapel plan needs from git; the caller implements it over pygit2 (the I/O lives there)."""

    def latest_commit(self, mapping: GitMapping) -> str:
        """HEAD for the project repository; `commit`, else `tag`'s commit, else `branch` head for a remote."""
        ...

    def has_commit(self, mapping: GitMapping, commit: str) -> bool:
        """The commit exists in the mapping's repository (a stage built from a vanished commit)."""
        ...

    def stage_dependency_checksum(self, mapping: GitMapping, glob: str) -> str:
        """§1.7 ls-tree checksum at the latest commit: scope `add`, matcher = mapping ∧ include(glob, base
        `add`); "" when nothing matches."""
        ...

    def patch_size(self, mapping: GitMapping, from_commit: str) -> int:
        """Bytes of werf's patch from_commit → latest commit with full context and binary (gitCache)."""
        ...

    def patch_text(self, mapping: GitMapping, from_commit: str) -> str:
        """werf's rewritten patch from_commit → latest commit (diff_parser.go); "" when nothing changed."""
        ...


def ordered_mappings(image: StapelImage) -> tuple[GitMapping, ...]:
    """werf processes the project repository's mappings first, then the remote ones (each in config order)."""
    return image.git_local + image.git_remote


def repository_id(url: str) -> str:
    """The name werf gives a remote repository: `https://github.com/golang/example.git` → `golang/example`."""
    match = _REPOSITORY_ID.search(url)
    return match.group(1) if match else url


def full_name(mapping: GitMapping) -> str:
    """`<repository name>_<mapping name>`: `own_own` locally; a remote repository and its mappings share
    one name."""
    name = repository_id(mapping.url) if mapping.is_remote else LOCAL_REPOSITORY_NAME
    return f"{name}_{name}"


def mapping_add(mapping: GitMapping) -> str:
    """`add` as werf keeps it for git: relative to the repository root, "" for the whole repository."""
    return "" if mapping.add == "/" else mapping.add.removeprefix("/")


def params_hash(mapping: GitMapping) -> str:
    """GetParamshash: SHA-256 over the raw concatenation of the parts (`:::` is a part, not a separator)."""
    parts = [
        full_name(mapping),
        ":::",
        mapping.to,
        ":::",
        mapping_add(mapping),
        ":::",
        *mapping.include_paths,
        ":::",
        *mapping.exclude_paths,
        ":::",
        mapping.owner,
        ":::",
        mapping.group,
        ":::",
        mapping.branch,
        ":::",
        mapping.tag,
        ":::",
        mapping.commit,
    ]
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def commit_label(mapping: GitMapping) -> str:
    return f"werf-git-{params_hash(mapping)}-commit"


def virtual_merge_label(mapping: GitMapping) -> str:
    return f"werf-git-{params_hash(mapping)}-virtual-merge"


def git_archive_type_label(mapping: GitMapping) -> str:
    """Set on gitArchive to `file` or `directory` (whether `add` names a file): the caller knows the tree."""
    return f"werf-git-{params_hash(mapping)}-type"


def stage_dependency_globs(mapping: GitMapping, stage_name: str) -> tuple[str, ...]:
    """The mapping's `stageDependencies` globs for a user stage (install, beforeSetup, setup)."""
    globs = {
        "install": mapping.stage_dependencies.install,
        "beforeSetup": mapping.stage_dependencies.before_setup,
        "setup": mapping.stage_dependencies.setup,
    }
    return globs.get(stage_name, ())


def stage_dependencies_checksum(globs: Sequence[str], glob_checksums: Iterable[str]) -> str:
    """StageDependenciesChecksum: "" without globs, else SHA-256 of the non-empty per-glob checksums, raw."""
    if not globs:
        return ""
    return hashlib.sha256("".join(checksum for checksum in glob_checksums if checksum).encode()).hexdigest()


def commits_dependency(commits: Iterable[str]) -> str:
    """Next-stage dependencies of a git stage: H256 of the sorted commits (H256() without mappings)."""
    return sha256_hash(*sorted(commits))
