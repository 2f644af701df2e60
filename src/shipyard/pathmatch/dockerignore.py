""".dockerignore patterns as Docker reads them.

Ports moby/buildkit `frontend/dockerfile/dockerignore.ReadAll` (file -> patterns) and moby/patternmatcher
`New`, `Pattern.compile/match` and the `Matches` method werf calls (pkg/path_matcher/dockerfile_ignore.go).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shipyard.pathmatch.globs import SEPARATOR, BadPatternError, go_clean, go_dir

_UTF8_BOM = "\ufeff"
_REGEX_SPECIALS = frozenset(".+()|{}$")  # patternmatcher shouldEscape: regex-special, not glob-special
# Go RE2 escapes that mean something else (or nothing) in Python's re; others are literal in both.
_GO_ESCAPES = {"d": "[0-9]", "D": "[^0-9]", "s": r"[\t\n\f\r ]", "S": r"[^\t\n\f\r ]",
               "w": "[0-9A-Za-z_]", "W": "[^0-9A-Za-z_]", "z": r"\Z"}
_PYTHON_SAFE_ESCAPES = frozenset("tnrfvabBA")


def parse_dockerignore(text: str) -> list[str]:
    """dockerignore.ReadAll: skip `#` comments and blank lines, trim, clean, drop a leading `/`, keep `!`."""
    patterns: list[str] = []
    for number, line in enumerate(text.split("\n")):
        line = line.removesuffix("\r")  # bufio.ScanLines drops one trailing \r
        if number == 0:
            line = line.removeprefix(_UTF8_BOM)
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith(SEPARATOR):
                pattern = pattern[1:]
        patterns.append("!" + pattern if invert else pattern)
    return patterns


@dataclass
class IgnorePattern:
    """One compiled patternmatcher.Pattern."""

    cleaned: str  # Pattern.String(): cleaned, without the `!`
    exclusion: bool
    dirs: list[str] = field(init=False)
    _kind: str = field(init=False)
    _regex: re.Pattern[str] | None = field(init=False)

    def __post_init__(self) -> None:
        self.dirs = self.cleaned.split(SEPARATOR)
        self._kind, self._regex = _compile(self.cleaned)

    def match(self, path: str) -> bool:
        if self._kind == "exact":
            return path == self.cleaned
        if self._kind == "prefix":
            return path.startswith(self.cleaned[:-2])  # strip the trailing `**`
        if self._kind == "suffix":
            suffix = self.cleaned[2:]  # strip the leading `**`
            return path.endswith(suffix) or (suffix.startswith(SEPARATOR) and path == suffix[1:])
        assert self._regex is not None
        return self._regex.fullmatch(path) is not None


class IgnorePatterns:
    """patternmatcher.PatternMatcher: later patterns win, `!pattern` re-includes."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns: list[IgnorePattern] = []
        for raw in patterns:
            pattern = raw.strip()
            if not pattern:
                continue
            pattern = go_clean(pattern)
            exclusion = pattern.startswith("!")
            if exclusion:
                if len(pattern) == 1:
                    raise BadPatternError(raw)  # patternmatcher: illegal exclusion pattern "!"
                pattern = pattern[1:]
            _validate_go_path_pattern(pattern)
            self.patterns.append(IgnorePattern(pattern, exclusion))

    def matches(self, path: str) -> bool:
        """The deprecated PatternMatcher.Matches werf uses: the path and ONE parent prefix per pattern."""
        matched = False
        parent = go_dir(path)
        parent_dirs = parent.split(SEPARATOR)
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue  # an include cannot add to a match, an exclusion cannot remove a non-match
            hit = pattern.match(path)
            if not hit and parent != "." and len(pattern.dirs) <= len(parent_dirs):
                hit = pattern.match(SEPARATOR.join(parent_dirs[: len(pattern.dirs)]))
            if hit:
                matched = not pattern.exclusion
        return matched


def _compile(pattern: str) -> tuple[str, re.Pattern[str] | None]:
    """patternmatcher Pattern.compile: exact / prefix (`x/**`) / suffix (`**/x`) fast paths, else a regex."""
    regex, kind, index, position = "", "exact", 0, 0
    while position < len(pattern):
        char = pattern[position]
        position += 1
        if char == "*" and position < len(pattern) and pattern[position] == "*":
            position += 1
            if position < len(pattern) and pattern[position] == SEPARATOR:
                position += 1  # treat `**/` as `**`
            if position >= len(pattern):
                if kind == "exact":
                    kind = "prefix"
                else:
                    regex, kind = regex + ".*", "regexp"
            else:
                regex, kind = regex + "(.*/)?", "regexp"
            if index == 0:
                kind = "suffix"
        elif char == "*":
            regex, kind = regex + "[^/]*", "regexp"
        elif char == "?":
            regex, kind = regex + "[^/]", "regexp"
        elif char in _REGEX_SPECIALS:
            regex += "\\" + char
        elif char == "\\":  # never last: _validate_go_path_pattern rejects a trailing backslash
            regex, kind = regex + _go_escape(pattern, pattern[position]), "regexp"
            position += 1
        elif char in "[]":
            regex, kind = regex + char, "regexp"
        else:
            regex += char  # Go and Python agree on every other character outside a class
        index += 1
    if kind != "regexp":
        return kind, None
    try:
        return kind, re.compile(regex)
    except re.error:
        raise BadPatternError(pattern) from None


def _go_escape(pattern: str, char: str) -> str:
    """`\\c` in a Go regex, spelled for Python's re."""
    if char in _GO_ESCAPES:
        return _GO_ESCAPES[char]
    if char.isalnum() and char not in _PYTHON_SAFE_ESCAPES:
        raise BadPatternError(pattern)  # \p, \Q, back-references: Go rejects or differs; werf would panic
    return "\\" + char


def _validate_go_path_pattern(pattern: str) -> None:
    """patternmatcher.New calls filepath.Match(p, "."), which rejects bad escapes and character classes."""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            if index + 1 >= len(pattern):
                raise BadPatternError(pattern)
            index += 2
            continue
        if char == "[":
            index = _skip_go_class(pattern, index + 1)
        index += 1


def _skip_go_class(pattern: str, index: int) -> int:
    """Go path.Match class syntax: `[^...]`, ranges lo-hi, escapes; returns the index of `]`."""
    if index < len(pattern) and pattern[index] == "^":
        index += 1
    ranges = 0
    while True:
        if index < len(pattern) and pattern[index] == "]" and ranges > 0:
            return index
        index = _skip_go_class_char(pattern, index)
        if index < len(pattern) and pattern[index] == "-":
            index = _skip_go_class_char(pattern, index + 1)
        ranges += 1


def _skip_go_class_char(pattern: str, index: int) -> int:
    if index >= len(pattern) or pattern[index] in "-]":
        raise BadPatternError(pattern)
    if pattern[index] == "\\":
        index += 1
        if index >= len(pattern):
            raise BadPatternError(pattern)
    return index + 1
