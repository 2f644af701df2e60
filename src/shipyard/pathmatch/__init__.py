"""werf's path matchers (pkg/path_matcher): which repo paths a COPY/ADD, a .dockerignore or a git mapping
takes.

Every matcher answers two questions about a repo-relative posix path, exactly as werf does, because the
answers decide where the ls-tree walk stops descending (and so which object ids the checksum hashes):

* ``is_path_matched(path)``: the path is taken completely (a directory: with everything below it);
* ``should_go_through(path)``: the directory is not taken completely but may contain taken paths.

Pure: no I/O. Globs are doublestar globs; .dockerignore patterns follow moby/patternmatcher.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shipyard.pathmatch.dockerignore import IgnorePatterns, parse_dockerignore
from shipyard.pathmatch.globs import (
    BadPatternError,
    go_clean,
    go_join,
    is_subpath_of_base_path,
    path_match,
    relative_to_base,
    safe_trim_globs_and_slashes,
    split_filepath,
)

__all__ = [
    "BadPatternError",
    "BasePathMatcher",
    "DockerignorePathMatcher",
    "ExcludePathMatcher",
    "FalsePathMatcher",
    "IncludePathMatcher",
    "MultiPathMatcher",
    "PathMatcher",
    "TruePathMatcher",
    "format_path",
    "new_path_matcher",
    "normalize_copy_add_sources",
    "parse_dockerignore",
]


class PathMatcher(ABC):
    """werf's PathMatcher interface (pkg/path_matcher/interface.go)."""

    @abstractmethod
    def is_path_matched(self, path: str) -> bool:
        """The path is matched completely (for a directory: the whole subtree)."""

    @abstractmethod
    def should_go_through(self, path: str) -> bool:
        """The directory is not matched completely but may contain matched paths; False when fully matched."""

    def is_dir_or_submodule_path_matched(self, path: str) -> bool:
        return self.is_path_matched(path) or self.should_go_through(path)


def format_path(path: str) -> str:
    """werf formatPath: "", "." and "/" mean the root ""; anything else is cleaned."""
    return "" if path in ("", ".", "/") else go_clean(path)


def normalize_copy_add_sources(sources: Iterable[str]) -> list[str]:
    """werf dockerfile.NormalizeCopyAddSourcesForPathMatcher: path.Clean, "/" -> ".", drop a leading "/"."""
    normalized = []
    for source in sources:
        cleaned = go_clean(source)
        normalized.append("." if cleaned == "/" else cleaned.removeprefix("/"))
    return normalized


# --- glob helpers (pkg/path_matcher/common.go) -------------------------------------------------------------


def match_glob(path_part: str, glob: str) -> tuple[str, str]:
    """One path component against the first component of `glob`: (glob still in progress, glob fully matched).

    A first component with `**` keeps the whole glob in progress (it may swallow any number of components).
    """
    glob_parts = split_filepath(glob)
    # werf indexes globParts[0] unguarded (a panic for "."-like globs); treat such a glob as not matching
    if not glob_parts or not path_match(glob_parts[0], path_part):
        return "", ""
    if "**" in glob_parts[0]:
        return glob, ""
    if len(glob_parts) > 1:
        return go_join(*glob_parts[1:]), ""
    return "", glob


def globs_in_progress(path: str, globs: Sequence[str]) -> tuple[list[str], list[str]]:
    """Walk `path` component by component; return the globs still in progress and those matched on the way.

    As in werf, `matched` holds only the globs completed at the last component examined.
    """
    in_progress: list[str] = list(globs)
    matched: list[str] = []
    for part in split_filepath(path):
        if not in_progress:
            break
        next_in_progress, matched = [], []
        for glob in in_progress:
            progressing, completed = match_glob(part, glob)
            if progressing:
                next_in_progress.append(progressing)
            elif completed:
                matched.append(completed)
        in_progress = next_in_progress
    return in_progress, matched


def has_universal_glob(globs: Iterable[str]) -> bool:
    return any(glob == "." or safe_trim_globs_and_slashes(glob) == "" for glob in globs)


def is_path_matched_by_glob(path: str, glob: str) -> bool:
    """werf isPathMatched: the glob as is, without trailing stars (a/*/b/** -> a/*/b), and that + `/**/*`."""
    trimmed = safe_trim_globs_and_slashes(glob)
    return any(path_match(candidate, path) for candidate in (glob, trimmed, go_join(trimmed, "**", "*")))


def is_any_glob_matched(path: str, globs: Iterable[str]) -> bool:
    return any(is_path_matched_by_glob(path, glob) for glob in globs)


# --- the matchers ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TruePathMatcher(PathMatcher):
    """Matches everything (pkg/path_matcher/true.go)."""

    def is_path_matched(self, path: str) -> bool:
        return True

    def should_go_through(self, path: str) -> bool:
        return False


@dataclass(frozen=True)
class FalsePathMatcher(PathMatcher):
    """Matches nothing (pkg/path_matcher/false.go)."""

    def is_path_matched(self, path: str) -> bool:
        return False

    def should_go_through(self, path: str) -> bool:
        return False


@dataclass(frozen=True)
class IncludePathMatcher(PathMatcher):
    """Paths matched by any include glob (pkg/path_matcher/include.go); no globs match everything."""

    globs: tuple[str, ...]

    @classmethod
    def of(cls, globs: Iterable[str]) -> IncludePathMatcher:
        return cls(tuple(format_path(glob) for glob in globs))

    def is_path_matched(self, path: str) -> bool:
        return not self.globs or is_any_glob_matched(format_path(path), self.globs)

    def should_go_through(self, path: str) -> bool:
        path = format_path(path)
        if not self.globs or has_universal_glob(self.globs):
            return False
        if path == "":
            return True
        in_progress, _ = globs_in_progress(path, self.globs)
        return bool(in_progress) and not has_universal_glob(in_progress)


@dataclass(frozen=True)
class ExcludePathMatcher(PathMatcher):
    """Paths matched by no exclude glob (pkg/path_matcher/exclude.go)."""

    globs: tuple[str, ...]

    @classmethod
    def of(cls, globs: Iterable[str]) -> ExcludePathMatcher:
        return cls(tuple(format_path(glob) for glob in globs))

    def is_path_matched(self, path: str) -> bool:
        return not self.globs or not is_any_glob_matched(format_path(path), self.globs)

    def should_go_through(self, path: str) -> bool:
        path = format_path(path)
        if not self.globs or has_universal_glob(self.globs):
            return False
        if path == "":
            return True
        in_progress, matched = globs_in_progress(path, self.globs)
        return not matched and bool(in_progress) and not has_universal_glob(in_progress)


@dataclass(frozen=True)
class DockerignorePathMatcher(PathMatcher):
    """Paths a .dockerignore keeps (pkg/path_matcher/dockerfile_ignore.go); paths relative to the context."""

    patterns: IgnorePatterns = field(compare=False)

    @classmethod
    def of(cls, patterns: Sequence[str]) -> DockerignorePathMatcher:
        return cls(IgnorePatterns(list(patterns)))

    def is_path_matched(self, path: str) -> bool:
        return not self.patterns.matches(format_path(path))

    def should_go_through(self, path: str) -> bool:
        """Descend while some pattern is still in progress and none completed after it (last one wins)."""
        path = format_path(path)
        if not self.patterns.patterns:
            return False
        if path == "":
            return True
        progress = [pattern.cleaned for pattern in self.patterns.patterns]
        completed = [False] * len(progress)
        for part in split_filepath(path):
            for index, glob in enumerate(progress):
                if not glob:
                    continue
                progressing, finished = match_glob(part, glob)
                progress[index] = progressing
                completed[index] = bool(finished)
        should_go_through = False
        for glob, matched in zip(progress, completed, strict=True):
            if matched:
                should_go_through = False
            elif glob:
                should_go_through = True
        return should_go_through


@dataclass(frozen=True)
class BasePathMatcher(PathMatcher):
    """Paths at or below `base_path`, checked by `matcher` relative to it (pkg/path_matcher/base_path.go)."""

    base_path: str
    matcher: PathMatcher | None = None

    @classmethod
    def of(cls, base_path: str, matcher: PathMatcher | None = None) -> BasePathMatcher:
        return cls(format_path(base_path), matcher)

    def is_path_matched(self, path: str) -> bool:
        path = format_path(path)
        if not (is_subpath_of_base_path(self.base_path, path) or self.base_path == path):
            return False
        return self.matcher is None or self.matcher.is_path_matched(relative_to_base(self.base_path, path))

    def should_go_through(self, path: str) -> bool:
        path = format_path(path)
        if is_subpath_of_base_path(path, self.base_path):
            return True  # an ancestor of the base path
        relative = relative_to_base(self.base_path, path)
        return self.matcher is not None and self.matcher.should_go_through(relative)


@dataclass(frozen=True)
class MultiPathMatcher(PathMatcher):
    """All matchers at once (pkg/path_matcher/multi.go): AND for matching; a directory is gone through when
    one matcher wants to go through it and every other one matches it at least partly."""

    matchers: tuple[PathMatcher, ...]

    @classmethod
    def of(cls, *matchers: PathMatcher) -> MultiPathMatcher:
        return cls(matchers or (TruePathMatcher(),))

    def is_path_matched(self, path: str) -> bool:
        return all(matcher.is_path_matched(path) for matcher in self.matchers)

    def should_go_through(self, path: str) -> bool:
        should_go_through = False
        for matcher in self.matchers:
            if matcher.should_go_through(path):
                should_go_through = True
            elif not matcher.is_path_matched(path):
                return False
        return should_go_through


def new_path_matcher(
    *,
    base_path: str = "",
    include_globs: Sequence[str] = (),
    exclude_globs: Sequence[str] = (),
    dockerignore_patterns: Sequence[str] = (),
    matchers: Sequence[PathMatcher] = (),
) -> PathMatcher:
    """werf NewPathMatcher (pkg/path_matcher/factory.go): AND of the parts, under `base_path` when given."""
    parts: list[PathMatcher] = []
    if include_globs:
        parts.append(IncludePathMatcher.of(include_globs))
    if exclude_globs:
        parts.append(ExcludePathMatcher.of(exclude_globs))
    if dockerignore_patterns:
        parts.append(DockerignorePathMatcher.of(dockerignore_patterns))
    parts.extend(matchers)
    matcher: PathMatcher = MultiPathMatcher.of(*parts)
    if base_path:
        matcher = BasePathMatcher.of(base_path, matcher)
    return matcher
