"""File operations inside a mounted container root filesystem that never leave it.

Container paths are resolved the way the container would see them (as if chrooted at `root`): a symlink
met on the way is followed inside `root` (an absolute target starts again at `root`, `..` stops at `root`),
so a link in the image can never make us touch a host file. The last component of a path to remove is
never followed: a symlink is removed as a link.

werf does the same with `filepath.Join(container.RootMount, path)` and `os.RemoveAll`
(`pkg/container_backend/buildah_backend.go` `applyRemoveData`, `remove_data.go`), which follows symlinks on
the host; this module keeps werf's results (empty parents pruned after a removal, missing paths ignored)
without that hazard.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

_MAX_SYMLINKS = 40  # Linux MAXSYMLINKS


def resolve_inside(root: Path, path: str, *, follow_last: bool = True) -> list[str]:
    """The components of container path `path` below `root`, with every symlink resolved inside `root`."""
    pending = [part for part in path.split("/") if part]
    resolved: list[str] = []
    links = 0
    while pending:
        part = pending.pop(0)
        if part == ".":
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        if not pending and not follow_last:
            resolved.append(part)
            break
        host = root.joinpath(*resolved, part)
        if not os.path.islink(host):
            resolved.append(part)
            continue
        links += 1
        if links > _MAX_SYMLINKS:
            raise OSError(errno.ELOOP, "too many levels of symbolic links", str(host))
        target = os.readlink(host)
        if target.startswith("/"):
            resolved = []
        pending = [item for item in target.split("/") if item] + pending
    return resolved


def remove_paths(root: Path, to: str, relative_paths: Sequence[str]) -> None:
    """Remove `to/<path>` for each path (files, symlinks, whole directories; missing ones are fine), then
    the directories left empty by the removal, up to but not including `to`."""
    stop = resolve_inside(root, to)
    for relative in relative_paths:
        components = resolve_inside(root, f"{to}/{relative}", follow_last=False)
        if not components:
            continue  # never the root itself
        remove_entry(root.joinpath(*components))
        _prune_empty_parents(root, components[:-1], stop)


def clear_directories(root: Path, paths: Sequence[str]) -> None:
    """Remove everything inside each directory of `paths`, keeping the directory (werf RemoveInsidePath)."""
    for path in paths:
        directory = root.joinpath(*resolve_inside(root, path))
        try:
            if not stat.S_ISDIR(os.lstat(directory).st_mode):
                continue
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in os.listdir(directory):
            remove_entry(directory / entry)


def remove_entry(host_path: Path) -> None:
    """Remove one file, symlink (as a link) or directory tree; a missing one is fine."""
    try:
        mode = os.lstat(host_path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    if stat.S_ISDIR(mode):
        shutil.rmtree(host_path)  # fd-based on Linux: never follows a symlink inside the tree
    else:
        os.unlink(host_path)


def _prune_empty_parents(root: Path, parents: list[str], stop: list[str]) -> None:
    while len(parents) > len(stop) and parents[:len(stop)] == stop:
        try:
            os.rmdir(root.joinpath(*parents))
        except (FileNotFoundError, NotADirectoryError):
            pass  # a parent that never existed: keep going up, as werf does
        except OSError as error:
            if error.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return
            raise
        parents = parents[:-1]
