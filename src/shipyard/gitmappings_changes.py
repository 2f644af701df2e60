"""What changes in a container's git files between two commits of a mapping (werf's patch application).

werf applies `git diff FROM TO` to the container with `git apply`: changed files are rewritten, deleted ones
removed, and a path that changes kind (file ↔ directory, file ↔ symlink) is removed before it is recreated.
Here libgit2's tree diff (no rename detection, as werf's `diff.renames=false`: a rename is a deletion plus an
addition) gives the changed paths; the mapping's matcher keeps the ones the mapping takes, judged the way
the export walk judges them; submodules whose commit changed are diffed inside.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pygit2
from pygit2.enums import DeltaStatus, FileMode

from shipyard.gittree import submodule_tree
from shipyard.pathmatch import PathMatcher
from shipyard.pathmatch.globs import go_join

__all__ = ["ExactPathMatcher", "TreeChanges", "tree_changes"]

_GITLINK = int(FileMode.COMMIT)
_LINK = int(FileMode.LINK)


@dataclass
class TreeChanges:
    """Repo-root-relative paths (inside submodules: prefixed with the submodule path).

    written: files and symlinks to take from the new tree; removed: paths to delete first (deleted files,
    changed or new symlinks and what they replace, a directory replaced by a file, a removed submodule).
    """

    written: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class ExactPathMatcher(PathMatcher):
    """Exactly the given file paths: the directories above them are gone through, nothing else matches."""

    files: frozenset[str]
    directories: frozenset[str]

    @classmethod
    def of(cls, files: set[str]) -> ExactPathMatcher:
        directories = {"/".join(parts[:end]) for parts in (path.split("/") for path in files)
                       for end in range(len(parts))}
        return cls(frozenset(files), frozenset(directories))

    def is_path_matched(self, path: str) -> bool:
        return path in self.files

    def should_go_through(self, path: str) -> bool:
        return path in self.directories


def tree_changes(repository: pygit2.Repository, old: pygit2.Tree, new: pygit2.Tree,
                 matcher: PathMatcher) -> TreeChanges:
    """The changes from `old` to `new` that `matcher` (repo-root-relative, like the export's) selects."""
    collector = _Collector(matcher)
    collector.diff(repository, old, new, "")
    changes = collector.changes
    for written in changes.written:  # a directory that became a file goes as a whole
        below = {path for path in changes.removed if path.startswith(written + "/")}
        if below:
            changes.removed -= below
            changes.removed.add(written)
    return changes


class _Collector:
    def __init__(self, matcher: PathMatcher) -> None:
        self._matcher = matcher
        self.changes = TreeChanges()

    def diff(self, repository: pygit2.Repository, old: pygit2.Tree | None, new: pygit2.Tree,
             prefix: str) -> None:
        diff = new.diff_to_tree(swap=True) if old is None else old.diff_to_tree(new)
        for delta in diff.deltas:
            self._old_side(delta, prefix)
            self._new_side(repository, delta, prefix)

    def _old_side(self, delta: pygit2.DiffDelta, prefix: str) -> None:
        if delta.status == DeltaStatus.ADDED:
            return
        path, mode, new_mode = go_join(prefix, delta.old_file.path), delta.old_file.mode, delta.new_file.mode
        if mode == _GITLINK:
            gone = delta.status == DeltaStatus.DELETED or new_mode != _GITLINK
            if gone and self._reached(path):
                self.changes.removed.add(path)  # the submodule is gone: its directory goes
            return
        # a symlink that changes goes first too: copying over it must not write through the old link
        replaced = new_mode in (_GITLINK, _LINK) or mode == _LINK
        if (delta.status == DeltaStatus.DELETED or replaced) and self._selected(path):
            self.changes.removed.add(path)

    def _new_side(self, repository: pygit2.Repository, delta: pygit2.DiffDelta, prefix: str) -> None:
        if delta.status == DeltaStatus.DELETED:
            return
        path, mode = go_join(prefix, delta.new_file.path), delta.new_file.mode
        if mode != _GITLINK:
            if self._selected(path):
                self.changes.written.add(path)
            return
        if not self._reached(path):
            return
        relative = delta.new_file.path
        sub_repository, sub_new = submodule_tree(repository, relative, str(delta.new_file.id))
        sub_old = None
        if delta.status != DeltaStatus.ADDED and delta.old_file.mode == _GITLINK:
            sub_old = submodule_tree(repository, relative, str(delta.old_file.id))[1]
        self.diff(sub_repository, sub_old, sub_new, path)

    def _reached(self, path: str) -> bool:
        """The export walk gets to `path`: it lies on the way to taken paths or is taken itself."""
        return self._walk(path, final=self._matcher.is_dir_or_submodule_path_matched)

    def _selected(self, path: str) -> bool:
        """The export walk writes the file at `path` (TreeExport: a matched directory is taken whole)."""
        return self._walk(path, final=self._matcher.is_path_matched)

    def _walk(self, path: str, final: Callable[[str], bool]) -> bool:
        parts = path.split("/")
        for end in range(1, len(parts)):
            directory = "/".join(parts[:end])
            if not self._matcher.should_go_through(directory):
                return self._matcher.is_path_matched(directory)
        return final(path)

