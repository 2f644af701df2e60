"""fmt.Sprintf: Go's verbs, flags, width/precision (``*`` and ``[n]`` indexes) and its in-band error strings
(``%!d(string=x)``, ``%!d(MISSING)``, ``%!(EXTRA int=2)``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .gofmt import (
    format_complex,
    format_float,
    format_value,
    go_quote,
    go_string_syntax,
    quote_rune,
)
from .gotypes import MISSING, is_int, type_name
from .limits import MAX_STRING_SIZE, check_expanded_size, check_size

_TOO_LARGE = 1_000_000  # fmt's tooLarge: a width or precision stays below about 10 million


@dataclass(slots=True)
class Flags:
    plus: bool = False
    minus: bool = False
    sharp: bool = False
    space: bool = False
    zero: bool = False
    width: int | None = None
    prec: int | None = None


def pad(text: str, flags: Flags, zero_ok: bool = False) -> str:
    if flags.width is None or len(text) >= flags.width:
        return text
    fill = flags.width - len(text)
    if flags.minus:
        return text + " " * fill
    if flags.zero and zero_ok:
        return "0" * fill + text
    return " " * fill + text


def _sign(negative: bool, flags: Flags) -> str:
    if negative:
        return "-"
    if flags.plus:
        return "+"
    return " " if flags.space else ""


_INT_BASES = {"d": 10, "v": 10, "b": 2, "o": 8, "O": 8, "x": 16, "X": 16}


def format_int(value: int, verb: str, flags: Flags) -> str:
    if verb == "c":
        valid = 0 <= value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF
        return pad(chr(value) if valid else "\ufffd", flags)
    if verb == "q":
        return pad(quote_rune(value), flags)
    if verb == "U":
        text = f"U+{value & 0xFFFFFFFFFFFFFFFF:04X}"
        if flags.sharp and 0 <= value <= 0x10FFFF and chr(value).isprintable():
            text += f" '{chr(value)}'"
        return pad(text, flags)
    base = _INT_BASES[verb]
    digits = {2: f"{abs(value):b}", 8: f"{abs(value):o}", 10: str(abs(value)), 16: f"{abs(value):x}"}[base]
    if verb == "X":
        digits = digits.upper()
    if flags.prec is not None:
        digits = "" if flags.prec == 0 and value == 0 else digits.rjust(flags.prec, "0")
    prefix = _int_prefix(verb, flags)
    sign = _sign(value < 0, flags)
    if flags.zero and not flags.minus and flags.width is not None and flags.prec is None:
        digits = digits.rjust(flags.width - len(sign) - len(prefix), "0")
    return pad(sign + prefix + digits, flags)


def _int_prefix(verb: str, flags: Flags) -> str:
    if verb == "O":
        return "0o"
    if not flags.sharp:
        return ""
    return {"b": "0b", "o": "0", "x": "0x", "X": "0X"}.get(verb, "")


def _binary_float(value: float, verb: str) -> str:
    """%b (mantissa p exponent) and %x / %X (hex mantissa, at least two exponent digits) of a float."""
    if verb == "b":
        mantissa, exponent = math.frexp(abs(value))
        text = f"{int(mantissa * 2**53)}p{exponent - 53:+d}" if value else "0p-1074"
        return ("-" if value < 0 else "") + text
    mantissa_text, _, exponent_text = float.hex(abs(value)).partition("p")
    mantissa_text = mantissa_text.rstrip("0").rstrip(".")
    exponent = int(exponent_text)
    text = f"{mantissa_text}p{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    text = ("-" if math.copysign(1, value) < 0 else "") + text
    return text.upper() if verb == "X" else text


def format_float_verb(value: float, verb: str, flags: Flags) -> str:
    if verb in "bxX" and math.isfinite(value):
        return pad(_binary_float(value, verb), flags)
    fmt = "g" if verb == "v" else verb
    prec = -1 if flags.prec is None else flags.prec
    if fmt in "eEfF" and flags.prec is None:
        prec = 6
    text = format_float(value, fmt, prec)
    if verb == "v" and flags.sharp and "." not in text and "e" not in text:
        text += ".0"
    negative = text.startswith("-")
    body = text[1:] if negative else text
    if body in ("Inf", "+Inf", "NaN"):
        body = body.lstrip("+")
        sign = (
            _sign(negative, flags) if body != "NaN" else ("+" if flags.plus else " " if flags.space else "")
        )
        return pad(sign + body, flags)
    sign = _sign(negative, flags)
    if flags.zero and not flags.minus and flags.width is not None:
        body = body.rjust(flags.width - len(sign), "0")
    return pad(sign + body, flags)


def format_string(value: str, verb: str, flags: Flags) -> str:
    if flags.prec is not None:
        value = value[: flags.prec]
    if verb in ("s", "v"):
        return pad(value, flags, zero_ok=True)
    if verb == "q":
        if flags.sharp and "`" not in value and all(c == "\t" or c.isprintable() for c in value):
            return pad("`" + value + "`", flags)
        return pad(go_quote(value, ascii_only=flags.plus), flags)
    data = value.encode("utf-8", "surrogateescape")
    if not data:
        return pad("", flags)
    digits = [f"{b:02x}" for b in data]
    prefix = "0x" if flags.sharp else ""
    text = (
        (" " if flags.space else "").join(prefix + d for d in digits)
        if flags.space
        else prefix + "".join(digits)
    )
    return pad(text.upper() if verb == "X" else text, flags)


_VERBS_BY_KIND = {
    "bool": "tv",
    "int": "vdboOxXcqU",
    "float": "vbgGxXfFeE",
    "string": "vsxXq",
    "complex": "vbgGxXfFeE",
}


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if is_int(value):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, complex):
        return "complex"
    return "other"


def bad_verb(verb: str, value: object, flags: Flags | None = None) -> str:
    """``%!verb(type=value)``: Go prints the value with %v and the directive's flags, width and precision."""
    if value is None or value is MISSING:
        return f"%!{verb}(<nil>)"
    shown = format_arg(value, "v", flags) if flags is not None else format_value(value)
    return f"%!{verb}({type_name(value)}={shown})"


def format_arg(value: object, verb: str, flags: Flags, top: bool = True) -> str:
    """printArg / printValue for one operand."""
    if verb == "T":
        return pad(type_name(value) if value is not None and value is not MISSING else "<nil>", flags)
    if value is None or value is MISSING:
        return pad("<nil>", flags) if verb == "v" or not top else bad_verb(verb, value, flags)
    if verb == "v" and flags.sharp:
        return pad(go_string_syntax(value), flags)
    kind = _kind(value)
    if kind == "other":
        return _format_composite(value, verb, flags)
    if verb not in _VERBS_BY_KIND[kind]:
        return bad_verb(verb, value, flags)
    if kind == "bool":
        return pad("true" if value else "false", flags, zero_ok=True)
    if kind == "int":
        assert isinstance(value, int)
        return format_int(int(value), verb, flags)
    if kind == "float":
        assert isinstance(value, float)
        return format_float_verb(value, verb, flags)
    if kind == "complex":
        assert isinstance(value, complex)
        return pad(format_complex(value), flags)
    assert isinstance(value, str)
    return format_string(value, verb, flags)


def _format_composite(value: object, verb: str, flags: Flags) -> str:
    if isinstance(value, list | tuple):
        return "[" + " ".join(format_arg(v, verb, flags, top=False) for v in value) + "]"
    if isinstance(value, dict):
        from .gofmt import sort_map_keys

        parts = [
            f"{format_arg(k, verb, flags, top=False)}:{format_arg(value[k], verb, flags, top=False)}"
            for k in sort_map_keys(list(value))
        ]
        return "map[" + " ".join(parts) + "]"
    if verb in ("v", "s"):
        return pad(format_value(value), flags)
    return bad_verb(verb, value, flags)


class _Scanner:
    """Walks one format string, consuming operands like doPrintf."""

    def __init__(self, fmt: str, args: list[object]) -> None:
        self.fmt = fmt
        self.args = args
        self.i = 0
        self.arg_num = 0
        self.reordered = False
        self.good_arg_num = True
        self.out: list[str] = []

    def run(self) -> str:
        end = len(self.fmt)
        size = counted = 0
        while self.i < end:
            start = self.i
            while self.i < end and self.fmt[self.i] != "%":
                self.i += 1
            if self.i > start:
                self.out.append(self.fmt[start : self.i])
            if self.i >= end:
                break
            self.i += 1
            self._directive()
            size += sum(len(piece) for piece in self.out[counted:])
            counted = len(self.out)
            if size > MAX_STRING_SIZE:  # many wide directives: stop before joining them
                check_size(size)
        if not self.reordered and self.arg_num < len(self.args):
            extra = [
                "<nil>" if a is None or a is MISSING else f"{type_name(a)}={format_value(a)}"
                for a in self.args[self.arg_num :]
            ]
            self.out.append("%!(EXTRA " + ", ".join(extra) + ")")
        return "".join(self.out)

    def _directive(self) -> None:
        flags = Flags()
        self._parse_flags(flags)
        self.good_arg_num = True
        after_index = self._arg_index()
        after_index = self._width(flags, after_index)
        after_index = self._precision(flags, after_index)
        if not after_index:
            self._arg_index()
        if self.i >= len(self.fmt):
            self.out.append("%!(NOVERB)")
            return
        verb = self.fmt[self.i]
        self.i += 1
        self._verb(verb, flags)

    def _parse_flags(self, flags: Flags) -> None:
        while self.i < len(self.fmt):
            ch = self.fmt[self.i]
            if ch == "#":
                flags.sharp = True
            elif ch == "0":
                flags.zero = not flags.minus
            elif ch == "+":
                flags.plus = True
            elif ch == "-":
                flags.minus, flags.zero = True, False
            elif ch == " ":
                flags.space = True
            else:
                return
            self.i += 1

    def _arg_index(self) -> bool:
        if self.i >= len(self.fmt) or self.fmt[self.i] != "[":
            return False
        self.reordered = True
        close = self.fmt.find("]", self.i)
        digits = self.fmt[self.i + 1 : close] if close > 0 else ""
        if close < 0 or not digits.isdigit() or not 1 <= int(digits) <= len(self.args):
            self.good_arg_num = False
            self.i = close + 1 if close > 0 else self.i + 1
            return True
        self.arg_num = int(digits) - 1
        self.i = close + 1
        return True

    def _number(self) -> int | None:
        start = self.i
        while self.i < len(self.fmt) and self.fmt[self.i].isdigit():
            if self.i - start >= 7 and int(self.fmt[start : self.i]) > _TOO_LARGE:
                self.i = len(self.fmt)  # fmt's parsenum: "crazy long number", the rest is consumed
                return None
            self.i += 1
        return int(self.fmt[start : self.i]) if self.i > start else None

    def _star(self) -> int | None:
        self.i += 1
        if self.arg_num >= len(self.args) or not is_int(self.args[self.arg_num]):
            self.arg_num += 1
            return None
        value = self.args[self.arg_num]
        self.arg_num += 1
        assert isinstance(value, int)
        return int(value) if -_TOO_LARGE <= value <= _TOO_LARGE else None

    def _width(self, flags: Flags, after_index: bool) -> bool:
        if self.i < len(self.fmt) and self.fmt[self.i] == "*":
            width = self._star()
            if width is None:
                self.out.append("%!(BADWIDTH)")
            elif width < 0:
                flags.width, flags.minus, flags.zero = -width, True, False
            else:
                flags.width = width
            return False
        flags.width = self._number()
        if after_index and flags.width is not None:
            self.good_arg_num = False
        return after_index

    def _precision(self, flags: Flags, after_index: bool) -> bool:
        if not (self.i + 1 <= len(self.fmt) - 1 and self.fmt[self.i] == "."):
            return after_index
        self.i += 1
        if after_index:
            self.good_arg_num = False
        after_index = self._arg_index()
        if self.i < len(self.fmt) and self.fmt[self.i] == "*":
            prec = self._star()
            if prec is None or prec < 0:
                self.out.append("%!(BADPREC)")
                prec = None
            flags.prec = prec
            return False
        flags.prec = self._number() or 0
        return after_index

    def _verb(self, verb: str, flags: Flags) -> None:
        if verb == "%":
            self.out.append("%")
        elif not self.good_arg_num:
            self.out.append(f"%!{verb}(BADINDEX)")
        elif self.arg_num >= len(self.args):
            self.out.append(f"%!{verb}(MISSING)")
        else:
            value = self.args[self.arg_num]
            self.arg_num += 1
            if verb == "v":
                flags.plus = False
            self.out.append(format_arg(value, verb, flags))


def sprintf(fmt: str, args: list[object]) -> str:
    for arg in args:
        check_expanded_size(arg)
    return _Scanner(fmt, args).run()
