"""Go string semantics sprig relies on: strings are byte sequences, and unicode.IsSpace / ToUpper / ToTitle
map one rune to one rune (Python's str methods may expand 'ß' to 'SS')."""

from __future__ import annotations

from .gofmt import format_value
from .gotypes import MISSING

GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)
"""unicode.IsSpace (Python's str.isspace also counts \x1c-\x1f, which Go does not)."""


def to_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def from_bytes(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def byte_len(text: str) -> int:
    return len(text) if text.isascii() else len(to_bytes(text))


def _map_rune(ch: str, mapped: str) -> str:
    return mapped if len(mapped) == 1 else ch


def go_upper(text: str) -> str:
    if text.isascii():
        return text.upper()
    return "".join(_map_rune(c, c.upper()) for c in text)


def go_lower(text: str) -> str:
    if text.isascii():
        return text.lower()
    return "".join(_map_rune(c, c.lower()) for c in text)


def rune_title(ch: str) -> str:
    return _map_rune(ch, ch.title())


def is_go_space(ch: str) -> bool:
    return ch in GO_SPACE


def strval(value: object) -> str:
    """sprig's strval: strings as is, Stringers through String(), the rest with %v."""
    if isinstance(value, str):
        return value
    if value is MISSING:
        return "<nil>"
    string = getattr(value, "String", None)
    if callable(string):
        return str(string())
    return format_value(value)


def go_title(text: str) -> str:
    """strings.Title: upper-case every word's first letter (ASCII punctuation and spaces separate words)."""
    out: list[str] = []
    previous = " "
    for ch in text:
        out.append(rune_title(ch) if _is_separator(previous) else ch)
        previous = ch
    return "".join(out)


def _is_separator(ch: str) -> bool:
    if ord(ch) <= 0x7F:
        return not (ch.isalnum() or ch == "_")
    if ch.isalpha() or ch.isdecimal():
        return False
    return is_go_space(ch)
