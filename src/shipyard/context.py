"""Build-context hashing for Dockerfile images, from a project snapshot (git object ids, not file reads).

Ports werf pkg/build/image/dockerfile.go (createDockerIgnorePathMatcher), pkg/build/stage/full_dockerfile.go
(calculateFilesChecksum, calculateFilesChecksumWithGit) and pkg/context_manager (ContextAddFilesChecksum);
werf-internals §1.4a. Paths are repo-root-relative posix strings; `context_dir` "" or "." is the root.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Literal, Protocol

from shipyard.errors import ConfigError, GiterminismError
from shipyard.hashsum import sha256_hash
from shipyard.pathmatch import (
    MultiPathMatcher,
    PathMatcher,
    new_path_matcher,
    normalize_copy_add_sources,
    parse_dockerignore,
)
from shipyard.pathmatch.globs import go_clean, go_join, relative_to_base, split_filepath

GITERMINISM_FILE = "werf-giterminism.yaml"
_SHOWN_FILES = 5
_READ_CHUNK = 1 << 20


class ProjectSnapshot(Protocol):
    """What context hashing needs from gitrepo.Snapshot."""

    @property
    def mode(self) -> Literal["strict", "loose", "dev"]: ...

    @property
    def root(self) -> Path: ...

    def read(self, path: str) -> bytes | None: ...

    def ls_tree_checksum(self, scope: str, matcher: PathMatcher) -> str: ...

    def uncommitted(self, paths: Sequence[str] = (), *, matcher: PathMatcher | None = None) -> list[str]: ...

    def export(self, scope: str, matcher: PathMatcher, destination: Path) -> int: ...


def _never(_path: str) -> bool:
    return False


def dockerignore_matcher(
    snapshot: ProjectSnapshot,
    context_dir: str,
    dockerfile_path: str,
    *,
    allow_uncommitted: Callable[[str], bool] = _never,
) -> tuple[PathMatcher, str | None]:
    """The context's .dockerignore as a matcher (based at the context), and a warning to print or None.

    `dockerfile_path` is relative to the context (werf.yaml `dockerfile:`). The file used is
    `<context>/<dockerfile>.dockerignore` if it exists, else `<context>/.dockerignore`. The Dockerfile can
    never be ignored: an exception rule is appended, with a warning. In strict mode an uncommitted
    .dockerignore is an error unless `allow_uncommitted(path)` (giterminism
    `config.dockerfile.allowUncommittedDockerignoreFiles`).
    """
    scope = _scope(context_dir)
    patterns: list[str] = []
    for candidate in (dockerfile_path + ".dockerignore", ".dockerignore"):
        data = _read_dockerignore(snapshot, go_join(scope, candidate), allow_uncommitted)
        if data is not None:
            patterns = parse_dockerignore(data.decode("utf-8", errors="surrogateescape"))
            break
    matcher = new_path_matcher(base_path=scope, dockerignore_patterns=patterns)
    if matcher.is_path_matched(go_join(scope, dockerfile_path)):
        return matcher, None
    warning = (
        f"WARNING: the .dockerignore of context {scope!r} ignores the Dockerfile {dockerfile_path!r}; there "
        "is no way to ignore the Dockerfile, so it stays in the context. To hide this message, remove the "
        "Dockerfile ignore rule or add an exception rule."
    )
    patterns.append("!" + dockerfile_path)
    return new_path_matcher(base_path=scope, dockerignore_patterns=patterns), warning


def _read_dockerignore(snapshot: ProjectSnapshot, path: str,
                       allow_uncommitted: Callable[[str], bool]) -> bytes | None:
    if snapshot.mode == "strict" and snapshot.uncommitted([path]):
        if not allow_uncommitted(path):
            raise _uncommitted_error([path], what="the .dockerignore file", allow=(
                f"allow it in {GITERMINISM_FILE} (`config.dockerfile.allowUncommittedDockerignoreFiles`)"))
        disk = snapshot.root / path
        return disk.read_bytes() if disk.is_file() else None
    return snapshot.read(path)


def files_checksum(
    snapshot: ProjectSnapshot,
    sources: Sequence[str],
    *,
    context_dir: str,
    dockerignore: PathMatcher,
    context_add_files: Sequence[str] = (),
    work_tree_root: Path | None = None,
) -> str:
    """werf calculateFilesChecksum for one COPY/ADD, given its expanded sources as written (".", "./src",
    "/app/*.json").

    Bind everything but `sources` with functools.partial to get the `Callable[[Sequence[str]], str]` the
    Dockerfile digest code wants (or use `FilesChecksum`, which also caches per sources).
    """
    scope = _scope(context_dir)
    wildcards = new_path_matcher(base_path=scope, include_globs=normalize_copy_add_sources(sources))
    tree_checksum = snapshot.ls_tree_checksum(scope, MultiPathMatcher.of(dockerignore, wildcards))
    if snapshot.mode == "strict":
        _refuse_uncommitted_sources(snapshot, scope, wildcards, dockerignore, context_add_files)
    checksum = sha256_hash(tree_checksum)
    if context_add_files:
        root = snapshot.root if work_tree_root is None else work_tree_root
        added = context_add_files_checksum(root, context_dir=scope, context_add_files=context_add_files,
                                           sources=sources)
        if added:
            checksum = sha256_hash(checksum, added)
    return checksum


def _refuse_uncommitted_sources(snapshot: ProjectSnapshot, scope: str, wildcards: PathMatcher,
                                dockerignore: PathMatcher, context_add_files: Sequence[str]) -> None:
    """werf InspectBuildContextFiles: in strict mode the files a COPY/ADD takes must be committed
    (contextAddFiles come from the work tree by design, so they are excluded)."""
    matcher = new_path_matcher(exclude_globs=[go_join(scope, path) for path in context_add_files],
                               matchers=[wildcards, dockerignore])
    uncommitted = snapshot.uncommitted(matcher=matcher)
    if uncommitted:
        raise _uncommitted_error(uncommitted, what="build context files used by COPY/ADD", allow=(
            "list files that must stay uncommitted in the image's `contextAddFiles` (allowed by "
            f"`config.dockerfile.allowContextAddFiles` in {GITERMINISM_FILE})"))


def _uncommitted_error(paths: Sequence[str], *, what: str, allow: str) -> GiterminismError:
    shown = ", ".join(paths[:_SHOWN_FILES])
    if len(paths) > _SHOWN_FILES:
        shown += f" and {len(paths) - _SHOWN_FILES} more"
    return GiterminismError(
        f"{what} must be committed (giterminism: builds use the HEAD commit): {shown}",
        hint=f"commit them (git add … && git commit), {allow}, or build from the work tree with --dev or "
        "--loose-giterminism",
    )


def context_add_files_checksum(
    work_tree_root: Path, *, context_dir: str, context_add_files: Sequence[str], sources: Sequence[str]
) -> str:
    """werf ContextAddFilesChecksum: for each contextAddFiles path the COPY/ADD sources match (config order,
    directories walked in lexical order), its slash path relative to the work tree immediately followed by the
    raw bytes of a regular file (a symlink contributes its path only); "" when none match.

    werf hashes paths relative to the project directory; they are the same when werf.yaml is at the repo root.
    """
    scope = _scope(context_dir)
    # werf passes the sources as written here, not normalised like for the ls-tree
    matcher = new_path_matcher(base_path=scope, include_globs=list(sources))
    matched = [path for path in _context_add_file_paths(work_tree_root, scope, context_add_files)
               if matcher.is_path_matched(path)]
    if not matched:
        return ""
    digest = hashlib.sha256()
    for path in matched:
        digest.update(path.encode("utf-8", errors="surrogateescape"))
        for chunk in _regular_file_chunks(work_tree_root / path):
            digest.update(chunk)
    return digest.hexdigest()


def _context_add_file_paths(work_tree_root: Path, scope: str, context_add_files: Sequence[str]) -> list[str]:
    """werf GetContextAddFilesPaths: the files of each entry (directories walked, symlinks not followed),
    deduplicated."""
    paths: list[str] = []
    for add_file in context_add_files:
        relative = go_clean(go_join(scope, add_file))
        try:
            paths += _walk_files(work_tree_root, relative)
        except FileNotFoundError:
            raise ConfigError(
                f"contextAddFiles: {relative} does not exist in the work tree",
                hint="contextAddFiles paths are relative to `context:` and must exist when building",
            ) from None
    return list(dict.fromkeys(paths))


def _walk_files(work_tree_root: Path, relative: str) -> list[str]:
    info = os.lstat(work_tree_root / relative)
    if not stat.S_ISDIR(info.st_mode):
        return [relative]
    names = sorted(os.listdir(work_tree_root / relative), key=os.fsencode)  # Go sorts names bytewise
    return [path for name in names for path in _walk_files(work_tree_root, f"{relative}/{name}")]


def _regular_file_chunks(path: Path) -> Iterator[bytes]:
    """The bytes of a regular file (werf util.RegularFileExists uses lstat: nothing for a symlink)."""
    if not stat.S_ISREG(os.lstat(path).st_mode):
        return
    with path.open("rb") as file:
        while chunk := file.read(_READ_CHUNK):
            yield chunk


def materialize_context(
    snapshot: ProjectSnapshot,
    *,
    context_dir: str,
    dockerignore: PathMatcher,
    context_add_files: Sequence[str] = (),
    work_tree_root: Path | None = None,
    dockerfile_content: bytes,
    destination: Path,
) -> tuple[Path, Path]:
    """Write the build context the way werf's build_context_archive does, and the Dockerfile beside it.

    `destination` (missing or empty) receives `context/`: the snapshot's files below `context_dir` minus
    `dockerignore`, then the contextAddFiles copied from the work tree over them; and `Dockerfile`, outside
    the context, holding `dockerfile_content` (the bytes the digest was computed from, even when the file is
    ignored or uncommitted). Returns (context directory, Dockerfile path).
    """
    if destination.exists() and any(destination.iterdir()):
        raise ValueError(f"{destination} is not empty")
    scope = _scope(context_dir)
    context_path = destination / "context"
    snapshot.export(scope, dockerignore, context_path)
    root = snapshot.root if work_tree_root is None else work_tree_root
    for path in _context_add_file_paths(root, scope, context_add_files):
        _copy_add_file(root / path, context_path, relative_to_base(scope, path))
    dockerfile_path = destination / "Dockerfile"
    dockerfile_path.write_bytes(dockerfile_content)
    return context_path, dockerfile_path


def _copy_add_file(source: Path, context_path: Path, relative: str) -> None:
    """Copy one work-tree file (a symlink as a symlink) into the context, replacing a committed one."""
    parts = split_filepath(relative)
    if not parts or parts[0] == "..":
        raise ConfigError(f"contextAddFiles: {relative} is outside the build context",
                          hint="contextAddFiles paths are relative to `context:` and must stay below it")
    target = _context_directory(context_path, parts[:-1], relative) / parts[-1]
    if target.is_symlink() or target.is_file():
        target.unlink()
    if stat.S_ISLNK(os.lstat(source).st_mode):
        os.symlink(os.readlink(source), target)
        return
    shutil.copyfile(source, target)
    # the same modes git records, whatever the work tree's umask gave
    os.chmod(target, 0o755 if os.stat(source).st_mode & stat.S_IXUSR else 0o644)


def _context_directory(context_path: Path, parts: Sequence[str], relative: str) -> Path:
    """The directory `parts` below the context, created as needed; never followed through a symlink, which
    could lead a copy out of the context."""
    directory = context_path
    for part in parts:
        directory /= part
        if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
            raise ConfigError(
                f"contextAddFiles: {relative} lies below {directory.relative_to(context_path)}, which is a "
                "file or a symlink in the build context", hint="list the file at its real path")
        if not directory.exists():
            directory.mkdir()
            os.chmod(directory, 0o755)
    return directory


def _scope(context_dir: str) -> str:
    """werf contextRelativeToGitWorkTree: filepath.Join(projectDir, context), "." for the root."""
    return go_clean(context_dir or ".")


class FilesChecksum:
    """The per-image files-checksum callback for the Dockerfile digest, cached per sources tuple."""

    def __init__(self, snapshot: ProjectSnapshot, *, context_dir: str, dockerignore: PathMatcher,
                 context_add_files: Sequence[str] = (), work_tree_root: Path | None = None) -> None:
        self._snapshot = snapshot
        self._context_dir = context_dir
        self._dockerignore = dockerignore
        self._context_add_files = tuple(context_add_files)
        self._work_tree_root = work_tree_root
        self._cache: dict[tuple[str, ...], str] = {}

    def __call__(self, sources: Sequence[str]) -> str:
        key = tuple(sources)
        if key not in self._cache:
            self._cache[key] = files_checksum(
                self._snapshot, key, context_dir=self._context_dir, dockerignore=self._dockerignore,
                context_add_files=self._context_add_files, work_tree_root=self._work_tree_root)
        return self._cache[key]
