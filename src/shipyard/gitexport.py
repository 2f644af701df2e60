"""Writing the files of a git tree to a directory (build contexts), straight from git blobs.

Part of the git adapter (with gitrepo.py, the only pygit2 users): committed files are read from the object
database, never from the work tree, so the context is exactly the commit whatever the checkout looks like.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import FileMode

from shipyard.pathmatch import PathMatcher
from shipyard.pathmatch.globs import go_join, relative_to_base

# (repository with the gitlink, the submodule's path in it, the commit it records) → its repository and tree
SubmoduleTree = Callable[[pygit2.Repository, str, str], tuple[pygit2.Repository, pygit2.Tree]]
# git records only these two modes for files; a checkout with the usual umask 022 gives the same
_FILE_MODE = 0o644
_EXECUTABLE_MODE = 0o755
_DIRECTORY_MODE = 0o755


class TreeExport:
    """Writes every file the matcher selects below `scope` to `destination`, at its path relative to `scope`.

    The matcher takes repo-root-relative paths (like the ls-tree checksum), and the walk stops where it does:
    a directory it matches completely is written whole, one it goes through is descended into. Executable
    bits and symlinks are kept; submodules are entered at the commit the tree records.
    """

    def __init__(self, matcher: PathMatcher, scope: str, destination: Path,
                 submodule_tree: SubmoduleTree) -> None:
        self._matcher = matcher
        self._scope = scope
        self._destination = destination
        self._submodule_tree = submodule_tree
        self._directories: set[Path] = set()
        self.files = 0

    def run(self, repository: pygit2.Repository, tree: pygit2.Tree) -> int:
        """Export `tree` (the root tree of `repository`); returns the number of files written."""
        self._destination.mkdir(parents=True, exist_ok=True)
        self._directories.add(self._destination)
        self._walk(repository, tree, "", "", whole=False)
        return self.files

    def _walk(self, repository: pygit2.Repository, tree: pygit2.Tree, repository_path: str, tree_path: str,
              *, whole: bool) -> None:
        for entry in tree:
            self._entry(repository, repository_path, go_join(tree_path, entry.name or ""), entry, whole=whole)

    def _entry(self, repository: pygit2.Repository, repository_path: str, full_path: str, entry: Any,
               *, whole: bool) -> None:
        if entry.filemode not in (FileMode.TREE, FileMode.COMMIT):
            if whole or self._matcher.is_path_matched(full_path):
                self._write(repository, full_path, entry)
            return
        if not whole and not self._matcher.should_go_through(full_path):
            if not self._matcher.is_path_matched(full_path):
                return
            whole = True  # matched completely: everything below is taken without asking again
        if entry.filemode == FileMode.TREE:
            self._walk(repository, entry, repository_path, full_path, whole=whole)
            return
        sub_repository, sub_tree = self._submodule_tree(
            repository, relative_to_base(repository_path, full_path), str(entry.id))
        self._walk(sub_repository, sub_tree, full_path, full_path, whole=whole)

    def _write(self, repository: pygit2.Repository, full_path: str, entry: Any) -> None:
        target = self._destination / relative_to_base(self._scope, full_path)
        self._ensure_directory(target.parent)
        blob = repository[entry.id]
        assert isinstance(blob, pygit2.Blob)
        if entry.filemode == FileMode.LINK:
            os.symlink(os.fsdecode(blob.data), target)
        else:
            target.write_bytes(blob.data)
            # chmod, not the umask: the file modes end up in the image
            os.chmod(target, _EXECUTABLE_MODE if entry.filemode == FileMode.BLOB_EXECUTABLE else _FILE_MODE)
        self.files += 1

    def _ensure_directory(self, directory: Path) -> None:
        if directory in self._directories:
            return
        if directory == directory.parent:  # only reachable for a path outside the destination
            raise ValueError(f"{directory} is not below {self._destination}")
        self._ensure_directory(directory.parent)
        directory.mkdir(exist_ok=True)
        os.chmod(directory, _DIRECTORY_MODE)
        self._directories.add(directory)
