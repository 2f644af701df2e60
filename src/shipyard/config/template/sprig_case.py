"""Case conversions sprig takes from huandu/xstrings (camel/snake/kebab case) and goutils (swapcase)."""

from __future__ import annotations

import enum
import unicodedata

from .gostrings import go_lower, go_upper, is_go_space, rune_title


def _is_connector(ch: str) -> bool:
    return ch in "-_" or is_go_space(ch)


def _is_upper(ch: str) -> bool:
    return unicodedata.category(ch) == "Lu"


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def _is_number(ch: str) -> bool:
    return unicodedata.category(ch).startswith("N")


def camel_case(s: str) -> str:
    """xstrings.ToCamelCase: drop connectors, upper-case the rune after each, lower-case the rest."""
    if not s:
        return ""
    out: list[str] = []
    i = 0
    r0 = ""
    while i < len(s):
        r0 = s[i]
        i += 1
        if not _is_connector(r0):
            r0 = go_upper(r0)
            break
        out.append(r0)
    if i >= len(s):
        out.append(r0)  # xstrings writes the last rune again even after a run of connectors
        return "".join(out)
    for ch in s[i:]:
        r1, r0 = r0, ch
        if _is_connector(r0) and _is_connector(r1):
            out.append(r1)
            continue
        if _is_connector(r1):
            r0 = go_upper(r0)
        else:
            r0 = go_lower(r0)
            out.append(r1)
    out.append(r0)
    return "".join(out)


class _Word(enum.Enum):
    INVALID = 0
    NUMBER = 1
    UPPER = 2
    ALPHABET = 3
    CONNECTOR = 4
    PUNCT = 5
    OTHER = 6


def _run_length(s: str, start: int, predicate: object) -> int:
    assert callable(predicate)
    end = start
    while end < len(s) and predicate(s[end]):
        end += 1
    return end


def _upper_word_end(s: str, start: int) -> int:
    """After an upper-case rune: either "ABCd" (stop before the last capital) or "Abc"."""
    i = start + 1
    if i >= len(s):
        return i
    if _is_upper(s[i]):
        end = _run_length(s, i, _is_upper)
        if end < len(s) and s[end].isalpha():
            return end - 1
        return end
    if s[i].isalpha():
        return _run_length(s, i, lambda c: c.isalpha() and not _is_upper(c))
    return i


def next_word(s: str) -> tuple[_Word, str, str]:
    """xstrings' nextWord: (type, word, remaining)."""
    if not s:
        return _Word.INVALID, "", ""
    ch = s[0]
    if _is_connector(ch):
        kind, end = _Word.CONNECTOR, _run_length(s, 1, _is_connector)
    elif _is_punct(ch):
        kind, end = _Word.PUNCT, _run_length(s, 1, _is_punct)
    elif _is_upper(ch):
        kind, end = _Word.UPPER, _upper_word_end(s, 0)
    elif ch.isalpha():
        kind, end = _Word.ALPHABET, _run_length(s, 1, lambda c: c.isalpha() and not _is_upper(c))
    elif _is_number(ch):
        kind, end = _Word.NUMBER, _run_length(s, 1, _is_number)
    else:
        other_end = 1
        while other_end < len(s):
            c = s[other_end]
            if _is_connector(c) or c.isalpha() or _is_number(c) or _is_punct(c):
                break
            other_end += 1
        kind, end = _Word.OTHER, other_end
    return kind, s[:end], s[end:]


def _to_lower(out: list[str], kind: _Word, word: str, connector: str) -> None:
    if kind not in (_Word.UPPER, _Word.CONNECTOR):
        out.append(word)
        return
    for ch in word:
        if _is_connector(ch):
            out.append(connector)
        elif _is_upper(ch):
            out.append(go_lower(ch))
        else:
            out.append(ch)


def snake_case(s: str, connector: str) -> str:
    """xstrings' camelCaseToLowerCase (snakecase with "_", kebabcase with "-")."""
    if not s:
        return ""
    out: list[str] = []
    kind, word, remaining = next_word(s)
    while remaining:
        if kind != _Word.CONNECTOR:
            _to_lower(out, kind, word, connector)
        previous, last = kind, word
        kind, word, remaining = next_word(remaining)
        if previous == _Word.NUMBER:
            while kind in (_Word.ALPHABET, _Word.NUMBER):
                _to_lower(out, kind, word, connector)
                kind, word, remaining = next_word(remaining)
            if kind not in (_Word.INVALID, _Word.PUNCT, _Word.CONNECTOR):
                out.append(connector)
        elif previous == _Word.CONNECTOR:
            _to_lower(out, previous, last, connector)
        elif previous != _Word.PUNCT:
            kind, word, remaining = _after_word(out, kind, word, remaining, connector)
    _to_lower(out, kind, word, connector)
    return "".join(out)


def _after_word(
    out: list[str], kind: _Word, word: str, remaining: str, connector: str
) -> tuple[_Word, str, str]:
    if kind != _Word.NUMBER:
        if kind not in (_Word.CONNECTOR, _Word.PUNCT):
            out.append(connector)
        return kind, word, remaining
    if not remaining:
        return kind, word, remaining
    last = word
    kind, word, remaining = next_word(remaining)
    if kind != _Word.ALPHABET:
        _to_lower(out, _Word.NUMBER, last, connector)
        if kind not in (_Word.CONNECTOR, _Word.PUNCT):
            out.append(connector)
        return kind, word, remaining
    out.append(connector)
    _to_lower(out, _Word.NUMBER, last, connector)
    while kind in (_Word.ALPHABET, _Word.NUMBER):
        _to_lower(out, kind, word, connector)
        kind, word, remaining = next_word(remaining)
    if kind not in (_Word.INVALID, _Word.CONNECTOR, _Word.PUNCT):
        out.append(connector)
    return kind, word, remaining


def swap_case(s: str) -> str:
    """goutils.SwapCase: upper → lower, lower → upper (title case after whitespace)."""
    out: list[str] = []
    whitespace = True
    for ch in s:
        category = unicodedata.category(ch)
        if category in ("Lu", "Lt"):
            out.append(go_lower(ch))
            whitespace = False
        elif category == "Ll":
            out.append(rune_title(ch) if whitespace else go_upper(ch))
            whitespace = False
        else:
            out.append(ch)
            whitespace = is_go_space(ch)
    return "".join(out)


def snakecase(s: str) -> str:
    return snake_case(s, "_")


def kebabcase(s: str) -> str:
    return snake_case(s, "-")
