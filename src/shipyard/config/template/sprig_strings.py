"""sprig's string functions (strings.go and the goutils / xstrings helpers it calls)."""

from __future__ import annotations

import random
from collections.abc import Callable

from .errors import GoError
from .gofmt import format_value, go_quote
from .gostrings import (
    GO_SPACE,
    byte_len,
    from_bytes,
    go_lower,
    go_title,
    go_upper,
    is_go_space,
    strval,
    to_bytes,
)
from .gotypes import MISSING, StrList, StrMap
from .limits import check_length, check_size
from .sprig_case import camel_case, kebabcase, snakecase, swap_case


def trim(s: str) -> str:
    return s.strip(GO_SPACE)


def trim_all(a: str, b: str) -> str:
    return b.strip(a)


def trim_suffix(a: str, b: str) -> str:
    return b.removesuffix(a)


def trim_prefix(a: str, b: str) -> str:
    return b.removeprefix(a)


def upper(s: str) -> str:
    return go_upper(s)


def lower(s: str) -> str:
    return go_lower(s)


def title(s: str) -> str:
    return go_title(s)


def untitle(s: str) -> str:
    """goutils.Uncapitalize: lower-case the first letter of every whitespace-separated word."""
    out: list[str] = []
    next_word = True
    for ch in s:
        if is_go_space(ch):
            next_word = True
            out.append(ch)
        elif next_word:
            out.append(go_lower(ch))
            next_word = False
        else:
            out.append(ch)
    return "".join(out)


def substr(start: int, end: int, s: str) -> str:
    data = to_bytes(s)
    if start < 0:
        return from_bytes(_slice_bytes(data, 0, end))
    if end < 0 or end > len(data):
        return from_bytes(_slice_bytes(data, start, len(data)))
    return from_bytes(_slice_bytes(data, start, end))


def _slice_bytes(data: bytes, low: int, high: int) -> bytes:
    if not 0 <= low <= high <= len(data):
        if high < 0 or high > len(data):
            raise GoError(f"runtime error: slice bounds out of range [:{high}] with length {len(data)}")
        raise GoError(f"runtime error: slice bounds out of range [{low}:{high}]")
    return data[low:high]


def trunc(c: int, s: str) -> str:
    length = byte_len(s)
    if c < 0 and length + c > 0:
        return from_bytes(to_bytes(s)[length + c :])
    if c >= 0 and length > c:
        return from_bytes(to_bytes(s)[:c])
    return s


def abbreviate_full(s: str, offset: int, width: int) -> str:
    """goutils.AbbreviateFull (byte based, errors swallowed to "" like sprig)."""
    data = to_bytes(s)
    if not data:
        return ""
    if width < 4:
        return ""
    if len(data) <= width:
        return s
    offset = min(offset, len(data))
    if len(data) - offset < width - 3:
        offset = len(data) - (width - 3)
    if offset <= 4:
        return from_bytes(data[: width - 3]) + "..."
    if width < 7:
        return ""
    if offset + width - 3 < len(data):
        return "..." + abbreviate_full(from_bytes(data[offset:]), 0, width - 3)
    return "..." + from_bytes(data[len(data) - (width - 3) :])


def abbrev(width: int, s: str) -> str:
    return s if width < 4 else abbreviate_full(s, 0, width)


def abbrevboth(left: int, right: int, s: str) -> str:
    if right < 4 or (left > 0 and right < 7):
        return s
    return abbreviate_full(s, left, right)


def initials(s: str) -> str:
    out: list[str] = []
    last_was_gap = True
    for byte in to_bytes(s):
        ch = chr(byte)  # goutils walks bytes, not runes
        if is_go_space(ch):
            last_was_gap = True
        elif last_was_gap:
            out.append(ch)
            last_was_gap = False
    return "".join(out)


def wrap_custom(s: str, width: int, newline: str, wrap_long: bool) -> str:
    """goutils.WrapCustom."""
    if not s:
        return ""
    newline = newline or "\n"
    width = max(width, 1)
    out: list[str] = []
    offset = 0
    inserted = len(s)  # an upper bound of the result's size: a long separator may be inserted many times
    while len(s) - offset > width:
        inserted += len(newline)
        check_size(inserted)
        if s[offset] == " ":
            offset += 1
            continue
        space = s.rfind(" ", offset, width + offset + 1)
        if space >= offset:
            out += [s[offset:space], newline]
            offset = space + 1
        elif wrap_long:
            out += [s[offset : offset + width], newline]
            offset += width
        else:
            later = s.find(" ", offset + width)
            if later < 0:
                out.append(s[offset:])
                offset = len(s)
            else:
                out += [s[offset:later], newline]
                offset = later + 1
    out.append(s[offset:])
    return "".join(out)


def wrap(length: int, s: str) -> str:
    return wrap_custom(s, length, "", False)


def wrap_with(length: int, sep: str, s: str) -> str:
    return wrap_custom(s, length, sep, True)


def contains(substr_: str, s: str) -> bool:
    return substr_ in s


def has_prefix(prefix: str, s: str) -> bool:
    return s.startswith(prefix)


def has_suffix(suffix: str, s: str) -> bool:
    return s.endswith(suffix)


def quote(*values: object) -> str:
    return " ".join(go_quote(strval(v)) for v in values if v is not None)


def squote(*values: object) -> str:
    return " ".join(f"'{format_value(v)}'" for v in values if v is not None)


def cat(*values: object) -> str:
    return " ".join(format_value(v) for v in values if v is not None)


def indent(spaces: int, v: str) -> str:
    check_size(len(v) + max(spaces, 0) * (v.count("\n") + 1))
    pad = " " * max(spaces, 0)
    return pad + v.replace("\n", "\n" + pad)


def nindent(spaces: int, v: str) -> str:
    return "\n" + indent(spaces, v)


def replace(old: str, new: str, src: str) -> str:
    if old == "":
        # strings.Replace with an empty old inserts new around every rune.
        check_size(len(src) + (len(src) + 1) * len(new))
        return new + new.join(src) + new if src else new
    if len(new) > len(old):
        check_size(len(src) + src.count(old) * (len(new) - len(old)))
    return src.replace(old, new)


def plural(one: str, many: str, count: int) -> str:
    return one if count == 1 else many


def nospace(s: str) -> str:
    # goutils.DeleteWhiteSpace checks single bytes, so only ASCII-range spaces (and \x85, \xa0 as bytes) go.
    return "".join(c for c in s if not (ord(c) < 0x80 and is_go_space(c)))


def go_split(orig: str, sep: str, n: int = -1) -> list[str]:
    """strings.SplitN (n < 0: all; n == 0: none; sep "": one piece per rune)."""
    if n == 0:
        return []
    pieces = len(orig) if sep == "" else orig.count(sep) + 1
    check_length(min(pieces, n) if n > 0 else pieces)
    if sep == "":
        runes = list(orig)
        if 0 < n < len(runes):
            return [*runes[: n - 1], "".join(runes[n - 1 :])]
        return runes
    return orig.split(sep, n - 1) if n > 0 else orig.split(sep)


def split(sep: str, orig: str) -> StrMap:
    return StrMap({f"_{i}": part for i, part in enumerate(go_split(orig, sep))})


def splitn(sep: str, n: int, orig: str) -> StrMap:
    return StrMap({f"_{i}": part for i, part in enumerate(go_split(orig, sep, n))})


def split_list(sep: str, orig: str) -> StrList:
    return StrList(go_split(orig, sep))


def to_strings(v: object) -> StrList:
    """sprig's strslice: a list's non-nil elements as strings; a scalar as a one-element list."""
    if v is None or v is MISSING:
        return StrList()
    if isinstance(v, StrList):
        return v
    if isinstance(v, list | tuple):
        return StrList(strval(x) for x in v if x is not None)
    return StrList([strval(v)])


def join(sep: str, v: object) -> str:
    strings = to_strings(v)
    check_size(sum(map(len, strings)) + len(sep) * max(len(strings) - 1, 0))
    return sep.join(strings)


def repeat(count: int, s: str) -> str:
    if count < 0:
        raise GoError("strings: negative Repeat count")
    check_size(count * len(s))
    return s * count


def shuffle(s: str) -> str:
    """xstrings.Shuffle: the runes in random order."""
    runes = list(s)
    random.shuffle(runes)
    return "".join(runes)


def to_string(v: object) -> str:
    return strval(v)


FUNCTIONS: dict[str, Callable[..., object]] = {
    "abbrev": abbrev,
    "abbrevboth": abbrevboth,
    "trunc": trunc,
    "trim": trim,
    "upper": upper,
    "lower": lower,
    "title": title,
    "untitle": untitle,
    "substr": substr,
    "repeat": repeat,
    "trimall": trim_all,
    "trimAll": trim_all,
    "trimSuffix": trim_suffix,
    "trimPrefix": trim_prefix,
    "nospace": nospace,
    "initials": initials,
    "swapcase": swap_case,
    "shuffle": shuffle,
    "snakecase": snakecase,
    "camelcase": camel_case,
    "kebabcase": kebabcase,
    "wrap": wrap,
    "wrapWith": wrap_with,
    "contains": contains,
    "hasPrefix": has_prefix,
    "hasSuffix": has_suffix,
    "quote": quote,
    "squote": squote,
    "cat": cat,
    "indent": indent,
    "nindent": nindent,
    "replace": replace,
    "plural": plural,
    "toString": to_string,
    "split": split,
    "splitList": split_list,
    "splitn": splitn,
    "toStrings": to_strings,
    "join": join,
}
