"""Stapel `import:`: select the files an import takes from the source image's root filesystem, copy them to
a staging directory, and compute werf's import checksum over them (werf-internals §1.4.4).

The checksum is werf's Buildah one (`pkg/container_backend/buildah_backend.go:
calculateDependencyImportChecksum`, confirmed against werf's source and its unit tests in
`pkg/container_backend/buildah_backend_test.go`, Describe "calculateDependencyImportChecksum"):

* the walk (`filepath.Walk`, lstat: symlinks are never followed) starts at `add`; a path is skipped (a
  directory with its subtree) unless `IsDirOrSubmodulePathMatched`; directories are never listed; every
  other entry is listed when `IsPathMatched`, with the matcher `NewPathMatcher{BasePath: add,
  IncludeGlobs, ExcludeGlobs}` (so the globs are relative to `add`);
* each listed entry gives the line `"%x  %s\\n"`: the MD5 hex of the file's content, or of the symlink's
  target string (werf's tests: "{content or symlink target, keyed path}"), two spaces, and the path keyed by
  the configured `add`: absolute in the image, `path.Join(add, rel)` (for a single-file `add`, `add` itself);
* the lines are sorted by path (`sort.Strings`: byte order), the result is the MD5 hex of their concatenation;
  nothing selected gives the MD5 of nothing, `EMPTY_IMPORT_CHECKSUM` (werf then warns "import does nothing");
* the parents of `add` are resolved inside the image (werf `resolveContainerRootPathNoFollow`: an absolute
  symlink such as `/bin -> /usr/bin` is followed from the image root, `..` stops at it); `add`'s own last
  component is not, so an `add` that is a symlink is one entry, hashed by its target.

Differences from werf, on purpose: special files (devices, FIFOs, sockets) are neither listed nor copied
(werf's checksum would open them; its copier skips them with a warning); setuid/setgid/sticky bits are kept
in the staging copy (werf's copier keeps only the permission bits).

Nothing here reads outside `source_root`: the walk never follows a symlink, files are opened with
O_NOFOLLOW, and symlinks are read with readlink only.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.config.model import Import
from shipyard.errors import ShipyardError
from shipyard.pathmatch import PathMatcher, new_path_matcher
from shipyard.pathmatch.globs import go_clean, go_join

__all__ = [
    "EMPTY_IMPORT_CHECKSUM",
    "CollectedImport",
    "ImportSourceError",
    "collect_import",
    "import_checksum",
]

EMPTY_IMPORT_CHECKSUM = "d41d8cd98f00b204e9800998ecf8427e"  # MD5 of nothing: the import selects no file
_MAX_SYMLINK_HOPS = 40  # as Linux path resolution (ELOOP)
_CHUNK = 1 << 20


class ImportSourceError(ShipyardError):
    """The `add` path of an import cannot be read in the source image."""


@dataclass(frozen=True)
class CollectedImport:
    checksum: str  # werf's Buildah import checksum
    files: int  # files and symlinks written to the staging directory
    add_is_file: bool  # `add` is not a directory: staged as staging/<basename of `to`>


@dataclass(frozen=True)
class _Leaf:
    """A selected file or symlink."""

    rel: str  # relative to `add` ("" when `add` itself is the leaf)
    host: str  # its path on the host, below source_root
    mode: int  # lstat st_mode


@dataclass
class _Selection:
    add: str  # the configured `add`, cleaned and absolute
    add_is_file: bool
    root_mode: int  # st_mode of `add`
    leaves: list[_Leaf] = field(default_factory=list)
    whole_dirs: list[str] = field(default_factory=list)  # fully matched dirs: staged even when empty
    dir_modes: dict[str, int] = field(default_factory=dict)  # every walked directory below `add`

    def key(self, leaf: _Leaf) -> str:
        """The path werf hashes: absolute in the image, keyed by the configured `add`."""
        return go_join(self.add, leaf.rel) if leaf.rel else self.add


def import_checksum(source_root: Path, item: Import) -> str:
    """werf's import checksum of `item` in the image whose root filesystem is `source_root`; no copy."""
    selection = _select(source_root, item)
    return _checksum((selection.key(leaf), _leaf_md5(leaf)) for leaf in selection.leaves)


def collect_import(source_root: Path, item: Import, staging: Path) -> CollectedImport:
    """Copy what `item` selects into `staging` (empty or missing; laid out relative to `add`, a non-directory
    `add` becoming `staging/<basename of to>`), keeping modes and symlinks, not ownership (the caller's
    `buildah copy --chown` sets it) nor mtimes; returns the checksum too, each file being read once."""
    selection = _select(source_root, item)
    staging.mkdir(parents=True, exist_ok=True)
    if selection.add_is_file:
        digests = [(selection.key(leaf), _stage_leaf(leaf, staging / _staged_name(item))) for leaf in
                   selection.leaves]
    else:
        digests = _stage_tree(selection, staging)
    return CollectedImport(_checksum(digests), len(digests), selection.add_is_file)


# --- selection ---------------------------------------------------------------------------------------------


def _select(source_root: Path, item: Import) -> _Selection:
    add = go_clean("/" + item.add)
    host = _resolve_parents(os.fspath(source_root), add)
    try:
        root_mode = os.lstat(host).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise ImportSourceError(
            f"import of {item.add!r} from image {item.image!r}: no such path in the image",
            hint="check `add` of the import (it is an absolute path in the source image)") from None
    base = add.lstrip("/")
    matcher = new_path_matcher(base_path=base, include_globs=item.include_paths,
                               exclude_globs=item.exclude_paths)
    selection = _Selection(add, not stat.S_ISDIR(root_mode), root_mode)
    if selection.add_is_file:
        if matcher.is_dir_or_submodule_path_matched(base) and matcher.is_path_matched(base):
            _add_leaf(selection, _Leaf("", host, root_mode))
    elif matcher.is_dir_or_submodule_path_matched(base):
        _walk(selection, matcher, base, host)
    return selection


def _walk(selection: _Selection, matcher: PathMatcher, base: str, root_host: str) -> None:
    """werf's filepath.Walk below `add` (never following symlinks), with its matcher calls."""
    if matcher.is_path_matched(base):
        selection.whole_dirs.append("")
    pending = [""]
    while pending:
        directory = pending.pop()
        with os.scandir(os.path.join(root_host, directory)) as entries:
            for entry in entries:
                rel = go_join(directory, entry.name)
                path = go_join(base, rel)
                if not matcher.is_dir_or_submodule_path_matched(path):
                    continue
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    selection.dir_modes[rel] = mode
                    if matcher.is_path_matched(path):
                        selection.whole_dirs.append(rel)
                    pending.append(rel)
                elif matcher.is_path_matched(path):
                    _add_leaf(selection, _Leaf(rel, entry.path, mode))


def _add_leaf(selection: _Selection, leaf: _Leaf) -> None:
    if stat.S_ISREG(leaf.mode) or stat.S_ISLNK(leaf.mode):
        selection.leaves.append(leaf)


def _resolve_parents(root: str, add: str) -> str:
    """The host path of `add`: its parent directories resolved inside the image (symlinks followed from the
    image root, `..` stopping at it), its last component left as it is."""
    parts = [part for part in add.split("/") if part]
    if not parts:
        return root
    *pending, last = parts
    pending.reverse()
    resolved: list[str] = []
    hops = 0
    while pending:
        part = pending.pop()
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        if part == ".":
            continue
        candidate = os.path.join(root, *resolved, part)
        if not os.path.islink(candidate):
            resolved.append(part)
            continue
        hops += 1
        if hops > _MAX_SYMLINK_HOPS:
            raise ImportSourceError(f"import of {add!r}: too many levels of symbolic links in the image")
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = []
        pending.extend(reversed([piece for piece in target.split("/") if piece]))
    return os.path.join(root, *resolved, last)


# --- checksum ----------------------------------------------------------------------------------------------


def _checksum(digests: Iterable[tuple[str, str]]) -> str:
    """MD5 over `"<md5>  <path>\\n"` lines sorted by path (byte order, like Go's sort.Strings)."""
    lines = sorted((os.fsencode(key), digest) for key, digest in digests)
    total = hashlib.md5(usedforsecurity=False)
    for key, digest in lines:
        total.update(b"%s  %s\n" % (digest.encode(), key))
    return total.hexdigest()


def _leaf_md5(leaf: _Leaf) -> str:
    if stat.S_ISLNK(leaf.mode):
        return hashlib.md5(os.fsencode(os.readlink(leaf.host)), usedforsecurity=False).hexdigest()
    with open(os.open(leaf.host, os.O_RDONLY | os.O_NOFOLLOW), "rb") as source:
        return hashlib.file_digest(source, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()


# --- staging -----------------------------------------------------------------------------------------------


def _staged_name(item: Import) -> str:
    name = go_clean("/" + item.to).rpartition("/")[2]
    return name or go_clean("/" + item.add).rpartition("/")[2] or "import"


def _stage_tree(selection: _Selection, staging: Path) -> list[tuple[str, str]]:
    """Write the selected tree below `staging`; directories get their modes last (a read-only source
    directory must still take its files)."""
    created: dict[str, int] = {"": selection.root_mode}

    def ensure(rel: str) -> None:
        if rel in created:
            return
        ensure(rel.rpartition("/")[0])
        (staging / rel).mkdir(mode=0o700, exist_ok=True)
        created[rel] = selection.dir_modes.get(rel, stat.S_IFDIR | 0o755)

    for rel in selection.whole_dirs:
        ensure(rel)
    digests = []
    for leaf in selection.leaves:
        ensure(leaf.rel.rpartition("/")[0])
        digests.append((selection.key(leaf), _stage_leaf(leaf, staging / leaf.rel)))
    for rel in sorted(created, key=lambda rel: rel.count("/") + bool(rel), reverse=True):
        os.chmod(staging / rel, stat.S_IMODE(created[rel]))
    return digests


def _stage_leaf(leaf: _Leaf, target: Path) -> str:
    """Copy one file (content and mode) or symlink (same target) to `target`; returns its werf MD5."""
    if stat.S_ISLNK(leaf.mode):
        link = os.readlink(leaf.host)
        os.symlink(link, target)
        return hashlib.md5(os.fsencode(link), usedforsecurity=False).hexdigest()
    digest = hashlib.md5(usedforsecurity=False)
    with (open(os.open(leaf.host, os.O_RDONLY | os.O_NOFOLLOW), "rb") as source,
          open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "wb") as copy):
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            copy.write(chunk)
        os.fchmod(copy.fileno(), stat.S_IMODE(leaf.mode))
    return digest.hexdigest()
