"""Go path helpers and doublestar globs, ported bit for bit: they decide where werf's ls-tree walk stops.

Sources: Go `path.Clean`/`path.Join`; werf common-go `pkg/util/path.go` (SplitFilepath,
SafeTrimGlobsAndSlashesFromPath, IsSubpathOfBasePath, GetRelativeToBaseFilepath); bmatcuk/doublestar v4
`match.go`, `validate.go`, `utils.go`.
Everything here is pure and uses "/" as the separator (werf on Linux).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from shipyard.errors import ShipyardError

SEPARATOR = "/"
_GLOB_META = frozenset("[{}\\")  # patterns with these take the exact interpreter, never the regex fast path


class BadPatternError(ShipyardError):
    """A glob or .dockerignore pattern is malformed (werf prints the pattern and exits)."""

    def __init__(self, pattern: str) -> None:
        super().__init__(
            f"invalid glob pattern {pattern!r}",
            hint="the special characters ?[{ must be used properly or escaped with '\\'",
        )


# --- Go path helpers ---------------------------------------------------------------------------------------


def go_clean(path: str) -> str:
    """Go's path.Clean: the shortest equivalent path ("" -> ".")."""
    if not path:
        return "."
    if "//" not in path and "/." not in path and path[0] != "." and path[-1] != SEPARATOR:
        return path  # surely clean (the common case on the ls-tree walk): no "//", "." or ".." parts
    rooted = path.startswith(SEPARATOR)
    parts: list[str] = []
    for element in path.split(SEPARATOR):
        if element in ("", "."):
            continue
        if element != "..":
            parts.append(element)
        elif parts and parts[-1] != "..":
            parts.pop()
        elif not rooted:
            parts.append("..")
    cleaned = SEPARATOR.join(parts)
    if rooted:
        return SEPARATOR + cleaned
    return cleaned or "."


def go_join(*elements: str) -> str:
    """Go's path.Join: non-empty elements joined and cleaned; "" when all are empty."""
    present = [element for element in elements if element]
    return go_clean(SEPARATOR.join(present)) if present else ""


def go_dir(path: str) -> str:
    """Go's path.Dir."""
    head = path[: path.rfind(SEPARATOR) + 1]
    return go_clean(head)


def _index_unescaped_separator(text: str, start: int) -> int:
    """common-go indexRuneWithEscaping: a separator right after a backslash does not split."""
    end = text.find(SEPARATOR, start)
    while end > start and text[end - 1] == "\\":
        end = text.find(SEPARATOR, end + 1)
    return end


def split_filepath(path: str) -> list[str]:
    """common-go SplitFilepath: clean, drop the root, split on unescaped separators."""
    path = go_clean(path)
    if path.startswith(SEPARATOR):
        path = path.lstrip(SEPARATOR) or "."
    if path in ("", ".", SEPARATOR):
        return []
    if "\\" not in path:
        return path.split(SEPARATOR)  # nothing escaped, and a clean path has no empty component
    parts: list[str] = []
    start, ended_on_separator = 0, False
    while start < len(path):
        end = _index_unescaped_separator(path, start)
        if end == -1:
            parts.append(path[start:])
            ended_on_separator = False
            break
        parts.append(path[start:end])
        start, ended_on_separator = end + 1, True
    if ended_on_separator:
        parts.append("")
    return parts


def safe_trim_globs_and_slashes(path: str) -> str:
    """common-go SafeTrimGlobsAndSlashesFromPath: drop trailing parts made only of '*' (a/*/**/* -> a/*)."""
    parts = split_filepath(path)
    while parts and not parts[-1].rstrip("*"):
        parts.pop()
    return go_join(*parts)


def is_subpath_of_base_path(base_path: str, path: str) -> bool:
    """common-go IsSubpathOfBasePath: `path` lies strictly below `base_path` (equal paths are not)."""
    base_parts, path_parts = split_filepath(base_path), split_filepath(path)
    if len(base_parts) > len(path_parts) or base_parts == path_parts:
        return False
    return all(not base or base == part for base, part in zip(base_parts, path_parts, strict=False))


def relative_to_base(base_path: str, path: str) -> str:
    """common-go GetRelativeToBaseFilepath for the repo-relative paths werf passes: Rel(base, path)."""
    if base_path in ("", ".") and not path.startswith(SEPARATOR):
        return go_clean(path)
    base_parts = [part for part in go_clean(base_path).split(SEPARATOR) if part not in ("", ".")]
    path_parts = [part for part in go_clean(path).split(SEPARATOR) if part not in ("", ".")]
    common = 0
    while common < min(len(base_parts), len(path_parts)) and base_parts[common] == path_parts[common]:
        common += 1
    relative = [".."] * (len(base_parts) - common) + path_parts[common:]
    return SEPARATOR.join(relative) or "."


# --- doublestar v4 -----------------------------------------------------------------------------------------


def path_match(pattern: str, name: str) -> bool:
    """doublestar.PathMatch(pattern, name); BadPatternError where doublestar returns ErrBadPattern."""
    return _compiled(pattern)(name)


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> Callable[[str], bool]:
    fast = _fast_regex(pattern)
    if fast is None:
        return functools.partial(_interpret, pattern)
    return lambda name: fast.fullmatch(name) is not None


def _fast_regex(pattern: str) -> re.Pattern[str] | None:
    """A regex exactly equal to the interpreter for the common shapes, None for everything else.

    Exactness: without `**`, doublestar is the classic `*`/`?` wildcard match (the only end-of-name tails it
    accepts, "" and "*", are also the only empty-matching regex tails). With `**`, only `P/**` and `P/**/*`
    (the shape werf's isPathMatched builds) with a `**`-free P not ending in `*` are compiled; a unit test
    compares them with the interpreter on random input.
    """
    if _GLOB_META.intersection(pattern):
        return None
    if pattern == "**":
        return re.compile(r"[\s\S]*")
    if pattern == "**/*":
        return re.compile(r"[\s\S]+")  # "**/*" needs a non-empty name (tail "**/*" is not zero-length)
    if "**" not in pattern:
        return re.compile(_wildcard_regex(pattern))
    for suffix, tail in (("/**/*", r"/[\s\S]+"), ("/**", r"(?:/[\s\S]*)?")):
        prefix = pattern[: -len(suffix)]
        # a prefix ending in `*` could leave the tail "*/**" unvisited, which doublestar does not accept
        if pattern.endswith(suffix) and "**" not in prefix and not prefix.endswith("*"):
            return re.compile(_wildcard_regex(prefix) + tail)
    return None


def _wildcard_regex(pattern: str) -> str:
    pieces = {"*": "[^/]*", "?": "[^/]"}
    return "".join(pieces.get(char) or re.escape(char) for char in pattern)


def _interpret(pattern: str, name: str) -> bool:
    return _match(pattern, name, _Backtrack(-1, -1, -1, -1), 0, 0)


@dataclass
class _Backtrack:
    """Where to resume after a mismatch: the last `**/` (whole directories) and the last `*` (one rune)."""

    ds_pat: int
    ds_name: int
    star_pat: int
    star_name: int


def _match(pattern: str, name: str, back: _Backtrack, pi: int, ni: int) -> bool:
    """A straight port of doublestar's doMatchWithSeparator."""
    start_of_segment = True
    while ni < len(name):
        if pi < len(pattern):
            step = _step(pattern, name, back, pi, ni, start_of_segment)
            if isinstance(step, bool):
                return step
            advanced, pi, ni, start_of_segment = step
            if advanced:
                continue
        if back.star_pat >= 0 and name[back.star_name] != SEPARATOR:  # the `*` swallows one more rune
            back.star_name += 1
            pi, ni, start_of_segment = back.star_pat, back.star_name, False
            continue
        if back.ds_pat >= 0:  # the `**` swallows one more directory
            next_separator = name.find(SEPARATOR, back.ds_name)
            if next_separator != -1:
                back.ds_name = next_separator + 1
                pi, ni, start_of_segment = back.ds_pat, back.ds_name, True
                continue
        if pi < len(pattern) and not validate_pattern(pattern[pi:]):
            raise BadPatternError(pattern)
        return False
    return _is_zero_length_pattern(pattern[pi:])


_Step = tuple[bool, int, int, bool]  # (advanced, pi, ni, start_of_segment); not advanced = backtrack from pi


def _step(pattern: str, name: str, back: _Backtrack, pi: int, ni: int, start: bool) -> _Step | bool:
    """Match one pattern element at pattern[pi] against name[ni]; a bool is the final answer."""
    char = pattern[pi]
    if char == "*":
        return _star(pattern, back, pi, ni, start)
    if char == "?":
        return (True, pi + 1, ni + 1, False) if name[ni] != SEPARATOR else (False, pi, ni, False)
    if char == "[":
        return _char_class(pattern, name[ni], pi + 1, ni)
    if char == "{":
        return _alternatives(pattern, name, back, pi, ni)
    if char == "\\":
        pi += 1
        if pi >= len(pattern):
            raise BadPatternError(pattern)
    if pattern[pi] != name[ni]:
        # doublestar steps back onto an escaping backslash before validating what is left
        return (False, pi - 1 if pi > 0 and pattern[pi - 1] == "\\" else pi, ni, start)
    return (True, pi + 1, ni + 1, pattern[pi] == SEPARATOR)


def _star(pattern: str, back: _Backtrack, pi: int, ni: int, start: bool) -> _Step | bool:
    pi += 1
    if pi < len(pattern) and pattern[pi] == "*":
        pi += 1
        if start:
            if pi >= len(pattern):
                return True  # the pattern ends in `/**`: anything below matches
            if pattern[pi] == SEPARATOR:
                back.ds_pat, back.ds_name, back.star_pat, back.star_name = pi + 1, ni, -1, -1
                return (True, pi + 1, ni, start)
    back.star_pat, back.star_name = pi, ni  # `*`, or a `**` that is not a whole segment: one segment only
    return (True, pi, ni, False)


def _char_class(pattern: str, rune: str, pi: int, ni: int) -> _Step:
    if pi >= len(pattern):
        raise BadPatternError(pattern)
    negate = pattern[pi] in "!^"
    pi += 1 if negate else 0
    if pi >= len(pattern) or pattern[pi] == "]":
        raise BadPatternError(pattern)
    matched, last = False, None
    while pi < len(pattern) and pattern[pi] != "]":
        current, pi = pattern[pi], pi + 1
        if last is not None and current == "-" and pi < len(pattern) and pattern[pi] != "]":
            pi += 1 if pattern[pi] == "\\" else 0
            high, pi = _rune_at(pattern, pi)
            if last <= rune <= high:
                matched = True
                break
            last = None
            continue
        if current == "\\":
            current, pi = _rune_at(pattern, pi)
        if current == rune:
            matched = True
            break
        last = current
    if matched == negate:
        if pi >= len(pattern):
            raise BadPatternError(pattern)
        return (False, pi, ni, False)
    closing = _index_unescaped(pattern, "]", pi)
    if closing == -1:
        raise BadPatternError(pattern)
    return (True, closing + 1, ni + 1, False)


def _alternatives(pattern: str, name: str, back: _Backtrack, before: int, ni: int) -> bool:
    """`{a,b}`: match again with each alternative spliced into the pattern, keeping the backtrack points."""
    pi = before + 1
    closing = _index_matched_closing_alt(pattern, pi)
    if closing == -1:
        raise BadPatternError(pattern)
    while (comma := _index_next_alt(pattern, pi, closing)) != -1:
        spliced = pattern[:before] + pattern[pi:comma] + pattern[closing + 1 :]
        if _match(spliced, name, replace(back), before, ni):
            return True
        pi = comma + 1
    spliced = pattern[:before] + pattern[pi:closing] + pattern[closing + 1 :]
    return _match(spliced, name, replace(back), before, ni)


def _rune_at(pattern: str, index: int) -> tuple[str, int]:
    """utf8.DecodeRuneInString: U+FFFD of width 0 past the end."""
    return (pattern[index], index + 1) if index < len(pattern) else ("\ufffd", index)


def _is_zero_length_pattern(pattern: str) -> bool:
    # `path/to/a/**` must match `path/to/a`: these tails match the empty rest of a name
    if pattern in ("", "*", "**", "/**", "**/", "/**/"):
        return True
    if pattern.startswith("{"):
        closing = _index_matched_closing_alt(pattern, 1)
        if closing == -1:
            raise BadPatternError(pattern)
        pi = 1
        while (comma := _index_next_alt(pattern, pi, closing)) != -1:
            if _is_zero_length_pattern(pattern[pi:comma] + pattern[closing + 1 :]):
                return True
            pi = comma + 1
        return _is_zero_length_pattern(pattern[pi:closing] + pattern[closing + 1 :])
    if not validate_pattern(pattern):
        raise BadPatternError(pattern)
    return False


def _index_unescaped(text: str, wanted: str, start: int) -> int:
    index = start
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == wanted:
            return index
        index += 1
    return -1


def _index_matched_closing_alt(text: str, start: int) -> int:
    """The `}` closing the `{` just before `start`, skipping nested braces and escapes; -1 if none."""
    depth, index = 1, start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 1
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def _index_next_alt(text: str, start: int, end: int) -> int:
    """The next top-level `,` in text[start:end]; -1 if none."""
    depth, index = 1, start
    while index < end:
        char = text[index]
        if char == "\\":
            index += 1
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 1:
            return index
        index += 1
    return -1


def validate_pattern(pattern: str) -> bool:
    """doublestar ValidatePattern: classes closed and non-empty, braces balanced, no dangling backslash."""
    depth, index, length = 0, 0, len(pattern)
    while index < length:
        char = pattern[index]
        if char == "\\":
            index += 2
            if index > length:
                return False
            continue
        if char == "[":
            index = _skip_class(pattern, index + 1)
            if index < 0:
                return False
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return False
            depth -= 1
        index += 1
    return depth == 0


def _skip_class(pattern: str, index: int) -> int:
    """Index of the `]` closing a class opened before `index`, or -1 for an unclosed or empty class."""
    if index < len(pattern) and pattern[index] in "^!":
        index += 1
    if index >= len(pattern) or pattern[index] == "]":
        return -1
    while index < len(pattern):
        if pattern[index] == "\\":
            index += 1
        elif pattern[index] == "]":
            return index
        index += 1
    return -1
