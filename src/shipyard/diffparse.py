"""werf's git diff parser (pkg/true_git/diff_parser.go), ported line for line.

werf runs `git diff --full-index [--binary] FROM TO` over the whole repository and streams the output through
this state machine: a file whose path the mapping's matcher rejects is dropped, the paths of the others are
made relative to the mapping's path scope (the `add` directory, or the directory of a single-file `add`,
renamed to the basename of `to`), `index` lines are dropped, and the paths, binary paths and removed paths
are collected. The rewritten text is what gitLatestPatch hashes and what gitCache measures.

Pure: bytes in, bytes out. Lines are split on "\\n" only; an unterminated last line is ignored, as in werf.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shipyard.pathmatch import PathMatcher, TruePathMatcher
from shipyard.pathmatch.globs import go_join, relative_to_base

__all__ = [
    "CommitsNotPresentError",
    "DiffParseError",
    "DiffParser",
    "ParsedPatch",
    "PatchScope",
    "go_quote",
    "go_unquote",
    "parse_diff",
]

_ENCODING = "utf-8"
_ERRORS = "surrogateescape"  # paths and contents are bytes in git; every byte survives the round trip


class DiffParseError(ValueError):
    """The diff text does not have the shape werf's parser accepts."""


class CommitsNotPresentError(DiffParseError):
    """`git diff --submodule=log` reported a submodule range whose commits are missing."""


@dataclass(frozen=True)
class PatchScope:
    """werf PatchOptions minus the commits: which files a mapping takes and how their paths are rewritten.

    path_scope: repo-relative directory the paths become relative to ("" for the root);
    matcher: the mapping's matcher (base `add`, include/exclude globs);
    file_renames: repo-relative path of the `add` file → new basename (single-file mapping with another name).
    """

    path_scope: str = ""
    matcher: PathMatcher = field(default_factory=TruePathMatcher)
    file_renames: Mapping[str, str] = field(default_factory=dict)


@dataclass
class ParsedPatch:
    """What werf's PatchDescriptor holds, plus the rewritten text (its patch file)."""

    patch: bytes = b""
    paths: list[str] = field(default_factory=list)
    binary_paths: list[str] = field(default_factory=list)
    paths_to_remove: list[str] = field(default_factory=list)
    unrecognized: bytes = b""

    @property
    def is_empty(self) -> bool:
        return not self.patch


def _append_unique(values: list[str], value: str) -> None:
    if value not in values:
        values.append(value)


class DiffParser:
    """The streaming state machine; `feed` raw diff bytes, then read `result()`."""

    def __init__(self, scope: PatchScope) -> None:
        self.scope = scope
        self.state = "unrecognized"
        self.result_patch = ParsedPatch()
        self.out_lines = 0
        self.last_seen_paths: list[str] = []
        self._out: list[bytes] = []
        self._unrecognized: list[bytes] = []
        self._pending = b""

    # --- input ------------------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            self.handle_line(line.decode(_ENCODING, _ERRORS))

    def result(self) -> ParsedPatch:
        self.result_patch.patch = b"".join(self._out)
        self.result_patch.unrecognized = b"".join(self._unrecognized)
        return self.result_patch

    def handle_line(self, line: str) -> None:
        """werf handleDiffLine."""
        if self.state == "diffBegin":
            self._begin_line(line)
        elif line.startswith("diff --git "):
            self._diff_begin(line)
        elif line.startswith("Submodule "):
            self._submodule_line(line)
        else:
            self._state_line(line)

    def _state_line(self, line: str) -> None:
        state = self.state
        if state == "unrecognized":
            self._unrecognized.append(self._encode(line))
        elif state in ("modifyFileDiff", "newFileDiff", "deleteFileDiff"):
            self._file_line(line)
        elif state == "renameDiff":
            self._rename_line(line)
        elif state == "diffBody":
            self._write(line)

    def _begin_line(self, line: str) -> None:
        if line.startswith("deleted file mode "):
            self.state = "deleteFileDiff"
            self._write(line)
        elif line.startswith("new file mode "):
            self.state = "newFileDiff"
            self._write(line)
        elif line.startswith("old mode "):
            self.state = "modifyFileDiff"
            self._write(line)
        elif line.startswith("similarity index "):
            self.state = "renameDiff"
        elif line.startswith("index "):
            self.state = "modifyFileDiff"
        else:
            raise DiffParseError(f"unexpected diff line in state `{self.state}`: {line!r}")

    def _file_line(self, line: str) -> None:
        state = self.state
        if state == "modifyFileDiff" and line.startswith("new mode "):
            self._write(line)
        elif state == "modifyFileDiff" and line.startswith("--- "):
            self._write("--- a/" + self._trim(line.removeprefix("--- a/")))
        elif state in ("modifyFileDiff", "newFileDiff") and line.startswith("+++ "):
            self.state = "diffBody"
            self._write("+++ b/" + self._trim(line.removeprefix("+++ b/")))
        elif state == "deleteFileDiff" and line.startswith("--- "):
            new_path = self._trim(line.removeprefix("--- a/"))
            self.state = "diffBody"
            _append_unique(self.result_patch.paths_to_remove, new_path)
            self._write("--- a/" + new_path)
        elif line.startswith("GIT binary patch"):
            self._binary_header(line, "diffBody")
        elif line.startswith("Binary files"):
            self._binary_header(line, "unrecognized")
        elif line.startswith("index "):
            pass
        else:
            self._write(line)

    def _rename_line(self, line: str) -> None:
        if line.startswith("rename from "):
            new_path = self._trim(line.removeprefix("rename from "))
            _append_unique(self.result_patch.paths_to_remove, new_path)
        elif line.startswith("index "):
            self.state = "modifyFileDiff"

    # --- handlers ---------------------------------------------------------------------------------------

    def _diff_begin(self, line: str) -> None:
        """werf handleDiffBegin: split `a/…` and `b/…` (quoted first), match, rename, trim."""
        quote = '"' if ' "a/' in line else ""
        _, found_a, rest = line.partition(f" {quote}a/")
        a_rest, found_b, b_rest = rest.partition(f" {quote}b/")
        if not (found_a and found_b):  # werf: an error without " a/", an index panic without " b/"
            raise DiffParseError(f"unexpected diff begin line: {line!r}")
        a, b = f"{quote}a/{a_rest}", f"{quote}b/{b_rest}"
        self.last_seen_paths = []
        trimmed: dict[str, str] = {}
        for with_prefix, prefix in ((a, "a/"), (b, "b/")):
            quoted = with_prefix.startswith('"') and with_prefix.endswith('"')
            unquoted = go_unquote(with_prefix) if quoted else with_prefix
            path = unquoted.removeprefix(prefix)
            if not self.scope.matcher.is_path_matched(path):
                self.state = "ignoreDiff"
                return
            new_path = self._trim(path)
            _append_unique(self.result_patch.paths, new_path)
            _append_unique(self.last_seen_paths, new_path)
            trimmed[with_prefix] = go_quote(prefix + new_path) if quoted else prefix + new_path
        self.state = "diffBegin"
        self._write(f"diff --git {trimmed[a]} {trimmed[b]}")

    def _submodule_line(self, line: str) -> None:
        self.state = "unrecognized"
        if line.endswith(" (commits not present)"):
            raise CommitsNotPresentError(f"cannot handle git diff line {line!r}, "
                                         "check specified commits are correct: commits not present")

    def _binary_header(self, line: str, next_state: str) -> None:
        for path in self.last_seen_paths:
            _append_unique(self.result_patch.binary_paths, path)
        if self.state == "deleteFileDiff":
            for path in self.last_seen_paths:
                _append_unique(self.result_patch.paths_to_remove, path)
        self.state = next_state
        self._write(line)

    def _trim(self, path: str) -> str:
        """applyFileRenames, then trimFileBaseFilepath (relative to the scope, trailing tabs dropped)."""
        renamed = self.scope.file_renames.get(path)
        if renamed is not None:
            path = go_join(self.scope.path_scope, renamed)
        return relative_to_base(self.scope.path_scope, path).rstrip("\t")

    def _write(self, line: str) -> None:
        self.out_lines += 1
        self._out.append(self._encode(line))

    @staticmethod
    def _encode(line: str) -> bytes:
        return line.encode(_ENCODING, _ERRORS) + b"\n"


def parse_diff(raw: bytes | Iterable[bytes], scope: PatchScope) -> ParsedPatch:
    """Run werf's parser over a whole raw diff (or its chunks)."""
    parser = DiffParser(scope)
    for chunk in ([raw] if isinstance(raw, bytes) else raw):
        parser.feed(chunk)
    return parser.result()


# --- Go strconv quoting ---------------------------------------------------------------------------------

_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
_QUOTE_ESCAPES = {value: "\\" + code for code, value in _SIMPLE_ESCAPES.items()}


def go_unquote(quoted: str) -> str:
    """Go strconv.Unquote of a double-quoted literal (octal and \\x escapes give raw bytes)."""
    if len(quoted) < 2 or not (quoted.startswith('"') and quoted.endswith('"')):
        raise DiffParseError(f"unable to unquote diff path {quoted!r}")
    body, out, i = quoted[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char == '"':
            raise DiffParseError(f"unable to unquote diff path {quoted!r}")
        if char != "\\":
            out += char.encode(_ENCODING, _ERRORS)
            i += 1
            continue
        i = _unescape(body, i + 1, out, quoted)
    return out.decode(_ENCODING, _ERRORS)


def _unescape(body: str, i: int, out: bytearray, quoted: str) -> int:
    code = body[i : i + 1]
    widths = {"x": 2, "u": 4, "U": 8}
    try:
        if code in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[code])
            return i + 1
        if code in "01234567" and code:
            value = int(body[i : i + 3], 8)
            if len(body[i : i + 3]) != 3 or value > 255:
                raise ValueError(code)
            out.append(value)
            return i + 3
        if code in widths and code:
            digits = body[i + 1 : i + 1 + widths[code]]
            if len(digits) != widths[code]:
                raise ValueError(code)
            value = int(digits, 16)
            out += bytes([value]) if code == "x" else chr(value).encode(_ENCODING)
            return i + 1 + widths[code]
    except ValueError:
        pass
    raise DiffParseError(f"unable to unquote diff path {quoted!r}")


def go_quote(text: str) -> str:
    """Go strconv.Quote: printable runes kept, invalid UTF-8 bytes as \\xNN, others escaped."""
    parts = ['"']
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte (surrogateescape)
            parts.append(f"\\x{code - 0xDC00:02x}")
        elif code in _QUOTE_ESCAPES:
            parts.append(_QUOTE_ESCAPES[code])
        elif char == " " or (char.isprintable() and code != 0x7F):
            parts.append(char)
        elif code < 0x80:
            parts.append(f"\\x{code:02x}")
        elif code < 0x10000:
            parts.append(f"\\u{code:04x}")
        else:
            parts.append(f"\\U{code:08x}")
    parts.append('"')
    return "".join(parts)
