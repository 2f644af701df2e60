"""sprig's conversions and arithmetic (numeric.go via spf13/cast): lenient casts that turn failures into 0,
int64 arithmetic with Go's wrap-around and truncating division, and the decimal-based float helpers."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from .errors import GoError
from .gofmt import format_value
from .gotypes import MISSING, Int64, is_int
from .literals import parse_float, parse_int

_INT64_MIN = -(1 << 63)


def wrap64(value: int) -> int:
    """Two's-complement int64 overflow, as Go arithmetic does."""
    return ((value - _INT64_MIN) % (1 << 64)) + _INT64_MIN


def _trim_zero_decimal(text: str) -> str:
    """cast's trimZeroDecimal: "12.00" → "12" (only when every decimal is zero)."""
    found_zero = False
    for i in range(len(text), 0, -1):
        ch = text[i - 1]
        if ch == ".":
            if found_zero:
                return text[: i - 1]
        elif ch == "0":
            found_zero = True
        else:
            return text
    return text


def _float_to_int(value: float) -> int:
    if math.isnan(value) or math.isinf(value):
        return _INT64_MIN
    return wrap64(int(value))


def to_int64(value: object) -> int:
    """cast.ToInt64: numbers truncate, numeric strings parse (0x/0o/0b/leading-0 octal), the rest is 0."""
    if value is None or value is MISSING:
        return 0
    if isinstance(value, bool):
        return int(value)
    if is_int(value):
        return int(value)
    if isinstance(value, float):
        return _float_to_int(value)
    if isinstance(value, str):
        return parse_int(_trim_zero_decimal(value)) or 0
    return 0


def to_int(value: object) -> int:
    return to_int64(value)


def to_float64(value: object) -> float:
    """cast.ToFloat64."""
    if value is None or value is MISSING:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if is_int(value) or isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        parsed = parse_float(value)
        if parsed is None and value.lower().lstrip("+-") in ("inf", "infinity", "nan"):
            return float(value)
        return parsed or 0.0
    return 0.0


def int_(v: object) -> int:
    return to_int(v)


def int64_(v: object) -> Int64:
    return Int64(to_int64(v))


def float64_(v: object) -> float:
    return to_float64(v)


def atoi(a: str) -> int:
    text = a[1:] if a[:1] in "+-" else a
    if not text.isdigit() or not text.isascii():
        return 0
    value = int(a)
    return value if -(1 << 63) <= value < (1 << 63) else 0


def to_decimal(v: object) -> Int64:
    text = format_value(v)
    body = text[1:] if text[:1] in "+-" else text
    if not body or any(c not in "01234567_" for c in body) or "_" in body:
        return Int64(0)
    return Int64(int(text, 8))


def add1(i: object) -> Int64:
    return Int64(wrap64(to_int64(i) + 1))


def add(*values: object) -> Int64:
    return Int64(wrap64(sum(to_int64(v) for v in values)))


def sub(a: object, b: object) -> Int64:
    return Int64(wrap64(to_int64(a) - to_int64(b)))


def _go_div(a: int, b: int) -> int:
    if b == 0:
        raise GoError("runtime error: integer divide by zero")
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


def div(a: object, b: object) -> Int64:
    return Int64(wrap64(_go_div(to_int64(a), to_int64(b))))


def mod(a: object, b: object) -> Int64:
    x, y = to_int64(a), to_int64(b)
    return Int64(x - y * _go_div(x, y))


def mul(a: object, *values: object) -> Int64:
    result = to_int64(a)
    for v in values:
        result = wrap64(result * to_int64(v))
    return Int64(result)


def max_(a: object, *values: object) -> Int64:
    return Int64(max([to_int64(a), *(to_int64(v) for v in values)]))


def min_(a: object, *values: object) -> Int64:
    return Int64(min([to_int64(a), *(to_int64(v) for v in values)]))


def maxf(a: object, *values: object) -> float:
    result = to_float64(a)
    for v in values:
        b = to_float64(v)
        result = math.nan if math.isnan(b) or math.isnan(result) else max(result, b)
    return result


def minf(a: object, *values: object) -> float:
    result = to_float64(a)
    for v in values:
        b = to_float64(v)
        result = math.nan if math.isnan(b) or math.isnan(result) else min(result, b)
    return result


def floor(a: object) -> float:
    return float(math.floor(to_float64(a))) if math.isfinite(to_float64(a)) else to_float64(a)


def ceil(a: object) -> float:
    return float(math.ceil(to_float64(a))) if math.isfinite(to_float64(a)) else to_float64(a)


def round_(a: object, p: int, *round_on: float) -> float:
    threshold = round_on[0] if round_on else 0.5
    value, places = to_float64(a), float(p)
    power = math.pow(10, places)
    digit = power * value
    fraction = math.modf(digit)[0]
    rounded = math.ceil(digit) if fraction >= threshold else math.floor(digit)
    return rounded / power


def _decimal(value: object) -> Decimal:
    # shopspring's NewFromFloat keeps the shortest representation that round-trips.
    return Decimal(repr(to_float64(value)))


def _decimal_op(a: object, values: tuple[object, ...], op: Callable[[Decimal, Decimal], Decimal]) -> float:
    with localcontext() as ctx:
        ctx.prec = 60
        result = _decimal(a)
        for v in values:
            result = op(result, _decimal(v))
        return float(result)


def _decimal_div(x: Decimal, y: Decimal) -> Decimal:
    if y == 0:
        raise GoError("decimal division by 0")
    return (x / y).quantize(Decimal("1e-16"), rounding=ROUND_HALF_EVEN)


def addf(*values: object) -> float:
    return _decimal_op(0.0, values, lambda x, y: x + y)


def add1f(i: object) -> float:
    return _decimal_op(i, (1,), lambda x, y: x + y)


def subf(a: object, *values: object) -> float:
    return _decimal_op(a, values, lambda x, y: x - y)


def mulf(a: object, *values: object) -> float:
    return _decimal_op(a, values, lambda x, y: x * y)


def divf(a: object, *values: object) -> float:
    return _decimal_op(a, values, _decimal_div)


def rand_int(low: int, high: int) -> int:
    if high - low <= 0:
        raise GoError("invalid argument to Intn")
    return random.randrange(low, high)


FUNCTIONS: dict[str, Callable[..., object]] = {
    "atoi": atoi,
    "int64": int64_,
    "int": int_,
    "float64": float64_,
    "toDecimal": to_decimal,
    "add1": add1,
    "add": add,
    "sub": sub,
    "div": div,
    "mod": mod,
    "mul": mul,
    "randInt": rand_int,
    "add1f": add1f,
    "addf": addf,
    "subf": subf,
    "divf": divf,
    "mulf": mulf,
    "biggest": max_,
    "max": max_,
    "min": min_,
    "maxf": maxf,
    "minf": minf,
    "ceil": ceil,
    "floor": floor,
    "round": round_,
}
