"""Go literal syntax: strconv.Unquote / UnquoteChar and ParseInt / ParseUint / ParseFloat (base prefixes)."""

from __future__ import annotations

import re

_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_HEX_LENGTHS = {"x": 2, "u": 4, "U": 8}


class SyntaxErr(ValueError):
    """strconv.ErrSyntax ("invalid syntax")."""

    def __init__(self) -> None:
        super().__init__("invalid syntax")


def unquote_char(text: str, quote: str) -> tuple[str, str]:
    """Decode the first (possibly escaped) character of ``text``; return it and the rest
    (strconv.UnquoteChar)."""
    if not text:
        raise SyntaxErr
    ch = text[0]
    if ch == quote and quote in "'\"":
        raise SyntaxErr
    if ch != "\\":
        return ch, text[1:]
    if len(text) < 2:
        raise SyntaxErr
    code, rest = text[1], text[2:]
    if code in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[code], rest
    if code in _HEX_LENGTHS:
        return _hex_escape(code, rest)
    if "0" <= code <= "7":
        digits = text[1:4]
        if len(digits) < 3 or any(d not in "01234567" for d in digits) or int(digits, 8) > 255:
            raise SyntaxErr
        return chr(int(digits, 8)), text[4:]
    if code in "'\"" and code == quote:
        return code, rest
    raise SyntaxErr


def _hex_escape(code: str, rest: str) -> tuple[str, str]:
    size = _HEX_LENGTHS[code]
    digits = rest[:size]
    if len(digits) < size or any(d not in "0123456789abcdefABCDEF" for d in digits):
        raise SyntaxErr
    value = int(digits, 16)
    if code == "x":
        # \xNN is a byte; as a character it is only meaningful below 0x80 in a Go string of text.
        return chr(value), rest[size:]
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        raise SyntaxErr
    return chr(value), rest[size:]


def unquote(token: str) -> str:
    """strconv.Unquote for "interpreted" and `raw` string literals."""
    if len(token) < 2 or token[0] != token[-1]:
        raise SyntaxErr
    quote, body = token[0], token[1:-1]
    if quote == "`":
        if "`" in body:
            raise SyntaxErr
        return body.replace("\r", "")
    if quote not in "\"'" or "\n" in body:
        raise SyntaxErr
    if quote == '"' and "\\" not in body and '"' not in body:
        return body
    out: list[str] = []
    while body:
        ch, body = unquote_char(body, quote)
        out.append(ch)
        if quote == "'" and body:
            raise SyntaxErr
    return "".join(out)


_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}


def _underscores_ok(text: str) -> bool:
    """strconv.underscoreOK: underscores only between digits or after a base prefix."""
    saw = "^"  # '^' start, '0' digit/prefix, '_' underscore, '!' other
    i = 0
    if text[:1] in "+-":
        text = text[1:]
    hexadecimal = False
    if len(text) >= 2 and text[0] == "0" and text[1].lower() in "bxo":
        i = 2
        saw = "0"
        hexadecimal = text[1].lower() == "x"
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or (hexadecimal and ch.lower() in "abcdef"):
            saw = "0"
        elif ch == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def parse_int(text: str, *, signed: bool = True, bits: int = 64) -> int | None:
    """strconv.ParseInt(text, 0, 64) (or ParseUint when not signed); None on any error."""
    if not text:
        return None
    body = text
    negative = False
    if body[:1] in "+-":
        if not signed:
            return None
        negative = body[0] == "-"
        body = body[1:]
    base, digits = 10, body
    if len(body) >= 2 and body[0] == "0" and body[1].lower() in "xob":
        base, digits = {"x": 16, "o": 8, "b": 2}[body[1].lower()], body[2:]
    elif len(body) >= 2 and body[0] == "0":
        base, digits = 8, body[1:]
    if "_" in digits and not _underscores_ok(text):
        return None
    digits = digits.replace("_", "")
    if not digits or any(d not in _DIGITS[base] for d in digits):
        return None
    value = -int(digits, base) if negative else int(digits, base)
    limit = 1 << (bits - 1) if signed else 1 << bits
    lower = -limit if signed else 0
    return value if lower <= value < limit else None


_DEC_FLOAT = re.compile(r"[+-]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d[\d_]*)?")
_HEX_FLOAT = re.compile(r"[+-]?0[xX]([0-9a-fA-F_]*\.?[0-9a-fA-F_]*)[pP][+-]?\d[\d_]*")


def parse_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64) for the syntaxes the lexer produces; None on error or overflow."""
    if "_" in text and not _underscores_ok(text):
        return None
    if _HEX_FLOAT.fullmatch(text):
        try:
            return float.fromhex(text.replace("_", ""))
        except (ValueError, OverflowError):
            return None
    if not _DEC_FLOAT.fullmatch(text):
        return None
    value = float(text.replace("_", ""))
    return None if value in (float("inf"), float("-inf")) else value
