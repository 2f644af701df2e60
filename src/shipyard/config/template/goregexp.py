"""Go's regexp (RE2 syntax) on Python's re: the pattern is translated where the dialects differ, and FindAll /
ReplaceAll / Split follow Go's loops (Go skips an empty match right after a previous match; Python does not).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7F",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1F\\x7F",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}


class RegexpError(ValueError):
    pass


def _translate_class(pattern: str, i: int, out: list[str]) -> int:
    """Copy a [...] class starting at pattern[i] == '[', expanding [:name:] POSIX classes."""
    out.append("[")
    i += 1
    if pattern[i : i + 1] == "^":
        out.append("^")
        i += 1
    if pattern[i : i + 1] == "]":
        out.append("\\]")
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        if pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            name = pattern[i + 2 : end] if end > 0 else ""
            negated = name.startswith("^")
            ranges = _POSIX_CLASSES.get(name.lstrip("^"))
            if ranges is None or negated:
                raise RegexpError(f"invalid character class range: `{pattern[i : end + 2]}`")
            out.append(ranges)
            i = end + 2
        elif pattern[i] == "\\":
            out.append(pattern[i : i + 2])
            i += 2
        elif pattern[i] == "[":
            out.append("\\[")
            i += 1
        else:
            out.append(pattern[i])
            i += 1
    if i >= len(pattern):
        raise RegexpError(f"missing closing ]: `{pattern[pattern.rfind('[', 0, i) :]}`")
    out.append("]")
    return i + 1


def _translate_escape(pattern: str, i: int, out: list[str]) -> int:
    code = pattern[i + 1 : i + 2]
    if code == "z":
        out.append("\\Z")
        return i + 2
    if code == "Z":
        raise RegexpError("invalid escape sequence: `\\Z`")
    if code == "Q":
        end = pattern.find("\\E", i + 2)
        literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
        out.append(re.escape(literal))
        return len(pattern) if end < 0 else end + 2
    if code in ("p", "P"):
        raise RegexpError("unicode classes \\p are not supported")
    out.append(pattern[i : i + 2])
    return i + 2


def translate(pattern: str) -> str:
    """RE2 → Python re: \\z, \\Q…\\E, [[:alpha:]], (?<name>…), (?U) unsupported, $ only at the very end."""
    out: list[str] = []
    i = 0
    multiline = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i = _translate_escape(pattern, i, out)
        elif ch == "[":
            i = _translate_class(pattern, i, out)
        elif ch == "(" and pattern.startswith("(?<", i) and not pattern.startswith(("(?<=", "(?<!"), i):
            out.append("(?P<")
            i += 3
        elif ch == "(" and pattern.startswith("(?", i) and not pattern.startswith(("(?P", "(?:"), i):
            i, multiline = _translate_flags(pattern, i, out, multiline)
        elif ch == "$":
            out.append("$" if multiline else "\\Z")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _translate_flags(pattern: str, i: int, out: list[str], multiline: bool) -> tuple[int, bool]:
    end = i + 2
    while end < len(pattern) and pattern[end] not in ":)":
        end += 1
    flags = pattern[i + 2 : end]
    if not flags or any(c not in "imsU-" for c in flags) or "U" in flags:
        raise RegexpError(f"invalid or unsupported Perl syntax: `{pattern[i : end + 1]}`")
    on = flags.split("-")[0]
    off = flags.split("-")[1] if "-" in flags else ""
    multiline = (multiline or "m" in on) and "m" not in off
    if pattern[end : end + 1] == ":" or i == 0:
        out.append(pattern[i : end + 1])
    else:
        # A mid-pattern (?i) applies to the rest of the enclosing group: Python needs a scoped group.
        out.append(f"(?{flags}:")
        out.append(_rest_of_group_marker)
    return end + 1, multiline


_rest_of_group_marker = "\x00REST\x00"


def _close_scoped_groups(text: str) -> str:
    """Close each scoped flag group opened mid-pattern at the end of its enclosing group."""
    while _rest_of_group_marker in text:
        start = text.index(_rest_of_group_marker)
        depth, j = 0, start + len(_rest_of_group_marker)
        while j < len(text):
            ch = text[j]
            if ch == "\\":
                j += 2
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    break
                depth -= 1
            j += 1
        text = text[:start] + text[start + len(_rest_of_group_marker) : j] + ")" + text[j:]
    return text


@functools.lru_cache(maxsize=256)
def compile_go(pattern: str) -> re.Pattern[str]:
    """regexp.Compile; raises RegexpError with a Go-like message."""
    try:
        return re.compile(_close_scoped_groups(translate(pattern)), re.ASCII if pattern.isascii() else 0)
    except RegexpError as err:
        raise RegexpError(f"error parsing regexp: {err}") from None
    except re.error as err:
        raise RegexpError(f"error parsing regexp: {_go_message(err, pattern)}") from None


def _go_message(err: re.error, pattern: str) -> str:
    """Python's compile error in Go's regexp/syntax words (ErrMissingParen, ErrMissingRepeatArgument, …)."""
    message = err.msg
    if message.startswith("missing ), unterminated subpattern"):
        return f"missing closing ): `{pattern}`"
    if message.startswith("unbalanced parenthesis"):
        return f"unexpected ): `{pattern}`"
    if message.startswith("nothing to repeat") or message.startswith("multiple repeat"):
        position = err.pos or 0
        operator = (
            pattern[position - 1 : position + 1]
            if "multiple" in message
            else pattern[position : position + 1]
        )
        kind = (
            "missing argument to repetition operator"
            if "nothing" in message
            else "invalid nested repetition operator"
        )
        return f"{kind}: `{operator}`"
    if message.startswith("unterminated character set"):
        start = err.pos or 0
        return f"missing closing ]: `{pattern[start:]}`"
    if message.startswith("bad escape"):
        return f"invalid escape sequence: `{pattern[err.pos or 0 : (err.pos or 0) + 2]}`"
    return f"{message}: `{pattern}`"


def find_all(regex: re.Pattern[str], text: str, n: int) -> list[re.Match[str]]:
    """Go's allMatches: an empty match right after the previous match is skipped."""
    if n < 0:
        n = len(text) + 1
    matches: list[re.Match[str]] = []
    pos, previous_end = 0, -1
    while pos <= len(text) and len(matches) < n:
        match = regex.search(text, pos)
        if match is None:
            break
        if match.end() == match.start() == previous_end:
            pos = match.end() + 1
            continue
        matches.append(match)
        previous_end = match.end()
        pos = match.end() + (1 if match.end() == match.start() else 0)
    return matches


def expand_template(template: str) -> Callable[[re.Match[str]], str]:
    """Go's Regexp.Expand: $1, ${1}, $name, ${name} and $$; unknown groups expand to ""."""
    parts: list[tuple[bool, str]] = []  # (is a group reference, text or group name)
    i = 0
    while (dollar := template.find("$", i)) >= 0:
        parts.append((False, template[i:dollar]))
        if template.startswith("$$", dollar):
            parts.append((False, "$"))
            i = dollar + 2
            continue
        name, i = _extract_name(template, dollar + 1)
        parts.append((False, "$") if name is None else (True, name))
    parts.append((False, template[i:]))

    def expand(match: re.Match[str]) -> str:
        return "".join(_group_text(match, value) if is_group else value for is_group, value in parts)

    return expand


def _extract_name(template: str, start: int) -> tuple[str | None, int]:
    """Go's extract: a run of letters, digits and underscores, optionally in braces."""
    brace = template.startswith("{", start)
    i = start + 1 if brace else start
    end = i
    while end < len(template) and (template[end].isalnum() or template[end] == "_"):
        end += 1
    if end == i or (brace and not template.startswith("}", end)):
        return None, start
    return template[i:end], end + 1 if brace else end


def _group_text(match: re.Match[str], name: str) -> str:
    if name.isdigit() and not (name.startswith("0") and len(name) > 1):
        number = int(name)
        return (match.group(number) or "") if number <= (match.re.groups or 0) else ""
    return match.groupdict().get(name) or ""


def replace_all(regex: re.Pattern[str], text: str, replacement: Callable[[re.Match[str]], str]) -> str:
    out: list[str] = []
    last = 0
    for match in find_all(regex, text, -1):
        out.append(text[last : match.start()])
        out.append(replacement(match))
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def split(regex: re.Pattern[str], text: str, n: int) -> list[str]:
    """Regexp.Split."""
    if n == 0:
        return []
    if regex.pattern and not text:
        return [""]
    pieces: list[str] = []
    begin = end = 0
    for match in find_all(regex, text, n):
        if n > 0 and len(pieces) == n - 1:
            break
        end = match.start()
        if match.end() != 0:
            pieces.append(text[begin:end])
        begin = match.end()
    if end != len(text):
        pieces.append(text[begin:])
    return pieces


def quote_meta(text: str) -> str:
    return "".join("\\" + c if c in "\\.+*?()|[]{}^$" else c for c in text)
