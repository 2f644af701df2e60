"""Go's fmt for template values: ``%v`` printing (``[1 2]``, ``map[a:1]``, ``<nil>``, Go float formatting),
strconv.Quote, and the Sprint/Sprintln spacing rules. Sprintf lives in goprintf.py."""

from __future__ import annotations

import math
from decimal import Decimal

from .gotypes import MISSING, is_int, struct_fields, type_name
from .limits import check_expanded_size


def go_quote(text: str, quote: str = '"', ascii_only: bool = False) -> str:
    """strconv.Quote (or QuoteToASCII): printable runes kept, others escaped the Go way."""
    if text.isascii() and text.isprintable() and quote not in text and "\\" not in text:
        return quote + text + quote  # nothing to escape (the common case)
    out = [quote]
    for ch in text:
        out.append(_quote_rune(ch, quote, ascii_only))
    out.append(quote)
    return "".join(out)


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _quote_rune(ch: str, quote: str, ascii_only: bool) -> str:
    if ch == quote or ch == "\\":
        return "\\" + ch
    if ch.isprintable() and not (ascii_only and ord(ch) >= 0x80):
        return ch
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # a byte of invalid UTF-8 kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def quote_rune(code: int) -> str:
    """strconv.QuoteRune, as %q prints an integer."""
    if code < 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    return go_quote(chr(code), "'")


def float_digits(value: float) -> tuple[str, int]:
    """Shortest decimal digits that round-trip and the decimal-point position (strconv's digs.d, digs.dp)."""
    _, digits, exponent = Decimal(repr(abs(value))).as_tuple()
    all_digits = "".join(map(str, digits))
    text = all_digits.lstrip("0") or "0"
    point = len(digits) + int(exponent) - (len(all_digits) - len(all_digits.lstrip("0")))
    text = text.rstrip("0") or "0"
    if text == "0":
        point = 1
    return text, point


def format_float(value: float, fmt: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat(value, fmt, prec, 64) for fmt in e, E, f, g, G."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    negative = math.copysign(1.0, value) < 0
    body = _format_finite(abs(value), fmt, prec)
    return "-" + body if negative else body


def _format_finite(value: float, fmt: str, prec: int) -> str:
    if prec >= 0 and fmt in "eEfF":
        return _format_fixed_precision(value, fmt, prec)
    if prec >= 0:
        return _format_g_precision(value, fmt, prec)
    digits, point = float_digits(value)
    if fmt in "eE":
        return _exponent_form(digits, point, fmt, -1)
    if fmt in "fF":
        return _fixed_form(digits, point, -1)
    # Shortest %g switches to an exponent below 1e-4 or from 1e+06 on (strconv's eprec = 6).
    exp = point - 1
    if exp < -4 or exp >= 6:
        return _exponent_form(digits, point, "E" if fmt == "G" else "e", -1)
    return _fixed_form(digits, point, -1)


def _format_fixed_precision(value: float, fmt: str, prec: int) -> str:
    if fmt in "fF":
        return f"{value:.{prec}f}"
    text = f"{value:.{prec}e}"
    mantissa, exp = text.split("e")
    sign, digits = exp[0], exp[1:].lstrip("0").rjust(2, "0")
    return f"{mantissa}{'E' if fmt == 'E' else 'e'}{sign}{digits}"


def _format_g_precision(value: float, fmt: str, prec: int) -> str:
    prec = max(prec, 1)
    text = f"{value:.{prec - 1}e}"
    mantissa, exp_text = text.split("e")
    exp = int(exp_text)
    digits = mantissa.replace(".", "").rstrip("0") or "0"
    if exp < -4 or exp >= prec:
        return _exponent_form(digits, exp + 1, "E" if fmt == "G" else "e", -1)
    return _fixed_form(digits, exp + 1, -1)


def _exponent_form(digits: str, point: int, letter: str, prec: int) -> str:
    exp = point - 1 if digits != "0" else 0
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    sign = "-" if exp < 0 else "+"
    return f"{mantissa}{letter}{sign}{abs(exp):02d}"


def _fixed_form(digits: str, point: int, prec: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def format_complex(value: complex) -> str:
    imag = format_float(value.imag)
    sign = "" if imag.startswith(("-", "+")) else "+"
    return f"({format_float(value.real)}{sign}{imag}i)"


def sort_map_keys(keys: list[object]) -> list[object]:
    """internal/fmtsort order: numbers numerically, strings bytewise, bools false first, nil first."""

    def key(k: object) -> tuple[int, object]:
        if k is None:
            return (0, 0)
        if isinstance(k, bool):
            return (1, int(k))
        if is_int(k) or isinstance(k, float):
            return (2, k)
        if isinstance(k, str):
            return (3, k)
        return (4, str(k))

    try:
        return sorted(keys, key=key)
    except TypeError:
        return sorted(keys, key=lambda k: (type_name(k), str(k)))


def format_value(value: object, verb: str = "v") -> str:
    """%v (and the element-wise %d, %s, … through ``verb``) of one value; raises LimitExceeded for a list or
    map too big to print."""
    if isinstance(value, list | tuple | dict):
        check_expanded_size(value)
    return _format(value, verb)


def _format(value: object, verb: str) -> str:
    if value is None or value is MISSING:
        return "<nil>"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_int(value):
        return str(int(value))
    if isinstance(value, float):
        return format_float(value, "g")
    if isinstance(value, list | tuple):
        return "[" + " ".join(_format(v, verb) for v in value) + "]"
    if isinstance(value, dict):
        keys = sort_map_keys(list(value))
        return "map[" + " ".join(f"{_format(k, verb)}:{_format(value[k], verb)}" for k in keys) + "]"
    if isinstance(value, complex):
        return format_complex(value)
    return _format_object(value, verb)


def _format_object(value: object, verb: str) -> str:
    go_string = getattr(value, "go_string", None)
    if callable(go_string):
        return str(go_string())
    fields = struct_fields(value)
    if fields is not None:
        return "{" + " ".join(_format(f, verb) for f in fields) + "}"
    if callable(value):
        return "0x0"
    return str(value)


def sprint(args: list[object]) -> str:
    """fmt.Sprint: a space between operands when neither side is a string."""
    out: list[str] = []
    previous_string = True
    for i, arg in enumerate(args):
        is_string = isinstance(arg, str)
        if i > 0 and not is_string and not previous_string:
            out.append(" ")
        out.append(format_value(arg))
        previous_string = is_string
    return "".join(out)


def sprintln(args: list[object]) -> str:
    """fmt.Sprintln: always spaces, then a newline."""
    return " ".join(format_value(a) for a in args) + "\n"


def go_string_syntax(value: object) -> str:
    """%#v for the data model (Go-syntax representation)."""
    check_expanded_size(value)
    return _go_syntax(value)


def _go_syntax(value: object) -> str:
    if value is None or value is MISSING:
        return "interface {}(nil)"
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, bool | int | float):
        return format_value(value)
    if isinstance(value, list | tuple):
        return type_name(value) + "{" + ", ".join(_go_syntax(v) for v in value) + "}"
    if isinstance(value, dict):
        keys = sort_map_keys(list(value))
        body = ", ".join(f"{_go_syntax(k)}:{_go_syntax(value[k])}" for k in keys)
        return type_name(value) + "{" + body + "}"
    return format_value(value)
