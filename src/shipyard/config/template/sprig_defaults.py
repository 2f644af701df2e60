"""sprig's defaults.go and reflect.go: default, empty, coalesce, all, any, ternary, typeOf/kindOf/…,
deepEqual."""

from __future__ import annotations

from collections.abc import Callable

from .errors import GoError
from .gotypes import MISSING, kind_name, type_name


def empty(given: object) -> bool:
    """sprig's empty: nil and zero values of every kind; structs never."""
    if given is None or given is MISSING:
        return True
    if isinstance(given, bool):
        return not given
    if isinstance(given, int | float | complex | str | list | tuple | dict):
        return not given
    return False


def default(d: object, *given: object) -> object:
    if not given or empty(given[0]):
        return d
    return given[0]


def coalesce(*values: object) -> object:
    return next((v for v in values if not empty(v)), None)


def all_(*values: object) -> bool:
    return all(not empty(v) for v in values)


def any_(*values: object) -> bool:
    return any(not empty(v) for v in values)


def ternary(vt: object, vf: object, v: bool) -> object:
    return vt if v else vf


def fail(msg: str) -> str:
    raise GoError(msg)


def deep_equal(a: object, b: object) -> bool:
    """reflect.DeepEqual for the data model: same Go type and equal contents."""
    return _deep_equal(a, b, set())


def _deep_equal(a: object, b: object, visited: set[tuple[int, int]]) -> bool:
    if (a is None or a is MISSING) or (b is None or b is MISSING):
        return (a is None or a is MISSING) and (b is None or b is MISSING)
    if type_name(a) != type_name(b):
        return False
    if isinstance(a, list | tuple | dict) and isinstance(b, list | tuple | dict):
        # Like Go: the same list or map is equal to itself, and a pair already being compared counts as
        # equal (so lists that share sub-lists compare in linear, not exponential, time).
        pair = (id(a), id(b)) if id(a) <= id(b) else (id(b), id(a))
        if a is b or pair in visited:
            return True
        visited.add(pair)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_deep_equal(x, y, visited) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k], visited) for k in a)
    return a == b


def type_of(src: object) -> str:
    return "<nil>" if src is None or src is MISSING else type_name(src)


def type_is(target: str, src: object) -> bool:
    return target == type_of(src)


def type_is_like(target: str, src: object) -> bool:
    t = type_of(src)
    return target in (t, "*" + t) or "*" + target == t


def kind_of(src: object) -> str:
    return kind_name(src)


def kind_is(target: str, src: object) -> bool:
    return target == kind_of(src)


FUNCTIONS: dict[str, Callable[..., object]] = {
    "default": default,
    "empty": empty,
    "coalesce": coalesce,
    "all": all_,
    "any": any_,
    "ternary": ternary,
    "fail": fail,
    "typeOf": type_of,
    "typeIs": type_is,
    "typeIsLike": type_is_like,
    "kindOf": kind_of,
    "kindIs": kind_is,
    "deepEqual": deep_equal,
}
