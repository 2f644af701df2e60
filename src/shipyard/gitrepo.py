"""The project's git repository through pygit2 (the only module that imports it).

A Snapshot is an immutable view of the project files: the HEAD tree (strict giterminism) or the HEAD tree
overlaid with the work tree (loose and dev modes). Content hashes come from git object ids, so files that are
committed and unchanged are never read.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pygit2
from pygit2.enums import FileMode, FileStatus

from shipyard.errors import GitError
from shipyard.gitexport import TreeExport
from shipyard.pathmatch import MultiPathMatcher, PathMatcher, format_path, new_path_matcher
from shipyard.pathmatch.globs import go_dir, go_join, relative_to_base, split_filepath

Mode = Literal["strict", "loose", "dev"]
MODES: tuple[Mode, ...] = ("strict", "loose", "dev")
_COMMIT_HINT = "commit the project files: git add -A && git commit -m 'initial commit'"
_BLOB_MODES = frozenset((FileMode.BLOB, FileMode.BLOB_EXECUTABLE, FileMode.LINK))
_DIR_MODES = frozenset((FileMode.TREE, FileMode.COMMIT))
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


def tree_checksum(repository: pygit2.Repository, tree: pygit2.Tree, scope: str, matcher: PathMatcher) -> str:
    """`Snapshot.ls_tree_checksum` for any tree of any repository (bare clones of git mappings too)."""
    scope = "" if scope == "." else scope
    scoped = MultiPathMatcher.of(new_path_matcher(base_path=scope), matcher)
    return _LsTreeWalk(scoped).from_scope(repository, tree, scope).checksum()


def export_tree(repository: pygit2.Repository, tree: pygit2.Tree, scope: str, matcher: PathMatcher,
                destination: Path) -> int:
    """`Snapshot.export` for any tree of any repository; returns the number of files written."""
    scope = "" if scope == "." else scope
    scoped = MultiPathMatcher.of(new_path_matcher(base_path=scope), matcher)
    return TreeExport(scoped, scope, destination, submodule_tree).run(repository, tree)


def submodule_tree(repository: pygit2.Repository, path: str,
                   commit: str) -> tuple[pygit2.Repository, pygit2.Tree]:
    """The repository of the submodule at `path` and its tree at `commit` (GitError when unavailable)."""
    sub_repository = _open_submodule(repository, path)
    return sub_repository, _commit_tree(sub_repository, commit, path)


@dataclass
class _LsTreeResult:
    """werf ls_tree.Result: matched entries (full path, object id) plus one result per walked submodule."""

    repository_path: str
    entries: list[tuple[str, str]] = field(default_factory=list)
    submodules: list[_LsTreeResult] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not self.entries and not self.submodules

    def checksum(self) -> str:
        """Hex SHA-256 of the entries' object ids in path order, then each submodule's own checksum."""
        if self.is_empty():
            return ""
        digest = hashlib.sha256()
        for _, object_id in sorted(self.entries):
            digest.update(object_id.encode())
        for submodule in sorted(self.submodules, key=lambda result: result.repository_path):
            digest.update(submodule.checksum().encode())
        return digest.hexdigest()


class _LsTreeWalk:
    """werf pkg/true_git/ls_tree/ls_tree.go: descend while the matcher goes through, take what it matches."""

    def __init__(self, matcher: PathMatcher) -> None:
        self._matcher = matcher

    def from_scope(self, repository: pygit2.Repository, tree: pygit2.Tree, scope: str) -> _LsTreeResult:
        result = _LsTreeResult("")
        if scope:
            result.entries, result.submodules = self._specific_entry(repository, tree, "", scope)
        elif self._matcher.should_go_through(""):
            result.entries, result.submodules = self._walk(repository, tree, "", "")
        elif self._matcher.is_path_matched(""):
            result.entries = [("", str(tree.id))]
        return result

    def _specific_entry(self, repository: pygit2.Repository, tree: pygit2.Tree, tree_path: str,
                        entry_path: str) -> _Found:
        """The scope entry itself (processSpecificEntryFilepath), entering a submodule that contains it."""
        for submodule_path in _submodule_paths(repository):
            inside = relative_to_base(submodule_path, entry_path)
            if inside in (".", "..") or inside.startswith("../"):
                continue
            sub_repository, sub_tree = self._submodule_tree(repository, tree, submodule_path)
            if sub_tree is None:
                continue
            full_path = go_join(tree_path, submodule_path)
            sub_result = _LsTreeResult(full_path)
            sub_result.entries, sub_result.submodules = self._specific_entry(
                sub_repository, sub_tree, full_path, inside)
            return [], [] if sub_result.is_empty() else [sub_result]
        try:
            entry = tree[entry_path]
        except KeyError:
            return [], []
        return self._entry_match(repository, tree_path, go_join(tree_path, entry_path), entry)

    def _walk(self, repository: pygit2.Repository, tree: pygit2.Tree, repository_path: str,
              tree_path: str) -> _Found:
        entries: list[tuple[str, str]] = []
        submodules: list[_LsTreeResult] = []
        for entry in tree:
            found_entries, found_submodules = self._entry_match(
                repository, repository_path, go_join(tree_path, entry.name or ""), entry)
            entries += found_entries
            submodules += found_submodules
        return entries, submodules

    def _entry_match(self, repository: pygit2.Repository, repository_path: str, full_path: str,
                     entry: Any) -> _Found:
        if entry.filemode not in _DIR_MODES:
            return ([(full_path, str(entry.id))] if self._matcher.is_path_matched(full_path) else []), []
        if self._matcher.should_go_through(full_path):
            if entry.filemode == FileMode.TREE:
                return self._walk(repository, entry, repository_path, full_path)
            return [], self._walk_submodule(repository, repository_path, full_path, str(entry.id))
        if self._matcher.is_path_matched(full_path):
            return [(full_path, str(entry.id))], []  # a whole directory (or submodule) by its own id
        return [], []

    def _walk_submodule(self, repository: pygit2.Repository, repository_path: str, full_path: str,
                        commit: str) -> list[_LsTreeResult]:
        sub_repository = _open_submodule(repository, relative_to_base(repository_path, full_path))
        sub_tree = _commit_tree(sub_repository, commit, full_path)
        entries, submodules = self._walk(sub_repository, sub_tree, full_path, full_path)
        if not entries:
            return []  # werf keeps a submodule result only when the submodule itself has matched entries
        return [_LsTreeResult(full_path, entries, submodules)]

    def _submodule_tree(self, repository: pygit2.Repository, tree: pygit2.Tree,
                        submodule_path: str) -> tuple[pygit2.Repository, pygit2.Tree | None]:
        """The tree at the commit the snapshot records for a submodule (werf: its expected commit)."""
        try:
            gitlink = tree[submodule_path]
        except KeyError:
            return repository, None
        sub_repository = _open_submodule(repository, submodule_path)
        return sub_repository, _commit_tree(sub_repository, str(gitlink.id), submodule_path)


_Found = tuple[list[tuple[str, str]], list[_LsTreeResult]]


def _submodule_paths(repository: pygit2.Repository) -> list[str]:
    """The submodules .gitmodules declares; none in a bare clone (libgit2 reads them from a work tree)."""
    return [] if repository.is_bare else list(repository.listall_submodules())


def _open_submodule(repository: pygit2.Repository, path: str) -> pygit2.Repository:
    try:
        return repository.submodules[path].open()
    except (KeyError, pygit2.GitError) as error:
        raise GitError(
            f"submodule {path} cannot be opened ({error})",
            hint="initialise it: git submodule update --init --recursive",
        ) from None


def _commit_tree(repository: pygit2.Repository, commit: str, path: str) -> pygit2.Tree:
    try:
        return repository[commit].peel(pygit2.Tree)
    except (KeyError, ValueError, pygit2.GitError):
        raise GitError(
            f"submodule {path}: commit {commit} is not in its repository",
            hint="fetch it: git submodule update --init --recursive",
        ) from None


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
