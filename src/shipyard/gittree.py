"""Git trees of any repository (the project's or a bare clone of a git mapping's): werf's ls-tree
checksum (werf-internals §1.7) and exports, submodules entered at the commits the trees record.

Part of the git adapter with gitrepo.py: only these modules and the git mapping ones import pygit2.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import FileMode

from shipyard.errors import GitError
from shipyard.gitexport import TreeExport
from shipyard.pathmatch import MultiPathMatcher, PathMatcher, new_path_matcher
from shipyard.pathmatch.globs import go_join, relative_to_base

__all__ = ["DIRECTORY_MODES", "export_tree", "submodule_tree", "tree_checksum"]

DIRECTORY_MODES = frozenset((FileMode.TREE, FileMode.COMMIT))  # what a walk may enter


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
        if entry.filemode not in DIRECTORY_MODES:
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
