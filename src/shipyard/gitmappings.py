"""The git side of Stapel git mappings (`git:` entries): latest commits, checksums, patches, exports.

`MappingGit` implements the Stapel plan's `GitFacts` (stages/stapel_git.py) and gives the conveyor what it
needs to build git stages: ancestry of stored commits, the export of a mapping (gitArchive) and the changes
between two commits (gitCache, gitLatestPatch and patched user stages).
werf: `pkg/build/stage/git_mapping.go`, `pkg/git_repo/*`, `pkg/true_git/*`.

A local mapping reads the project repository at `project_tree_commit` (HEAD; a synthetic work-tree commit in
dev mode, see `work_tree_commit`); a remote mapping reads a bare clone of its url (gitmappings_remote.py) at
`commit`, else `tag`, else `branch`, else the remote's default branch.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Literal

import pygit2
from pygit2.enums import FileMode

from shipyard.config.model import GitMapping
from shipyard.diffparse import PatchScope
from shipyard.errors import GitError
from shipyard.gitmappings_changes import ExactPathMatcher, tree_changes
from shipyard.gitmappings_remote import RemoteClones
from shipyard.gitpatch import GitPatches
from shipyard.gitrepo import GitRepo
from shipyard.gittree import export_tree, tree_checksum
from shipyard.pathmatch import MultiPathMatcher, PathMatcher, new_path_matcher
from shipyard.pathmatch.globs import relative_to_base
from shipyard.stages.stapel_git import mapping_add

__all__ = ["DEV_COMMIT_MESSAGE", "MappingGit", "work_tree_commit"]

AddKind = Literal["file", "directory"]
DEV_COMMIT_MESSAGE = "shipyard --dev work tree"
_DEV_SIGNATURE = ("shipyard", "shipyard@localhost")
_SHALLOW_HINT = ("fetch the whole history: git fetch --unshallow (in CI check out with full depth, e.g. "
                 "actions/checkout `fetch-depth: 0` or GitLab `GIT_DEPTH: 0`)")


class MappingGit:
    """Git facts and file operations for the git mappings of one build; safe to share between threads."""

    def __init__(self, project: GitRepo | None, project_tree_commit: str, cache_dir: Path, *,
                 disable_ancestry_check: bool = False) -> None:
        self._project = project
        self._project_tree_commit = project_tree_commit
        self._remotes = RemoteClones(cache_dir)
        self._disable_ancestry_check = disable_ancestry_check
        self._latest: dict[GitMapping, str] = {}

    # --- GitFacts --------------------------------------------------------------------------------------

    def latest_commit(self, mapping: GitMapping) -> str:
        """`project_tree_commit` locally; `commit`, else `tag`'s commit, else `branch` (default) head."""
        latest = self._latest.get(mapping)
        if latest is None:
            latest = self._resolve_latest(mapping)
            self._latest[mapping] = latest
        return latest

    def has_commit(self, mapping: GitMapping, commit: str) -> bool:
        return _lookup_commit(self._repository(mapping), commit) is not None

    def stage_dependency_checksum(self, mapping: GitMapping, glob: str) -> str:
        """§1.7 at the latest commit: scope `add`, matcher = mapping ∧ include(glob) under `add`."""
        add = mapping_add(mapping)
        matcher = MultiPathMatcher.of(_mapping_matcher(mapping), new_path_matcher(base_path=add,
                                                                                  include_globs=[glob]))
        repository = self._repository(mapping)
        return tree_checksum(repository, self._tree(mapping, self.latest_commit(mapping)), add, matcher)

    def patch_size(self, mapping: GitMapping, from_commit: str) -> int:
        """Bytes of the rewritten full-context binary patch from_commit → latest (gitCache)."""
        patches, latest = GitPatches(self._repository(mapping)), self.latest_commit(mapping)
        return patches.patch_size(from_commit, latest, _patch_scope(patches, mapping, latest))

    def patch_text(self, mapping: GitMapping, from_commit: str) -> str:
        """The rewritten patch from_commit → latest (gitLatestPatch), "" when nothing changed.

        Decoded as UTF-8 with `surrogateescape`: valid UTF-8 gives exactly its characters (so `.encode()` is
        the bytes werf hashes), and any other byte survives as a lone surrogate that
        `.encode("utf-8", "surrogateescape")` turns back into the same byte (plain `.encode()` rejects it).
        """
        patches, latest = GitPatches(self._repository(mapping)), self.latest_commit(mapping)
        text = patches.patch_text(from_commit, latest, _patch_scope(patches, mapping, latest))
        return text.decode("utf-8", errors="surrogateescape")

    # --- the conveyor ----------------------------------------------------------------------------------

    def is_ancestor(self, mapping: GitMapping, commit: str) -> bool:
        """A stored stage's commit can be reused: it exists and is the latest commit or an ancestor of it
        (only existence with disable_ancestry_check; werf selectAncestorStageDescByGitMappings)."""
        repository = self._repository(mapping)
        found = _lookup_commit(repository, commit)
        if found is None:
            if repository.is_shallow:
                raise GitError(
                    f"{_describe(mapping)}: commit {commit} of a stored stage is not in the repository, "
                    f"and the clone at {repository.path} is shallow (its history is cut off)",
                    hint=_SHALLOW_HINT,
                )
            return False
        latest = self.latest_commit(mapping)
        if str(found.id) == latest or self._disable_ancestry_check:
            return True
        return bool(repository.descendant_of(latest, found.id))

    def add_kind(self, mapping: GitMapping) -> str:
        """What `add` names at the latest commit: "file" (blob or symlink) or "directory" (or submodule)."""
        add = mapping_add(mapping)
        if not add:
            return "directory"
        latest = self.latest_commit(mapping)
        try:
            entry = self._tree(mapping, latest)[add]
        except KeyError:
            raise GitError(
                f"{_describe(mapping)} matches nothing at commit {latest}",
                hint=f"`add: {mapping.add}` must name a file or directory of the repository at that commit",
            ) from None
        return "directory" if entry.filemode in (FileMode.TREE, FileMode.COMMIT) else "file"

    def export(self, mapping: GitMapping, destination: Path) -> int:
        """Write the mapping's files at the latest commit into `destination` (which stands for `to`);
        a single-file `add` becomes `destination/<basename of to>`. Returns the number of files written."""
        kind = _add_kind(self.add_kind(mapping))
        scope = _scope(mapping, kind)
        repository, tree = self._repository(mapping), self._tree(mapping, self.latest_commit(mapping))
        written = export_tree(repository, tree, scope, _mapping_matcher(mapping), destination)
        if kind == "file":
            _rename_file(mapping, destination)
        return written

    def apply_changes(self, mapping: GitMapping, from_commit: str, destination: Path) -> list[str]:
        """Bring a container holding the mapping's files at `from_commit` to the latest commit.

        Writes every file added or changed since `from_commit` into `destination` (laid out as `export`
        does) and returns the paths to delete in the container **before** copying `destination` over it:
        deleted files, changed symlinks and paths whose kind changed (file ↔ symlink, file ↔ directory, a
        removed submodule), relative to `to` (for a single-file `add`: the basename of `to`), POSIX,
        sorted; "." is `to` itself (a file `add` that became a directory). Directories emptied by
        deletions stay (git apply would remove them when empty).
        """
        destination.mkdir(parents=True, exist_ok=True)
        kind = _add_kind(self.add_kind(mapping))
        scope, matcher = _scope(mapping, kind), _mapping_matcher(mapping)
        repository = self._repository(mapping)
        old, new = self._tree(mapping, from_commit), self._tree(mapping, self.latest_commit(mapping))
        selection = MultiPathMatcher.of(new_path_matcher(base_path=scope), matcher)  # as export_tree has it
        changes = tree_changes(repository, old, new, selection)
        if changes.written:  # already judged by `selection`: export exactly these
            export_tree(repository, new, scope, ExactPathMatcher.of(changes.written), destination)
            if kind == "file":
                _rename_file(mapping, destination)
        return sorted(_container_path(mapping, kind, scope, path) for path in changes.removed)

    def commit_time(self, mapping: GitMapping) -> int:
        """Unix seconds of the latest commit (its committer time)."""
        latest = self.latest_commit(mapping)
        commit = _lookup_commit(self._repository(mapping), latest)
        if commit is None:
            raise GitError(f"{_describe(mapping)}: commit {latest} is not in the repository",
                           hint="check the repository and the mapping's commit")
        return int(commit.commit_time)

    # --- internals -------------------------------------------------------------------------------------

    def _repository(self, mapping: GitMapping) -> pygit2.Repository:
        if mapping.is_remote:
            return self._remotes.get(mapping).repository
        if self._project is None:
            raise GitError(f"{_describe(mapping)} reads the project repository, but there is none",
                           hint="run shipyard in a git checkout of the project, or give the mapping a url")
        return self._project.repository

    def _resolve_latest(self, mapping: GitMapping) -> str:
        if not mapping.is_remote:
            self._repository(mapping)  # no project repository: a clear error
            return self._project_tree_commit
        clone = self._remotes.get(mapping)
        if mapping.commit:
            commit = _lookup_commit(clone.repository, mapping.commit)
            if commit is None:
                raise GitError(f"{_describe(mapping)}: commit {mapping.commit} is not in {mapping.url}",
                               hint="check `commit:` in werf.yaml: it must be on a branch or tag of the repo")
            return str(commit.id)
        if mapping.tag:
            found = clone.tag_commit(mapping.tag)
            if found is None:
                raise GitError(f"{_describe(mapping)}: tag {mapping.tag!r} is not in {mapping.url}",
                               hint=f"check `tag:` in werf.yaml; see `git ls-remote --tags {mapping.url}`")
            return found
        branch = mapping.branch or clone.default_branch
        found = clone.branch_commit(branch) if branch else None
        if found is None:
            known = ", ".join(clone.branches()[:20]) or "none"
            what = f"branch {branch!r}" if branch else "the default branch (remote HEAD)"
            raise GitError(f"{_describe(mapping)}: {what} is not in {mapping.url}",
                           hint=f"check `branch:` in werf.yaml; the repository has: {known}")
        return found

    def _tree(self, mapping: GitMapping, commit: str) -> pygit2.Tree:
        found = _lookup_commit(self._repository(mapping), commit)
        if found is None:
            raise GitError(f"{_describe(mapping)}: commit {commit} is not in the repository",
                           hint="the commit was rewritten or never fetched; rebuild from the latest commit")
        return found.tree


def work_tree_commit(project: GitRepo, tree: pygit2.Tree | str) -> str:
    """A commit of a work-tree snapshot for dev mode (werf builds `--dev` from a commit of the work tree).

    Parent HEAD, author and committer `shipyard <shipyard@localhost>` at HEAD's commit time (UTC), message
    `shipyard --dev work tree`; written to the object database, on no ref. Deterministic: the same tree
    gives the same commit id. A tree equal to HEAD's (a clean work tree) gives HEAD itself.
    """
    repository = project.repository
    head = _lookup_commit(repository, project.head_commit)
    if head is None:
        raise GitError(f"HEAD commit {project.head_commit} is missing", hint="check `git status`")
    tree_id = pygit2.Oid(hex=tree) if isinstance(tree, str) else tree.id
    if tree_id == head.tree_id:
        return str(head.id)
    signature = pygit2.Signature(*_DEV_SIGNATURE, project.head_commit_time, 0)
    oid = repository.create_commit(None, signature, signature, DEV_COMMIT_MESSAGE, tree_id, [head.id])
    return str(oid)


def _add_kind(kind: str) -> AddKind:
    return "file" if kind == "file" else "directory"


def _lookup_commit(repository: pygit2.Repository, commit: str) -> pygit2.Commit | None:
    """The commit with this (full or unambiguous abbreviated) id; None if absent or not a commit."""
    try:
        found = repository.get(commit)
    except (ValueError, pygit2.GitError):
        return None
    return found if isinstance(found, pygit2.Commit) else None


def _describe(mapping: GitMapping) -> str:
    where = f" of {mapping.url}" if mapping.is_remote else ""
    line = f" (werf.yaml:{mapping.line})" if mapping.line else ""
    return f"git mapping add {mapping.add} → {mapping.to}{where}{line}"


def _mapping_matcher(mapping: GitMapping) -> PathMatcher:
    """werf GitMapping.getPathMatcher: base `add`, include and exclude globs relative to it."""
    return new_path_matcher(base_path=mapping_add(mapping), include_globs=mapping.include_paths,
                            exclude_globs=mapping.exclude_paths)


def _patch_scope(patches: GitPatches, mapping: GitMapping, latest: str) -> PatchScope:
    return patches.mapping_scope(latest, mapping_add(mapping), mapping.to, mapping.include_paths,
                                 mapping.exclude_paths)


def _scope(mapping: GitMapping, kind: AddKind) -> str:
    """The directory the exported paths are relative to: `add`, or the directory of a file `add`."""
    add = mapping_add(mapping)
    return add if kind == "directory" else add.rpartition("/")[0]


def _target_name(mapping: GitMapping) -> str:
    """The name a single-file `add` gets in the container: the basename of `to`."""
    return PurePosixPath(mapping.to).name or PurePosixPath(mapping_add(mapping)).name


def _rename_file(mapping: GitMapping, destination: Path) -> None:
    source = destination / PurePosixPath(mapping_add(mapping)).name
    target = destination / _target_name(mapping)
    if source != target and os.path.lexists(source):
        os.replace(source, target)


def _container_path(mapping: GitMapping, kind: AddKind, scope: str, path: str) -> str:
    relative = relative_to_base(scope, path) if scope else path
    if kind == "directory":
        return relative
    name, _, rest = relative.partition("/")
    renamed = _target_name(mapping) if name == PurePosixPath(mapping_add(mapping)).name else name
    return f"{renamed}/{rest}" if rest else renamed
