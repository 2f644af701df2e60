"""The project's git repository through pygit2 (the git adapter: with gittree.py, gitexport.py, gitpatch.py
and the gitmappings modules, the only code that imports it).

A Snapshot is an immutable view of the project files: the HEAD tree (strict giterminism) or the HEAD tree
overlaid with the work tree (loose and dev modes). Content hashes come from git object ids, so files that are
committed and unchanged are never read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pygit2
from pygit2.enums import FileMode, FileStatus

from shipyard.errors import GitError
from shipyard.gittree import DIRECTORY_MODES, export_tree, tree_checksum
from shipyard.pathmatch import PathMatcher, format_path
from shipyard.pathmatch.globs import go_dir, go_join, split_filepath

Mode = Literal["strict", "loose", "dev"]
MODES: tuple[Mode, ...] = ("strict", "loose", "dev")
_COMMIT_HINT = "commit the project files: git add -A && git commit -m 'initial commit'"
_BLOB_MODES = frozenset((FileMode.BLOB, FileMode.BLOB_EXECUTABLE, FileMode.LINK))
_DIR_MODES = DIRECTORY_MODES
_MAX_SYMLINK_DEPTH = 1000  # werf resolveCommitFilePath


class GitRepo:
    """A non-bare repository with at least one commit; `snapshot(mode)` gives the files to build from."""

    def __init__(self, repository: pygit2.Repository) -> None:
        self._repository = repository
        head = repository.head.peel(pygit2.Commit)
        self.root = Path(repository.workdir)
        self.head_commit: str = str(head.id)
        self.head_commit_time: int = head.commit_time
        self._head_tree: pygit2.Tree = head.tree
        self._changes: list[str] | None = None
        self._snapshots: dict[Mode, Snapshot] = {}

    @classmethod
    def discover(cls, path: Path) -> GitRepo:
        """The repository containing `path` (a directory inside its work tree)."""
        try:
            git_dir = pygit2.discover_repository(str(path))
        except pygit2.GitError as error:
            raise GitError(f"cannot read a git repository at {path}: {error}", hint=_COMMIT_HINT) from None
        if git_dir is None:
            raise GitError(
                f"{path} is not inside a git repository",
                hint="run `git init` and commit the project (shipyard, like werf, builds from git commits)",
            )
        repository = pygit2.Repository(git_dir)
        if repository.is_bare or repository.workdir is None:
            raise GitError(f"{git_dir} is a bare repository",
                           hint="run shipyard inside a checkout with a work tree")
        if repository.head_is_unborn:
            raise GitError(f"the git repository at {repository.workdir} has no commits yet",
                           hint=_COMMIT_HINT)
        return cls(repository)

    def snapshot(self, mode: Mode) -> Snapshot:
        """strict: the HEAD commit; loose and dev: HEAD plus uncommitted and untracked (not ignored) files."""
        if mode not in MODES:
            raise ValueError(f"unknown giterminism mode {mode!r}")
        if mode not in self._snapshots:
            tree = self._head_tree if mode == "strict" else self._work_tree_overlay()
            self._snapshots[mode] = Snapshot(self, tree, mode)
        return self._snapshots[mode]

    def changed_paths(self) -> list[str]:
        """Work-tree files differing from HEAD: staged, modified, deleted or untracked (not ignored); sorted.

        One libgit2 status pass (index vs HEAD and work tree vs index, both in C); cached for this run.
        """
        if self._changes is None:
            try:
                status = self._repository.status(untracked_files="all", ignored=False)
            except pygit2.GitError as error:
                raise GitError(f"cannot read the work tree status: {error}",
                               hint="check `git status`") from None
            self._changes = sorted(path for path, flags in status.items()
                                   if flags not in (FileStatus.CURRENT, FileStatus.IGNORED))
        return self._changes

    def _work_tree_overlay(self) -> pygit2.Tree:
        """HEAD with every changed file taken from the work tree, written as a tree object.

        Uses a private in-memory index: the user's index, HEAD and refs stay untouched.
        """
        changes = self.changed_paths()
        if not changes:
            return self._head_tree
        index = pygit2.Index()
        index.read_tree(self._head_tree)
        trust_exec_bit = _config_bool(self._repository, "core.filemode", default=True)
        files = {path: _lstat(self.root / path) for path in changes}
        # removals first: a file that became a directory (or the reverse) must leave before its replacement
        for path, info in files.items():
            if (info is None or stat.S_ISDIR(info.st_mode)) and _is_file_entry(_index_entry(index, path)):
                index.remove(path)
        for path, info in files.items():
            committed = _index_entry(index, path)
            if info is None or stat.S_ISDIR(info.st_mode) or _is_submodule(committed):
                continue  # gone, a directory (a nested repository), or a submodule: HEAD's commit stays
            blob = self._repository.create_blob_fromworkdir(path)
            index.add(pygit2.IndexEntry(path, blob, _file_mode(info, committed, trust_exec_bit)))
        tree = self._repository[index.write_tree(self._repository)]
        assert isinstance(tree, pygit2.Tree)
        return tree

    @property
    def repository(self) -> pygit2.Repository:
        """The pygit2 repository (for the other git adapters: patches, git mappings)."""
        return self._repository


class Snapshot:
    """The project files at one tree: read them, hash them the werf way, list uncommitted ones."""

    def __init__(self, repo: GitRepo, tree: pygit2.Tree, mode: Mode) -> None:
        self._repo = repo
        self._tree = tree
        self.mode: Mode = mode
        self.commit: str = repo.head_commit
        self.tree_id: str = str(tree.id)
        self.root: Path = repo.root

    @property
    def repo(self) -> GitRepo:
        """The repository the snapshot was taken from."""
        return self._repo

    @property
    def tree(self) -> pygit2.Tree:
        """The snapshot's tree object (HEAD's, or the work-tree overlay written to the object database)."""
        return self._tree

    def read(self, path: str) -> bytes | None:
        """The bytes of a repo-root-relative posix path, symlinks inside the tree followed (werf
        ReadCommitFile); None if absent, not a file, or a link leaving the repository."""
        entry = self._resolved_entry(path)
        if entry is None or entry.filemode not in _BLOB_MODES:
            return None
        return self._blob(entry)

    def exists(self, path: str) -> bool:
        return format_path(path) == "" or self._entry(path) is not None

    def is_dir(self, path: str) -> bool:
        entry = self._resolved_entry(path)
        return format_path(path) == "" or (entry is not None and entry.filemode in _DIR_MODES)

    def is_file(self, path: str) -> bool:
        entry = self._resolved_entry(path)
        return entry is not None and entry.filemode in _BLOB_MODES

    def ls_tree_checksum(self, scope: str, matcher: PathMatcher) -> str:
        """werf's ls-tree checksum (werf-internals §1.7): walk from `scope`, stop where `matcher` takes a
        whole directory, hash the object ids in path order; "" when nothing matched."""
        return tree_checksum(self._repo._repository, self._tree, scope, matcher)

    def list_files(self, scope: str = "") -> list[str]:
        """Repo-root-relative paths of the files (blobs and symlinks) below `scope`, sorted; submodules are
        not entered (templates and `.Files.Glob` read the project's own files)."""
        scope = format_path(scope)
        root = self._tree if not scope else self._entry(scope)
        if root is None or (root is not self._tree and root.filemode != FileMode.TREE):
            return []
        found: list[str] = []
        pending: list[tuple[str, Any]] = [(scope, root)]
        while pending:
            prefix, tree = pending.pop()
            for entry in tree:
                path = f"{prefix}/{entry.name}" if prefix else str(entry.name)
                if entry.filemode == FileMode.TREE:
                    pending.append((path, entry))
                elif entry.filemode in _BLOB_MODES:
                    found.append(path)
        return sorted(found)

    def export(self, scope: str, matcher: PathMatcher, destination: Path) -> int:
        """Write the files below `scope` that `matcher` (repo-root-relative, like `ls_tree_checksum`) selects
        to `destination`, relative to `scope`, from git blobs; returns the number of files written."""
        return export_tree(self._repo._repository, self._tree, scope, matcher, destination)

    def uncommitted(self, paths: Sequence[str] = (), *, matcher: PathMatcher | None = None) -> list[str]:
        """Work-tree files differing from HEAD (modified, staged, deleted, or untracked and not ignored) that
        are one of `paths` (or below one of them) or that `matcher` matches completely; sorted."""
        wanted = [format_path(path) for path in paths]
        return [
            changed for changed in self._repo.changed_paths()
            if any(_is_at_or_below(changed, path) for path in wanted)
            or (matcher is not None and matcher.is_path_matched(changed))
        ]

    def _entry(self, path: str) -> Any:
        path = format_path(path)
        if not path:
            return None
        try:
            return self._tree[path]
        except KeyError:
            return None

    def _blob(self, entry: Any) -> bytes:
        blob = self._repo._repository[entry.id]
        assert isinstance(blob, pygit2.Blob)
        return blob.data

    def _resolved_entry(self, path: str) -> Any:
        resolved = self._resolve(format_path(path), depth=0)
        return None if resolved is None else self._entry(resolved)

    def _resolve(self, path: str, depth: int) -> str | None:
        """werf resolveCommitFilePath: follow in-tree symlinks component by component; None when a component
        is missing or a link is absolute or leaves the repository."""
        if depth > _MAX_SYMLINK_DEPTH:
            raise GitError(f"too many levels of symbolic links at {path}", hint="fix the symlink loop")
        entry = self._entry(path)
        if not path or (entry is not None and entry.filemode != FileMode.LINK):
            return path
        resolved = ""
        for part in split_filepath(path):
            candidate = go_join(resolved, part)
            entry = self._entry(candidate)
            if entry is None:
                return None
            if entry.filemode != FileMode.LINK:
                resolved = candidate
                continue
            link = self._blob(entry).decode("utf-8", errors="surrogateescape")
            target = go_join(go_dir(candidate), link)
            if link.startswith("/") or target == ".." or target.startswith("../"):
                return None
            target_resolved = self._resolve(target, depth + 1)
            if target_resolved is None:
                return None
            resolved = target_resolved
        return resolved


def _is_at_or_below(path: str, base: str) -> bool:
    return not base or path == base or path.startswith(base + "/")


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _is_submodule(entry: pygit2.IndexEntry | None) -> bool:
    return entry is not None and entry.mode == FileMode.COMMIT


def _is_file_entry(entry: pygit2.IndexEntry | None) -> bool:
    return entry is not None and not _is_submodule(entry)


def _index_entry(index: pygit2.Index, path: str) -> pygit2.IndexEntry | None:
    try:
        return index[path]
    except KeyError:
        return None


def _file_mode(info: os.stat_result, committed: pygit2.IndexEntry | None, trust_exec_bit: bool) -> FileMode:
    if stat.S_ISLNK(info.st_mode):
        return FileMode.LINK
    if not trust_exec_bit:  # core.filemode=false: git keeps the recorded mode
        return FileMode(committed.mode) if committed is not None else FileMode.BLOB
    return FileMode.BLOB_EXECUTABLE if info.st_mode & stat.S_IXUSR else FileMode.BLOB


def _config_bool(repository: pygit2.Repository, key: str, *, default: bool) -> bool:
    try:
        return bool(repository.config.get_bool(key))
    except (KeyError, pygit2.GitError):
        return default
