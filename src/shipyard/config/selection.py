"""Which images a command works on: `IMAGE…` arguments as werf reads them (werf-internals §10,
`pkg/config/images_to_process.go`), plus every image they need."""

from __future__ import annotations

import re
from collections.abc import Sequence

from shipyard.config.model import WerfConfig
from shipyard.config.validate import relations
from shipyard.errors import UsageError

MAX_PATTERN_LENGTH = 100


def select_images(config: WerfConfig, patterns: Sequence[str]) -> tuple[str, ...]:
    """Names matched by the include patterns (all images when there are none) minus `!exclusions`, plus their
    transitive dependencies, in werf.yaml order. An include pattern that matches nothing is an error."""
    includes, excludes = _split_patterns(patterns)
    names = config.image_names
    chosen = set(names) if not includes else set()
    for pattern in includes:
        matched = {name for name in names if go_path_match(pattern, name)}
        if not matched:
            raise UsageError(f"no image matches pattern {pattern!r}", hint=_known_images_hint(names))
        chosen |= matched
    # werf keeps an image excluded by a pattern when it was also named literally among the includes
    chosen = {name for name in chosen if name in includes or not _matches_any(excludes, name)}
    return _with_dependencies(config, chosen)


def _matches_any(patterns: Sequence[str], name: str) -> bool:
    return any(go_path_match(pattern, name) for pattern in patterns)


def _split_patterns(patterns: Sequence[str]) -> tuple[list[str], list[str]]:
    includes: list[str] = []
    excludes: list[str] = []
    for pattern in patterns:
        problem = _pattern_problem(pattern)
        if problem:
            raise UsageError(
                f"invalid image pattern {pattern!r}: {problem}",
                hint="use image names or patterns (`*`, `?`, `[a-z]`), `!PATTERN` excludes",
            )
        if pattern.startswith("!"):
            excludes.append(pattern[1:])
        else:
            includes.append(pattern)
    return includes, excludes


def _pattern_problem(pattern: str) -> str:
    if "**" in pattern:
        return "recursive glob (**) not supported"
    if len(pattern) > MAX_PATTERN_LENGTH:
        return "pattern too long"
    if any(char in pattern for char in "&|$"):
        return "special characters not allowed"
    if _go_pattern_regex(pattern.removeprefix("!")) is None:
        return "syntax error in pattern"
    return ""


def _with_dependencies(config: WerfConfig, chosen: set[str]) -> tuple[str, ...]:
    graph = relations(config)
    pending = list(chosen)
    while pending:
        for related in graph.get(pending.pop(), set()):
            if related not in chosen:
                chosen.add(related)
                pending.append(related)
    return tuple(name for name in config.image_names if name in chosen)


def _known_images_hint(names: Sequence[str]) -> str:
    named = [name for name in names if name]
    if not named:
        return "werf.yaml defines no named images"
    return "images in werf.yaml: " + ", ".join(named)


def go_path_match(pattern: str, name: str) -> bool:
    """Go's filepath.Match on Linux: `*`/`?` never match `/`, `[…]` classes (`^` negates), `\\` escapes."""
    regex = _go_pattern_regex(pattern)
    return regex is not None and regex.fullmatch(name) is not None


def _go_pattern_regex(pattern: str) -> re.Pattern[str] | None:
    """The pattern as a regex, or None when Go would report ErrBadPattern."""
    out, index = "", 0
    while index < len(pattern):
        char = pattern[index]
        index += 1
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "\\":
            if index == len(pattern):
                return None
            out += re.escape(pattern[index])
            index += 1
        elif char == "[":
            end = _class_end(pattern, index)
            if end is None:
                return None
            body = pattern[index:end]
            negate = body.startswith("^")
            out += "[" + ("^" if negate else "") + _class_body(body[1 if negate else 0 :]) + "]"
            index = end + 1
        else:
            out += re.escape(char)
    return re.compile(out)


def _class_end(pattern: str, start: int) -> int | None:
    index = start + (1 if pattern[start : start + 1] == "^" else 0)
    if index >= len(pattern) or pattern[index] == "]":
        return None  # Go rejects an empty class
    while index < len(pattern):
        if pattern[index] == "\\":
            index += 2
            continue
        if pattern[index] == "]":
            return index
        index += 1
    return None


def _class_body(body: str) -> str:
    """A Go class body (ranges, escapes) made safe for Python's `re`."""
    out, index = "", 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            out += re.escape(body[index + 1])
            index += 2
        elif char == "-" and 0 < index < len(body) - 1:
            out += "-"
            index += 1
        else:
            out += re.escape(char)
            index += 1
    return out
