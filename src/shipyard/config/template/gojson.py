"""encoding/json as Go writes and reads it: sorted keys, HTML-safe escapes, Go's float format, float64
numbers."""

from __future__ import annotations

import json
import math

from .gofmt import format_float, quote_rune
from .gotypes import MISSING, AnyKeyMap, is_int, struct_fields, type_name
from .limits import check_expanded_size


class JsonError(Exception):
    pass


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def _string(text: str, escape_html: bool) -> str:
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif escape_html and ch in _HTML:
            out.append(_HTML[ch])
        elif ord(ch) < 0x20 or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        elif 0xDC80 <= ord(ch) <= 0xDCFF:  # invalid UTF-8 byte
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _float(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise JsonError(f"json: unsupported value: {format_float(value)}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = format_float(value, "e")
        mantissa, exponent = text.split("e")
        sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
        return f"{mantissa}e{sign}{digits}"
    return format_float(value, "f")


def encode(value: object, *, escape_html: bool = True, indent: str | None = None) -> str:
    """json.Marshal (or MarshalIndent with ``indent``); raises JsonError like Go's unsupported types, and
    LimitExceeded for a value too big to encode."""
    check_expanded_size(value)
    return _encode(value, escape_html, indent, 0)


def _encode(value: object, escape_html: bool, indent: str | None, depth: int) -> str:
    if value is None or value is MISSING:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_int(value):
        return str(int(value))
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _string(value, escape_html)
    if isinstance(value, list | tuple):
        return _container(
            "[", "]", [_encode(v, escape_html, indent, depth + 1) for v in value], indent, depth
        )
    if isinstance(value, AnyKeyMap):
        raise JsonError(f"json: unsupported type: {type_name(value)}")
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: str(k).encode("utf-8", "surrogateescape"))
        separator = ": " if indent is not None else ":"
        items = [
            _string(str(k), escape_html) + separator + _encode(value[k], escape_html, indent, depth + 1)
            for k in keys
        ]
        return _container("{", "}", items, indent, depth)
    return _encode_object(value, escape_html, indent, depth)


def _encode_object(value: object, escape_html: bool, indent: str | None, depth: int) -> str:
    json_value = getattr(value, "go_json", None)
    if callable(json_value):
        return _encode(json_value(), escape_html, indent, depth)
    fields = struct_fields(value)
    if fields is not None:
        names = [f for f in vars(value) if not f.startswith("_")]
        return _encode(dict(zip(names, fields, strict=False)), escape_html, indent, depth)
    raise JsonError(f"json: unsupported type: {type_name(value)}")


def _container(open_: str, close: str, items: list[str], indent: str | None, depth: int) -> str:
    if not items:
        return open_ + close
    if indent is None:
        return open_ + ",".join(items) + close
    inner = "\n" + indent * (depth + 1)
    return open_ + inner + ("," + inner).join(items) + "\n" + indent * depth + close


def _reject_constant(name: str) -> object:
    raise JsonError(f"invalid character {quote_rune(ord(name[0]))} looking for beginning of value")


_CONTEXTS = (
    ("Expecting property name", "looking for beginning of object key string"),
    ("Expecting ':' delimiter", "after object key"),
    ("Expecting value", "looking for beginning of value"),
    ("Extra data", "after top-level value"),
    ("Invalid control character", "in string literal"),
    ("Invalid \\escape", "in string escape code"),
)


def _syntax_error(text: str, err: json.JSONDecodeError) -> str:
    """Go's scanner message for the character Python stopped at."""
    if err.pos >= len(text) or "Unterminated" in err.msg:
        return "unexpected end of JSON input"
    context = next((go for py, go in _CONTEXTS if err.msg.startswith(py)), None)
    if context is None:  # "Expecting ',' delimiter"
        opener = max(text.rfind("{", 0, err.pos), text.rfind("[", 0, err.pos))
        in_object = opener >= 0 and text[opener] == "{"
        context = "after object key:value pair" if in_object else "after array element"
    if context == "after top-level value" and not text[err.pos :].strip():
        return "unexpected end of JSON input"
    return f"invalid character {quote_rune(ord(text[err.pos]))} {context}"


def decode(text: str) -> object:
    """json.Unmarshal into interface{}: every number is a float64."""
    try:
        return json.loads(text, parse_int=float, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise JsonError(_syntax_error(text, err)) from None
